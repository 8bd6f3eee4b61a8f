// Pointers, arrays, structs and unions: addresses computed into registers, loads and stores
// through them (Ldm / Stm, which the interpreter checks against D memory: data_memory.h), and
// the conversions C makes between arrays, pointers and D's strings.
#include "bytecode/data_memory.h"
#include "bytecode/verifier.h"
#include "lang/codegen.h"

namespace vtrace::lang {

using ast::Expr;
using ast::ExprKind;
using ast::Op;
using ast::Scope;

namespace {

bool is_char(const Type& t) {
  return t.is_arith() && t.size == 1;
}

uint32_t mem_code(const Type& t) {
  return bytecode::narrow_code(t.size, t.is_signed);
}

// A scalar variable indexed as x[i]: the variable itself, to load.
Expr as_scalar_var(const Expr& e) {
  Expr v;
  v.kind = e.scope == Scope::Global ? ExprKind::Ident : ExprKind::Var;
  v.scope = e.scope;
  v.name = e.name;
  v.loc = e.loc;
  return v;
}

}  // namespace

uint64_t stride(const Type& pointer) {
  const uint64_t n = pointer.target().bytes();
  return n == 0 ? 1 : n;
}

Val decay(Val v) {
  if (v.type.is_array()) v.type = Type::pointer_to(v.type.target());
  return v;
}

std::optional<std::pair<uint64_t, Type>> Codegen::memory_var(const Expr& e) const {
  if (e.scope == Scope::Thread) return std::nullopt;
  auto it = mem_vars_.find((e.scope == Scope::Global ? "g:" : "l:") + e.name);
  if (it == mem_vars_.end()) return std::nullopt;
  return it->second;
}

void Codegen::declare_in_memory(const ast::Decl& d) {
  if (d.scope == Scope::Thread || d.is_array)
    fail(d.loc, (d.scope == Scope::Thread ? "self->" : "") + d.name + ": variables of type " +
                    d.type.name() +
                    (d.is_array ? " may not be associative arrays" : " may not be thread-local"));
  if (d.type.is_record() && !d.type.c->complete)
    fail(d.loc, "variable " + d.name + " has incomplete type " + d.type.name());
  const std::string key = (d.scope == Scope::Global ? "g:" : "l:") + d.name;
  if (mem_vars_.count(key) ||
      (d.scope == Scope::Global ? globals_.count(d.name) || dynvars_.count("g:" + d.name)
                                : locals_.count(d.name)))
    fail(d.loc, d.name + " is already declared");
  uint64_t& size = d.scope == Scope::Global ? mod_.global_data_size : mod_.local_data_size;
  const uint64_t a = std::max<uint32_t>(1, d.type.align());
  const uint64_t offset = (size + a - 1) / a * a;
  if (d.type.bytes() > (uint64_t{1} << 24) || offset + d.type.bytes() > (uint64_t{1} << 26))
    fail(d.loc, "variable " + d.name + " is too large");
  size = offset + d.type.bytes();
  const uint64_t base = d.scope == Scope::Global ? bytecode::DataMemory::kGlobalBase
                                                 : bytecode::DataMemory::kLocalBase;
  mem_vars_[key] = {base + offset, d.type};
}

std::optional<Type> Codegen::scalar_var_type(const Expr& e) const {
  if (e.kind != ExprKind::Index || e.kids.size() != 1) return std::nullopt;
  if (auto m = memory_var(e)) return m->second;
  if (e.scope == Scope::Global) {
    auto it = globals_.find(e.name);
    if (it != globals_.end()) return mod_.globals[it->second].type;
  } else if (e.scope == Scope::Clause) {
    auto it = locals_.find(e.name);
    if (it != locals_.end()) return mod_.locals[it->second].type;
  } else {
    auto it = dynvars_.find("t:" + e.name);
    if (it != dynvars_.end() && !mod_.dynvars[it->second].is_array)
      return mod_.dynvars[it->second].type;
  }
  return std::nullopt;
}

bool Codegen::is_place(const Expr& e) {
  if (e.kind == ExprKind::Deref || e.kind == ExprKind::Subscript || e.kind == ExprKind::Member)
    return true;
  auto t = scalar_var_type(e);
  return t && (t->is_pointer() || t->is_array());
}

Val Codegen::rvalue(Val v, Loc loc) {
  if (v.type.is_array()) {
    if (is_char(v.type.target())) return as_string(v, loc, "");
    v.type = Type::pointer_to(v.type.target());
    return v;
  }
  if (v.type.is_record())
    fail(loc, "a " + v.type.name() + " value cannot be used here: use a member or its address");
  return v;
}

Val Codegen::as_string(Val v, Loc loc, const std::string& what) {
  if (v.type.is_string()) return v;
  const bool char_ptr = v.type.is_pointer() && is_char(v.type.target());
  const bool char_array = v.type.is_array() && is_char(v.type.target());
  if (!char_ptr && !char_array) {
    if (what.empty()) fail(loc, "a string is required here, not " + v.type.name());
    fail(loc, what + " is of type " + v.type.name() + ", expected string");
  }
  const uint32_t mark = next_reg_;
  next_reg_ = std::max<uint32_t>(next_reg_, v.reg + 1u);
  const uint8_t a = alloc(loc), n = alloc(loc);
  emit(bytecode::Op::Mov, a, v.reg);
  load_int(n, char_array ? static_cast<int64_t>(v.type.c->count) : -1);
  emit(bytecode::Op::Call, v.reg, a, 2, static_cast<uint32_t>(bytecode::Subr::Memstr));
  release_to(mark);
  return {v.reg, Type::str()};
}

Place Codegen::gen_place(const Expr& e, uint8_t dst) {
  switch (e.kind) {
    case ExprKind::Deref: {
      Val p = decay(gen_raw(*e.kids[0]));
      if (!p.type.is_pointer())
        fail(e.loc, "operator * requires an operand of pointer type, not " + p.type.name());
      if (p.type.target().is_void()) fail(e.loc, "cannot dereference a pointer to void");
      emit(bytecode::Op::Mov, dst, p.reg);
      return {dst, p.type.target()};
    }
    case ExprKind::Subscript:
    case ExprKind::Index: {
      const Expr var = e.kind == ExprKind::Index ? as_scalar_var(e) : Expr{};
      Val base = gen_raw(e.kind == ExprKind::Index ? var : *e.kids[0]);
      const Expr& index = e.kind == ExprKind::Index ? *e.kids[0] : *e.kids[1];
      if (base.type.is_array())
        if (auto c = fold(index); c && (*c < 0 || static_cast<uint64_t>(*c) >= base.type.c->count))
          fail(e.loc, "index outside array bounds: " + std::to_string(*c) + ", max is " +
                          std::to_string(base.type.c->count));
      base = decay(base);
      if (!base.type.is_pointer())
        fail(e.loc, "operator [] requires a pointer or an array, not " + base.type.name());
      if (base.type.target().is_void()) fail(e.loc, "cannot index a pointer to void");
      next_reg_ = std::max<uint32_t>(next_reg_, base.reg + 1u);
      Val i = require_int(index, "[]");
      const uint8_t size = alloc(e.loc);
      load_int(size, static_cast<int64_t>(stride(base.type)));
      emit(bytecode::Op::Mul, i.reg, i.reg, size);
      emit(bytecode::Op::Add, dst, base.reg, i.reg);
      return {dst, base.type.target()};
    }
    case ExprKind::Member: {
      Val base = e.arrow ? gen(*e.kids[0]) : gen_raw(*e.kids[0]);
      const Type rec = e.arrow ? base.type.target() : base.type;
      if (e.arrow && !base.type.is_pointer())
        fail(e.loc, "operator -> cannot be applied to an operand of type " + base.type.name());
      if (!rec.is_record())
        fail(e.loc, std::string("operator ") + (e.arrow ? "->" : ".") +
                        " cannot be applied to an operand of type " + base.type.name());
      if (!rec.c->complete) fail(e.loc, rec.name() + " is an incomplete type");
      const Member* m = rec.c->member(e.name);
      if (m == nullptr) fail(e.loc, e.name + " is not a member of " + rec.name());
      next_reg_ = std::max<uint32_t>(next_reg_, base.reg + 1u);
      const uint8_t off = alloc(e.loc);
      load_int(off, static_cast<int64_t>(m->offset));
      emit(bytecode::Op::Add, dst, base.reg, off);
      return {dst, m->type};
    }
    default:
      fail(e.loc, "an object in memory is required here");
  }
}

Val Codegen::load_place(const Place& p, uint8_t dst, Loc loc) {
  if (p.type.is_int()) {
    emit(bytecode::Op::Ldm, dst, p.addr, 0, mem_code(p.type));
    return {dst, p.type};
  }
  if (p.type.is_array() || p.type.is_record()) {
    emit(bytecode::Op::Mov, dst, p.addr);
    return {dst, p.type};
  }
  fail(loc, "an object of type " + p.type.name() + " cannot be read through a pointer");
}

void Codegen::store_place(const Place& p, uint8_t src, Loc loc) {
  if (!p.type.is_int())
    fail(loc, "an object of type " + p.type.name() + " cannot be assigned through a pointer");
  emit(bytecode::Op::Stm, src, p.addr, 0, mem_code(p.type));
}

Val Codegen::gen_place_value(const Expr& e, uint8_t dst) {
  // A string's characters: s[i] reads one (strings are values, not memory).
  if (e.kind == ExprKind::Subscript || e.kind == ExprKind::Index) {
    const uint32_t mark = next_reg_;
    const size_t code_mark = clause_->code.size();
    const Expr var = e.kind == ExprKind::Index ? as_scalar_var(e) : Expr{};
    Val base = gen_raw(e.kind == ExprKind::Index ? var : *e.kids[0]);
    if (base.type.is_string()) {
      next_reg_ = base.reg + 1u;
      const Expr& index = e.kind == ExprKind::Index ? *e.kids[0] : *e.kids[1];
      Val i = require_int(index, "[]");
      const uint8_t a = alloc(e.loc), b = alloc(e.loc);
      emit(bytecode::Op::Mov, a, base.reg);
      emit(bytecode::Op::Mov, b, i.reg);
      emit(bytecode::Op::Call, dst, a, 2, static_cast<uint32_t>(bytecode::Subr::StrChar));
      release_to(mark);
      return {dst, Type::int_of(1, true)};
    }
    clause_->code.resize(code_mark);  // not a string: gen_place evaluates the base itself
    release_to(mark);
  }
  Place p = gen_place(e, dst);
  return load_place(p, dst, e.loc);
}

Val Codegen::gen_addr_of(const Expr& e, uint8_t dst) {
  const Expr& obj = *e.kids[0];
  if (obj.kind == ExprKind::Ident && obj.name.find('`') != std::string::npos)
    gen(obj);  // a kernel symbol: says why it cannot be used
  if (!is_place(obj))
    fail(e.loc, "operator & requires an object in memory: D variables have no address");
  Place p = gen_place(obj, dst);
  return {dst, Type::pointer_to(p.type)};
}

Val Codegen::gen_pointer_arith(Op op, Val l, Val r, uint8_t dst, Loc loc) {
  const bool lp = l.type.is_pointer(), rp = r.type.is_pointer();
  if (lp && rp) {
    if (op != Op::Sub || !(l.type == r.type))
      fail(loc, std::string("operands have incompatible types: \"") + l.type.name() + "\" " +
                    (op == Op::Add ? "+" : "-") + " \"" + r.type.name() + "\"");
    const uint8_t size = alloc(loc);
    load_int(size, static_cast<int64_t>(stride(l.type)));
    emit(bytecode::Op::Sub, dst, l.reg, r.reg);
    emit(bytecode::Op::Sdiv, dst, dst, size);
    return {dst, Type::i64()};
  }
  if (rp && op == Op::Sub)
    fail(loc,
         "operands have incompatible types: \"" + l.type.name() + "\" - \"" + r.type.name() + "\"");
  const Val& ptr = lp ? l : r;
  const Val& n = lp ? r : l;
  if (!n.type.is_int()) fail(loc, "pointer arithmetic requires an integer, not " + n.type.name());
  const uint8_t scaled = alloc(loc);
  load_int(scaled, static_cast<int64_t>(stride(ptr.type)));
  emit(bytecode::Op::Mul, scaled, n.reg, scaled);
  emit(op == Op::Add ? bytecode::Op::Add : bytecode::Op::Sub, dst, ptr.reg, scaled);
  return {dst, ptr.type};
}

Val Codegen::gen_memory_call(const Expr& e, uint8_t dst) {
  using bytecode::Subr;
  struct Shape {
    size_t nargs;
    Subr subr;
    bool returns_pointer;
  };
  const Shape shape = e.name == "alloca"   ? Shape{1, Subr::Alloca, true}
                      : e.name == "bcopy"  ? Shape{3, Subr::Bcopy, false}
                      : e.name == "copyin" ? Shape{2, Subr::Copyin, true}
                                           : Shape{3, Subr::Copyinto, false};
  if (e.kids.size() != shape.nargs)
    fail(e.loc, e.name + "( ) called with the wrong number of arguments (" +
                    std::to_string(e.kids.size()) + ")");
  Subr subr = shape.subr;
  if (subr == Subr::Alloca)
    if (auto n = fold(*e.kids[0]))  // a size_t: a negative constant is a huge size
      mod_.const_allocas.push_back({static_cast<uint64_t>(*n), e.loc});
  const uint8_t first = static_cast<uint8_t>(next_reg_);
  for (size_t i = 0; i < e.kids.size(); ++i) {
    Val a = decay(gen_raw(*e.kids[i]));  // an array is its address here, even a char one
    const std::string what = e.name + "( ) argument #" + std::to_string(i + 1);
    if (subr == Subr::Bcopy && i == 0 && a.type.is_string()) {
      subr = Subr::BcopyStr;  // bcopy from a D string
    } else if (!a.type.is_int()) {
      fail(e.kids[i]->loc, what + " is of type " + a.type.name() + ", expected an integer");
    }
    const bool is_dest =
        (subr == Subr::Bcopy || subr == Subr::BcopyStr || subr == Subr::Copyinto) &&
        i == (subr == Subr::Copyinto ? 2u : 1u);
    if (is_dest && !a.type.is_pointer())
      fail(e.kids[i]->loc, what + " must be a pointer to scratch memory, not " + a.type.name());
    next_reg_ = a.reg + 1;
  }
  emit(bytecode::Op::Call, dst, first, static_cast<uint8_t>(e.kids.size()),
       static_cast<uint32_t>(subr));
  return {dst, shape.returns_pointer ? Type::pointer_to(Type::void_type()) : Type::void_type()};
}

}  // namespace vtrace::lang
