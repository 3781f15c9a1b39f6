# Benchmarks (not tests): scripts/bench/hold runs bench_hold.
add_executable(bench_hold scripts/bench/hold.c)
target_link_libraries(bench_hold PRIVATE deshost_core m)
target_include_directories(bench_hold PRIVATE scripts/bench)
