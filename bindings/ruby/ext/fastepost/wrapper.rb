# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# The SWIG wrapper of a source checkout: generated when missing, and again when any of its inputs
# (bindings/fastepost.i, bindings/swig/*.i, the libfastepost headers pkg-config points at) is
# newer than it, so that `gem build` never packs a stale wrapper. A packaged gem has no
# interface files: its shipped wrapper is used as it is. Used by fastepost.gemspec and extconf.rb.
module FastepostWrapper
  module_function

  def inputs(interface, includes)
    dirs = includes.map { |flag| flag.delete_prefix("-I") }
    [interface, *Dir[File.join(File.dirname(interface), "swig", "*.i")],
     *dirs.flat_map { |d| Dir[File.join(d, "fastepost.h"), File.join(d, "fastepost", "*.h")] }]
  end

  # Make wrapper from interface when it is missing or older than an input; true when it did.
  def ensure(wrapper, interface, includes)
    return false unless File.exist?(interface)

    if File.exist?(wrapper)
      newest = inputs(interface, includes).map { |f| File.mtime(f) }.max
      return false if newest && File.mtime(wrapper) >= newest
    end
    system("swig", "-ruby", "-Wall", *includes, "-I#{File.dirname(interface)}", "-o", wrapper,
           interface) or abort "swig failed on #{interface}"
    true
  end
end
