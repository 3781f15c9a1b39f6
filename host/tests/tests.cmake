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

# Units <-> ticks (core/dtime.c), core only.
add_executable(test_dtime host/tests/test_dtime.c)
target_include_directories(test_dtime PRIVATE host/src/core)
target_link_libraries(test_dtime PRIVATE deshost_core m)
add_test(NAME dtime_unit COMMAND test_dtime)

# The seeds of an experiment's runs (core/seedmix.c), core only.
add_executable(test_seedmix host/tests/test_seedmix.c)
target_include_directories(test_seedmix PRIVATE host/src/core)
target_link_libraries(test_seedmix PRIVATE deshost_core)
add_test(NAME seedmix_unit COMMAND test_seedmix)

# The statistics of an experiment's summary (host/src/cli/expstat.c).
add_executable(test_expstat host/tests/test_expstat.c host/src/cli/expstat.c)
target_include_directories(test_expstat PRIVATE host/src/cli host/include
                                                ${DES_LUA_INCLUDE_DIRS})
target_link_libraries(test_expstat PRIVATE m)
add_test(NAME expstat_unit COMMAND test_expstat)

# The wait queue's invariants, and a policy over it against a reference.
add_executable(test_waitq host/tests/test_waitq.c host/src/rt/waitq.c)
target_include_directories(test_waitq PRIVATE host/src/rt)
if(DES_SANITIZE)
  target_compile_definitions(test_waitq PRIVATE WAITQ_DIFF_OPS=30000)
endif()
add_test(NAME waitq_unit_differential COMMAND test_waitq)

# The simulation (clock, components, dispatch) and the random streams,
# through core/ headers only.
add_executable(test_sim host/tests/test_sim.c)
target_link_libraries(test_sim PRIVATE deshost_core)
add_test(NAME sim_unit COMMAND test_sim)

add_executable(test_sim_take host/tests/test_sim_take.c)
target_link_libraries(test_sim_take PRIVATE deshost_core)
add_test(NAME sim_take COMMAND test_sim_take)

add_executable(test_rng host/tests/test_rng.c)
target_link_libraries(test_rng PRIVATE deshost_core m)
add_test(NAME rng_unit COMMAND test_rng)

# The embedding API, through deshost.h only.
find_package(Threads REQUIRED)
# test_host_cloops: the limits inside the C loops of Lua's libraries (budget,
# interrupt) and the memory cap after a caught error; test_host_api: every
# function's arguments, messages and caller identities.
foreach(t test_host test_host_comp test_host_limits test_host_sandbox
          test_host_cloops test_host_api test_host_sched test_host_stats
          test_host_post test_host_pace test_host_interrupt
          test_host_dloops test_host_gc)
  add_executable(${t} host/tests/${t}.c)
  target_include_directories(${t} PRIVATE host/include ${DES_LUA_INCLUDE_DIRS})
  target_link_libraries(${t} PRIVATE deshost_core ${DES_LUA_LIBS} m dl
                                     Threads::Threads)
