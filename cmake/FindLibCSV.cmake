# SPDX-License-Identifier: MIT
# FindLibCSV
# ----------
# libcsv (Robert Gamble's CSV parser) ships no pkg-config file, so look for it by hand.
#
# Result variables: LibCSV_FOUND, LibCSV_INCLUDE_DIRS, LibCSV_LIBRARIES, LibCSV_VERSION.
# Imported target:  LibCSV::LibCSV
find_path(LibCSV_INCLUDE_DIR NAMES csv.h)
find_library(LibCSV_LIBRARY NAMES csv)

if(LibCSV_INCLUDE_DIR AND EXISTS "${LibCSV_INCLUDE_DIR}/csv.h")
  file(STRINGS "${LibCSV_INCLUDE_DIR}/csv.h" _csv_major REGEX "^#define CSV_MAJOR +[0-9]+")
  file(STRINGS "${LibCSV_INCLUDE_DIR}/csv.h" _csv_minor REGEX "^#define CSV_MINOR +[0-9]+")
  file(STRINGS "${LibCSV_INCLUDE_DIR}/csv.h" _csv_release REGEX "^#define CSV_RELEASE +[0-9]+")
  string(REGEX REPLACE ".* ([0-9]+)$" "\\1" _csv_major "${_csv_major}")
  string(REGEX REPLACE ".* ([0-9]+)$" "\\1" _csv_minor "${_csv_minor}")
  string(REGEX REPLACE ".* ([0-9]+)$" "\\1" _csv_release "${_csv_release}")
  if(_csv_major MATCHES "^[0-9]+$")
    set(LibCSV_VERSION "${_csv_major}.${_csv_minor}.${_csv_release}")
  endif()
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(LibCSV
  REQUIRED_VARS LibCSV_LIBRARY LibCSV_INCLUDE_DIR
  VERSION_VAR LibCSV_VERSION)

if(LibCSV_FOUND)
  set(LibCSV_INCLUDE_DIRS "${LibCSV_INCLUDE_DIR}")
  set(LibCSV_LIBRARIES "${LibCSV_LIBRARY}")
  if(NOT TARGET LibCSV::LibCSV)
    add_library(LibCSV::LibCSV UNKNOWN IMPORTED)
    set_target_properties(LibCSV::LibCSV PROPERTIES
      IMPORTED_LOCATION "${LibCSV_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${LibCSV_INCLUDE_DIR}")
  endif()
endif()
mark_as_advanced(LibCSV_INCLUDE_DIR LibCSV_LIBRARY)
