// The x86-64 argument spec of a USDT note ("-4@%edi 8@-16(%rbp) -8@$42 4@8(%rsp,%rdx,4)"):
// parsing, and evaluation against what a uprobe sample carries — the user registers
// (PERF_SAMPLE_REGS_USER, x86 perf register numbering) and a copy of the user stack from the
// stack pointer up (PERF_SAMPLE_STACK_USER). A memory operand outside the sampled stack is read
// from the live process (process_vm_readv); a failed read gives 0 and is counted.
// vtrace itself evaluates arguments at the probe, in BPF (bpf/usdt_program.h, usdt_attach.cpp);
// this evaluator is the reference its tests and fuzzers hold the spec's meaning to.
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vtrace::targets::host {

// x86 perf register numbers (arch/x86/include/uapi/asm/perf_regs.h).
enum PerfReg : uint8_t {
  kRegAx = 0,
  kRegBx,
  kRegCx,
  kRegDx,
  kRegSi,
  kRegDi,
  kRegBp,
  kRegSp,
  kRegIp,
  kRegFlags,
  kRegCs,
  kRegSs,
  kRegDs,
  kRegEs,
  kRegFs,
  kRegGs,
  kRegR8 = 16,
  kRegR9,
  kRegR10,
  kRegR11,
  kRegR12,
  kRegR13,
  kRegR14,
  kRegR15,
  kRegCount = 24,
  kRegNone = 0xff,
};

// The registers a 64-bit uprobe sample can carry (no FLAGS, no segment registers).
inline constexpr uint64_t kUsableRegsMask = 0x1ffull | (0xffull << 16);

struct UsdtArg {
  enum class Kind : uint8_t { Reg, Mem, Imm };
  Kind kind = Kind::Imm;
  uint8_t size = 8;  // 1, 2, 4 or 8 bytes
  bool is_signed = false;
  uint8_t reg = kRegNone;    // Reg: the register; Mem: the base (kRegNone = none)
  uint8_t shift = 0;         // Reg: 8 for %ah/%bh/%ch/%dh
  uint8_t index = kRegNone;  // Mem: the index register
  uint8_t scale = 1;         // Mem: 1, 2, 4, 8
  int64_t value = 0;         // Imm: the constant; Mem: the displacement
  // Mem: a symbolic displacement ("NBuffers(%rip)", "8+Stats(%rip)"): the address is the
  // symbol's, plus `value`. resolve_usdt_symbol() turns it into an %rip-relative displacement.
  std::string symbol;
};

// Parses a whole spec (arguments separated by blanks; at most `max_args`). False with `error`
// naming the bad argument ("%xmm0 unsupported", ...).
bool parse_usdt_args(const std::string& spec, std::vector<UsdtArg>& out, std::string& error,
                     size_t max_args = 10);
// One argument ("-4@%edi").
bool parse_usdt_arg(const std::string& text, UsdtArg& out, std::string& error);

// Resolves a symbolic operand given the symbol's link-time address and the probe's link-time pc:
// the %rip a uprobe sample carries is the probe's address (the int3 that replaced the nop).
void resolve_usdt_symbol(UsdtArg& arg, uint64_t symbol_addr, uint64_t pc);

// The registers the spec reads, as a perf sample_regs_user mask.
uint64_t usdt_regs_mask(const std::vector<UsdtArg>& args);
// Whether some argument reads memory.
bool usdt_reads_memory(const std::vector<UsdtArg>& args);

// What one uprobe sample gives to evaluate arguments with.
struct UsdtSampleRegs {
  uint64_t regs[kRegCount] = {};
  uint64_t valid = 0;              // bit i: regs[i] was sampled
  const uint8_t* stack = nullptr;  // copy of user memory at [regs[kRegSp], +stack_size)
  uint64_t stack_size = 0;
  pid_t pid = 0;  // for reads outside the sampled stack; 0 = none
};

struct UsdtEvalStats {
  uint64_t stack_reads = 0;    // memory operands served from the sampled stack
  uint64_t process_reads = 0;  // served by process_vm_readv
  uint64_t failed_reads = 0;   // unreadable: the argument is 0
  uint64_t missing_regs = 0;   // a register the sample lacked: the argument is 0
};

// The argument's value, sign- or zero-extended from its size.
int64_t eval_usdt_arg(const UsdtArg& arg, const UsdtSampleRegs& s, UsdtEvalStats& stats);

}  // namespace vtrace::targets::host
