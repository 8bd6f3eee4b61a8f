// What a clause needs gathered at its probe, read from its bytecode: the strings copyinstr()
// will ask for (with the address, and length, as expressions of the probe's arguments, so the
// probe's BPF program computes the same values the engine will) and the stack depths stack()
// and ustack() will print. A copyinstr() whose address depends on anything else (a variable, a
// value computed on the host) cannot be gathered: the engine then faults "not gathered at the
// probe" rather than read memory that may have changed since.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>

#include "bpf/gather_plan.h"
#include "bytecode/module.h"

namespace vtrace::bpf {

inline constexpr uint16_t kDefaultStackFrames = 20;  // dtrace's stackframes / ustackframes
inline constexpr uint16_t kMaxStackFrames = 127;     // the kernel's sysctl_perf_event_max_stack

struct ClauseNeeds {
  std::vector<StringCopy> strings;  // addr/len in terms of Arg, Const and Field ops
  uint16_t kernel_frames = 0;
  uint16_t user_frames = 0;
  void merge(const ClauseNeeds& other);
};

ClauseNeeds clause_needs(const bytecode::Module& mod, const bytecode::ClauseCode& clause);

// Replaces every Arg op of `e` by what `arg` says argument N is at this probe (a Field of its
// record or a Const); false when some argument has no such meaning (the expression cannot be
// computed at the probe).
bool resolve_args(Expr& e, const std::function<std::optional<ExprOp>(int64_t)>& arg);

}  // namespace vtrace::bpf
