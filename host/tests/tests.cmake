# C tests: the event queue's unit and differential tests, the simulation's
# and the random streams' unit tests, and (DES_FUZZ)
# the libFuzzer harnesses of the wheel, the runtime, the model loader, the
# embedding API and the CLI option parser.

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

# The simulation (clock, components, dispatch) and the random streams,
# through core/ headers only.
add_executable(test_sim host/tests/test_sim.c)
target_link_libraries(test_sim PRIVATE deshost_core)
add_test(NAME sim_unit COMMAND test_sim)

add_executable(test_rng host/tests/test_rng.c)
target_link_libraries(test_rng PRIVATE deshost_core m)
add_test(NAME rng_unit COMMAND test_rng)

# The embedding API, through deshost.h only.
find_package(Threads REQUIRED)
add_executable(test_host host/tests/test_host.c)
target_include_directories(test_host PRIVATE host/include ${LUA_INCLUDE_DIRS})
target_link_libraries(test_host PRIVATE deshost_core ${LUA_STATIC_LIB} m dl
                                        Threads::Threads)
add_test(NAME host_api COMMAND test_host
         WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})

if(DES_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "DES_FUZZ needs clang (CC=clang)")
  endif()
  # des_add_fuzzer(NAME corpus-dir sources...): a libFuzzer harness built
  # with the core sources and Lua, and a 10 s smoke ctest `<corpus>_fuzz_smoke`
  # reading host/tests/corpus/<corpus> and writing new inputs to the build.
  function(des_add_fuzzer name corpus)
    add_executable(${name} ${ARGN} ${DES_ALL_SOURCES})
    target_include_directories(${name} PRIVATE ${DES_ALL_INCLUDES} host/src/cli host/tests
                                                ${LUA_INCLUDE_DIRS})
    target_compile_definitions(${name} PRIVATE DES_VERSION="${PROJECT_VERSION}")
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${name} PRIVATE ${LUA_STATIC_LIB} m dl)
    file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/fuzz-${corpus}-corpus)
    add_test(NAME ${corpus}_fuzz_smoke
             COMMAND ${name} -max_total_time=10 -rss_limit_mb=2048 -timeout=60
                     ${CMAKE_CURRENT_BINARY_DIR}/fuzz-${corpus}-corpus
                     ${CMAKE_CURRENT_SOURCE_DIR}/host/tests/corpus/${corpus}
             WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  endfunction()

  # the wheel against its reference queue, driven by bytes
  des_add_fuzzer(fuzz_wheel wheel host/tests/fuzz_wheel.c host/tests/wheel_ref.c)
  # the runtime through its Lua API: fuzz_runtime.lua driven by bytes
  des_add_fuzzer(fuzz_runtime runtime host/tests/fuzz_runtime.c)
  target_compile_definitions(fuzz_runtime PRIVATE
    FUZZ_RUNTIME_LUA="${CMAKE_CURRENT_SOURCE_DIR}/host/tests/fuzz_runtime.lua")
  # the model loader: the bytes are a model's text
  des_add_fuzzer(fuzz_loader loader host/tests/fuzz_loader.c)
  # the embedding API: the bytes choose limits and a sequence of host calls
  des_add_fuzzer(fuzz_host host host/tests/fuzz_host.c)
  # the sandbox: the bytes become a model from a grammar over the des API,
  # run by a sandboxed host with a memory limit and an instruction budget
  des_add_fuzzer(fuzz_sandbox sandbox host/tests/fuzz_sandbox.c
                 host/tests/fuzz_sandbox_grammar.c)
  target_include_directories(fuzz_sandbox PRIVATE host/include)
  # the CLI's option parser: the bytes are argv, split at NULs
  des_add_fuzzer(fuzz_options options host/tests/fuzz_options.c host/src/cli/options.c)
endif()
