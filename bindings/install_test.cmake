# SPDX-License-Identifier: MIT
# Package the bindings the way a user would, offline, against an installed libfastepost:
#   1. cmake --install the library into a temporary prefix (pkg-config finds it there);
#   2. Ruby: stage the gem sources with the wrapper SWIG generated in this build, `gem build`,
#      `gem install --local` into a temporary GEM_HOME, require it from a clean process;
#   3. Python: stage the package likewise, `pip wheel --no-build-isolation`, `pip install
#      --target` a temporary directory, import it from a clean process;
#   4. `cmake --install --component python|ruby` (the site-directory install) into a DESTDIR,
#      and load each from there.
# Run by ctest (`ctest -L install`); PYTHON / RUBY are empty for a language not built.
file(REMOVE_RECURSE "${WORK_DIR}")
set(PREFIX "${WORK_DIR}/prefix")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
    WORKING_DIRECTORY "${CWD}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(LAST_OUTPUT "${out}" PARENT_SCOPE)
endfunction()

function(expect_output pattern)
  if(NOT LAST_OUTPUT MATCHES "${pattern}")
    message(FATAL_ERROR "expected output matching '${pattern}', got:\n${LAST_OUTPUT}")
  endif()
endfunction()

set(CWD "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
run(${CMAKE_COMMAND} --install "${BINARY_DIR}" --prefix "${PREFIX}")
file(GLOB_RECURSE pc "${PREFIX}/fastepost.pc")
get_filename_component(pcdir "${pc}" DIRECTORY)
get_filename_component(libdir "${pcdir}" DIRECTORY)
set(ENV{PKG_CONFIG_PATH} "${pcdir}")
file(STRINGS "${BINARY_DIR}/include/fastepost/version.h" vline REGEX "define FASTEPOST_VERSION \"")
string(REGEX REPLACE ".*\"(.*)\".*" "\\1" version "${vline}")
# What a clean process must not inherit: the build tree on any search path.
set(clean env -u PYTHONPATH -u RUBYLIB -u RUBYOPT -u LD_LIBRARY_PATH -u LD_PRELOAD)
if(SANITIZER_PRELOAD) # a FASTEPOST_SANITIZE build: the interpreter needs the ASan runtime first
  list(APPEND clean "LD_PRELOAD=${SANITIZER_PRELOAD}" "ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0:use_sigaltstack=0")
endif()

if(RUBY)
  get_filename_component(rubydir "${RUBY}" DIRECTORY)
  find_program(GEM gem HINTS "${rubydir}" REQUIRED)
  set(stage "${WORK_DIR}/gem")
  file(COPY "${SOURCE_DIR}/bindings/ruby/fastepost.gemspec" "${SOURCE_DIR}/bindings/ruby/lib"
    DESTINATION "${stage}")
  file(COPY "${SOURCE_DIR}/bindings/ruby/ext/fastepost/extconf.rb"
    "${SOURCE_DIR}/bindings/ruby/ext/fastepost/wrapper.rb" DESTINATION "${stage}/ext/fastepost")
  configure_file("${RUBY_WRAPPER_DIR}/swig/fastepostRUBY_wrap.c"
    "${stage}/ext/fastepost/fastepost_wrap.c" COPYONLY)
  file(WRITE "${stage}/VERSION" "${version}\n")
  set(CWD "${stage}")
  run(${GEM} build fastepost.gemspec)
  set(gem "${stage}/fastepost-${version}.gem")
  if(NOT EXISTS "${gem}")
    message(FATAL_ERROR "gem build made no ${gem}")
  endif()
  run(${GEM} install --local --no-document --install-dir "${WORK_DIR}/gems" "${gem}")
  set(CWD "${WORK_DIR}")
  # (Scripts go through files: a `;` would split a CMake argument.)
  file(WRITE "${WORK_DIR}/check.rb" [=[
require "fastepost"
core = $LOADED_FEATURES.grep(%r{fastepost/core\.so}).first
raise "loaded #{core}, not the installed gem" unless core.start_with?(ENV["GEM_HOME"])
puts "ruby gem ok #{Fastepost.version} #{Fastepost::InvalidError::CODE}"
begin
  Fastepost.connect("=x")
rescue Fastepost::InvalidError => e
  puts e.class
end
]=])
  run(${clean} "GEM_HOME=${WORK_DIR}/gems" "GEM_PATH=${WORK_DIR}/gems" ${RUBY} "${WORK_DIR}/check.rb")
  expect_output("ruby gem ok ${version} -3\nFastepost::InvalidError")
  message(STATUS "gem: ${gem} installed and loaded")
endif()

if(PYTHON)
  set(stage "${WORK_DIR}/py")
  file(COPY "${SOURCE_DIR}/bindings/python/pyproject.toml" "${SOURCE_DIR}/bindings/python/setup.py"
    "${SOURCE_DIR}/bindings/python/README.md" DESTINATION "${stage}")
  file(GLOB py_sources "${SOURCE_DIR}/bindings/python/fastepost/*.py")
  file(COPY ${py_sources} DESTINATION "${stage}/fastepost")
  configure_file("${PYTHON_WRAPPER_DIR}/swig/fastepostPYTHON_wrap.c"
    "${stage}/generated/fastepost_wrap.c" COPYONLY)
  configure_file("${PYTHON_WRAPPER_DIR}/fastepost/core.py" "${stage}/generated/core.py" COPYONLY)
  set(CWD "${stage}")
  run(${PYTHON} -m pip wheel --no-build-isolation --no-deps --no-index -w "${WORK_DIR}/dist" .)
  file(GLOB wheel "${WORK_DIR}/dist/fastepost-${version}-*.whl")
  if(NOT wheel)
    message(FATAL_ERROR "pip wheel made no fastepost-${version}-*.whl")
  endif()
  run(${PYTHON} -m pip install --no-index --no-deps --target "${WORK_DIR}/site" ${wheel})
  set(CWD "${WORK_DIR}")
  file(WRITE "${WORK_DIR}/check.py" [=[
import os
import fastepost
assert fastepost.__file__.startswith(os.environ["PYTHONPATH"]), fastepost.__file__
print("python wheel ok", fastepost.version(), fastepost.InvalidError.code)
]=])
  run(${clean} "PYTHONPATH=${WORK_DIR}/site" ${PYTHON} -s "${WORK_DIR}/check.py")
  expect_output("python wheel ok ${version} -3")
  message(STATUS "wheel: ${wheel} installed and imported")
endif()

# The site-directory install (components), into a DESTDIR.
set(ENV{DESTDIR} "${WORK_DIR}/destdir")
if(PYTHON)
  run(${CMAKE_COMMAND} --install "${BINARY_DIR}" --component python)
  file(GLOB_RECURSE init "${WORK_DIR}/destdir/__init__.py")
  get_filename_component(pkg "${init}" DIRECTORY)
  get_filename_component(site "${pkg}" DIRECTORY)
  run(${clean} "PYTHONPATH=${site}" "LD_LIBRARY_PATH=${libdir}" ${PYTHON} -s -c
    "import fastepost\nprint('python site ok', fastepost.version())")
  expect_output("python site ok ${version}")
endif()
if(RUBY)
  run(${CMAKE_COMMAND} --install "${BINARY_DIR}" --component ruby)
  file(GLOB_RECURSE rb "${WORK_DIR}/destdir/fastepost.rb")
  file(GLOB_RECURSE so "${WORK_DIR}/destdir/core.so")
  get_filename_component(rblib "${rb}" DIRECTORY)
  get_filename_component(soarch "${so}" DIRECTORY)
  get_filename_component(soarch "${soarch}" DIRECTORY)
  run(${clean} "LD_LIBRARY_PATH=${libdir}" ${RUBY} -I${rblib} -I${soarch} -e
    "require 'fastepost'
puts \"ruby site ok #{Fastepost.version}\"")
  expect_output("ruby site ok ${version}")
endif()
# 5. A checkout with a stale generated wrapper (older than the interface): `gem build` and
#    setup.py make a new one instead of packing the old one.
unset(ENV{DESTDIR})
find_program(SWIG swig)
if(SWIG)
  set(co "${WORK_DIR}/checkout/bindings")
  file(COPY "${SOURCE_DIR}/bindings/fastepost.i" "${SOURCE_DIR}/bindings/swig" DESTINATION "${co}")
  file(COPY "${SOURCE_DIR}/CMakeLists.txt" DESTINATION "${co}/..")
  file(COPY "${SOURCE_DIR}/bindings/ruby/fastepost.gemspec" "${SOURCE_DIR}/bindings/ruby/ext"
    DESTINATION "${co}/ruby")
  file(COPY "${SOURCE_DIR}/bindings/python/setup.py" "${SOURCE_DIR}/bindings/python/pyproject.toml"
    DESTINATION "${co}/python")
  file(WRITE "${co}/ruby/ext/fastepost/fastepost_wrap.c" "/* stale */\n")
  file(MAKE_DIRECTORY "${co}/python/generated")
  file(WRITE "${co}/python/generated/fastepost_wrap.c" "/* stale */\n")
  file(WRITE "${co}/python/generated/core.py" "# stale\n")
  # Make the stale files older than every input.
  foreach(f "${co}/ruby/ext/fastepost/fastepost_wrap.c" "${co}/python/generated/fastepost_wrap.c"
            "${co}/python/generated/core.py")
    run(touch -d "2000-01-01" "${f}")
  endforeach()
  if(RUBY)
    set(CWD "${co}/ruby")
    run(${RUBY} -e "Gem::Specification.load('fastepost.gemspec') or abort 'gemspec did not load'")
    file(READ "${co}/ruby/ext/fastepost/fastepost_wrap.c" w)
    if(w MATCHES "stale")
      message(FATAL_ERROR "fastepost.gemspec kept a stale SWIG wrapper")
    endif()
  endif()
  if(PYTHON)
    set(CWD "${co}/python")
    run(${PYTHON} setup.py --version)
    file(READ "${co}/python/generated/fastepost_wrap.c" w)
    if(w MATCHES "stale")
      message(FATAL_ERROR "setup.py kept a stale SWIG wrapper")
    endif()
  endif()
  set(CWD "${WORK_DIR}")
  message(STATUS "stale wrappers regenerated by gemspec and setup.py")
endif()
message(STATUS "bindings install test passed")
