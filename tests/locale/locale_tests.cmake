# SPDX-License-Identifier: MIT
# The locale suite (ctest label `locale`): chosen suites run again with LC_ALL set to each of
# FASTEPOST_TEST_LOCALES and FASTEPOST_TEST_SETLOCALE=1, which makes each host call
# setlocale(LC_ALL, "") as many real hosts do (the Criterion main() in tests/support/main.c,
# support.py, support.rb). Both locales write decimal commas (a float sent as text breaks);
# tr_TR also folds 'I' to a dotless i (case-insensitive comparisons through <ctype.h> break).
# The locales come from `scripts/deps locales`; a missing one fails the run, never skips it.
# scripts/test runs these in the normal build only (-LE locale under the sanitizers).
set(FASTEPOST_TEST_LOCALES de_DE.UTF-8 tr_TR.UTF-8)

# fastepost_add_locale_runs(<test> COMMAND <command...> [WORKING_DIRECTORY <dir>]
#                           [ENVIRONMENT <VAR=value...>] [LABELS <label...>])
# Adds <test>@de_DE and <test>@tr_TR (one per locale) running <command>.
function(fastepost_add_locale_runs name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "WORKING_DIRECTORY" "COMMAND;ENVIRONMENT;LABELS")
  set(wd)
  if(arg_WORKING_DIRECTORY)
    set(wd WORKING_DIRECTORY "${arg_WORKING_DIRECTORY}")
  endif()
  foreach(loc IN LISTS FASTEPOST_TEST_LOCALES)
    string(REGEX REPLACE "\\..*$" "" tag "${loc}")
    add_test(NAME ${name}@${tag} COMMAND ${arg_COMMAND} ${wd})
    set_tests_properties(${name}@${tag} PROPERTIES LABELS "locale;${arg_LABELS}" SKIP_RETURN_CODE 77
      ENVIRONMENT "${arg_ENVIRONMENT};LC_ALL=${loc};FASTEPOST_TEST_SETLOCALE=1")
  endforeach()
endfunction()
