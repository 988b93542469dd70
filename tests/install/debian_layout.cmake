# SPDX-License-Identifier: MIT
# A packager's build (issue 17, item 5): configure with a Debian layout
# (CMAKE_INSTALL_PREFIX=/usr, CMAKE_INSTALL_LIBDIR=lib/x86_64-linux-gnu), install every component
# with DESTDIR into a staging tree, then use the staged tree as a user of each ecosystem would:
# a C program built with the staged pkg-config file, `import fastepost` in Python and
# `require "fastepost"` in Ruby. Checks the paths in the .pc file, the SONAME and the file it
# names, no RUNPATH in a /usr install, and the manual pages and completion in place.
# Run by ctest (`ctest -L install`).
file(REMOVE_RECURSE "${WORK_DIR}")
set(BUILD "${WORK_DIR}/build")
set(STAGE "${WORK_DIR}/stage")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(LAST_OUTPUT "${out}" PARENT_SCOPE)
endfunction()

execute_process(COMMAND dpkg-architecture -qDEB_HOST_MULTIARCH OUTPUT_VARIABLE multiarch
                OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT multiarch)
  set(multiarch x86_64-linux-gnu)
endif()
set(libdir "lib/${multiarch}")
set(launcher)
find_program(CCACHE ccache)
if(CCACHE)
  set(launcher -DCMAKE_C_COMPILER_LAUNCHER=${CCACHE})
endif()
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${BUILD}" -DCMAKE_BUILD_TYPE=RelWithDebInfo
    -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_LIBDIR=${libdir} -DFASTEPOST_BUILD_TESTS=OFF
    -DFASTEPOST_BUILD_BINDINGS=${BINDINGS} ${launcher})
run(${CMAKE_COMMAND} --build "${BUILD}" -j2)
set(ENV{DESTDIR} "${STAGE}")
run(${CMAKE_COMMAND} --install "${BUILD}")
if(BINDINGS STREQUAL "ON")
  run(${CMAKE_COMMAND} --install "${BUILD}" --component python)
  run(${CMAKE_COMMAND} --install "${BUILD}" --component ruby)
endif()
unset(ENV{DESTDIR})
set(root "${STAGE}/usr")

# The library file is the one its SONAME names, under the multiarch directory.
run(readelf -d "${root}/${libdir}/libfastepost.so")
string(REGEX MATCH "Library soname: \\[([^]]+)\\]" _ "${LAST_OUTPUT}")
set(soname "${CMAKE_MATCH_1}")
if(NOT soname OR NOT EXISTS "${root}/${libdir}/${soname}")
  message(FATAL_ERROR "SONAME '${soname}' names no file in ${root}/${libdir}")
endif()
file(GLOB real "${root}/${libdir}/libfastepost.so.*.*.*")
get_filename_component(real "${real}" NAME)
string(REGEX MATCH "^libfastepost\\.so\\.[0-9]+" real_major "${real}")
if(NOT real_major STREQUAL soname)
  message(FATAL_ERROR "the library file ${real} does not carry the SONAME's version ${soname}")
endif()
# A /usr install: no RUNPATH anywhere (the dynamic linker finds the library).
file(GLOB_RECURSE elfs "${root}/bin/fastepost" "${root}/lib/*.so")
foreach(f ${elfs})
  run(readelf -d "${f}")
  if(LAST_OUTPUT MATCHES "RUNPATH|RPATH")
    message(FATAL_ERROR "${f} carries a RUNPATH in a /usr install:\n${LAST_OUTPUT}")
  endif()
endforeach()
# The .pc file: paths inside the staged /usr, the multiarch libdir, no dependency's -I.
set(ENV{PKG_CONFIG_PATH} "${root}/${libdir}/pkgconfig")
run(pkg-config --cflags fastepost)
string(STRIP "${LAST_OUTPUT}" cflags)
get_filename_component(want_inc "${root}/include" REALPATH)
separate_arguments(cflag_list UNIX_COMMAND "${cflags}")
foreach(flag ${cflag_list})
  string(REGEX REPLACE "^-I" "" dir "${flag}")
  get_filename_component(dir "${dir}" REALPATH)
  if(NOT dir STREQUAL want_inc)
    message(FATAL_ERROR "pkg-config --cflags gives ${flag}, not the staged ${want_inc} alone: ${cflags}")
  endif()
endforeach()
run(pkg-config --libs fastepost)
string(STRIP "${LAST_OUTPUT}" libs)
if(NOT libs MATCHES "/${libdir}")
  message(FATAL_ERROR "pkg-config --libs misses ${libdir}: ${libs}")
endif()
foreach(f share/man/man1/fastepost.1 share/man/man1/fastepost-backup.1
          share/bash-completion/completions/fastepost share/doc/fastepost/LICENSE)
  if(NOT EXISTS "${root}/${f}")
    message(FATAL_ERROR "${f} not installed under /usr")
  endif()
endforeach()

# A C program against the staged tree.
separate_arguments(libs UNIX_COMMAND "${libs}")
run(cc -std=c11 -Wall -Wextra -Werror -o "${WORK_DIR}/version" "${SOURCE_DIR}/tests/install/version.c" ${cflag_list} ${libs})
set(ENV{LD_LIBRARY_PATH} "${root}/${libdir}")
run("${WORK_DIR}/version")
if(NOT LAST_OUTPUT MATCHES "^libfastepost [0-9]+\\.[0-9]+\\.[0-9]+")
  message(FATAL_ERROR "the staged C program printed: ${LAST_OUTPUT}")
endif()
set(version "${LAST_OUTPUT}")

if(BINDINGS STREQUAL "ON")
  # Python: the package where Debian's python3 looks for a /usr install.
  set(ENV{PYTHONPATH} "${root}/lib/python3/dist-packages")
  # (Scripts in files: a semicolon would split a CMake argument.)
  file(WRITE "${WORK_DIR}/check.py" [[
import os
import fastepost
assert fastepost.__file__.startswith(os.environ["PYTHONPATH"]), fastepost.__file__
print("libfastepost", fastepost.version())
]])
  run(${PYTHON} "${WORK_DIR}/check.py")
  if(NOT LAST_OUTPUT STREQUAL version)
    message(FATAL_ERROR "Python imported ${LAST_OUTPUT}, the C program saw ${version}")
  endif()
  # Ruby: vendor_ruby, as a Debian package installs it.
  file(GLOB rblib "${root}/lib/ruby/vendor_ruby/*")
  file(GLOB rbarch "${root}/${libdir}/ruby/vendor_ruby/*")
  file(WRITE "${WORK_DIR}/check.rb" [[
require "fastepost"
core = $LOADED_FEATURES.find { |f| f.end_with?("fastepost/core.so") }
raise "core.so from #{core.inspect}, not #{ARGV[0]}" unless core&.start_with?(ARGV[0])
puts "libfastepost #{Fastepost.version}"
]])
  run(${RUBY} -I${rblib} -I${rbarch} "${WORK_DIR}/check.rb" "${root}")
  if(NOT LAST_OUTPUT STREQUAL version)
    message(FATAL_ERROR "Ruby required ${LAST_OUTPUT}, the C program saw ${version}")
  endif()
endif()
message(STATUS "Debian layout: ${soname}, no RUNPATH, pkg-config, C, Python and Ruby from the staged tree")
