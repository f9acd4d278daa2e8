# Build conventions shared by every component.

set(PPTPKIT_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion)
if(PPTPKIT_WERROR)
  list(APPEND PPTPKIT_WARNINGS -Werror)
endif()

if(PPTPKIT_SANITIZE)
  add_compile_options(-fsanitize=${PPTPKIT_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${PPTPKIT_SANITIZE})
endif()
if(PPTPKIT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "PPTPKIT_FUZZ needs clang (libFuzzer)")
  endif()
  # Coverage instrumentation for everything, so fuzz targets see into the cores they link.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

set(PPTPKIT_PLUGIN_VERSION_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/plugin.map)
set(PPTPKIT_SCRIPTS_DIR ${CMAKE_CURRENT_LIST_DIR}/../scripts)

# pptpkit_warnings(<target>): the project's warning set.
function(pptpkit_warnings target)
  target_compile_options(${target} PRIVATE ${PPTPKIT_WARNINGS})
endfunction()

# pptpkit_add_plugin(<name> CORE <static core lib> SOURCES <entry sources>...)
# A loadable module <name>.so that exports only pptpkit_plugin_query, plus a test that proves it.
function(pptpkit_add_plugin name)
  cmake_parse_arguments(ARG "" "CORE" "SOURCES" ${ARGN})
  add_library(${name} MODULE ${ARG_SOURCES})
  set_target_properties(${name} PROPERTIES PREFIX "" OUTPUT_NAME ${name}
    C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/plugins)
  target_link_libraries(${name} PRIVATE ${ARG_CORE})
  target_link_options(${name} PRIVATE -Wl,--version-script=${PPTPKIT_PLUGIN_VERSION_SCRIPT})
  # An instrumented module takes the sanitizer and libFuzzer runtimes from the program that loads it, so
  # only an uninstrumented build can insist that every symbol is resolved at link time.
  if(NOT PPTPKIT_SANITIZE AND NOT PPTPKIT_FUZZ)
    target_link_options(${name} PRIVATE -Wl,--no-undefined)
  endif()
  pptpkit_warnings(${name})
  if(PPTPKIT_TESTS)
    add_test(NAME abi.symbols.${name}
      COMMAND ${PPTPKIT_SCRIPTS_DIR}/check-plugin-symbols $<TARGET_FILE:${name}>)
    set_tests_properties(abi.symbols.${name} PROPERTIES LABELS abi)
  endif()
endfunction()

# pptpkit_add_gtest(<name> SOURCES ... LIBS ... [PREFIX p]): a GoogleTest program, its tests listed in
# ctest (as <p><Suite>.<Test> when PREFIX is given, so that `ctest -R <p>` selects a component).
function(pptpkit_add_gtest name)
  cmake_parse_arguments(ARG "" "PREFIX" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main)
  pptpkit_warnings(${name})
  target_compile_options(${name} PRIVATE -Wno-conversion)  # tests favour literal clarity
  # One label per test: gtest_discover_tests' PROPERTIES cannot carry a list (a second label would be
  # read as a property name and silently dropped). LABELS replaces the default `unit`.
  set(labels unit)
  if(ARG_LABELS)
    list(LENGTH ARG_LABELS n)
    if(n GREATER 1)
      message(FATAL_ERROR "pptpkit_add_gtest(${name}): one label only (got ${ARG_LABELS})")
    endif()
    set(labels ${ARG_LABELS})
  endif()
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST PROPERTIES LABELS "${labels}"
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR} TEST_PREFIX "${ARG_PREFIX}")
endfunction()

# pptpkit_add_fuzzer(<name> SOURCES ... LIBS ... CORPUS <dir> [SECONDS n])
# A libFuzzer target (PPTPKIT_FUZZ builds only) and a ctest that runs it briefly over its corpus.
function(pptpkit_add_fuzzer name)
  cmake_parse_arguments(ARG "" "CORPUS;SECONDS" "SOURCES;LIBS" ${ARGN})
  if(NOT PPTPKIT_FUZZ)
    return()
  endif()
  if(NOT ARG_SECONDS)
    set(ARG_SECONDS 20)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  pptpkit_warnings(${name})
  # Work on a copy of the committed corpus so a run never writes into the source tree.
  add_test(NAME fuzz.${name}
    COMMAND ${PPTPKIT_SCRIPTS_DIR}/run-fuzzer $<TARGET_FILE:${name}> ${ARG_CORPUS} ${ARG_SECONDS})
  set_tests_properties(fuzz.${name} PROPERTIES LABELS fuzz TIMEOUT 600)
endfunction()