endforeach()
add_test(NAME host_api COMMAND test_host
         WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test(NAME host_components COMMAND test_host_comp)
add_test(NAME host_limits COMMAND test_host_limits)
# finalizers that cannot start where a collection happens run later
target_compile_definitions(test_host_gc PRIVATE
                           GC_TEST_DIR="${CMAKE_CURRENT_SOURCE_DIR}/host/tests")
add_test(NAME host_finalizers COMMAND test_host_gc)
add_test(NAME host_api_args COMMAND test_host_api)
add_test(NAME host_statistics COMMAND test_host_stats)
add_test(NAME host_post COMMAND test_host_post)
add_test(NAME host_pace COMMAND test_host_pace)
add_test(NAME host_sandbox COMMAND test_host_sandbox
         WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test(NAME host_c_loop_limits COMMAND test_host_cloops)
# des_interrupt from another thread while a deep stack changes (also under
# ThreadSanitizer below: host_interrupt_tsan).
add_test(NAME host_interrupt COMMAND test_host_interrupt)
# The binding's and runtime's own loops that a model sizes: charged.
add_test(NAME host_des_loop_limits COMMAND test_host_dloops)
target_compile_definitions(test_host_dloops PRIVATE
  DES_UNHANDLED_MODEL="${CMAKE_CURRENT_SOURCE_DIR}/host/tests/unhandled_check_gone.lua")
add_test(NAME host_scheduled_calls COMMAND test_host_sched)

# The vendored Lua's userdata __props and lua_touserdatamt (patch 0013).
add_executable(test_lua_props host/tests/test_lua_props.c)
target_include_directories(test_lua_props PRIVATE ${DES_LUA_INCLUDE_DIRS})
target_link_libraries(test_lua_props PRIVATE ${DES_LUA_LIBS} m dl)
add_test(NAME vendor_lua_props COMMAND test_lua_props)

# The host's cache of small freed blocks (host/src/host/hcache.c).
add_executable(test_hcache host/tests/test_hcache.c)
target_include_directories(test_hcache PRIVATE host/src/host host/include
                                               ${DES_ALL_INCLUDES}
                                               ${DES_LUA_INCLUDE_DIRS})
target_link_libraries(test_hcache PRIVATE deshost_core ${DES_LUA_LIBS} m dl
                                          Threads::Threads)
add_test(NAME host_block_cache COMMAND test_hcache)

# Closing simulations, through deshost.h only: the host's cannot be closed
# by a model, and every host function refuses a closed one.
add_executable(test_closed host/tests/test_closed.c)
target_include_directories(test_closed PRIVATE host/include ${DES_LUA_INCLUDE_DIRS})
target_link_libraries(test_closed PRIVATE deshost_core ${DES_LUA_LIBS} m dl)
add_test(NAME host_closed COMMAND test_closed)

if(DES_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "DES_FUZZ needs clang (CC=clang)")
  endif()
  # des_add_fuzzer(NAME corpus-dir sources...): a libFuzzer harness built
  # with the core sources and Lua, and a smoke ctest `<corpus>_fuzz_smoke` (seed 1, a
  # fixed count of runs: CI replays the same inputs; scripts/fuzz runs random seeds for long)
  # reading host/tests/corpus/<corpus> and writing new inputs to the build.
  # The smoke runs are a fixed number of executions from seed 1 (about 10 s
  # each here), so every machine replays exactly the same inputs: a slower
  # one stops earlier (at 60 s), never later, and CI cannot meet a find
  # that a developer's run did not.
  set(DES_FUZZ_SMOKE_RUNS_wheel 30000)
  set(DES_FUZZ_SMOKE_RUNS_runtime 1500)
  set(DES_FUZZ_SMOKE_RUNS_loader 8000)
  set(DES_FUZZ_SMOKE_RUNS_host 5000)
  set(DES_FUZZ_SMOKE_RUNS_sandbox 1500)
  set(DES_FUZZ_SMOKE_RUNS_options 200000)
  function(des_add_fuzzer name corpus)
    add_executable(${name} ${ARGN} ${DES_ALL_SOURCES})
    target_include_directories(${name} PRIVATE ${DES_ALL_INCLUDES} host/src/cli host/tests
                                                ${DES_LUA_INCLUDE_DIRS})
    target_compile_definitions(${name} PRIVATE DES_VERSION="${PROJECT_VERSION}")
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${name} PRIVATE ${DES_LUA_LIBS} m dl)
    # (a fresh output corpus each time: the same inputs on every run)
    set(out ${CMAKE_CURRENT_BINARY_DIR}/fuzz-${corpus}-smoke)
    add_test(NAME ${corpus}_fuzz_smoke
             COMMAND sh -c "rm -rf '${out}' && mkdir '${out}' && exec \"$0\" \"$@\""
                     $<TARGET_FILE:${name}> -seed=1 -runs=${DES_FUZZ_SMOKE_RUNS_${corpus}}
                     -max_total_time=60 -rss_limit_mb=2048 -timeout=60 ${out}
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
  des_add_fuzzer(fuzz_options options host/tests/fuzz_options.c host/src/cli/options.c
                  host/src/cli/expopts.c)
endif()

# The statistics core (core/stats.h), without Lua.
add_executable(test_stats host/tests/test_stats.c)
target_link_libraries(test_stats PRIVATE deshost_core)
add_test(NAME stats_unit COMMAND test_stats)
add_executable(test_series host/tests/test_series.c)
target_link_libraries(test_series PRIVATE deshost_core)
add_test(NAME series_unit COMMAND test_series)

# The HTML report's writer (host/src/cli/report.c); the pages it writes are
# opened in a browser by spec/report_spec.lua.
add_executable(test_report host/tests/test_report.c)
target_include_directories(test_report PRIVATE host/include ${DES_LUA_INCLUDE_DIRS})
target_link_libraries(test_report PRIVATE deshost_report deshost_core ${DES_LUA_LIBS}
                                          m dl Threads::Threads)
add_test(NAME report_writer COMMAND test_report ${CMAKE_CURRENT_BINARY_DIR})

# The post queue under ThreadSanitizer (producers in several threads, the
# host's thread consuming, signal handlers): every source again with
# -fsanitize=thread, in the builds without ASan (they do not mix).
if(NOT DES_SANITIZE AND NOT DES_FUZZ)
  include(CheckCSourceCompiles)
  set(CMAKE_REQUIRED_FLAGS -fsanitize=thread)
  set(CMAKE_REQUIRED_LINK_OPTIONS -fsanitize=thread)
  check_c_source_compiles("int main(void) { return 0; }" DES_HAVE_TSAN)
  unset(CMAKE_REQUIRED_FLAGS)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
  if(DES_HAVE_TSAN)
    add_executable(test_host_post_tsan host/tests/test_host_post.c
                                       ${DES_ALL_SOURCES})
    target_include_directories(test_host_post_tsan PRIVATE ${DES_ALL_INCLUDES}
                                                           ${DES_LUA_INCLUDE_DIRS})
    target_compile_definitions(test_host_post_tsan
                               PRIVATE DES_VERSION="${PROJECT_VERSION}")
    target_compile_options(test_host_post_tsan PRIVATE -fsanitize=thread -O1 -g)
    target_link_options(test_host_post_tsan PRIVATE -fsanitize=thread)
    # (Lua with glibc's jumps, which TSan sees: vendor/lua/lua.cmake)
    set(des_tsan_lua_libs ${DES_LUA_LIBS})
    if(NOT DESHOST_SYSTEM_LUA)
      set(des_tsan_lua_libs des_lua_vendored_sjlj)
    endif()
    target_link_libraries(test_host_post_tsan PRIVATE ${des_tsan_lua_libs} m dl
                                                      Threads::Threads)
    add_test(NAME host_post_tsan COMMAND test_host_post_tsan)
    set_tests_properties(host_post_tsan PROPERTIES
                         ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1:exitcode=66")
    # des_interrupt from another thread against a deep, changing stack:
    # the vendored Lua is compiled in with -fsanitize=thread too, so the
    # VM's reads of the hook request are seen (patch 0007).
    if(NOT DESHOST_SYSTEM_LUA)
      add_executable(test_host_interrupt_tsan host/tests/test_host_interrupt.c
                                              ${DES_ALL_SOURCES}
                                              ${DES_LUA_VENDOR_SOURCES})
      target_include_directories(test_host_interrupt_tsan
                                 PRIVATE ${DES_ALL_INCLUDES} host/include
                                         ${DES_LUA_INCLUDE_DIRS})
      target_compile_definitions(test_host_interrupt_tsan
                                 PRIVATE DES_VERSION="${PROJECT_VERSION}"
                                         LUA_COMPAT_5_3 LUA_USE_LINUX
                                         _DEFAULT_SOURCE)
      target_compile_options(test_host_interrupt_tsan
                             PRIVATE -fsanitize=thread -O1 -g)
      target_link_options(test_host_interrupt_tsan PRIVATE -fsanitize=thread)
      target_link_libraries(test_host_interrupt_tsan PRIVATE m dl
                                                             Threads::Threads)
      add_test(NAME host_interrupt_tsan COMMAND test_host_interrupt_tsan)
      set_tests_properties(host_interrupt_tsan PROPERTIES
                           ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1:exitcode=66")
    endif()
  endif()
endif()

# Quantiles: exact below STATS_EXACT_MAX, the DDSketch's bound above.
add_executable(test_quantiles host/tests/test_quantiles.c)
target_link_libraries(test_quantiles PRIVATE deshost_core)
add_test(NAME quantiles_unit COMMAND test_quantiles)
