// The stacks that stack() and ustack() gathered, interned: a D value of type stack is an id in
// this table (so stacks are aggregation keys like integers) and prints as symbolized frames,
// the way dtrace keeps program counters in its buffers and symbolizes when it prints. The text
// is sys::stack_format's (dtrace's layouts); this table only looks the symbols up.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/symbolizer.h"
#include "sys/stack_format.h"

namespace vtrace::engine {

class StackTable {
 public:
  // At most `capacity` distinct stacks; one more is dropped and counted.
  explicit StackTable(size_t capacity = 1u << 16) : capacity_(capacity) {}

  // The id of this stack (interned); 0 when the table is full (counted in drops()).
  // `error` < 0: the probe could not unwind (-errno), shown in the output.
  // A kernel stack is of space.target (whichever process it ran for), a user stack of space.
  int64_t intern(bool user, const UserSpace& space, const uint64_t* frames, size_t n,
                 int32_t error);

  // Stack `id` as sys::format_stack prints it: "\n", then one line per frame in `layout`
  // (trace() and aggregation keys: the default, 14 spaces; printf's %k:
  // sys::printf_stack_layout), `module`function+0xoffset`; a stack that could not be unwound
  // (or was dropped) says so on its last line.
  std::string format(int64_t id, sys::StackLayout layout = {}) const;
  // The frames of stack `id`, innermost first, each as format() spells it; `note` says why the
  // stack stops early or was dropped ("" when it is whole). For exporters.
  std::vector<std::string> frames(int64_t id, std::string& note) const;

  // The value of func(), sym(), mod(), ufunc(), usym(), umod(), uaddr() (kind 'm': mod/umod;
  // with_offset: uaddr), as sys::format_frame and sys::format_module spell it. The D type of
  // these values is string, so as aggregation keys they are dtrace's "  %-50s" field (a
  // string key's), but trace() prints them as strings ("  %-33s"), not as dt_print_sym does.
  std::string symbol_text(char kind, bool user, const UserSpace& space, uint64_t addr,
                          bool with_offset) const;

  void set_symbolizer(Symbolizer* s) { symbolizer_ = s; }
  uint64_t drops() const { return drops_; }

 private:
  struct Stack {
    bool user;
    UserSpace space;  // a kernel stack's: {target, 0, 0}
    int32_t error;
    std::vector<uint64_t> frames;
  };
  const Stack* find(int64_t id) const;  // nullptr: dropped
  std::vector<Symbol> symbols(const Stack& s) const;
  // What the symbolizer knows of addr (nothing without one).
  Symbol lookup(bool user, const UserSpace& space, uint64_t addr) const;

  size_t capacity_;
  Symbolizer* symbolizer_ = nullptr;
  std::vector<Stack> stacks_;  // id - 1
  std::unordered_map<std::string, int64_t> ids_;
  uint64_t drops_ = 0;
};

}  // namespace vtrace::engine
