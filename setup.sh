#!/usr/bin/env bash
# vtrace quick start, step 1: install the Debian packages vtrace needs (only the missing ones),
# build vtrace in build/ and run the demo script (examples/demo.d).
#
# Idempotent: on a machine where everything is installed it does no apt work, an incremental
# build and the demo. Exits non-zero with a message naming the step that failed.
#
# Environment:
#   VTRACE_BUILD_DIR   build directory (default: build)
#   VTRACE_SKIP_DEMO=1 install and build only
set -euo pipefail

# Debian packages needed to build, test, fuzz and benchmark vtrace. One list: append here.
PACKAGES=(
  cmake
  ninja-build
  g++
  clang
  libclang-rt-14-dev  # libFuzzer and the sanitizer runtimes for clang
  libgtest-dev
  googletest
  libbenchmark-dev
  valgrind
  bpftrace           # the side-by-side peer (bench/usdt_vs_vtrace.sh)
  systemtap-sdt-dev  # sys/sdt.h, the USDT probes bpftrace traces
  postgresql         # a real server with 72 USDT probes (tests/targets/usdt_postgres_test.cpp)
  zlib1g-dev         # gzip for the guest initramfs (src/guest/cpio_writer.cpp)
  qemu-system-x86    # runs the Linux guests (vtrace vm start)
  linux-image-amd64  # the guest kernel (extracted from its .deb into the cache, not from /boot)
  busybox-static     # the guest userland (initramfs)
  libbpf-dev         # loads the BPF gather programs (src/bpf/), with the kernel's BTF
  libdw-dev          # elfutils: symbols and DWARF of traced binaries
  libc6-dbg          # libc's full symbol table (ustack() through its static functions)
  nlohmann-json3-dev # JSON (QMP, QEMU's control and event sockets)
  libelf-dev         # ELF symbol tables for ustack()/usym() (src/sys/elf_symbols.cpp)
  libbabeltrace-dev  # babeltrace's CTF writer (-x oformat=ctf, src/export/ctf_trace.cpp)
  babeltrace2        # reads the CTF output back in tests
  binutils           # objdump: where a pid provider offset probe's instructions begin
)

cd "$(dirname "${BASH_SOURCE[0]}")"
BUILD_DIR=${VTRACE_BUILD_DIR:-build}
STEP=""

fail() {
  echo >&2
  echo "setup.sh: FAILED at step: $STEP" >&2
  if [ $# -gt 0 ]; then echo "setup.sh: $*" >&2; fi
  STEP=""
  exit 1
}
trap 'rc=$?; [ $rc -ne 0 ] && [ -n "$STEP" ] && echo "setup.sh: FAILED at step: $STEP (exit status $rc)" >&2' EXIT

step() {
  STEP=$1
  echo
  echo "==> $1"
}

# dpkg-query prints one word; piping `dpkg -s` into `grep -q` failed at random under pipefail
# (grep exits at the match, dpkg dies of SIGPIPE on a long entry such as libc6-dbg's).
installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

# 1. packages ------------------------------------------------------------------------------------
step "checking Debian packages"
command -v dpkg >/dev/null || fail "dpkg not found: setup.sh supports Debian (and derivatives) only"
missing=()
for p in "${PACKAGES[@]}"; do
  installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "all ${#PACKAGES[@]} packages installed"
else
  step "installing: ${missing[*]}"
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || fail "not root and sudo not found; install as root: apt-get install ${missing[*]}"
    SUDO=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update || fail "apt-get update failed"
  "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}" || fail "apt-get install failed"
  for p in "${missing[@]}"; do
    installed "$p" || fail "package $p is still not installed"
  done
fi

# 2. build ---------------------------------------------------------------------------------------
step "configuring ($BUILD_DIR/)"
if [ -f "$BUILD_DIR/CMakeCache.txt" ]; then
  # Keep the generator the directory was made with (cmake refuses to switch it).
  cmake -S . -B "$BUILD_DIR" || fail "cmake configure failed"
else
  cmake -S . -B "$BUILD_DIR" -G Ninja || fail "cmake configure failed"
fi

step "building ($BUILD_DIR/)"
cmake --build "$BUILD_DIR" || fail "build failed"

# 3. demo ----------------------------------------------------------------------------------------
if [ "${VTRACE_SKIP_DEMO:-0}" != 1 ]; then
  step "running the demo: ./$BUILD_DIR/vtrace -s examples/demo.d"
  case $BUILD_DIR in /*) VTRACE=$BUILD_DIR/vtrace ;; *) VTRACE=./$BUILD_DIR/vtrace ;; esac
  [ -x "$VTRACE" ] || fail "$VTRACE was not built"
  "$VTRACE" -s examples/demo.d || fail "the demo exited with status $?"
fi
if [ "${VTRACE_SKIP_DEMO:-0}" != 1 ] && [ "${VTRACE_SKIP_GUEST_DEMO:-0}" != 1 ]; then
  step "running the guest demo: examples/guest_demo.sh (two QEMU guests, one script)"
  examples/guest_demo.sh "$VTRACE" || fail "the guest demo exited with status $?"
fi

STEP=""
echo
echo "setup.sh: OK. vtrace is $BUILD_DIR/vtrace; run the tests with ./test.sh"
