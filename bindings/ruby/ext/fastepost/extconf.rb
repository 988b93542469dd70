# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# Builds fastepost/core.so (Fastepost::Core) against the installed libfastepost, found through
# pkg-config (set PKG_CONFIG_PATH for a libfastepost installed under a custom prefix).
require "mkmf"

pkg = "fastepost"
abort "libfastepost not found by pkg-config (install it, or set PKG_CONFIG_PATH)" unless pkg_config(pkg)
abort "fastepost.h not found" unless have_header("fastepost.h")

# A libfastepost outside the linker's default directories is found again at run time.
libdir = `pkg-config --variable=libdir #{pkg}`.strip
unless libdir.empty? || %w[/usr/lib /usr/lib64 /lib /lib64].include?(libdir) ||
       libdir.start_with?("/usr/lib/#{RbConfig::CONFIG['arch'].sub(/-linux.*/, '')}")
  $LDFLAGS << " -Wl,-rpath,#{libdir}"
end

# The wrapper is shipped in a packaged gem; from a source checkout, (re)generate it with SWIG
# when it is missing or stale (wrapper.rb).
require_relative "wrapper"
wrapper = File.join(__dir__, "fastepost_wrap.c")
interface = File.expand_path("../../../fastepost.i", __dir__)
abort "#{wrapper} missing and no #{interface} to generate it from" unless File.exist?(wrapper) || File.exist?(interface)
FastepostWrapper.ensure(wrapper, interface, `pkg-config --cflags-only-I #{pkg}`.split)

create_makefile("fastepost/core")
