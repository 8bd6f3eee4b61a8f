#include "bpf/syscall_program.h"

#include <bpf/bpf.h>

#include <cerrno>
#include <cstring>

#include "bpf/attach.h"
#include "bpf/program.h"
#include "bpf/syscall_numbers.h"

namespace vtrace::bpf {
namespace {

using namespace insn;

void put(std::vector<bpf_insn>& out, bpf_insn i) {
  out.push_back(i);
}
constexpr int32_t kTsCompat = 0x0002;  // arch/x86/include/asm/thread_info.h

void put(std::vector<bpf_insn>& out, const std::array<bpf_insn, 2>& pair) {
  out.push_back(pair[0]);
  out.push_back(pair[1]);
}

// r3 = regs->FIELD's address (args[0] is the task's pt_regs).
void regs_field(std::vector<bpf_insn>& out, Reg ctx, uint32_t field) {
  put(out, ldx(8, R3, ctx, 0));
  put(out, alu64(BPF_ADD, R3, static_cast<int32_t>(field)));
}

// `dst` = the syscall's number, through the 8-byte frame slot `slot` on exit (where args[1] is
// the return value and the number is regs->orig_ax, as syscall_get_nr() reads it).
void syscall_nr(std::vector<bpf_insn>& out, SyscallSide side, const KernelLayout& k, Reg ctx,
                Reg dst, int16_t slot) {
  if (side == SyscallSide::Enter) {
    put(out, ldx(8, dst, ctx, 8));
    return;
  }
  put(out, mov64(R1, R10));
  put(out, alu64(BPF_ADD, R1, slot));
  put(out, mov64(R2, 8));
  regs_field(out, ctx, k.regs_orig_ax);
  put(out, call(BPF_FUNC_probe_read_kernel));
  put(out, ldx(8, dst, R10, slot));
}

}  // namespace

const char* raw_tracepoint_of(SyscallSide side) {
  return side == SyscallSide::Enter ? "sys_enter" : "sys_exit";
}

std::vector<bpf_insn> emit_syscall_record(SyscallSide side, const KernelLayout& k, Reg ctx, Reg rec,
                                          int16_t off, uint32_t size) {
  std::vector<bpf_insn> out;
  auto at = [&](uint32_t i) { return static_cast<int16_t>(off + i); };
  for (uint32_t i = 0; i + 8 <= size; i += 8) put(out, st(8, rec, at(i), 0));
  if (size % 8 == 4) put(out, st(4, rec, at(size - 4), 0));
  if (size < 12) return out;
  // A failed read (a task without user registers) leaves zeros: probe_read zeroes its buffer.
  auto read = [&](uint32_t to, uint32_t bytes, uint32_t field) {
    put(out, mov64(R1, rec));
    put(out, alu64(BPF_ADD, R1, at(to)));
    put(out, mov64(R2, static_cast<int32_t>(bytes)));
    regs_field(out, ctx, field);
    put(out, call(BPF_FUNC_probe_read_kernel));
  };
  if (side == SyscallSide::Enter) {
    put(out, ldx(8, R1, ctx, 8));
    put(out, stx(4, rec, at(8), R1));  // the int __syscall_nr
    const uint32_t regs[] = {k.regs_di, k.regs_si, k.regs_dx, k.regs_r10, k.regs_r8, k.regs_r9};
    for (uint32_t i = 0; i < 6 && 16 + 8 * i + 8 <= size; ++i) read(16 + 8 * i, 8, regs[i]);
  } else {
    read(8, 4, k.regs_orig_ax);  // the low half: x86-64 is little-endian
    if (size >= 24) {
      put(out, ldx(8, R1, ctx, 8));
      put(out, stx(8, rec, at(16), R1));
    }
  }
  return out;
}

std::vector<bpf_insn> emit_syscall_source(SyscallSide side, const KernelLayout& k, Reg ctx,
                                          int sources_fd, int16_t key_slot, int16_t out_slot) {
  std::vector<bpf_insn> out;
  syscall_nr(out, side, k, ctx, R1, out_slot);
  put(out, jmp(BPF_JLT, R1, static_cast<int32_t>(kMaxSyscallNr), 2));
  put(out, mov64(R0, 0));
  put(out, exit_insn());
  put(out, stx(4, R10, key_slot, R1));
  put(out, ld_map_fd(R1, sources_fd));
  put(out, mov64(R2, R10));
  put(out, alu64(BPF_ADD, R2, key_slot));
  put(out, call(BPF_FUNC_map_lookup_elem));
  put(out, jmp(BPF_JNE, R0, 0, 2));
  put(out, mov64(R0, 0));
  put(out, exit_insn());
  put(out, ldx(4, R1, R0, 0));
  put(out, stx(8, R10, out_slot, R1));
  return out;
}

std::unique_ptr<SyscallDispatch> SyscallDispatch::create(SyscallSide side, const KernelLayout& k,
                                                         std::string& err) {
  std::unique_ptr<SyscallDispatch> d(new SyscallDispatch);
  d->side_ = side;
  const std::string what = std::string("the ") + raw_tracepoint_of(side) + " dispatcher";
  d->progs_ = create_map(BPF_MAP_TYPE_PROG_ARRAY, "vt_sys_progs", 4, 4, kMaxSyscallNr,
                         what + "'s program array", err);
  if (!d->progs_.valid()) return nullptr;
  d->sources_ = create_map(BPF_MAP_TYPE_ARRAY, "vt_sys_sources", 4, 4, kMaxSyscallNr,
                           what + "'s source map", err);
  if (!d->sources_.valid()) return nullptr;
  std::vector<bpf_insn> code;
  put(code, mov64(R6, R1));
  if (k.task_ti_status != 0) {
    // An ia32 syscall of a 32-bit process numbers its syscalls otherwise: the syscalls:*
    // tracepoints skip it, and so does the dispatcher.
    put(code, call(BPF_FUNC_get_current_task));
    put(code, mov64(R3, R0));
    put(code, alu64(BPF_ADD, R3, static_cast<int32_t>(k.task_ti_status)));
    put(code, mov64(R1, R10));
    put(code, alu64(BPF_ADD, R1, -8));
    put(code, mov64(R2, 4));
    put(code, call(BPF_FUNC_probe_read_kernel));
    put(code, ldx(4, R1, R10, -8));
    put(code, alu64(BPF_AND, R1, kTsCompat));
    put(code, jmp(BPF_JEQ, R1, 0, 2));
    put(code, mov64(R0, 0));
    put(code, exit_insn());
  }
  syscall_nr(code, side, k, R6, R3, -8);
  put(code, mov64(R1, R6));
  put(code, ld_map_fd(R2, d->progs_.get()));
  put(code, call(BPF_FUNC_tail_call));  // returns only when nothing is routed for the number
  put(code, mov64(R0, 0));
  put(code, exit_insn());
  d->dispatcher_ = load_program(BPF_PROG_TYPE_RAW_TRACEPOINT, code, "vt_sys_dispatch", what, err);
  if (!d->dispatcher_.valid()) return nullptr;
  return d;
}

bool SyscallDispatch::route(uint32_t nr, int prog_fd, uint32_t source, std::string& err) {
  const std::string what = std::string(raw_tracepoint_of(side_)) + " #" + std::to_string(nr);
  if (nr >= kMaxSyscallNr) {
    err = "routing " + what + ": syscall numbers are below " + std::to_string(kMaxSyscallNr);
    return false;
  }
  if (bpf_map_update_elem(sources_.get(), &nr, &source, BPF_ANY) != 0 ||
      bpf_map_update_elem(progs_.get(), &nr, &prog_fd, BPF_ANY) != 0) {
    err = "routing " + what + " to its program: " + errno_hint(errno);
    return false;
  }
  ++routes_;
  return true;
}

bool SyscallDispatch::attach(std::string& err) {
  link_ = attach_raw_tracepoint(dispatcher_.get(), raw_tracepoint_of(side_), err);
  return link_.valid();
}

}  // namespace vtrace::bpf
