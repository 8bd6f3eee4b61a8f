// The stacks that stack() and ustack() gathered, interned: a D value of type stack is an id in
// this table (so stacks are aggregation keys like integers) and prints as symbolized frames,
// the way dtrace keeps program counters in its buffers and symbolizes when it prints.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/symbolizer.h"

namespace vtrace::engine {

// dtrace's default stackindent: the spaces before each frame.
inline constexpr int kStackIndent = 14;

class StackTable {
 public:
  // At most `capacity` distinct stacks; one more is dropped and counted.
  explicit StackTable(size_t capacity = 1u << 16) : capacity_(capacity) {}

  // The id of this stack (interned); 0 when the table is full (counted in drops()).
  // `error` < 0: the probe could not unwind (-errno), shown in the output.
  int64_t intern(bool user, uint32_t target, int32_t pid, const uint64_t* frames, size_t n,
                 int32_t error);

  // The frames of stack `id` in dtrace's layout: one line per frame, `indent` spaces first,
  // `module`function+0xoffset` (the address in hex when it has no symbol); a stack that could
  // not be unwound says so on its last line.
  std::string text(int64_t id, int indent) const;

  // Symbols of func(), sym(), mod(), ufunc(), usym(), umod(), uaddr() (dtrace's spellings).
  std::string symbol_text(char kind, bool user, uint32_t target, int32_t pid, uint64_t addr,
                          bool with_offset) const;

  void set_symbolizer(Symbolizer* s) { symbolizer_ = s; }
  uint64_t drops() const { return drops_; }

 private:
  struct Stack {
    bool user;
    uint32_t target;
    int32_t pid;
    int32_t error;
    std::vector<uint64_t> frames;
  };
  std::string frame_text(const Stack& s, uint64_t pc) const;

  size_t capacity_;
  Symbolizer* symbolizer_ = nullptr;
  std::vector<Stack> stacks_;  // id - 1
  std::unordered_map<std::string, int64_t> ids_;
  uint64_t drops_ = 0;
};

}  // namespace vtrace::engine
