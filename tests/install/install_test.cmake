# SPDX-License-Identifier: MIT
# Install the built project into a temporary prefix, then build examples/c against it twice:
# with pkg-config and with find_package(fastepost). Run by ctest (`ctest -L install`).
file(REMOVE_RECURSE "${WORK_DIR}")
# A sanitized libfastepost needs its runtime in the program too (ASan must come first).
set(SANITIZE_FLAGS)
if(SANITIZE)
  set(SANITIZE_FLAGS -fsanitize=address,undefined)
endif()
set(PREFIX "${WORK_DIR}/prefix")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(LAST_OUTPUT "${out}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} --install "${BINARY_DIR}" --prefix "${PREFIX}")

file(GLOB sonames "${PREFIX}/lib*/libfastepost.so.*")
list(LENGTH sonames n)
if(n LESS 1)
  message(FATAL_ERROR "no versioned libfastepost.so.N in ${PREFIX}")
endif()
foreach(f fastepost.h fastepost/version.h fastepost/errors.h)
  if(NOT EXISTS "${PREFIX}/include/${f}")
    message(FATAL_ERROR "header ${f} not installed")
  endif()
endforeach()
file(GLOB_RECURSE cli "${PREFIX}/bin/fastepost")
if(NOT cli)
  message(FATAL_ERROR "fastepost CLI not installed")
endif()
# `man fastepost` after an install to a prefix (MANPATH as a user would set it), and the
# completion where bash-completion and zsh look under that prefix.
find_program(MAN man)
if(MAN)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env "MANPATH=${PREFIX}/share/man" MANWIDTH=100
                  ${MAN} -P cat fastepost-backup
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR NOT out MATCHES "fastepost backup create")
    message(FATAL_ERROR "man fastepost-backup failed after install (${rc}): ${out}${err}")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E env "MANPATH=${PREFIX}/share/man" ${MAN} -P cat fastepost
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR NOT out MATCHES "EXIT STATUS")
    message(FATAL_ERROR "man fastepost failed after install (${rc}): ${out}${err}")
  endif()
else()
  message(WARNING "man is not installed: `man fastepost` not checked (scripts/deps installs man-db)")
endif()
foreach(f share/bash-completion/completions/fastepost share/zsh/site-functions/_fastepost)
  if(NOT EXISTS "${PREFIX}/${f}")
    message(FATAL_ERROR "${f} not installed")
  endif()
endforeach()

# Only the public API is exported: no internal fastepost__ symbol may be visible.
find_program(NM nm)
if(NM)
  list(GET sonames 0 lib)
  run(${NM} -D --defined-only "${lib}")
  if(LAST_OUTPUT MATCHES "fastepost__")
    message(FATAL_ERROR "internal symbols exported from ${lib}")
  endif()
  if(NOT LAST_OUTPUT MATCHES "fastepost_conn_open")
    message(FATAL_ERROR "public symbols missing from ${lib}")
  endif()
endif()

# 1. pkg-config
file(GLOB pcdir "${PREFIX}/lib*/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "${pcdir}")
run(pkg-config --cflags --libs fastepost)
string(STRIP "${LAST_OUTPUT}" flags)
separate_arguments(flags UNIX_COMMAND "${flags}")
file(GLOB examples "${SOURCE_DIR}/examples/c/*.c")
file(MAKE_DIRECTORY "${WORK_DIR}/pc")
foreach(src ${examples})
  get_filename_component(name "${src}" NAME_WE)
  run(cc -std=c11 -Wall -Wextra -Werror ${SANITIZE_FLAGS} -o "${WORK_DIR}/pc/${name}" "${src}" ${flags}
      "-Wl,-rpath,${pcdir}/..")
  run(env "LD_LIBRARY_PATH=${pcdir}/.." "${WORK_DIR}/pc/${name}" --version)
endforeach()

# 2. find_package
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/examples/c" -B "${WORK_DIR}/cmake-build"
    "-DCMAKE_PREFIX_PATH=${PREFIX}" "-DCMAKE_C_FLAGS=${SANITIZE_FLAGS}")
run(${CMAKE_COMMAND} --build "${WORK_DIR}/cmake-build")
foreach(src ${examples})
  get_filename_component(name "${src}" NAME_WE)
  run("${WORK_DIR}/cmake-build/${name}" --version)
endforeach()
message(STATUS "install test passed: ${n} library file(s), pkg-config and find_package builds ok")
