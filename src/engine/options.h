// Run-time options, set by `#pragma D option name=value` and `-x name=value` (as dtrace's).
#pragma once
#include <cstdint>
#include <cstdlib>
#include <string>

namespace vtrace::engine {

struct Options {
  bool quiet = false;
  uint32_t strsize = 256;         // longest string + 1
  uint32_t nspec = 1;             // speculation buffers
  uint64_t specsize = 64 * 1024;  // bytes per speculation buffer
  uint64_t dynvarsize = 1 << 20;  // bytes of dynamic variables (associative arrays, self->)
  // Bytes of aggregation keys and values, all aggregations together. dtrace bounds each CPU's
  // aggregation buffer by aggsize; vtrace has one table for every target and CPU, hence 16m.
  uint64_t aggsize = 16 << 20;
  uint64_t bufsize = 4 << 20;  // accepted for compatibility
  uint64_t scratchsize = 256;  // bytes alloca() and copyin() may hand out in one clause
  bool aggsortkey = false;
  bool aggsortrev = false;
  uint32_t aggsortkeypos = 0;  // the key aggregations sort by first (0: the first key)
  bool destructive = false;    // -w
  bool defaultargs = false;
  bool argref = false;         // macro arguments need not be referenced
  bool pspec = false;          // ambiguous top-level words are probe descriptions (lang)
  bool zdefs = false;          // -Z: descriptions may match nothing
  std::string mode = "async";  // async | sync (used by process and guest targets)
  // The output's format (FreeBSD dtrace's option): text (dtrace(1)'s), json (JSON lines),
  // perfetto (Chrome trace JSON), ctf (a CTF trace directory: -o), folded (flame graph stacks).
  std::string oformat = "text";
  // dtrace(1)'s testing mode, on when the environment has _DTRACE_TESTING (as dtrace-utils'
  // runtest.sh sets it): the probe lines of unquiet output leave out the CPU and ID columns,
  // which vary from run to run.
  bool testing = std::getenv("_DTRACE_TESTING") != nullptr;

  // Applies one option. Returns "" or an error message naming the problem.
  std::string set(const std::string& name, const std::string& value);
};

// "4m", "64k", "100" -> bytes; false when malformed.
bool parse_size(const std::string& text, uint64_t& out);

}  // namespace vtrace::engine
