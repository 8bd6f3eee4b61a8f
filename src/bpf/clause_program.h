// The BPF backend for clauses placed "at the probe" (DESIGN.md section 2): a clause whose
// predicate and statements touch only the probe's arguments, integer built-ins of the firing
// thread and aggregations runs whole in the kernel, translated instruction by instruction from
// its verified bytecode. Its aggregations live in per-CPU hash maps (kernel_aggregation.h) that
// the engine merges when it prints them, as dtrace merges its per-CPU buffers; no record crosses
// to user space. Every other clause is gathered at the probe and finished by the engine.
//
// What may run at the probe: integer arithmetic but division (a zero divisor must fault, as on
// the host), comparisons, casts, forward jumps, args (as fields of the tracepoint record), pid,
// tid, cpu, uid, gid, timestamp, id; tuple keys of integers; self-> integer scalars (a hash map
// per variable keyed by thread id, bounded by dynvarsize); count, sum, avg, min, max, stddev,
// quantize, and lquantize/llquantize of at most 1024 bins.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <linux/bpf.h>

#include "bpf/gather_plan.h"
#include "bpf/kernel_aggregation.h"
#include "bpf/kernel_layout.h"
#include "bpf/syscall_program.h"
#include "bpf/usdt_program.h"
#include "bytecode/module.h"
#include "bytecode/placement.h"

namespace vtrace::bpf {

struct ClauseTarget {
  // Argument N of the probe as a Field of the tracepoint record (ctx), or nothing when the probe
  // has no such argument or the host computes it.
  std::function<std::optional<ExprOp>(int64_t)> arg;
  // The probe runs in the thread its record describes (false for sched:::on-cpu).
  bool current_thread = true;
  uint32_t probe_id = 0;  // the `id` built-in
  // probeprov, probemod, probefunc, probename: constants of the probe a program is attached to.
  std::array<std::string, 4> names;
  // A syscall's return: `errno` is -arg0 when arg0 is an error (-4095 .. -1), else 0.
  bool errno_from_arg0 = false;
  // A syscall probe run from the raw sys_enter/sys_exit tracepoint (syscall_program.h): the
  // program first rebuilds the syscall's tracepoint record (record_size bytes) in the value of
  // data_fd (a per-CPU array of one kSyscallDataSize-byte value, one per dispatcher: the
  // dispatcher's recursion guard keeps its users from interleaving on a CPU) and reads the
  // arguments there. The target sets side, nr and record_size; the loader data_fd and layout.
  struct Syscall {
    SyscallSide side = SyscallSide::Enter;
    uint32_t nr = 0, record_size = 0;
    int data_fd = -1;
    KernelLayout layout;
  };
  std::optional<Syscall> syscall;
  // A USDT probe site (BPF_PROG_TYPE_KPROBE on its uprobe; ctx is the thread's pt_regs): the
  // program first evaluates the site's arguments into kUsdtArgs int64s on its stack and reads
  // argument N there (arg(N) must be Field(8 N, 8)). With a pid, only that process and its
  // descendants run the clause (a uprobe fires in every process mapping the file).
  struct Usdt {
    std::vector<RegArg> args;
    uint32_t pid = 0;
    KernelLayout layout;
  };
  std::optional<Usdt> usdt;
};
inline constexpr uint32_t kSyscallDataSize = 64;

// Why `clause` cannot run whole at this probe, or "" when it can. `kept` says which
// aggregations and self-> variables may live in the kernel (no clause on the host uses them, no
// clear/trunc/normalize); the caller decides that across the program (bytecode::place_clauses).
std::string why_not_at_probe(const bytecode::Module& mod, const bytecode::ClauseCode& clause,
                             const ClauseTarget& target, const bytecode::Kept& kept);

// The maps a clause program uses.
struct ClauseMaps {
  std::vector<int> aggs;  // per aggregation: its per-CPU hash map (kernel_aggregation.h), or -1
  std::vector<int> vars;  // per dynamic variable: a self-> scalar's hash map (tid -> value), or -1
  int drops = -1;  // per-CPU array: [0] aggregation drops (a full map), [1] dynamic variable drops
  int zeros = -1;  // an array of one zeroed value of kMaxKernelAggValue bytes: a new key's value
  KeyStrings* strings = nullptr;  // the constants too long for a key's bytes, by number
};
inline constexpr uint32_t kAggDropsKey = 0, kDynvarDropsKey = 1;

// The program (BPF_PROG_TYPE_TRACEPOINT; BPF_PROG_TYPE_RAW_TRACEPOINT for a syscall target) of a
// clause why_not_at_probe() accepted, with the maps of its aggregations and self-> variables.
// Storing 0 into a self-> variable frees it, as in the engine; a full map counts a drop. Nothing,
// with err set, on a clause it cannot translate.
std::vector<bpf_insn> emit_clause_program(const bytecode::Module& mod,
                                          const bytecode::ClauseCode& clause,
                                          const ClauseTarget& target, const ClauseMaps& maps,
                                          std::string& err);
inline constexpr uint32_t kMaxKernelAggValue = 1024 * 8;

// Value slots per key of an aggregation kept in the kernel: count, sum: [n]; avg: [count, sum];
// min, max: [value, seen] (a per-CPU slot another CPU's first update created is all zeros);
// stddev: [count, sum, sum of squares lo, hi]; quantize, lquantize, llquantize: the engine's bins.
uint32_t kernel_agg_values(const bytecode::AggInfo& agg);

}  // namespace vtrace::bpf
