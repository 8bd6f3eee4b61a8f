#!/usr/bin/env bash
# vtrace quick start, step 2: run the whole test suite.
#
#   ./test.sh           normal build (build/) + AddressSanitizer/UBSan build (build-asan/)
#   ./test.sh --quick   normal build only
#
# Each stage builds what is out of date, then runs every CTest test (unit tests and the D
# conformance suite, tests/d/). Exits non-zero if any stage fails; prints a summary at the end.
# Run ./setup.sh first on a new machine (it installs the compilers and libraries).
#
# Environment:
#   VTRACE_BUILD_DIR        normal build directory (default: build)
#   VTRACE_ASAN_BUILD_DIR   sanitizer build directory (default: build-asan)
#   CTEST_JOBS              parallel tests (default: 2)
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
}

QUICK=0
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "test.sh: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
  esac
done

BUILD_DIR=${VTRACE_BUILD_DIR:-build}
ASAN_DIR=${VTRACE_ASAN_BUILD_DIR:-build-asan}
JOBS=${CTEST_JOBS:-2}
SUMMARY=()
FAILED=0

for tool in cmake ninja ctest; do
  if ! command -v "$tool" >/dev/null; then
    echo "test.sh: $tool not found; run ./setup.sh first" >&2
    exit 1
  fi
done

record() {  # record STATUS TEXT
  SUMMARY+=("$(printf '%-5s %s' "$1" "$2")")
  [ "$1" = PASS ] || FAILED=1
}

banner() {
  echo
  echo "==> [$(date '+%H:%M:%S')] $*"
}

# configure DIR [cmake args...]: configure a new DIR with Ninja; an existing DIR keeps its
# generator and compiler and is re-configured only when cmake args are given (otherwise the build
# re-runs cmake itself when a CMakeLists.txt changed).
configure() {
  local dir=$1
  shift
  if [ -f "$dir/CMakeCache.txt" ]; then
    [ $# -eq 0 ] || cmake -S . -B "$dir" "$@"
    return
  fi
  cmake -S . -B "$dir" -G Ninja "$@"
}

# stage NAME DIR [cmake args...]: configure + build + ctest, recording the result.
stage() {
  local name=$1 dir=$2
  shift 2
  banner "$name: configure + build ($dir/)"
  if ! configure "$dir" "$@"; then
    record FAIL "$name: cmake configure ($dir/)"
    return 1
  fi
  if ! cmake --build "$dir"; then
    record FAIL "$name: build ($dir/)"
    return 1
  fi
  banner "$name: ctest ($dir/)"
  local log="$dir/test.sh-ctest.log"
  ctest --test-dir "$dir" --output-on-failure -j"$JOBS" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local counts
  counts=$(grep -E '^[0-9]+% tests passed' "$log" | tail -n1)
  if [ "$rc" -eq 0 ]; then
    record PASS "$name: ${counts:-ctest passed}"
  else
    record FAIL "$name: ${counts:-ctest failed (status $rc)}"
    # ctest lists the failed tests after "The following tests FAILED:"
    while IFS= read -r line; do
      SUMMARY+=("        $line")
    done < <(sed -n '/The following tests FAILED:/,$p' "$log" | grep -E '^[[:space:]]+[0-9]+ - ' | head -n 50)
  fi
}

# Can this compiler pair build and run an ASan+UBSan C++ program?
sanitizer_works() {
  local cc=$1 cxx=$2 tmp
  command -v "$cc" >/dev/null && command -v "$cxx" >/dev/null || return 1
  tmp=$(mktemp -d) || return 1
  printf '#include <string>\nint main() { std::string s("ok"); return s.size() == 2 ? 0 : 1; }\n' >"$tmp/t.cpp"
  "$cxx" -std=c++20 -fsanitize=address,undefined "$tmp/t.cpp" -o "$tmp/t" >/dev/null 2>&1 && "$tmp/t"
  local rc=$?
  rm -rf "$tmp"
  return $rc
}

stage "normal" "$BUILD_DIR"

if [ "$QUICK" = 0 ]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  if [ -f "$ASAN_DIR/CMakeCache.txt" ]; then
    # keep the compiler the directory was configured with
    cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$ASAN_DIR/CMakeCache.txt")
    stage "asan+ubsan (${cxx##*/})" "$ASAN_DIR" -DVTRACE_SANITIZE=ON
  elif sanitizer_works clang clang++; then
    CC=clang CXX=clang++ stage "asan+ubsan (clang)" "$ASAN_DIR" -DVTRACE_SANITIZE=ON
  else
    echo "test.sh: clang cannot build sanitized programs here; using the default compiler" >&2
    stage "asan+ubsan (default compiler)" "$ASAN_DIR" -DVTRACE_SANITIZE=ON
  fi
fi

echo
echo "==================== test.sh summary ===================="
for line in "${SUMMARY[@]}"; do
  echo "$line"
done
[ "$QUICK" = 1 ] && echo "(--quick: the sanitizer build was skipped)"
if [ "$FAILED" = 0 ]; then
  echo "ALL PASSED"
  exit 0
fi
echo "FAILED"
exit 1
