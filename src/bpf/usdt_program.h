// USDT probes gathered where they fire: a BPF_PROG_TYPE_KPROBE program on the probe site's uprobe
// perf event evaluates the site's arguments from the probed thread's user registers (the
// program's ctx is its struct pt_regs) and user memory, while the thread is stopped at the
// probe. The gather record's data section (gather_record.h) is then kUsdtArgs int64 values, so
// copyinstr(argN) is a StringCopy of Field(8 N, 8), read at the probe like any other.
#pragma once
#include <linux/bpf.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bpf/insn.h"
#include "bpf/kernel_layout.h"

namespace vtrace::bpf {

inline constexpr uint32_t kUsdtArgs = 10;
inline constexpr uint32_t kUsdtDataSize = 8 * kUsdtArgs;

// One argument of a USDT spec, in terms of pt_regs offsets (the target layer maps its register
// names to them).
struct RegArg {
  enum Kind : uint8_t { Imm, Reg, Mem };
  Kind kind = Imm;
  uint8_t size = 8;  // 1, 2, 4 or 8: the value is sign- or zero-extended from it
  bool is_signed = false;
  int16_t reg = -1;    // Reg: the register's pt_regs offset; Mem: the base's (-1: none)
  uint8_t shift = 0;   // Reg: 8 for %ah, %bh, %ch, %dh
  int16_t index = -1;  // Mem: the index register's pt_regs offset (-1: none)
  uint8_t scale = 1;   // Mem: 1, 2, 4 or 8
  int64_t value = 0;   // Imm: the constant; Mem: the displacement
  bool operator==(const RegArg&) const = default;
};

// True when the arguments can be evaluated (at most kUsdtArgs, sizes, scales and offsets sane).
bool check_usdt_args(const std::vector<RegArg>& args, std::string& err);

// Instructions that write kUsdtArgs int64 values at `rec` + `off` from the pt_regs in `ctx`:
// argument i evaluated (a memory operand read with bpf_probe_read_user: 0 when it faults), the
// rest 0. Clobbers r0-r5.
std::vector<bpf_insn> emit_usdt_args(const std::vector<RegArg>& args, insn::Reg ctx, insn::Reg rec,
                                     int16_t off);

// Instructions that return 0 from the program unless the current process is `pid` or one of its
// descendants up to kUsdtGenerations below it (a site's uprobe runs every program attached to
// it in every process any of them traces; -p follows forked children, as the perf events do).
// Clobbers r0-r3; uses the frame's 16 bytes at r10 + `slot` - 8.
inline constexpr int kUsdtGenerations = 4;
std::vector<bpf_insn> emit_process_check(uint32_t pid, const KernelLayout& layout, int16_t slot);

}  // namespace vtrace::bpf
