#!/bin/sh
# install_test.sh BUILD_DIR SOURCE_DIR -- install the build into a scratch
# prefix and use it as an outside project would: build host/examples with
# find_package(deshost) and with pkg-config, run both, build and run the
# first C program of docs/embedding.md as written, load the installed Lua
# module in a stock lua5.4 and run a model with the installed CLI.
set -eu
build=$1 src=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
prefix=$scratch/prefix

cmake --install "$build" --prefix "$prefix" >"$scratch/install.log"
for f in bin/deshost include/deshost.h lib/libdeshost.a lib/libdeshost.so \
         lib/cmake/deshost/deshostConfig.cmake lib/pkgconfig/deshost.pc \
         lib/lua/5.4/des.so share/lua/5.4/des/store.lua; do
  [ -e "$prefix/$f" ] || { echo "not installed: $f"; exit 1; }
done

# 1. CMake: find_package(deshost) and the imported target
cmake -S "$src/host/examples" -B "$scratch/ex" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_BUILD_TYPE=Release >"$scratch/cmake.log" || { cat "$scratch/cmake.log"; exit 1; }
cmake --build "$scratch/ex" >"$scratch/build.log" || { cat "$scratch/build.log"; exit 1; }
LD_LIBRARY_PATH=$prefix/lib "$scratch/ex/link" "$src/host/examples/link_model.lua" 2 >"$scratch/out1"
grep -q "^latency: mean" "$scratch/out1" || { cat "$scratch/out1"; exit 1; }

# 2. pkg-config, static library
PKG_CONFIG_PATH=$prefix/lib/pkgconfig
export PKG_CONFIG_PATH
# what libdeshost.a needs besides itself (Lua is inside it when vendored)
static_libs=$(pkg-config --libs-only-l --static deshost | sed 's/-ldeshost//')
cc -o "$scratch/link-static" "$src/host/examples/link.c" \
   $(pkg-config --cflags deshost) "$prefix/lib/libdeshost.a" $static_libs
"$scratch/link-static" "$src/host/examples/link_model.lua" 2 >"$scratch/out2"
cmp "$scratch/out1" "$scratch/out2"

# 3. the first C program of docs/embedding.md, as written
awk '/^```c$/ {n++; if (n == 1) {inb = 1; next}} /^```$/ {inb = 0} inb' \
    "$src/docs/embedding.md" >"$scratch/doc.c"
cc -o "$scratch/doc" "$scratch/doc.c" $(pkg-config --cflags --libs deshost) -lm
printf 'local des = require "des"\ndes.sleep(2.5)\n' >"$scratch/model.lua"
(cd "$scratch" && LD_LIBRARY_PATH=$prefix/lib ./doc) >"$scratch/out3"
grep -q "^ended at t=2.5$" "$scratch/out3" || { cat "$scratch/out3"; exit 1; }
# ... and without LD_LIBRARY_PATH, with pkg-config's libdir as an rpath
cc -o "$scratch/doc-rpath" "$scratch/doc.c" $(pkg-config --cflags --libs deshost) \
   -Wl,-rpath,"$(pkg-config --variable=libdir deshost)" -lm
(cd "$scratch" && env -u LD_LIBRARY_PATH ./doc-rpath) >"$scratch/out3r"
cmp "$scratch/out3" "$scratch/out3r"

# 4. the Lua module in a stock interpreter, and the CLI
LUA_CPATH="$prefix/lib/lua/5.4/?.so" lua5.4 -e '
  local des = require "des"
  local r = des.resource(1)
  des.spawn(function() local _ <close> = r:acquire(); des.sleep(2) end)
  des.run()
  assert(des.now() == 2, des.now())'
"$prefix/bin/deshost" "$src/scripts/models/clock.lua" >/dev/null
echo "installed package works: $(cat "$scratch/out1" | tail -1)"
