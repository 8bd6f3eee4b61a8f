// Expressions and variable access: type checking and bytecode for every ExprKind.
#include <unordered_map>

#include "bytecode/verifier.h"
#include "lang/bpftrace_hints.h"
#include "lang/codegen.h"
#include "lang/constant_fold.h"

namespace vtrace::lang {

using ast::Expr;
using ast::ExprKind;
using ast::Op;
using bytecode::Builtin;

namespace {

struct BuiltinVar {
  Builtin id;
  Type type;
};

const std::unordered_map<std::string, BuiltinVar>& builtin_vars() {
  static const std::unordered_map<std::string, BuiltinVar> vars = [] {
    std::unordered_map<std::string, BuiltinVar> m = {
        {"timestamp", {Builtin::Timestamp, Type::u64()}},
        {"vtimestamp", {Builtin::Vtimestamp, Type::u64()}},
        {"walltimestamp", {Builtin::Walltimestamp, Type::u64()}},
        {"guesttimestamp", {Builtin::Guesttimestamp, Type::u64()}},
        {"pid", {Builtin::Pid, Type::i32()}},
        {"ppid", {Builtin::Ppid, Type::i32()}},
        {"tid", {Builtin::Tid, Type::i32()}},
        {"uid", {Builtin::Uid, Type::int_of(4, false)}},
        {"gid", {Builtin::Gid, Type::int_of(4, false)}},
        {"cpu", {Builtin::Cpu, Type::i32()}},
        {"vcpu", {Builtin::Vcpu, Type::i32()}},
        {"vcpustolen", {Builtin::Vcpustolen, Type::u64()}},
        {"id", {Builtin::Id, Type::int_of(4, false)}},
        {"epid", {Builtin::Epid, Type::int_of(4, false)}},
        {"errno", {Builtin::Errno, Type::i32()}},
        {"execname", {Builtin::Execname, Type::str()}},
        {"probeprov", {Builtin::Probeprov, Type::str()}},
        {"probemod", {Builtin::Probemod, Type::str()}},
        {"probefunc", {Builtin::Probefunc, Type::str()}},
        {"probename", {Builtin::Probename, Type::str()}},
        {"vmname", {Builtin::Vmname, Type::str()}},
    };
    for (int i = 0; i < 10; ++i)
      m["arg" + std::to_string(i)] = {static_cast<Builtin>(static_cast<int>(Builtin::Arg0) + i),
                                      Type::i64()};
    return m;
  }();
  return vars;
}

// C's integer promotions; a pointer or an enum used in arithmetic is a plain integer.
Type promote(Type t) {
  if (t.size < 4) return Type::i32();
  return Type::int_of(t.size, t.is_signed);
}

const char* op_text(Op op) {
  switch (op) {
    case Op::Add:
      return "+";
    case Op::Sub:
      return "-";
    case Op::Mul:
      return "*";
    case Op::Div:
      return "/";
    case Op::Mod:
      return "%";
    case Op::Shl:
      return "<<";
    case Op::Shr:
      return ">>";
    case Op::BitAnd:
      return "&";
    case Op::BitOr:
      return "|";
    case Op::BitXor:
      return "^";
    case Op::LogAnd:
      return "&&";
    case Op::LogOr:
      return "||";
    case Op::LogXor:
      return "^^";
    case Op::Eq:
      return "==";
    case Op::Ne:
      return "!=";
    case Op::Lt:
      return "<";
    case Op::Le:
      return "<=";
    case Op::Gt:
      return ">";
    case Op::Ge:
      return ">=";
    case Op::Neg:
      return "-";
    case Op::Plus:
      return "+";
    case Op::LogNot:
      return "!";
    case Op::BitNot:
      return "~";
    case Op::Assign:
      return "=";
    case Op::Inc:
      return "++";
    case Op::Dec:
      return "--";
  }
  return "?";
}

// The integer instruction for a binary operator on operands of (promoted) type t.
bool int_binary_op(Op op, Type t, bytecode::Op& out) {
  switch (op) {
    case Op::Add:
      out = bytecode::Op::Add;
      return true;
    case Op::Sub:
      out = bytecode::Op::Sub;
      return true;
    case Op::Mul:
      out = bytecode::Op::Mul;
      return true;
    case Op::Div:
      out = t.is_signed ? bytecode::Op::Sdiv : bytecode::Op::Udiv;
      return true;
    case Op::Mod:
      out = t.is_signed ? bytecode::Op::Srem : bytecode::Op::Urem;
      return true;
    case Op::Shl:
      out = bytecode::Op::Shl;
      return true;
    case Op::Shr:
      out = t.is_signed ? bytecode::Op::Asr : bytecode::Op::Lsr;
      return true;
    case Op::BitAnd:
      out = bytecode::Op::And;
      return true;
    case Op::BitOr:
      out = bytecode::Op::Or;
      return true;
    case Op::BitXor:
      out = bytecode::Op::Xor;
      return true;
    default:
      return false;
  }
}

}  // namespace

Type arith_type(Type a, Type b) {
  a = promote(a);
  b = promote(b);
  if (a.size != b.size) return a.size > b.size ? a : b;
  return Type::int_of(a.size, a.is_signed && b.is_signed);
}

uint8_t Codegen::alloc(Loc loc) {
  if (next_reg_ >= bytecode::kMaxRegs) fail(loc, "expression too complex: out of registers");
  uint8_t r = static_cast<uint8_t>(next_reg_++);
  if (next_reg_ > clause_->nregs) clause_->nregs = next_reg_;
  return r;
}

size_t Codegen::emit(bytecode::Op op, uint8_t a, uint8_t b, uint8_t c, uint32_t imm) {
  clause_->code.push_back(bytecode::Insn{op, a, b, c, imm});
  return clause_->code.size() - 1;
}

void Codegen::patch_to_here(size_t at) {
  clause_->code[at].imm = static_cast<uint32_t>(clause_->code.size() - at - 1);
}

uint32_t Codegen::const_index(int64_t v) {
  auto [it, added] = consts_.try_emplace(v, static_cast<uint32_t>(mod_.consts.size()));
  if (added) mod_.consts.push_back(v);
  return it->second;
}

uint32_t Codegen::string_index(const std::string& s) {
  auto [it, added] = strings_.try_emplace(s, static_cast<uint32_t>(mod_.strings.size()));
  if (added) mod_.strings.push_back(s);
  return it->second;
}

void Codegen::narrow_to(uint8_t reg, Type t) {
  if (t.is_int() && t.size < 8)
    emit(bytecode::Op::Narrow, reg, reg, 0, bytecode::narrow_code(t.size, t.is_signed));
}

Val Codegen::gen(const Expr& e) {
  return rvalue(gen_raw(e), e.loc);
}

Val Codegen::gen_raw(const Expr& e) {
  uint8_t dst = alloc(e.loc);
  Val v = gen_into(e, dst);
  release_to(dst + 1);
  return v;
}

Val Codegen::require_int(const Expr& e, const char* what) {
  Val v = gen(e);
  if (!v.type.is_int())
    fail(e.loc, std::string("operator ") + what + " requires an operand of integer type, not " +
                    v.type.name());
  return v;
}

Val Codegen::gen_into(const Expr& e, uint8_t dst) {
  switch (e.kind) {
    case ExprKind::IntLit: {
      load_int(dst, e.ival);
      Type t = e.type.is_int()
                   ? e.type
                   : (e.ival >= INT32_MIN && e.ival <= INT32_MAX ? Type::i32() : Type::i64());
      return {dst, t};
    }
    case ExprKind::StrLit:
      emit(bytecode::Op::Lds, dst, 0, 0, string_index(e.sval));
      return {dst, Type::str()};
    case ExprKind::Ident:
      return gen_ident(e, dst);
    case ExprKind::Index:
      if (auto t = scalar_var_type(e); t && (t->is_pointer() || t->is_string() || t->is_array()))
        return gen_place_value(e, dst);
      [[fallthrough]];
    case ExprKind::Var: {
      if (auto m = memory_var(e); m && e.kind == ExprKind::Var) {
        load_int(dst, static_cast<int64_t>(m->first));
        return {dst, m->second};
      }
      LvalueRef ref = resolve(e, std::nullopt);
      load(ref, dst);
      return {dst, ref.type};
    }
    case ExprKind::Call:
      return gen_call(e, dst);
    case ExprKind::AggRef:
      fail(e.loc, "aggregation @" + e.name + " may only be used as an argument of an action");
    case ExprKind::Unary: {
      if (e.op == Op::LogNot) {
        Val v = require_int(*e.kids[0], "!");
        emit(bytecode::Op::LNot, dst, v.reg);
        return {dst, Type::i32()};
      }
      Val v = require_int(*e.kids[0], op_text(e.op));
      Type t = promote(v.type);
      if (e.op == Op::Neg)
        emit(bytecode::Op::Neg, dst, v.reg);
      else if (e.op == Op::BitNot)
        emit(bytecode::Op::Not, dst, v.reg);
      else
        emit(bytecode::Op::Mov, dst, v.reg);
      narrow_to(dst, t);
      return {dst, t};
    }
    case ExprKind::Binary:
      if (e.op == Op::LogAnd || e.op == Op::LogOr || e.op == Op::LogXor) return gen_logical(e, dst);
      if (e.op >= Op::Eq && e.op <= Op::Ge) return gen_compare(e, dst);
      return gen_binary(e, dst);
    case ExprKind::Ternary:
      return gen_ternary(e, dst);
    case ExprKind::Assign:
      return gen_assign(e, dst);
    case ExprKind::IncDec:
      return gen_incdec(e, dst);
    case ExprKind::Cast:
      return gen_cast(e, dst);
    case ExprKind::SizeofType:
      if (e.cast_type.is_string() || e.cast_type.bytes() == 0)
        fail(e.loc, "sizeof cannot be applied to type " + e.cast_type.name());
      load_int(dst, static_cast<int64_t>(e.cast_type.bytes()));
      return {dst, Type::u64()};
    case ExprKind::SizeofExpr: {
      // The operand is not evaluated, as in C; only its type matters.
      uint8_t mark = next_reg_;
      size_t code_mark = clause_->code.size();
      Val v = gen_raw(*e.kids[0]);
      clause_->code.resize(code_mark);
      release_to(mark);
      if (v.type.is_string() || v.type.bytes() == 0)
        fail(e.loc, "sizeof cannot be applied to an expression of type " + v.type.name());
      load_int(dst, static_cast<int64_t>(v.type.bytes()));
      return {dst, Type::u64()};
    }
    case ExprKind::Field:
      return gen_field(e, dst);
    case ExprKind::Deref:
    case ExprKind::Subscript:
    case ExprKind::Member:
      return gen_place_value(e, dst);
    case ExprKind::AddrOf:
      return gen_addr_of(e, dst);
  }
  fail(e.loc, "unsupported expression");
}

Val Codegen::gen_field(const Expr& e, uint8_t dst) {
  std::string err;
  std::optional<bytecode::FieldRef> f;
  if (fields_ != nullptr && *fields_) f = (*fields_)(clause_->probes, e.name, err);
  if (!f) {
    if (err.empty()) err = "args->" + e.name + " needs a tracepoint probe with a field " + e.name;
    fail(e.loc, err);
  }
  uint32_t index = 0;
  while (index < mod_.fields.size() && !(mod_.fields[index] == *f)) ++index;
  if (index == mod_.fields.size()) mod_.fields.push_back(*f);
  emit(bytecode::Op::Ldf, dst, 0, 0, index);
  if (f->is_string()) return {dst, Type::str()};
  return {dst, Type::int_of(static_cast<uint8_t>(f->size), f->is_signed)};
}

namespace {
// The fault codes dtrace:::ERROR's arg4 carries, D's inline constants of <sys/dtrace.h>.
const std::unordered_map<std::string, int64_t>& fault_constants() {
  static const std::unordered_map<std::string, int64_t> m = {
      {"DTRACEFLT_UNKNOWN", 0},  {"DTRACEFLT_BADADDR", 1},    {"DTRACEFLT_BADALIGN", 2},
      {"DTRACEFLT_ILLOP", 3},    {"DTRACEFLT_DIVZERO", 4},    {"DTRACEFLT_NOSCRATCH", 5},
      {"DTRACEFLT_KPRIV", 6},    {"DTRACEFLT_UPRIV", 7},      {"DTRACEFLT_TUPOFLOW", 8},
      {"DTRACEFLT_BADSTACK", 9}, {"DTRACEFLT_LIBRARY", 1000},
  };
  return m;
}
}  // namespace

Val Codegen::gen_ident(const Expr& e, uint8_t dst) {
  if (auto c = fault_constants().find(e.name); c != fault_constants().end()) {
    load_int(dst, c->second);
    return {dst, Type::i32()};
  }
  if (auto m = memory_var(e)) {
    load_int(dst, static_cast<int64_t>(m->first));
    return {dst, m->second};
  }
  if (e.name.find('`') != std::string::npos)
    fail(e.loc, "kernel symbol " + e.name +
                    " cannot be used: vtrace does not read kernel memory from D (its types and "
                    "addresses are not available)");
  if (e.name == "NULL" && !globals_.count(e.name)) {
    load_int(dst, 0);
    return {dst, Type::pointer_to(Type::void_type())};
  }
  auto b = builtin_vars().find(e.name);
  if (b != builtin_vars().end()) {
    emit(bytecode::Op::Ldb, dst, 0, 0, static_cast<uint32_t>(b->second.id));
    return {dst, b->second.type};
  }
  LvalueRef ref = resolve(e, std::nullopt);
  load(ref, dst);
  return {dst, ref.type};
}

Val Codegen::gen_binary(const Expr& e, uint8_t dst) {
  if (e.op == Op::Add || e.op == Op::Sub) {
    // As DTrace's dt_cook_op2: + and - name both operand types when they do not fit.
    Val l = gen(*e.kids[0]);
    Val r = gen(*e.kids[1]);
    if (!l.type.is_int() || !r.type.is_int())
      fail(e.loc, std::string("operands have incompatible types: \"") + l.type.name() + "\" " +
                      op_text(e.op) + " \"" + r.type.name() + "\"");
    if (l.type.is_pointer() || r.type.is_pointer())
      return gen_pointer_arith(e.op, l, r, dst, e.loc);
    Type t = arith_type(l.type, r.type);
    emit(e.op == Op::Add ? bytecode::Op::Add : bytecode::Op::Sub, dst, l.reg, r.reg);
    narrow_to(dst, t);
    return {dst, t};
  }
  // As DTrace's constant folding (D_DIV_ZERO): two constants divided by zero do not compile.
  if ((e.op == Op::Div || e.op == Op::Mod) && fold(*e.kids[0]) && fold(*e.kids[1]) == 0)
    fail(e.loc, "expression contains division by zero");
  Val l = require_int(*e.kids[0], op_text(e.op));
  Val r = require_int(*e.kids[1], op_text(e.op));
  Type t = (e.op == Op::Shl || e.op == Op::Shr) ? promote(l.type) : arith_type(l.type, r.type);
  bytecode::Op op = bytecode::Op::Add;
  if (!int_binary_op(e.op, t, op))
    fail(e.loc, std::string("unsupported operator ") + op_text(e.op));
  emit(op, dst, l.reg, r.reg);
  narrow_to(dst, t);
  return {dst, t};
}

Val Codegen::gen_compare(const Expr& e, uint8_t dst) {
  Val l = gen(*e.kids[0]);
  Val r = gen(*e.kids[1]);
  if (l.type.kind != r.type.kind)
    fail(e.loc, std::string("operands of ") + op_text(e.op) +
                    " have incompatible types: " + l.type.name() + " and " + r.type.name());
  uint8_t lhs = l.reg, rhs = r.reg;
  bool is_signed = true;
  if (l.type.is_string()) {
    emit(bytecode::Op::Scmp, dst, l.reg, r.reg);
    uint8_t zero = alloc(e.loc);
    load_int(zero, 0);
    lhs = dst;
    rhs = zero;
  } else {
    is_signed = arith_type(l.type, r.type).is_signed;
  }
  switch (e.op) {
    case Op::Eq:
      emit(bytecode::Op::Eq, dst, lhs, rhs);
      break;
    case Op::Ne:
      emit(bytecode::Op::Ne, dst, lhs, rhs);
      break;
    case Op::Lt:
      emit(is_signed ? bytecode::Op::Slt : bytecode::Op::Ult, dst, lhs, rhs);
      break;
    case Op::Le:
      emit(is_signed ? bytecode::Op::Sle : bytecode::Op::Ule, dst, lhs, rhs);
      break;
    case Op::Gt:
      emit(is_signed ? bytecode::Op::Slt : bytecode::Op::Ult, dst, rhs, lhs);
      break;
    case Op::Ge:
      emit(is_signed ? bytecode::Op::Sle : bytecode::Op::Ule, dst, rhs, lhs);
      break;
    default:
      break;
  }
  return {dst, Type::i32()};
}

Val Codegen::gen_logical(const Expr& e, uint8_t dst) {
  Val l = require_int(*e.kids[0], op_text(e.op));
  emit(bytecode::Op::LNot, dst, l.reg);
  emit(bytecode::Op::LNot, dst, dst);  // dst = !!lhs
  size_t skip = 0;
  if (e.op == Op::LogAnd) skip = emit(bytecode::Op::Jz, dst);
  if (e.op == Op::LogOr) skip = emit(bytecode::Op::Jnz, dst);
  Val r = require_int(*e.kids[1], op_text(e.op));
  uint8_t rb = alloc(e.loc);
  emit(bytecode::Op::LNot, rb, r.reg);
  emit(bytecode::Op::LNot, rb, rb);
  if (e.op == Op::LogXor) {
    emit(bytecode::Op::Ne, dst, dst, rb);
  } else {
    emit(bytecode::Op::Mov, dst, rb);
    patch_to_here(skip);
  }
  return {dst, Type::i32()};
}

Val Codegen::gen_ternary(const Expr& e, uint8_t dst) {
  Val c = require_int(*e.kids[0], "?:");
  size_t to_else = emit(bytecode::Op::Jz, c.reg);
  uint8_t mark = next_reg_;
  Val a = gen(*e.kids[1]);
  emit(bytecode::Op::Mov, dst, a.reg);
  size_t to_end = emit(bytecode::Op::Jmp);
  patch_to_here(to_else);
  release_to(mark);
  Val b = gen(*e.kids[2]);
  emit(bytecode::Op::Mov, dst, b.reg);
  patch_to_here(to_end);
  if (a.type.kind != b.type.kind)
    fail(e.loc, "operator ?: operands must have compatible types: " + a.type.name() + " and " +
                    b.type.name());
  return {dst, a.type.is_int() ? arith_type(a.type, b.type) : a.type};
}

namespace {
// Whether a value of type `from` may be stored in an object of type `to`: integers and pointers
// mix (as D allows), strings only with strings.
bool assignable(const Type& to, const Type& from) {
  return to.kind == from.kind;
}
}  // namespace

Assignee Codegen::assignee(const Expr& lhs, std::optional<Type> define_as, Loc loc) {
  Assignee a;
  if (is_place(lhs)) {
    a.place = gen_place(lhs, alloc(loc));
    a.type = a.place->type;
  } else {
    a.ref = resolve(lhs, define_as);
    a.type = a.ref.type;
  }
  return a;
}

void Codegen::load(const Assignee& a, uint8_t dst, Loc loc) {
  if (a.place)
    load_place(*a.place, dst, loc);
  else
    load(a.ref, dst);
}

void Codegen::store(const Assignee& a, uint8_t src, Loc loc) {
  if (a.place)
    store_place(*a.place, src, loc);
  else
    store(a.ref, src);
}

Val Codegen::gen_assign(const Expr& e, uint8_t dst) {
  const Expr& lhs = *e.kids[0];
  if (lhs.kind == ExprKind::Ident && builtin_vars().count(lhs.name))
    fail(lhs.loc, "operator " + std::string(op_text(e.op2)) + (e.op2 == Op::Assign ? "" : "=") +
                      " can only be applied to a writable variable");
  if (e.op2 == Op::Assign) {
    // The value first, so a first assignment can define the variable with its type.
    Val v = gen(*e.kids[1]);
    next_reg_ = std::max<uint32_t>(next_reg_, v.reg + 1u);
    const Assignee to = assignee(lhs, v.type, e.loc);
    if (!assignable(to.type, v.type))
      fail(e.loc, "operands have incompatible types: \"" + to.type.name() + "\" = \"" +
                      v.type.name() + "\"");
    if (to.type.is_int() && to.type.size < 8) narrow_to(v.reg, to.type);
    store(to, v.reg, e.loc);
    emit(bytecode::Op::Mov, dst, v.reg);
    return {dst, to.type};
  }
  // x += 1 and x++ on a variable not seen yet define it as an int64 (which reads 0 first).
  const Assignee to = assignee(lhs, Type::i64(), e.loc);
  if (!to.type.is_int())
    fail(e.loc, std::string("operator ") + op_text(e.op2) + "= requires an integer lvalue");
  uint8_t cur = alloc(e.loc);
  load(to, cur, e.loc);
  Val r = require_int(*e.kids[1], op_text(e.op2));
  if (r.type.is_pointer() && !to.type.is_pointer())
    fail(e.loc, std::string("operator ") + op_text(e.op2) +
                    "= requires left-hand scalar operand of known size");
  if (to.type.is_pointer() && (e.op2 == Op::Add || e.op2 == Op::Sub)) {
    gen_pointer_arith(e.op2, Val{cur, to.type}, r, cur, e.loc);
  } else {
    Type t = arith_type(to.type, r.type);
    // The result keeps the variable's type; >>= shifts as the variable's signedness says.
    bytecode::Op op = bytecode::Op::Add;
    if (!int_binary_op(e.op2, e.op2 == Op::Shr ? to.type : t, op))
      fail(e.loc, "unsupported compound assignment");
    emit(op, cur, cur, r.reg);
  }
  narrow_to(cur, to.type);
  store(to, cur, e.loc);
  emit(bytecode::Op::Mov, dst, cur);
  return {dst, to.type};
}

Val Codegen::gen_incdec(const Expr& e, uint8_t dst) {
  const Expr& lhs = *e.kids[0];
  if (lhs.kind == ExprKind::Ident && builtin_vars().count(lhs.name))
    fail(lhs.loc,
         std::string("operator ") + op_text(e.op) + " can only be applied to a writable variable");
  const Assignee to = assignee(lhs, Type::i64(), e.loc);
  if (!to.type.is_int())
    fail(e.loc, std::string("operator ") + op_text(e.op) + " requires an integer lvalue");
  uint8_t cur = alloc(e.loc);
  uint8_t one = alloc(e.loc);
  load(to, cur, e.loc);
  // A pointer steps by what it points at.
  load_int(one, static_cast<int64_t>(to.type.is_pointer() ? stride(to.type) : 1));
  emit(bytecode::Op::Mov, dst, cur);  // postfix value
  emit(e.op == Op::Inc ? bytecode::Op::Add : bytecode::Op::Sub, cur, cur, one);
  narrow_to(cur, to.type);
  store(to, cur, e.loc);
  if (e.prefix) emit(bytecode::Op::Mov, dst, cur);
  return {dst, to.type};
}

Val Codegen::gen_cast(const Expr& e, uint8_t dst) {
  const Type& t = e.cast_type;
  Val v = gen(*e.kids[0]);
  if (t.is_void()) return {v.reg, t};
  if (t.is_string()) {
    v = as_string(v, e.loc, "cast operand");
    emit(bytecode::Op::Mov, dst, v.reg);
    return {dst, t};
  }
  if (t.is_pointer() && v.type.is_string()) {
    // (char *)s: the string's bytes, copied to scratch memory a pointer can reach.
    emit(bytecode::Op::Call, dst, v.reg, 1, static_cast<uint32_t>(bytecode::Subr::StrBytes));
    return {dst, t};
  }
  if (!t.is_int() || !v.type.is_int())
    fail(e.loc, "invalid cast from " + v.type.name() + " to " + t.name());
  emit(bytecode::Op::Mov, dst, v.reg);
  narrow_to(dst, t);
  return {dst, t};
}

namespace {

// Subroutines by name, with their forms by number of arguments (the memory ones have their own
// code: gen_memory_call).
const std::unordered_map<std::string, std::vector<bytecode::Subr>>& subroutines() {
  static const std::unordered_map<std::string, std::vector<bytecode::Subr>> subrs = {
      {"strlen", {bytecode::Subr::Strlen}},
      {"strjoin", {bytecode::Subr::Strjoin}},
      {"substr", {bytecode::Subr::Substr2, bytecode::Subr::Substr3}},
      {"index", {bytecode::Subr::Index2, bytecode::Subr::Index3}},
      {"rindex", {bytecode::Subr::Rindex2, bytecode::Subr::Rindex3}},
      {"strstr", {bytecode::Subr::Strstr}},
      {"lltostr", {bytecode::Subr::Lltostr1, bytecode::Subr::Lltostr2}},
      {"basename", {bytecode::Subr::Basename}},
      {"dirname", {bytecode::Subr::Dirname}},
      {"speculation", {bytecode::Subr::Speculation}},
      {"rand", {bytecode::Subr::Rand}},
      {"toupper", {bytecode::Subr::Toupper}},
      {"tolower", {bytecode::Subr::Tolower}},
      {"strtoll", {bytecode::Subr::Strtoll}},
      {"copyinstr", {bytecode::Subr::Copyinstr1, bytecode::Subr::Copyinstr2}},
      {"strchr", {bytecode::Subr::Strchr}},
      {"strrchr", {bytecode::Subr::Strrchr}},
      {"stack", {bytecode::Subr::Stack0, bytecode::Subr::Stack1}},
      {"ustack", {bytecode::Subr::Ustack0, bytecode::Subr::Ustack1}},
      {"func", {bytecode::Subr::Func}},
      {"sym", {bytecode::Subr::Sym}},
      {"mod", {bytecode::Subr::Mod}},
      {"ufunc", {bytecode::Subr::Ufunc}},
      {"usym", {bytecode::Subr::Usym}},
      {"umod", {bytecode::Subr::Umod}},
      {"uaddr", {bytecode::Subr::Uaddr}},
      {"strtok", {bytecode::Subr::Strtok2}},
      {"htons", {bytecode::Subr::Htons}},
      {"ntohs", {bytecode::Subr::Htons}},
      {"htonl", {bytecode::Subr::Htonl}},
      {"ntohl", {bytecode::Subr::Htonl}},
      {"htonll", {bytecode::Subr::Htonll}},
      {"ntohll", {bytecode::Subr::Htonll}},
      {"inet_ntoa", {bytecode::Subr::InetNtoa}},
      {"inet_ntoa6", {bytecode::Subr::InetNtoa6}},
      {"inet_ntop", {bytecode::Subr::InetNtop}},
  };
  return subrs;
}

constexpr const char* kMemorySubroutines[] = {"alloca", "bcopy", "copyin", "copyinto"};

bool is_memory_subroutine(const std::string& name) {
  return std::find(std::begin(kMemorySubroutines), std::end(kMemorySubroutines), name) !=
         std::end(kMemorySubroutines);
}

}  // namespace

std::vector<std::string> builtin_variable_names() {
  std::vector<std::string> out;
  for (const auto& [name, b] : builtin_vars()) out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> subroutine_names() {
  std::vector<std::string> out(std::begin(kMemorySubroutines), std::end(kMemorySubroutines));
  for (const auto& [name, forms] : subroutines()) out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

Val Codegen::gen_call(const Expr& e, uint8_t dst) {
  const auto& subrs = subroutines();
  if (is_memory_subroutine(e.name)) return gen_memory_call(e, dst);
  // strtok(NULL, delims) goes on with the string the last strtok() was given.
  if (e.name == "strtok" && e.kids.size() == 2 && e.kids[0]->kind == ExprKind::Ident &&
      e.kids[0]->name == "NULL") {
    Val d = gen(*e.kids[1]);
    d = as_string(d, e.kids[1]->loc, "strtok( ) argument #2");
    emit(bytecode::Op::Call, dst, d.reg, 1, static_cast<uint32_t>(bytecode::Subr::Strtok1));
    return {dst, Type::str()};
  }
  if (e.name == "stringof") {
    if (e.kids.size() != 1) fail(e.loc, "stringof( ) requires exactly one argument");
    Val v = gen(*e.kids[0]);
    if (v.type.is_pointer()) v = as_string(v, e.kids[0]->loc, "stringof( ) argument");
    if (v.type.is_string()) {
      emit(bytecode::Op::Mov, dst, v.reg);
    } else {
      emit(bytecode::Op::Call, dst, v.reg, 1, static_cast<uint32_t>(bytecode::Subr::Lltostr1));
    }
    return {dst, Type::str()};
  }
  auto it = subrs.find(e.name);
  if (it == subrs.end()) {
    if (is_action(e.name))
      fail(e.loc, e.name + "( ) is an action and may not be used in an expression");
    fail(e.loc, "failed to resolve " + e.name + ": Unknown function name" + bpftrace_hint(e.name));
  }
  const bytecode::SubrSig* sig = nullptr;
  bytecode::Subr chosen{};
  for (bytecode::Subr s : it->second) {
    if (bytecode::subr_signature(s).args.size() == e.kids.size()) {
      sig = &bytecode::subr_signature(s);
      chosen = s;
    }
  }
  if (sig == nullptr)
    fail(e.loc, e.name + "( ) called with the wrong number of arguments (" +
                    std::to_string(e.kids.size()) + ")");
  uint8_t first = static_cast<uint8_t>(next_reg_);
  for (size_t i = 0; i < e.kids.size(); ++i) {
    Val a = gen(*e.kids[i]);
    if (sig->args[i] == Kind::String && a.type.is_pointer())
      a = as_string(a, e.kids[i]->loc, e.name + "( ) argument #" + std::to_string(i + 1));
    // inet_ntoa6(in6_addr_t *): another pointer would be read as an IPv6 address.
    if (chosen == bytecode::Subr::InetNtoa6 &&
        !(a.type.is_pointer() &&
          (a.type.target().is_void() ||
           (a.type.target().is_record() && a.type.target().c->tag == "in6_addr"))))
      fail(e.kids[i]->loc, "inet_ntoa6( ) argument #1 is incompatible with its prototype: " +
                               a.type.name() + ", expected in6_addr_t *");
    if (a.type.kind != sig->args[i])
      fail(e.kids[i]->loc, e.name + "( ) argument #" + std::to_string(i + 1) + " is of type " +
                               a.type.name() + ", expected " +
                               (sig->args[i] == Kind::String ? "string" : "an integer"));
    next_reg_ = a.reg + 1;  // keep the argument registers consecutive and live
  }
  emit(bytecode::Op::Call, dst, first, static_cast<uint8_t>(e.kids.size()),
       static_cast<uint32_t>(chosen));
  const bool is_stack = chosen >= bytecode::Subr::Stack0 && chosen <= bytecode::Subr::Ustack1;
  Type rt = is_stack                           ? Type::stack(chosen >= bytecode::Subr::Ustack0)
            : sig->result == Kind::String      ? Type::str()
            : chosen == bytecode::Subr::Strlen ? Type::u64()
            : (chosen == bytecode::Subr::Index2 || chosen == bytecode::Subr::Index3 ||
               chosen == bytecode::Subr::Rindex2 || chosen == bytecode::Subr::Rindex3 ||
               chosen == bytecode::Subr::Speculation || chosen == bytecode::Subr::Rand)
                ? Type::i32()
                : Type::i64();
  return {dst, rt};
}

std::optional<int64_t> Codegen::fold(const Expr& e) const {
  switch (e.kind) {
    case ExprKind::IntLit:
      return e.ival;
    case ExprKind::Ident: {
      if (e.name == "NULL" && !globals_.count(e.name)) return 0;
      auto c = fault_constants().find(e.name);
      return c == fault_constants().end() ? std::nullopt : std::optional<int64_t>(c->second);
    }
    case ExprKind::SizeofType:
      if (e.cast_type.is_string() || e.cast_type.bytes() == 0) return std::nullopt;
      return static_cast<int64_t>(e.cast_type.bytes());
    case ExprKind::Cast: {
      auto v = fold(*e.kids[0]);
      if (!v || !e.cast_type.is_int()) return std::nullopt;
      return narrow(*v, e.cast_type);
    }
    case ExprKind::Unary: {
      auto v = fold(*e.kids[0]);
      return v ? fold_unary(e.op, *v) : std::nullopt;
    }
    case ExprKind::Binary: {
      auto l = fold(*e.kids[0]), r = fold(*e.kids[1]);
      return l && r ? fold_binary(e.op, *l, *r) : std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace vtrace::lang
