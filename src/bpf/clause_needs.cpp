#include "bpf/clause_needs.h"

#include <algorithm>
#include <array>

namespace vtrace::bpf {

namespace {

using bytecode::Op;

std::optional<ExprOp::Kind> binary_of(Op op) {
  switch (op) {
    case Op::Add:
      return ExprOp::Add;
    case Op::Sub:
      return ExprOp::Sub;
    case Op::Mul:
      return ExprOp::Mul;
    case Op::And:
      return ExprOp::And;
    case Op::Or:
      return ExprOp::Or;
    case Op::Xor:
      return ExprOp::Xor;
    case Op::Shl:
      return ExprOp::Shl;
    case Op::Lsr:
      return ExprOp::Lsr;
    case Op::Asr:
      return ExprOp::Asr;
    default:
      return std::nullopt;
  }
}

bool writes_register(Op op) {
  switch (op) {
    case Op::Ret:
    case Op::Jmp:
    case Op::Jz:
    case Op::Jnz:
    case Op::Stg:
    case Op::Stl:
    case Op::Tclr:
    case Op::Tpush:
    case Op::Std:
    case Op::Act:
    case Op::Agg:
    case Op::Stm:
      return false;
    default:
      return true;
  }
}

ExprOp constant(int64_t v) {
  ExprOp o;
  o.kind = ExprOp::Const;
  o.value = v;
  return o;
}

ExprOp op_of(ExprOp::Kind k) {
  ExprOp o;
  o.kind = k;
  return o;
}

// Postfix depth the expression needs; more than kMaxExprDepth cannot run at the probe.
size_t depth(const Expr& e) {
  size_t d = 0, max = 0;
  for (const ExprOp& o : e) {
    if (o.kind == ExprOp::Const || o.kind == ExprOp::Arg || o.kind == ExprOp::Field)
      max = std::max(max, ++d);
    else if (o.kind != ExprOp::Neg && o.kind != ExprOp::Not)
      --d;
  }
  return max;
}

uint16_t frames_of(const std::optional<Expr>& n) {
  if (!n || n->size() != 1 || (*n)[0].kind != ExprOp::Const) return kMaxStackFrames;
  return static_cast<uint16_t>(std::clamp<int64_t>((*n)[0].value, 1, kMaxStackFrames));
}

}  // namespace

void ClauseNeeds::merge(const ClauseNeeds& o) {
  for (const StringCopy& s : o.strings)
    if (std::find(strings.begin(), strings.end(), s) == strings.end()) strings.push_back(s);
  kernel_frames = std::max(kernel_frames, o.kernel_frames);
  user_frames = std::max(user_frames, o.user_frames);
}

ClauseNeeds clause_needs(const bytecode::Module& mod, const bytecode::ClauseCode& clause) {
  ClauseNeeds needs;
  const auto& code = clause.code;
  // Where control flow merges, a register may hold either path's value: forget them all there.
  std::vector<bool> merge_point(code.size() + 1, false);
  for (size_t pc = 0; pc < code.size(); ++pc) {
    const bytecode::Insn& in = code[pc];
    if (in.op == Op::Jmp || in.op == Op::Jz || in.op == Op::Jnz) {
      size_t to = pc + 1 + in.imm;
      if (to <= code.size()) merge_point[to] = true;
    }
  }
  std::array<std::optional<Expr>, bytecode::kMaxRegs> reg;
  auto copy_of = [&](uint8_t r, const std::optional<Expr>& len, bool bytes = false) {
    if (!reg[r] || depth(*reg[r]) > kMaxExprDepth) return;
    if (len && depth(*len) > kMaxExprDepth) return;
    ClauseNeeds one;
    one.strings.push_back(StringCopy{*reg[r], len ? *len : Expr{}, bytes});
    needs.merge(one);
  };
  for (size_t pc = 0; pc < code.size(); ++pc) {
    if (merge_point[pc])
      for (auto& r : reg) r.reset();
    const bytecode::Insn& in = code[pc];
    std::optional<Expr> result;
    switch (in.op) {
      case Op::Ldi:
        if (in.imm < mod.consts.size()) result = Expr{constant(mod.consts[in.imm])};
        break;
      case Op::Ldb: {
        const auto b = static_cast<bytecode::Builtin>(in.imm);
        if (b >= bytecode::Builtin::Arg0 && b <= bytecode::Builtin::Arg9) {
          ExprOp o = op_of(ExprOp::Arg);
          o.value = static_cast<int>(b) - static_cast<int>(bytecode::Builtin::Arg0);
          result = Expr{o};
        }
        break;
      }
      case Op::Ldf:
        if (in.imm < mod.fields.size() && mod.fields[in.imm].kind == bytecode::FieldRef::Int) {
          const bytecode::FieldRef& f = mod.fields[in.imm];
          ExprOp o = op_of(ExprOp::Field);
          o.offset = f.offset;
          o.size = static_cast<uint8_t>(f.size);
          o.is_signed = f.is_signed;
          result = Expr{o};
        }
        break;
      case Op::Mov:
        result = reg[in.b];
        break;
      case Op::Neg:
      case Op::Not:
        if (reg[in.b]) {
          result = reg[in.b];
          result->push_back(op_of(in.op == Op::Neg ? ExprOp::Neg : ExprOp::Not));
        }
        break;
      case Op::Narrow:
        if (reg[in.b]) {
          // A cast: keep the low bytes, then extend them back as the type's signedness says.
          const unsigned size = in.imm & 0xf;
          result = reg[in.b];
          if (size < 8) {
            const int64_t shift = 64 - 8 * static_cast<int64_t>(size);
            result->push_back(constant(shift));
            result->push_back(op_of(ExprOp::Shl));
            result->push_back(constant(shift));
            result->push_back(op_of((in.imm & 0x10) ? ExprOp::Asr : ExprOp::Lsr));
          }
        }
        break;
      case Op::Call: {
        const auto s = static_cast<bytecode::Subr>(in.imm);
        if (s == bytecode::Subr::Copyinstr1) copy_of(in.b, std::nullopt);
        if (s == bytecode::Subr::Copyinstr2) copy_of(in.b, reg[in.b + 1]);
        // copyin(addr, n) and copyinto(addr, n, dst): n bytes at addr.
        if ((s == bytecode::Subr::Copyin || s == bytecode::Subr::Copyinto) && reg[in.b + 1])
          copy_of(in.b, reg[in.b + 1], true);
        if (s == bytecode::Subr::Stack0)
          needs.kernel_frames = std::max(needs.kernel_frames, kDefaultStackFrames);
        if (s == bytecode::Subr::Ustack0)
          needs.user_frames = std::max(needs.user_frames, kDefaultStackFrames);
        if (s == bytecode::Subr::Stack1)
          needs.kernel_frames = std::max(needs.kernel_frames, frames_of(reg[in.b]));
        if (s == bytecode::Subr::Ustack1)
          needs.user_frames = std::max(needs.user_frames, frames_of(reg[in.b]));
        break;
      }
      default:
        if (auto k = binary_of(in.op); k && reg[in.b] && reg[in.c]) {
          result = reg[in.b];
          result->insert(result->end(), reg[in.c]->begin(), reg[in.c]->end());
          result->push_back(op_of(*k));
        }
        break;
    }
    if (writes_register(in.op)) reg[in.a] = std::move(result);
  }
  return needs;
}

bool resolve_args(Expr& e, const std::function<std::optional<ExprOp>(int64_t)>& arg) {
  for (ExprOp& o : e) {
    if (o.kind != ExprOp::Arg) continue;
    std::optional<ExprOp> r = arg(o.value);
    if (!r || r->kind == ExprOp::Arg) return false;
    o = *r;
  }
  return true;
}

}  // namespace vtrace::bpf
