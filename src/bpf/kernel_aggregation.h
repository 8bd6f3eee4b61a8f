// An aggregation kept in the kernel by clauses placed at the probe (clause_program.h): a per-CPU
// hash map from the keys (an integer in 8 bytes, execname in 16 NUL-padded bytes; one zero word
// for a key-less aggregation) to the function's partial state on each CPU. The engine reads it back
// and merges the CPUs when it prints, as dtrace merges its per-CPU aggregation buffers.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bytecode/module.h"
#include "sys/unique_fd.h"

namespace vtrace::bpf {

// A string key is 16 bytes: execname's NUL-padded bytes, a constant's when it is that short, or
// (first byte 0, second kKeyStringTag) the number of a longer constant in this table, 8 bytes
// at offset 8; the table turns it back into the string when the map is read. An empty execname
// is 16 zeros, never a tag.
inline constexpr uint8_t kKeyStringTag = 1;

class KeyStrings {
 public:
  uint64_t intern(const std::string& s);
  const std::string* find(uint64_t n) const { return n < list_.size() ? &list_[n] : nullptr; }

 private:
  std::vector<std::string> list_;
};

class KernelAggregation {
 public:
  // A map for `agg` holding at most max_entries keys. Nothing, with err set, on failure.
  static std::unique_ptr<KernelAggregation> create(const bytecode::AggInfo& agg,
                                                   uint32_t max_entries, std::string& err);
  int fd() const { return map_.get(); }

  // Calls fn(key in the engine's tuple encoding, values in the engine's layout) once per (key,
  // CPU that holds a value for it); `strings` turns tagged string keys back into strings. False
  // with err set when the map cannot be read. Two keys of one string (execname and the same
  // constant) are two calls of fn with the same tuple: the engine merges them.
  using PartialFn = std::function<void(std::string_view key, const int64_t* values)>;
  bool read(const PartialFn& fn, const KeyStrings& strings, std::string& err) const;

 private:
  KernelAggregation() = default;
  sys::UniqueFd map_;
  bytecode::AggFunc func_{};
  std::vector<bool> string_keys_;
  uint32_t key_size_ = 8, nvalues_ = 1;
};

}  // namespace vtrace::bpf
