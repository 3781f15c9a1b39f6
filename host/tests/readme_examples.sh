#!/usr/bin/env bash
# readme_examples.sh DESHOST DOC -- every ```lua block of a document (the
# README, docs/lua-api.md) runs under deshost and exits 0: the examples stay
# true. Fragments that cannot run alone are fenced as ```text. A block whose
# first line names a model ("-- scripts/models/NAME.lua ...") must be that
# file, byte for byte.
set -u
deshost=$1 readme=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
awk -v dir="$dir" '/^```lua$/ {n++; f = dir "/example" n ".lua"; inb = 1; next}
                   /^```$/ {inb = 0; next}
                   inb {print > f}' "$readme"
status=0
root=$(cd "$(dirname "$0")/../.." && pwd)
for f in "$dir"/example*.lua; do
  model=$(head -n 1 "$f" | sed -n 's|^-- \(scripts/models/[A-Za-z0-9_]*\.lua\).*|\1|p')
  if [ -n "$model" ] && ! cmp -s "$f" "$root/$model"; then
    echo "$readme shows $model, but not as the file is:"; diff "$root/$model" "$f"; status=1
  fi
  if ! out=$(timeout 60 "$deshost" "$f" 2>&1); then
    echo "README example failed: $f"; cat "$f"; echo "$out"; status=1
  fi
done
exit $status
