// The gather program: turns a GatherPlan into a BPF_PROG_TYPE_TRACEPOINT program that writes one
// gather record (gather_record.h, laid out by gather_layout.h) into the ring per firing.
//
// What the program does, and the choices behind it:
// - It reserves the whole record at once; when the ring is full it adds 1 to the per-CPU drop
//   counter (key 0) and returns.
// - data: it copies data_size + data_extra bytes of the tracepoint record and, if that read
//   faults, data_size bytes (data_len says which; 0 if both fault). Syscall tracepoints hand BPF
//   a small copy of their record on the kernel stack, not the 8 KiB per-CPU buffer other
//   tracepoints use, so reading beyond the record can fault there.
// - The kernel stores a pt_regs pointer over the first 8 bytes of the record (the common_*
//   fields) before running the program; the program zeroes them so no kernel address reaches
//   the record. Use the header's pid/tid instead of common_pid.
// - Strings: the address expression, then the optional length expression, are evaluated over
//   Const and Field ops (Field reads the copied data, within data_size) on kMaxExprDepth stack
//   slots. max = strsize - 1, or the length clamped to [0, strsize - 1] (a length <= 0 reads
//   nothing: max 0, len 0, an empty string). The string is read from user memory, and from
//   kernel memory if that faults; len is the read's result (NUL included, or < 0 on a fault).
// - Stacks: bpf_get_stack() of kernel_frames / user_frames return addresses; kstack_len /
//   ustack_len hold its result (0 when the plan asks for none).
// - A syscall program (GatherSource::syscall) is a raw sys_enter/sys_exit program instead: its
//   data is the syscalls:sys_enter_NAME / sys_exit_NAME record rebuilt from the registers
//   (syscall_program.h), data_size bytes of it, and the header's probe is the source its
//   syscall's number maps to, so syscalls with the same plan share the program.
// - A USDT program (GatherSource::usdt) runs on a uprobe: its data is the site's arguments,
//   evaluated from the user registers and memory at the probe (usdt_program.h).
#pragma once
#include <linux/bpf.h>

#include <optional>
#include <string>
#include <vector>

#include "bpf/gather_plan.h"
#include "bpf/kernel_layout.h"
#include "bpf/syscall_program.h"
#include "bpf/usdt_program.h"
#include "sys/unique_fd.h"

namespace vtrace::bpf {

// Where a gather program runs: a tracepoint (the default), a raw syscall tracepoint, or a USDT
// site's uprobe (usdt_program.h).
struct GatherSource {
  std::optional<SyscallSide> syscall;
  int sources_fd = -1;  // syscall: the array map number -> source (SyscallDispatch::sources_fd)
  // USDT: a BPF_PROG_TYPE_KPROBE program whose data is these arguments evaluated
  // (kUsdtDataSize bytes); with usdt_pid, it records only in that process and its descendants.
  std::optional<std::vector<RegArg>> usdt;
  uint32_t usdt_pid = 0;

  static GatherSource of_syscall(SyscallSide side, int sources_fd) {
    GatherSource s;
    s.syscall = side;
    s.sources_fd = sources_fd;
    return s;
  }
};

// True when a program can gather what the plan asks: strsize in 1..kMaxStrsize, data within
// kMaxDataRoom, record within kMaxRecordSize, and well-formed expressions (no Arg left, Fields of
// 1/2/4/8 bytes inside data_size, at most kMaxExprDepth deep, one value left).
bool check_gather_plan(const GatherPlan& plan, std::string& err);

// The program's instructions, or nothing with err set when check_gather_plan() refuses the plan.
std::vector<bpf_insn> emit_gather_program(const GatherPlan& plan, const KernelLayout& layout,
                                          int ring_fd, int drops_fd, std::string& err,
                                          const GatherSource& source = {});

// Emits and loads the program; `what` names its probe in messages ("syscalls:sys_enter_openat").
// Also refuses a plan whose record does not fit the ring.
sys::UniqueFd load_gather_program(const GatherPlan& plan, const KernelLayout& layout, int ring_fd,
                                  int drops_fd, const std::string& what, std::string& err,
                                  const GatherSource& source = {});

}  // namespace vtrace::bpf
