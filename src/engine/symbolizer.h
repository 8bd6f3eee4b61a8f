// Turns the addresses a probe gathered (stack frames, func()/usym() arguments) into symbols.
// The engine asks; a target supplies the implementation that knows its address spaces (the host
// kernel's kallsyms and host processes' ELF files; a guest's, later).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace vtrace::engine {

struct Symbol {
  std::string module;   // "vmlinux", "libc.so.6", the executable's file name; "" when unknown
  std::string name;     // the function; "" when unknown
  uint64_t offset = 0;  // addr - the function's start
};

class Symbolizer {
 public:
  virtual ~Symbolizer() = default;
  // A kernel address of `target` (0 = the host).
  virtual Symbol kernel(uint32_t target, uint64_t addr) = 0;
  // A user address in process `pid` of `target`.
  virtual Symbol user(uint32_t target, int32_t pid, uint64_t addr) = 0;
  // A stack of `pid` (its `n` return addresses) was gathered and will print later: keep what
  // its addresses need now (the process's mappings), while the process still runs.
  virtual void remember(uint32_t target, int32_t pid, const uint64_t* frames, size_t n) {
    (void)target, (void)pid, (void)frames, (void)n;
  }
};

}  // namespace vtrace::engine
