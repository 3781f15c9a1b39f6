#!/bin/sh
# udp_inbox.sh UDP_INBOX MODEL -- host/examples/udp_inbox.c end to end: the
# paced host receives 10,000 datagrams sent by another process over the
# loopback and its model checks that each arrives once, in order, at
# non-decreasing simulated times within the run's wall duration.
set -eu
exe=$1 model=$2 n=10000
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$exe" "$model" 1 >"$out" 2>&1 &
pid=$!
i=0
while ! grep -q '^port ' "$out"; do
  i=$((i + 1))
  if [ $i -gt 500 ]; then echo "no port"; cat "$out"; exit 1; fi
  sleep 0.01
done
port=$(sed -n 's/^port //p' "$out")
start=$(date +%s)
"$exe" --send "$port" "$n"
wait "$pid" || { echo "udp_inbox failed"; cat "$out"; exit 1; }
took=$(( $(date +%s) - start + 2 ))
cat "$out"
grep -q "^received $n readings, in order: true$" "$out"
# plausible times: the first reading after 0, the last one within the
# wall seconds the run took (factor 1), with a generous margin
awk -v took="$took" '/^simulated times:/ {
  first = $4; sub(",", "", first); last = $6; sub(",", "", last)
  if (!(first >= 0 && last >= first && last <= took)) { print "implausible times"; exit 1 }
  found = 1 } END { exit !found }' "$out"
