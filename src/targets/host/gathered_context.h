// A gather record's probe context (bpf/gather_record.h) as the engine reads it from a Record:
// who fired (pid, tid, cpu, time, execname, credentials, vtimestamp), the strings copied at the
// probe and the stacks. One place for every host target whose probes gather (tracepoints,
// syscalls, USDT) and for profile samples' stacks.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "bpf/gather_parse.h"
#include "transport/record.h"

namespace vtrace::targets::host {

// A stack that was gathered (perhaps empty: a sample in user mode has no kernel frames), or the
// error that stopped it; never the null frames that mean "not gathered".
GatheredStack gathered(const std::vector<uint64_t>& frames, int32_t error);

class GatheredContext {
 public:
  // Fills rec from v; the stacks only when asked (else they stay "not gathered"). rec points
  // into this object (strings, frames) until the next fill.
  void fill(Record& rec, const bpf::GatherView& v, bool kernel_stack, bool user_stack);
  // String i of the last fill, for a target that can do better than the probe's fault.
  CopiedString& copy(size_t i) { return copies_[i]; }
  // A profile sample's stacks, as the kernel unwound them.
  void set_stacks(Record& rec, const uint64_t* kernel, size_t nk, const uint64_t* user, size_t nu);

 private:
  std::vector<CopiedString> copies_;
  std::vector<uint64_t> kframes_, uframes_;
};

}  // namespace vtrace::targets::host
