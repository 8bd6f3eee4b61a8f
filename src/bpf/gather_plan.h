// What a probe's BPF program gathers at the moment the probe fires, for the engine to finish the
// clause on the host ("gather at the probe, finish on the host", DESIGN.md section 2): the
// firing task's credentials and name, the strings copyinstr() will ask for, and the stacks
// stack()/ustack() will print. The plan is built from the clauses' bytecode (clause_needs.h) and
// turned into a BPF program by gather_program.h; the record it writes is gather_record.h.
#pragma once
#include <cstdint>
#include <vector>

namespace vtrace::bpf {

// One step of an integer expression evaluated at the probe, in postfix order (operands first):
// an address or length that copyinstr() reads with.
struct ExprOp {
  enum Kind : uint8_t {
    Const,  // push value
    Arg,    // push probe argument `value` (resolved to a Field by the target before loading)
    Field,  // push the integer of `size` bytes at `offset` of the event's data (the tracepoint
            // record, as its tracefs format lays it out), sign-extended when is_signed
    // binary: pop b, pop a, push a OP b (64-bit; shifts use b & 63)
    Add,
    Sub,
    Mul,
    And,
    Or,
    Xor,
    Shl,
    Lsr,
    Asr,
    // unary: pop a, push OP a
    Neg,
    Not,
  };
  Kind kind = Const;
  int64_t value = 0;
  uint32_t offset = 0;
  uint8_t size = 8;
  bool is_signed = false;
  bool operator==(const ExprOp&) const = default;
};
using Expr = std::vector<ExprOp>;
inline constexpr size_t kMaxExprDepth = 8;  // evaluation stack slots a program may use

// copyinstr(addr) or copyinstr(addr, len): read a NUL-terminated string of at most
// min(len, strsize - 1) bytes at addr (user memory first, then kernel memory).
// copyin(addr, len) is one too, of bytes (no NUL ends it; all len bytes or a fault).
struct StringCopy {
  Expr addr;
  Expr len;            // empty: no length argument
  bool bytes = false;  // copyin(): read exactly min(len, strsize - 1) bytes
  bool operator==(const StringCopy&) const = default;
};

struct GatherPlan {
  uint32_t probe = 0;       // written into every record (the catalog probe id)
  uint32_t data_size = 0;   // bytes of the tracepoint record copied into the record
  uint32_t data_extra = 0;  // further bytes copied for __data_loc strings after the fixed part
  uint32_t strsize = 256;   // the strsize option: bytes of each string slot, NUL included
  std::vector<StringCopy> strings;
  uint16_t kernel_frames = 0;  // stack(): kernel return addresses to gather (0: none)
  uint16_t user_frames = 0;    // ustack(): user return addresses to gather (0: none)
  bool operator==(const GatherPlan&) const = default;
};

}  // namespace vtrace::bpf
