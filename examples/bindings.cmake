# SPDX-License-Identifier: MIT
# The Ruby and Python examples' tests (examples/ruby, examples/python), included
# from bindings/CMakeLists.txt so that they run with the interpreters, build-tree modules and
# environment of the binding tests. Each test starts its servers on free ports of 127.0.0.1 and
# uses a database of its own on the throwaway server (FASTEPOST_TEST_DSN).
if(NOT FASTEPOST_BUILD_TESTS)
  return()
endif()
set(_fp_examples "${PROJECT_SOURCE_DIR}/examples")

if(Python3_FOUND)
  file(GLOB tests CONFIGURE_DEPENDS "${_fp_examples}/python/tests/test_*.py")
  foreach(src ${tests})
    get_filename_component(name "${src}" NAME_WE)
    string(REPLACE "test_" "example_python_" test_name "${name}")
    add_test(NAME ${test_name}
      COMMAND ${Python3_EXECUTABLE} -m unittest -v ${name}
      WORKING_DIRECTORY "${_fp_examples}/python/tests")
    set_tests_properties(${test_name} PROPERTIES LABELS "examples;python;db" TIMEOUT 300
      ENVIRONMENT "PYTHONPATH=${CMAKE_CURRENT_BINARY_DIR}/python:${CMAKE_CURRENT_SOURCE_DIR}/python/tests:${_fp_examples}/python;PYTHONDONTWRITEBYTECODE=1;${FASTEPOST_BINDINGS_TEST_ENV}")
  endforeach()
endif()

if(Ruby_FOUND)
  file(GLOB tests CONFIGURE_DEPENDS "${_fp_examples}/ruby/test/test_*.rb")
  foreach(src ${tests})
    get_filename_component(name "${src}" NAME_WE)
    get_filename_component(dir "${src}" DIRECTORY)
    get_filename_component(dir "${dir}" DIRECTORY)
    get_filename_component(example "${dir}" NAME)
    string(REPLACE "test_" "example_${example}_" test_name "${name}")
    add_test(NAME ${test_name}
      COMMAND ${Ruby_EXECUTABLE} -w -I${CMAKE_CURRENT_BINARY_DIR}/ruby
        -I${CMAKE_CURRENT_SOURCE_DIR}/ruby/lib -I${CMAKE_CURRENT_SOURCE_DIR}/ruby/test "${src}" -v)
    set_tests_properties(${test_name} PROPERTIES LABELS "examples;ruby;db" TIMEOUT 600
      ENVIRONMENT "${FASTEPOST_BINDINGS_TEST_ENV}")
  endforeach()
  # The Rails engine in a generated application (tests/rails).
  include("${PROJECT_SOURCE_DIR}/tests/rails/rails.cmake")
endif()
