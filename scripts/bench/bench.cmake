# Benchmarks (not tests): scripts/bench/hold runs bench_hold.
add_executable(bench_hold scripts/bench/hold.c)
target_link_libraries(bench_hold PRIVATE deshost_core m)
target_include_directories(bench_hold PRIVATE scripts/bench)
add_executable(bench_ping_raw scripts/bench/ping_raw.c)
target_include_directories(bench_ping_raw PRIVATE scripts/bench ${LUA_INCLUDE_DIRS})
target_link_libraries(bench_ping_raw PRIVATE ${LUA_STATIC_LIB} m dl)
