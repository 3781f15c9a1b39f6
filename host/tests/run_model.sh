#!/usr/bin/env bash
# run_model.sh DESHOST MODEL EXPECTED -- run an example model and compare
# its standard output (and exit status 0) with the expected transcript.
set -u
deshost=$1 model=$2 expected=$3
out=$("$deshost" "$model" 2>&1)
rc=$?
if [ $rc -ne 0 ]; then
  printf 'model %s exited with %d:\n%s\n' "$model" "$rc" "$out"
  exit 1
fi
if ! diff -u "$expected" <(printf '%s\n' "$out"); then
  printf 'model %s: output differs from %s\n' "$model" "$expected"
  exit 1
fi
