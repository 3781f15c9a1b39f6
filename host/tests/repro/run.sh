#!/usr/bin/env bash
# host/tests/repro/run.sh -- run every reproducer and say which still fail:
# the .lua files through build-asan/deshost --sandbox (and through the
# fuzz_sandbox harness when build-fuzz/ has it), the runtime/*.bin files
# through build-fuzz/fuzz_runtime. A repro "fails" on a sanitizer report,
# a crash, a leak or a hang (30 s); a clean Lua error is fine.
set -u
root=$(cd "$(dirname "$0")/../../.." && pwd)
dir=$root/host/tests/repro
asan=$root/build-asan/deshost fz=$root/build-fuzz
status=0
verdict() { # name rc log
  if [ "$2" -eq 124 ]; then echo "FAIL (hang)  $1"; status=1
  elif grep -qE "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|^fuzz_[a-z]+: " "$3" ||
       [ "$2" -ge 128 ]; then
    echo "FAIL         $1: $(grep -m1 -oE "ERROR: [A-Za-z]+: [A-Za-z -]+|runtime error: .{0,60}|^fuzz_[a-z]+: .{0,60}" "$3")"
    status=1
  else echo "ok           $1"; fi
}
log=$(mktemp)
for f in "$dir"/*.lua; do
  if [ -x "$asan" ]; then
    (cd "$(dirname "$f")" && timeout 30 "$asan" --sandbox --mem-limit 64M --max-steps 100000000 \
      "$f") >"$log" 2>&1
    verdict "deshost $(basename "$f")" $? "$log"
  fi
  if [ -x "$fz/fuzz_sandbox" ]; then
    FUZZ_SANDBOX_FILE=$f timeout 30 "$fz/fuzz_sandbox" -runs=1 "$f" >"$log" 2>&1
    verdict "fuzz_sandbox $(basename "$f")" $? "$log"
  fi
done
if [ -x "$fz/fuzz_runtime" ]; then
  for f in "$dir"/runtime/*.bin; do
    timeout 30 "$fz/fuzz_runtime" -timeout=25 "$f" >"$log" 2>&1
    verdict "fuzz_runtime runtime/$(basename "$f")" $? "$log"
  done
fi
rm -f "$log"
exit $status
