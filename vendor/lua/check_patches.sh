#!/bin/sh
# check_patches.sh VENDOR_LUA_DIR -- the patches under patches/ are exactly
# what src/ holds over upstream: taking them out of a copy of src/ (in
# reverse order, no fuzz) must succeed and leave no deshost addition behind,
# and putting them back must give src/ again, byte for byte.
set -eu
dir=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/lua"
cp -R "$dir/src" "$scratch/lua/src"
for p in $(ls "$dir"/patches/*.patch | sort -r); do
  patch -s -R -p1 -F0 -d "$scratch/lua" <"$p" || { echo "does not reverse: $p"; exit 1; }
done
if grep -l "deshost" "$scratch/lua/src"/* >/dev/null 2>&1; then
  echo "src/ holds deshost changes that no patch describes:"
  grep -l "deshost" "$scratch/lua/src"/*
  exit 1
fi
for p in $(ls "$dir"/patches/*.patch | sort); do
  patch -s -p1 -F0 -d "$scratch/lua" <"$p" || { echo "does not apply: $p"; exit 1; }
done
find "$scratch/lua/src" -name '*.orig' -delete
diff -r "$dir/src" "$scratch/lua/src"
echo "$(ls "$dir"/patches/*.patch | wc -l) patches reproduce src/"
