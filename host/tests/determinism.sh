#!/usr/bin/env bash
# determinism.sh DESHOST [OTHER_DESHOST] -- the same randomized model gives
# the same trace, byte for byte: twice in a row, in another build (e.g. the
# sanitized one) when given, and twice with the same --shuffle-ties seed;
# two different shuffle seeds give different traces.
set -u
deshost=$1 other=${2:-}
model=$(dirname "$0")/determinism_model.lua
hash() { DES_SHUFFLE=$2 "$1" "$model" 2>&1 | sha256sum | cut -d' ' -f1; }
hash_plain() { "$1" "$model" 2>&1 | sha256sum | cut -d' ' -f1; }
lines=$("$deshost" "$model" | wc -l)
a=$(hash_plain "$deshost") b=$(hash_plain "$deshost")
[ "$a" = "$b" ] || { echo "two runs differ: $a $b"; exit 1; }
echo "two runs: same trace ($lines lines) $a"
if [ -n "$other" ] && [ -x "$other" ]; then
  c=$(hash_plain "$other")
  [ "$a" = "$c" ] || { echo "other build differs: $a $c"; exit 1; }
  echo "other build ($other): same trace"
fi
s1=$(hash "$deshost" 7) s2=$(hash "$deshost" 7) s3=$(hash "$deshost" 8)
[ "$s1" = "$s2" ] || { echo "same shuffle seed, different traces"; exit 1; }
[ "$s1" != "$s3" ] || { echo "different shuffle seeds, same trace: shuffling does nothing"; exit 1; }
[ "$s1" != "$a" ] || { echo "shuffled trace equals the FIFO one"; exit 1; }
echo "shuffle: seed 7 twice the same, seed 8 different"
