// Turns the addresses a probe gathered (stack frames, func()/usym() arguments) into symbols.
// The engine asks; a target supplies the implementation that knows its address spaces (the host
// kernel's kallsyms and host processes' ELF files; a guest's agent).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace vtrace::engine {

// Where user addresses are: a process of a target (0 = the host), and which image of it (a
// guest's agent numbers them: an exec starts a new one; 0 on the host).
struct UserSpace {
  uint32_t target = 0;
  int32_t pid = 0;
  uint32_t image = 0;
  bool operator==(const UserSpace& o) const {
    return target == o.target && pid == o.pid && image == o.image;
  }
};

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
  // A user address in `space`.
  virtual Symbol user(const UserSpace& space, uint64_t addr) = 0;
  // A stack (user: in `space`; kernel: of space.target; its `n` return addresses) was gathered
  // and will print later: keep what its addresses need now (the process's mappings, while the
  // process still runs), or gather them to be looked up together.
  virtual void remember(bool user, const UserSpace& space, const uint64_t* frames, size_t n) {
    (void)user, (void)space, (void)frames, (void)n;
  }
};

}  // namespace vtrace::engine
