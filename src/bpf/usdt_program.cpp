#include "bpf/usdt_program.h"

#include <string>

namespace vtrace::bpf {
namespace {

using namespace insn;

struct Out {
  std::vector<bpf_insn> code;
  void operator()(bpf_insn i) { code.push_back(i); }
  void operator()(const std::array<bpf_insn, 2>& p) { code.insert(code.end(), p.begin(), p.end()); }
};

// r1 = r1 sign- or zero-extended from its low `size` bytes.
void extend(Out& e, uint8_t size, bool is_signed) {
  if (size >= 8) return;
  const int32_t shift = 64 - 8 * size;
  e(alu64(BPF_LSH, R1, shift));
  e(alu64(is_signed ? BPF_ARSH : BPF_RSH, R1, shift));
}

// x86-64's struct pt_regs (a kprobe program's ctx) is 21 registers; ctx reads must stay inside.
constexpr int16_t kPtRegsSize = 21 * 8;

bool reg_ok(int16_t off) {
  return off == -1 || (off >= 0 && off % 8 == 0 && off < kPtRegsSize);
}

}  // namespace

bool check_usdt_args(const std::vector<RegArg>& args, std::string& err) {
  if (args.size() > kUsdtArgs) {
    err = "a USDT probe has " + std::to_string(args.size()) + " arguments (at most " +
          std::to_string(kUsdtArgs) + ")";
    return false;
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const RegArg& a = args[i];
    const bool size_ok = a.size == 1 || a.size == 2 || a.size == 4 || a.size == 8;
    const bool scale_ok = a.scale == 1 || a.scale == 2 || a.scale == 4 || a.scale == 8;
    if (!size_ok || !scale_ok || !reg_ok(a.reg) || !reg_ok(a.index) ||
        (a.kind == RegArg::Reg && a.reg < 0) || a.shift > 56) {
      err = "USDT argument " + std::to_string(i) + " is malformed";
      return false;
    }
  }
  return true;
}

std::vector<bpf_insn> emit_usdt_args(const std::vector<RegArg>& args, Reg ctx, Reg rec,
                                     int16_t off) {
  Out e;
  for (uint32_t i = 0; i < kUsdtArgs; ++i) {
    const int16_t at = static_cast<int16_t>(off + 8 * i);
    if (i >= args.size()) {
      e(st(8, rec, at, 0));
      continue;
    }
    const RegArg& a = args[i];
    switch (a.kind) {
      case RegArg::Imm:
        e(ld_imm64(R1, static_cast<uint64_t>(a.value)));
        break;
      case RegArg::Reg:
        e(ldx(8, R1, ctx, a.reg));
        if (a.shift) e(alu64(BPF_RSH, R1, a.shift));
        extend(e, a.size, a.is_signed);
        break;
      case RegArg::Mem:
        // r3 = disp + base + index * scale; the value is read into the slot, zeroed first so
        // that a narrow (or faulting) read leaves the rest 0.
        e(ld_imm64(R3, static_cast<uint64_t>(a.value)));
        if (a.reg >= 0) {
          e(ldx(8, R2, ctx, a.reg));
          e(alu64(BPF_ADD, R3, R2));
        }
        if (a.index >= 0) {
          e(ldx(8, R2, ctx, a.index));
          if (a.scale > 1) e(alu64(BPF_MUL, R2, a.scale));
          e(alu64(BPF_ADD, R3, R2));
        }
        e(st(8, rec, at, 0));
        e(mov64(R1, rec));
        e(alu64(BPF_ADD, R1, at));
        e(mov64(R2, a.size));
        e(call(BPF_FUNC_probe_read_user));
        e(ldx(a.size, R1, rec, at));
        extend(e, a.size, a.is_signed);
        break;
    }
    e(stx(8, rec, at, R1));
  }
  return std::move(e.code);
}

std::vector<bpf_insn> emit_process_check(uint32_t pid, const KernelLayout& k, int16_t slot) {
  Out e;
  const int16_t tgid = static_cast<int16_t>(slot - 8);
  std::vector<size_t> found;
  // The process itself, the common case, with one cheap helper; then its ancestors.
  e(call(BPF_FUNC_get_current_pid_tgid));
  e(alu64(BPF_RSH, R0, 32));
  found.push_back(e.code.size());
  e(jmp(BPF_JEQ, R0, static_cast<int32_t>(pid), 0));
  // slot = the task: its real_parent, for each generation.
  e(call(BPF_FUNC_get_current_task));
  e(stx(8, R10, slot, R0));
  auto read = [&](int16_t to, int32_t size, uint32_t field) {
    e(mov64(R1, R10));
    e(alu64(BPF_ADD, R1, to));
    e(mov64(R2, size));
    e(ldx(8, R3, R10, slot));
    e(alu64(BPF_ADD, R3, static_cast<int32_t>(field)));
    e(call(BPF_FUNC_probe_read_kernel));
  };
  for (int g = 1; g <= kUsdtGenerations; ++g) {
    read(slot, 8, k.task_real_parent);
    read(tgid, 4, k.task_tgid);
    e(ldx(4, R1, R10, tgid));
    found.push_back(e.code.size());
    e(jmp(BPF_JEQ, R1, static_cast<int32_t>(pid), 0));
  }
  e(mov64(R0, 0));
  e(exit_insn());
  for (size_t at : found) e.code[at].off = static_cast<int16_t>(e.code.size() - at - 1);
  return std::move(e.code);
}

}  // namespace vtrace::bpf
