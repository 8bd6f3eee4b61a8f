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

class KernelAggregation {
 public:
  // A map for `agg` holding at most max_entries keys. Nothing, with err set, on failure.
  static std::unique_ptr<KernelAggregation> create(const bytecode::AggInfo& agg,
                                                   uint32_t max_entries, std::string& err);
  int fd() const { return map_.get(); }

  // Calls fn(key in the engine's tuple encoding, values in the engine's layout) once per (key,
  // CPU that holds a value for it). False with err set when the map cannot be read.
  using PartialFn = std::function<void(std::string_view key, const int64_t* values)>;
  bool read(const PartialFn& fn, std::string& err) const;

 private:
  KernelAggregation() = default;
  sys::UniqueFd map_;
  bytecode::AggFunc func_{};
  std::vector<bool> string_keys_;
  uint32_t key_size_ = 8, nvalues_ = 1;
};

}  // namespace vtrace::bpf
