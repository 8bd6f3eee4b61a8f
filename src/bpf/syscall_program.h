// Syscall probes through the raw tracepoints sys_enter and sys_exit: one dispatcher program per
// side, attached once, tail-calls the program routed for the syscall's number (a prog array
// indexed by number). Attaching two raw tracepoints takes milliseconds; attaching the ~370
// syscalls:sys_enter_NAME perf events one by one took ~25 s.
//
// A routed program sees the raw tracepoint's ctx (u64 args[]: args[0] the task's pt_regs,
// args[1] the number on entry, the return value on exit) and writes, with
// emit_syscall_record(), the record the syscalls:sys_enter_NAME / sys_exit_NAME tracepoint would
// have had, so what reads tracepoint records by their tracefs format reads these unchanged:
//   enter  8 zero bytes (common_*), int __syscall_nr at 8, arg i at 16 + 8 i (from pt_regs:
//          di, si, dx, r10, r8, r9)
//   exit   8 zero bytes, int __syscall_nr at 8, long ret at 16
// A syscall nobody routed costs one prog-array lookup (the failed tail call). Syscalls whose
// programs would be the same share one program: it finds its source (the index its records
// carry) in an array map indexed by number.
#pragma once
#include <linux/bpf.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bpf/insn.h"
#include "bpf/kernel_layout.h"
#include "sys/unique_fd.h"

namespace vtrace::bpf {

enum class SyscallSide : uint8_t { Enter, Exit };

// "sys_enter" or "sys_exit".
const char* raw_tracepoint_of(SyscallSide side);

// Instructions that write the first `size` bytes (12 for a syscall without arguments, or a
// multiple of 8 up to 64) of the side's
// tracepoint record at `rec` + `off`, from the raw tracepoint ctx in `ctx`. Clobbers r1-r3.
std::vector<bpf_insn> emit_syscall_record(SyscallSide side, const KernelLayout& layout,
                                          insn::Reg ctx, insn::Reg rec, int16_t off, uint32_t size);

// Instructions that look up the syscall's source in `sources_fd` (an array map number -> u32
// source index) and store it as a u64 in the frame slot at r10 + `out_slot`; when the number is
// out of range the program returns 0. `key_slot` is a 4-byte frame slot they may use.
// Clobbers r0-r3.
std::vector<bpf_insn> emit_syscall_source(SyscallSide side, const KernelLayout& layout,
                                          insn::Reg ctx, int sources_fd, int16_t key_slot,
                                          int16_t out_slot);

// One side's dispatcher with its prog array and its number -> source map.
class SyscallDispatch {
 public:
  // Creates the maps and loads the dispatcher (not attached yet). Nothing, with err set, when
  // the kernel refuses them.
  static std::unique_ptr<SyscallDispatch> create(SyscallSide side, const KernelLayout& layout,
                                                 std::string& err);
  SyscallSide side() const { return side_; }
  int sources_fd() const { return sources_.get(); }

  // Syscall `nr` runs `prog_fd` (a BPF_PROG_TYPE_RAW_TRACEPOINT program), whose records carry
  // `source`. The program stays loaded while the dispatcher holds it.
  bool route(uint32_t nr, int prog_fd, uint32_t source, std::string& err);
  bool routed() const { return routes_ > 0; }

  // Attaches the dispatcher to its raw tracepoint; detach() stops it firing.
  bool attach(std::string& err);
  void detach() { link_.reset(); }

 private:
  SyscallDispatch() = default;
  SyscallSide side_ = SyscallSide::Enter;
  sys::UniqueFd progs_, sources_, dispatcher_, link_;
  size_t routes_ = 0;
};

}  // namespace vtrace::bpf
