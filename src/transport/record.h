// The record a probe site sends, as the engine consumes it. Every target (the host's built-in
// providers today; host processes, guests and host tracepoints later) delivers these.
#pragma once
#include <cstdint>

namespace vtrace {

inline constexpr int kRecordArgs = 10;
inline constexpr int kExecnameLen = 16;  // as Linux TASK_COMM_LEN

// A string copied at the probe (copyinstr(addr) with at most `max` bytes), for the engine to
// return instead of reading the target's memory later. len < 0: it could not be read there.
struct CopiedString {
  uint64_t addr = 0;
  uint32_t max = 0;
  int32_t len = -1;  // bytes of str, NUL excluded
  const char* str = nullptr;
  bool bytes = false;  // copyin()'s bytes: len of them, no NUL follows that counts
};

// Return addresses gathered at the probe. n < 0: gathering failed (-errno); frames == nullptr:
// not gathered.
struct GatheredStack {
  const uint64_t* frames = nullptr;
  int32_t n = 0;
  // A user stack's process image, when its target numbers them (a guest: a new one at each
  // exec, so an address is named in the program that ran it); 0 on the host.
  uint32_t image = 0;
};

struct Record {
  uint32_t probe = 0;   // catalog probe id
  uint32_t target = 0;  // catalog target index; 0 = the host
  int32_t pid = 0;
  int32_t tid = 0;
  int32_t cpu = 0;             // host CPU, or the vCPU for a guest
  uint64_t timestamp = 0;      // host timebase: CLOCK_MONOTONIC ns (translated for guests)
  uint64_t raw_timestamp = 0;  // the target's own clock
  // +- of timestamp's translation (a guest's); 0: the host clock; UINT64_MAX: not translated.
  uint64_t clock_bound_ns = 0;
  int64_t args[kRecordArgs] = {};
  // Bit i: argi could not be read where the probe fired (a USDT operand naming a symbol the
  // binary's symbol table does not have, a register a uprobe does not save). A clause reading it
  // faults ("not gathered at the probe") instead of seeing 0.
  uint16_t unread_args = 0;
  char execname[kExecnameLen] = {};  // always NUL-terminated (validated by the transport)
  // A string the site copied (VTRACE_DESC_STR0: the string arg0 points to; a guest's: the one
  // argument tail_arg points to), NUL-terminated within tail_len bytes (validated by the
  // transport); nullptr when none. copyinstr() of that argument returns it without reading the
  // target's memory.
  const char* tail = nullptr;
  uint16_t tail_len = 0;
  // The argument tail's string was read from (arg0 for a VTRACE_DESC_STR0 probe). tail_read: a
  // guest probe was asked to read it when it fired; without a tail it could not.
  uint8_t tail_arg = 0;
  bool tail_read = false;
  // The event's own record (a host tracepoint's raw data, as its tracefs format lays it out);
  // args->FIELD reads it (Ldf, bounds-checked). nullptr when none.
  const uint8_t* data = nullptr;
  uint32_t data_len = 0;
  int32_t errno_value = 0;  // the errno built-in (a host syscall:::return: -ret for an error)
  // vcpustolen: host ns this guest record's vCPU was preempted on the host since the vCPU's
  // previous guest record (set by the hypervisor layer, targets/host/vmm_probes.h); 0 elsewhere.
  uint64_t vcpu_stolen = 0;
  // A guest's record: its addresses are guest addresses, never read as the host's (copyinstr
  // of a guest pointer faults until guest memory reading exists).
  bool guest = false;

  // Probe context read at the moment of firing (a BPF program in the host kernel). When set,
  // uid, gid, ppid and vtime are the firing thread's, and copyinstr() returns only strings in
  // `copies`: a string that was not gathered at the probe is never read later.
  bool context = false;
  // The record describes another thread than the one the probe ran in (sched:::on-cpu runs in
  // the thread leaving the CPU): its credentials, vtimestamp and stacks were not read.
  bool other_thread = false;
  uint32_t uid = 0, gid = 0;
  int32_t ppid = 0;
  uint64_t vtime = 0;  // the thread's on-CPU ns (vtimestamp)
  const CopiedString* copies = nullptr;
  uint32_t ncopies = 0;
  GatheredStack kstack, ustack;
};

}  // namespace vtrace
