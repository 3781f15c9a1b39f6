#!/usr/bin/env bash
# readme_examples.sh DESHOST DOC -- every ```lua block of a document (the
# README, docs/lua-api.md) runs under deshost and exits 0: the examples stay
# true. Fragments that cannot run alone are fenced as ```text.
set -u
deshost=$1 readme=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
awk -v dir="$dir" '/^```lua$/ {n++; f = dir "/example" n ".lua"; inb = 1; next}
                   /^```$/ {inb = 0; next}
                   inb {print > f}' "$readme"
status=0
for f in "$dir"/example*.lua; do
  if ! out=$(timeout 60 "$deshost" "$f" 2>&1); then
    echo "README example failed: $f"; cat "$f"; echo "$out"; status=1
  fi
done
exit $status
