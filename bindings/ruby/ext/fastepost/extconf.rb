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

# The wrapper is shipped in a packaged gem; from a source checkout, generate it with SWIG.
wrapper = File.join(__dir__, "fastepost_wrap.c")
unless File.exist?(wrapper)
  interface = File.expand_path("../../../fastepost.i", __dir__)
  abort "#{wrapper} missing and no #{interface} to generate it from" unless File.exist?(interface)
  includes = `pkg-config --cflags-only-I #{pkg}`.split
  system("swig", "-ruby", "-Wall", *includes, "-I#{File.dirname(interface)}", "-o", wrapper,
         interface) or abort "swig failed"
end

create_makefile("fastepost/core")
