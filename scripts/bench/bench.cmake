# Benchmarks (not tests): scripts/bench/hold, ping, mm2 and embed run these.
add_executable(bench_hold scripts/bench/hold.c)
target_link_libraries(bench_hold PRIVATE deshost_core m)
target_include_directories(bench_hold PRIVATE scripts/bench)
add_executable(bench_ping_raw scripts/bench/ping_raw.c)
target_include_directories(bench_ping_raw PRIVATE scripts/bench ${DES_LUA_INCLUDE_DIRS})
target_link_libraries(bench_ping_raw PRIVATE ${DES_LUA_LIBS} m dl)
add_executable(bench_embed scripts/bench/embed.c)
target_include_directories(bench_embed PRIVATE host/include)
target_link_libraries(bench_embed PRIVATE deshost_core ${DES_LUA_LIBS} m dl)
add_executable(bench_realtime scripts/bench/realtime.c)
target_include_directories(bench_realtime PRIVATE host/include ${DES_LUA_INCLUDE_DIRS})
target_link_libraries(bench_realtime PRIVATE deshost_core ${DES_LUA_LIBS} m dl
                                             Threads::Threads)
