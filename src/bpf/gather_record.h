// The record a gather program (gather_program.h) writes into the BPF ring buffer, one per firing.
// Fixed header, then the sections the probe's GatherPlan asks for, in this order:
//   data     data_len bytes of the tracepoint record (room: plan.data_size + plan.data_extra)
//   strings  plan.strings.size() slots of sizeof(GatherString) + plan.strsize bytes
//   kstack   plan.kernel_frames u64 return addresses (kstack_len bytes of them are valid)
//   ustack   plan.user_frames u64 return addresses (ustack_len bytes of them are valid)
// Every section starts 8-byte aligned. The reader checks every length against the record's
// size before it trusts it.
#pragma once
#include <cstdint>

namespace vtrace::bpf {

struct GatherHeader {
  uint32_t probe;      // GatherPlan::probe
  uint32_t cpu;        // bpf_get_smp_processor_id()
  uint64_t time;       // bpf_ktime_get_ns(): CLOCK_MONOTONIC ns, the host timebase
  uint32_t pid, tid;   // bpf_get_current_pid_tgid()
  uint32_t uid, gid;   // bpf_get_current_uid_gid()
  uint32_t ppid;       // current->real_parent->tgid
  uint32_t data_len;   // bytes of data that are valid
  uint64_t vtime;      // current->se.sum_exec_runtime: the thread's on-CPU ns (vtimestamp)
  char comm[16];       // bpf_get_current_comm()
  int32_t kstack_len;  // bytes bpf_get_stack() wrote, or its negative error
  int32_t ustack_len;
};
static_assert(sizeof(GatherHeader) == 72);

// One copied string: its slot in the record is this header followed by strsize bytes.
struct GatherString {
  uint64_t addr;  // the address the expression gave
  uint32_t max;   // the length it was read with (min(len, strsize - 1))
  int32_t len;    // bytes bpf_probe_read_{user,kernel}_str() returned (NUL included), or < 0
};
static_assert(sizeof(GatherString) == 16);

}  // namespace vtrace::bpf
