# Tests of the event queue (host/src/wheel.c): unit tests, the differential
# test against a reference heap, and the libFuzzer harness (DES_FUZZ).
set(WHEEL_TEST_SOURCES host/src/wheel.c host/src/dalloc.c)

add_executable(test_wheel host/tests/test_wheel.c)
target_link_libraries(test_wheel PRIVATE deshost_core)
add_test(NAME wheel_unit COMMAND test_wheel)

add_executable(test_wheel_diff host/tests/test_wheel_diff.c host/tests/wheel_ref.c)
target_link_libraries(test_wheel_diff PRIVATE deshost_core)
if(DES_SANITIZE)
  # the same streams, shorter: the sanitized build is ~10x slower
  target_compile_definitions(test_wheel_diff PRIVATE WHEEL_DIFF_OPS=200000)
endif()
add_test(NAME wheel_differential COMMAND test_wheel_diff)

if(DES_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "DES_FUZZ needs clang (CC=clang)")
  endif()
  add_executable(fuzz_wheel host/tests/fuzz_wheel.c host/tests/wheel_ref.c
                            ${WHEEL_TEST_SOURCES})
  target_include_directories(fuzz_wheel PRIVATE host/src)
  target_compile_options(fuzz_wheel PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_wheel PRIVATE -fsanitize=fuzzer,address,undefined)
  # new inputs go to a scratch folder; the committed corpus is only read
  file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/fuzz-wheel-corpus)
  add_test(NAME wheel_fuzz_smoke
           COMMAND fuzz_wheel -max_total_time=10 -rss_limit_mb=2048
                   ${CMAKE_CURRENT_BINARY_DIR}/fuzz-wheel-corpus
                   ${CMAKE_CURRENT_SOURCE_DIR}/host/tests/corpus/wheel
           WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
endif()

# The runtime fuzzer: fuzz_runtime.lua driven by bytes, through the Lua API.
if(DES_FUZZ)
  add_executable(fuzz_runtime host/tests/fuzz_runtime.c ${DES_CORE_SOURCES})
  target_include_directories(fuzz_runtime PRIVATE host/src ${LUA_INCLUDE_DIRS})
  target_compile_definitions(fuzz_runtime PRIVATE
    FUZZ_RUNTIME_LUA="${CMAKE_CURRENT_SOURCE_DIR}/host/tests/fuzz_runtime.lua")
  target_compile_options(fuzz_runtime PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_runtime PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_runtime PRIVATE ${LUA_STATIC_LIB} m dl)
  file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/fuzz-runtime-corpus)
  add_test(NAME runtime_fuzz_smoke
           COMMAND fuzz_runtime -max_total_time=10 -rss_limit_mb=2048
                   ${CMAKE_CURRENT_BINARY_DIR}/fuzz-runtime-corpus
                   ${CMAKE_CURRENT_SOURCE_DIR}/host/tests/corpus/runtime
           WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
endif()

# The loader fuzzer: the bytes are a model's text.
if(DES_FUZZ)
  add_executable(fuzz_loader host/tests/fuzz_loader.c ${DES_CORE_SOURCES})
  target_include_directories(fuzz_loader PRIVATE host/src ${LUA_INCLUDE_DIRS})
  target_compile_options(fuzz_loader PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_loader PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_loader PRIVATE ${LUA_STATIC_LIB} m dl)
  file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/fuzz-loader-corpus)
  add_test(NAME loader_fuzz_smoke
           COMMAND fuzz_loader -max_total_time=10 -rss_limit_mb=2048
                   ${CMAKE_CURRENT_BINARY_DIR}/fuzz-loader-corpus
                   ${CMAKE_CURRENT_SOURCE_DIR}/host/tests/corpus/loader
           WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
endif()
