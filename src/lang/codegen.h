// Internal to the compiler: the code generator's state, shared by compiler.cpp (clauses,
// statements, actions, aggregations) and codegen_expr.cpp (expressions and variables).
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bytecode/module.h"
#include "lang/action_order.h"
#include "lang/ast.h"
#include "lang/compiler.h"
#include "lang/source.h"

namespace vtrace::lang {

// A value computed into a register.
struct Val {
  uint8_t reg;
  Type type;
};

// An object in memory: its address in a register, and its type.
struct Place {
  uint8_t addr;
  Type type;
};

// A resolved variable reference (for loads, stores, ++/--, compound assignment).
struct LvalueRef {
  enum Where { Global, Local, Dyn } where = Global;
  uint32_t index = 0;
  Type type;
  uint8_t first_key = 0;  // key registers, already evaluated
  std::vector<Type> key_types;
};

// What an assignment, ++ or -- writes: a D variable (ref) or an object in memory (place).
struct Assignee {
  std::optional<Place> place;
  LvalueRef ref;
  Type type;
};

class Codegen {
 public:
  explicit Codegen(const Source& src, const FieldResolver* fields = nullptr)
      : src_(src), fields_(fields) {}
  bytecode::Module run(const ast::Program& prog);

  // expressions (codegen_expr.cpp)
  // A value: a char array as a string, another array as a pointer to its first element.
  Val gen(const ast::Expr& e);
  // As gen(), but an array, struct or union stays itself (its address, typed): what ., [], &
  // and sizeof work on.
  Val gen_raw(const ast::Expr& e);
  std::optional<int64_t> fold(const ast::Expr& e) const;

 private:
  [[noreturn]] void fail(Loc loc, const std::string& msg) const {
    throw CompileError(src_, loc, msg);
  }

  // registers: a stack; every gen() leaves its value in the first register it allocated
  uint8_t alloc(Loc loc);
  void release_to(uint8_t mark) { next_reg_ = mark; }

  // emission
  size_t emit(bytecode::Op op, uint8_t a = 0, uint8_t b = 0, uint8_t c = 0, uint32_t imm = 0);
  void patch_to_here(size_t jump_at);
  uint32_t const_index(int64_t v);
  uint32_t string_index(const std::string& s);
  void load_int(uint8_t reg, int64_t v) { emit(bytecode::Op::Ldi, reg, 0, 0, const_index(v)); }
  void narrow_to(uint8_t reg, Type t);

  // expressions
  Val gen_into(const ast::Expr& e, uint8_t dst);
  Val gen_binary(const ast::Expr& e, uint8_t dst);
  Val gen_logical(const ast::Expr& e, uint8_t dst);
  Val gen_compare(const ast::Expr& e, uint8_t dst);
  Val gen_ternary(const ast::Expr& e, uint8_t dst);
  Val gen_assign(const ast::Expr& e, uint8_t dst);
  Val gen_incdec(const ast::Expr& e, uint8_t dst);
  Val gen_cast(const ast::Expr& e, uint8_t dst);
  Val gen_call(const ast::Expr& e, uint8_t dst);
  Val gen_ident(const ast::Expr& e, uint8_t dst);
  Val gen_field(const ast::Expr& e, uint8_t dst);
  Val require_int(const ast::Expr& e, const char* what);

  // memory: pointers, arrays, structs (codegen_memory.cpp)
  bool is_place(const ast::Expr& e);  // *p, p[i], p->m, s.m, and x[i] on a pointer variable
  Place gen_place(const ast::Expr& e, uint8_t dst);
  Val load_place(const Place& p, uint8_t dst, Loc loc);
  void store_place(const Place& p, uint8_t src, Loc loc);
  Val gen_addr_of(const ast::Expr& e, uint8_t dst);
  Val gen_place_value(const ast::Expr& e, uint8_t dst);  // Deref, Subscript, Member
  // The left-hand side of =, op= or ++/--; `define_as` as for resolve().
  Assignee assignee(const ast::Expr& lhs, std::optional<Type> define_as, Loc loc);
  void load(const Assignee& a, uint8_t dst, Loc loc);
  void store(const Assignee& a, uint8_t src, Loc loc);
  Val rvalue(Val v, Loc loc);
  Val as_string(Val v, Loc loc, const std::string& what);  // char *, char [N] -> string
  Val gen_memory_call(const ast::Expr& e, uint8_t dst);    // alloca, bcopy, copyin, copyinto
  std::optional<Type> scalar_var_type(const ast::Expr& e) const;
  // A variable of array, struct or union type: its address and type; nullptr when e is not one.
  std::optional<std::pair<uint64_t, Type>> memory_var(const ast::Expr& e) const;
  void declare_in_memory(const ast::Decl& d);
  // p + n, p - n, p - q: scaled by the pointee's size.
  Val gen_pointer_arith(ast::Op op, Val l, Val r, uint8_t dst, Loc loc);

  // variables
  // Resolves a variable reference; `define_as` creates it with that type when unknown (first
  // assignment). Evaluates index keys into registers.
  LvalueRef resolve(const ast::Expr& e, std::optional<Type> define_as);
  void push_keys(const LvalueRef& ref);
  void load(const LvalueRef& ref, uint8_t dst);
  void store(const LvalueRef& ref, uint8_t src);
  uint32_t var_slot(std::vector<bytecode::VarInfo>& vars, std::map<std::string, uint32_t>& index,
                    const std::string& name, bytecode::VarInfo info);

  // statements (compiler.cpp)
  void gen_clause(const ast::Clause& c);
  void gen_stmt(const ast::Stmt& s);
  void gen_action(const ast::Expr& call);
  void gen_aggregation(const ast::Stmt& s);
  uint32_t agg_ref(const ast::Expr& e);
  uint32_t add_action(bytecode::Action a);
  void declare(const ast::Decl& d);

  const Source& src_;
  const FieldResolver* fields_ = nullptr;
  bytecode::Module mod_;
  std::map<int64_t, uint32_t> consts_;
  std::map<std::string, uint32_t> strings_;
  std::map<std::string, uint32_t> globals_, locals_, dynvars_, aggs_;
  // Variables in memory ("g:name", "l:name"): Place::addr unused, the address is mem_addrs_.
  std::map<std::string, std::pair<uint64_t, Type>> mem_vars_;
  bytecode::ClauseCode* clause_ = nullptr;
  ActionOrder action_order_;  // of the clause being compiled
  uint32_t next_reg_ = 0;
};

// An array used as a pointer: to its first element (other values unchanged).
Val decay(Val v);

// What pointer arithmetic on `pointer` steps by: its pointee's size (void *: 1, as GNU C).
uint64_t stride(const Type& pointer);

// Whether a call names an action (trace, printf, ..., tracemem) rather than a subroutine.
bool is_action(const std::string& name);

// Integer promotions and usual arithmetic conversions of C, as D applies them.
Type arith_type(Type a, Type b);

}  // namespace vtrace::lang
