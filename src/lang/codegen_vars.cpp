// Variables: globals, clause-locals (this->), thread-locals (self->) and associative arrays.
// A variable's type is fixed by its declaration or its first assignment in program order.
#include "lang/bpftrace_hints.h"
#include "lang/codegen.h"

namespace vtrace::lang {

using ast::Expr;
using ast::ExprKind;
using ast::Scope;

uint32_t Codegen::var_slot(std::vector<bytecode::VarInfo>& vars,
                           std::map<std::string, uint32_t>& index, const std::string& key,
                           bytecode::VarInfo info) {
  auto [it, added] = index.try_emplace(key, static_cast<uint32_t>(vars.size()));
  if (added) vars.push_back(std::move(info));
  return it->second;
}

LvalueRef Codegen::resolve(const Expr& e, std::optional<Type> define_as) {
  LvalueRef ref;
  const bool indexed = e.kind == ExprKind::Index;
  const char* prefix = e.scope == Scope::Thread   ? "self->"
                       : e.scope == Scope::Clause ? "this->"
                                                  : "";
  const std::string shown = prefix + e.name;
  if (e.kind != ExprKind::Ident && e.kind != ExprKind::Var && !indexed)
    fail(e.loc, "operator = requires a modifiable lvalue as an operand");
  if (e.name.find('`') != std::string::npos)
    fail(e.loc, "kernel symbol " + e.name + " cannot be assigned");
  if (auto m = memory_var(e)) {
    if (indexed)
      fail(e.loc,
           "cannot access " + shown + " of type " + m->second.name() + " as an associative array");
    fail(e.loc, "a variable of type " + m->second.name() + " cannot be assigned as a whole");
  }
  if (define_as && (define_as->is_array() || define_as->is_record()))
    fail(e.loc, shown + " cannot be given a value of type " + define_as->name());

  // Keys are evaluated into consecutive live registers before any tuple is built: evaluating a
  // key may itself use the tuple (a[b[1]]).
  std::vector<Type> key_types;
  ref.first_key = static_cast<uint8_t>(next_reg_);
  if (indexed) {
    if (e.scope == Scope::Clause) fail(e.loc, "this-> variables may not be associative arrays");
    for (const auto& k : e.kids) {
      Val v = gen(*k);
      next_reg_ = v.reg + 1;
      key_types.push_back(v.type.is_int() ? Type::i64() : v.type);
    }
  }

  if (e.scope == Scope::Clause) {
    auto it = locals_.find(e.name);
    if (it == locals_.end()) {
      // An unknown this-> variable reads as an int64 0, as in DTrace.
      bytecode::VarInfo info{
          e.name, define_as.value_or(Type::i64()), bytecode::VarScope::Clause, false, {}};
      it = locals_.emplace(e.name, var_slot(mod_.locals, locals_, e.name, info)).first;
    }
    ref.where = LvalueRef::Local;
    ref.index = it->second;
    ref.type = mod_.locals[ref.index].type;
    return ref;
  }

  if (e.scope == Scope::Global && !indexed) {
    auto it = globals_.find(e.name);
    if (it == globals_.end()) {
      if (dynvars_.count("g:" + e.name))
        fail(e.loc, e.name + " is an associative array and must be indexed: " + e.name + "[...]");
      if (!define_as)
        fail(e.loc,
             "failed to resolve " + e.name + ": Unknown variable name" + bpftrace_hint(e.name));
      bytecode::VarInfo info{e.name, *define_as, bytecode::VarScope::Global, false, {}};
      it = globals_.emplace(e.name, var_slot(mod_.globals, globals_, e.name, info)).first;
    }
    ref.where = LvalueRef::Global;
    ref.index = it->second;
    ref.type = mod_.globals[ref.index].type;
    return ref;
  }

  // Associative arrays and self-> variables live in the engine's dynamic variable store.
  const std::string key = (e.scope == Scope::Thread ? "t:" : "g:") + e.name;
  auto it = dynvars_.find(key);
  if (it == dynvars_.end()) {
    if (e.scope == Scope::Global && globals_.count(e.name))
      fail(e.loc, e.name + " is a scalar variable and cannot be indexed");
    if (!define_as && e.scope == Scope::Global)
      fail(e.loc,
           "failed to resolve " + e.name + ": Unknown variable name" + bpftrace_hint(e.name));
    bytecode::VarInfo info{
        e.name, define_as.value_or(Type::i64()),
        e.scope == Scope::Thread ? bytecode::VarScope::Thread : bytecode::VarScope::Global, indexed,
        key_types};
    it = dynvars_.emplace(key, var_slot(mod_.dynvars, dynvars_, key, info)).first;
  }
  const bytecode::VarInfo& info = mod_.dynvars[it->second];
  if (info.is_array != indexed)
    fail(e.loc, indexed ? shown + " is not an associative array"
                        : shown + " is an associative array and must be indexed");
  if (info.key_types.size() != key_types.size())
    fail(e.loc, shown + "[ ] expects " + std::to_string(info.key_types.size()) + " key(s), but " +
                    std::to_string(key_types.size()) + " given");
  for (size_t i = 0; i < key_types.size(); ++i)
    if (info.key_types[i].kind != key_types[i].kind)
      fail(e.kids[i]->loc, shown + "[ ] key #" + std::to_string(i + 1) + " is of type " +
                               key_types[i].name() + ", expected " + info.key_types[i].name());
  ref.where = LvalueRef::Dyn;
  ref.index = it->second;
  ref.type = info.type;
  ref.key_types = info.key_types;
  return ref;
}

void Codegen::push_keys(const LvalueRef& ref) {
  emit(bytecode::Op::Tclr);
  for (size_t i = 0; i < ref.key_types.size(); ++i)
    emit(bytecode::Op::Tpush, static_cast<uint8_t>(ref.first_key + i), 0, 0,
         ref.key_types[i].is_string() ? 1 : 0);
}

void Codegen::load(const LvalueRef& ref, uint8_t dst) {
  switch (ref.where) {
    case LvalueRef::Global:
      emit(bytecode::Op::Ldg, dst, 0, 0, ref.index);
      break;
    case LvalueRef::Local:
      emit(bytecode::Op::Ldl, dst, 0, 0, ref.index);
      break;
    case LvalueRef::Dyn:
      push_keys(ref);
      emit(bytecode::Op::Ldd, dst, 0, 0, ref.index);
      break;
  }
}

void Codegen::store(const LvalueRef& ref, uint8_t src) {
  switch (ref.where) {
    case LvalueRef::Global:
      emit(bytecode::Op::Stg, src, 0, 0, ref.index);
      break;
    case LvalueRef::Local:
      emit(bytecode::Op::Stl, src, 0, 0, ref.index);
      break;
    case LvalueRef::Dyn:
      push_keys(ref);
      emit(bytecode::Op::Std, src, 0, 0, ref.index);
      break;
  }
}

void Codegen::declare(const ast::Decl& d) {
  if (d.type.is_void()) fail(d.loc, "variable " + d.name + " may not be of type void");
  if (d.type.is_array() || d.type.is_record()) return declare_in_memory(d);
  if (d.scope == Scope::Clause) {
    if (d.is_array) fail(d.loc, "this-> variables may not be associative arrays");
    if (locals_.count(d.name)) fail(d.loc, "this->" + d.name + " is already declared");
    var_slot(mod_.locals, locals_, d.name, {d.name, d.type, bytecode::VarScope::Clause, false, {}});
    return;
  }
  std::vector<Type> keys;
  for (const Type& t : d.key_types) {
    if (t.is_void()) fail(d.loc, "associative array keys may not be void");
    keys.push_back(t.is_int() ? Type::i64() : t);
  }
  if (d.scope == Scope::Global && !d.is_array) {
    if (globals_.count(d.name) || dynvars_.count("g:" + d.name))
      fail(d.loc, d.name + " is already declared");
    var_slot(mod_.globals, globals_, d.name,
             {d.name, d.type, bytecode::VarScope::Global, false, {}});
    return;
  }
  const std::string key = (d.scope == Scope::Thread ? "t:" : "g:") + d.name;
  if (dynvars_.count(key) || (d.scope == Scope::Global && globals_.count(d.name)))
    fail(d.loc, d.name + " is already declared");
  var_slot(mod_.dynvars, dynvars_, key,
           {d.name, d.type,
            d.scope == Scope::Thread ? bytecode::VarScope::Thread : bytecode::VarScope::Global,
            d.is_array, keys});
}

}  // namespace vtrace::lang
