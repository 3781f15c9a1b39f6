# scripts/lib/setup.sh -- sourced by scripts/deshost and scripts/test.
# Installs the Debian packages deshost needs (only those missing) and
# configures/builds a build folder. Progress goes to stderr so a model's own
# output stays clean.

DES_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Packages every build needs, and those only the tests need. Lua itself is
# vendored (vendor/lua); liblua5.4-dev is still needed for des.so (built
# against the headers of the stock lua5.4 that loads it) and for
# -DDESHOST_SYSTEM_LUA=ON builds, lua5.4 for busted.
DES_BUILD_PACKAGES="gcc make cmake pkg-config liblua5.4-dev lua5.4 libedit-dev"
DES_TEST_PACKAGES="lua-busted lua-check clang libclang-rt-14-dev valgrind tmux patch libopenmpi-dev openmpi-bin chromium chromium-driver"

des_log() { printf '%s\n' "$*" >&2; }

# des_ensure_packages PKG... : apt-get install whatever is not installed.
des_ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  des_log "deshost: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    des_log "deshost: not root; install them with: apt-get install ${missing[*]}"
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q "${missing[@]}" >&2; then
    apt-get update -q >&2 && apt-get install -y -q "${missing[@]}" >&2
  fi
}

# des_build DIR [cmake options...] : configure DIR once, then build it.
des_build() {
  local dir=$1
  shift
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    cmake -S "$DES_ROOT" -B "$dir" "$@" >&2 || return 1
  fi
  cmake --build "$dir" -j "$(nproc 2>/dev/null || echo 2)" >&2
}
