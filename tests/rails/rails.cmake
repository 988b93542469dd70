# SPDX-License-Identifier: MIT
# The Rails engine's tests (tests/rails/test_*.rb; ctest label `rails`), included from
# examples/bindings.cmake so that they run with the Ruby binding of this build tree and the
# environment of the binding tests. Each makes or boots a Rails 6.1 application (Debian's
# packages, `scripts/deps rails`) on free ports of 127.0.0.1, with a database of its own on
# the throwaway server (FASTEPOST_TEST_DSN); without Rails they exit 77: skipped.
file(GLOB _fp_rails_tests CONFIGURE_DEPENDS "${CMAKE_CURRENT_LIST_DIR}/test_*.rb")
foreach(src ${_fp_rails_tests})
  get_filename_component(name "${src}" NAME_WE)
  string(REPLACE "test_" "rails_" test_name "${name}")
  add_test(NAME ${test_name}
    COMMAND ${Ruby_EXECUTABLE} -w -I${CMAKE_CURRENT_BINARY_DIR}/ruby -I${CMAKE_CURRENT_SOURCE_DIR}/ruby/lib
      -I${CMAKE_CURRENT_SOURCE_DIR}/ruby/test -I${CMAKE_CURRENT_LIST_DIR} "${src}" -v)
  set_tests_properties(${test_name} PROPERTIES LABELS "rails;ruby;db" TIMEOUT 900 SKIP_RETURN_CODE 77
    ENVIRONMENT "FASTEPOST_RUBY_BUILD_DIR=${CMAKE_CURRENT_BINARY_DIR}/ruby;${FASTEPOST_BINDINGS_TEST_ENV}")
endforeach()
