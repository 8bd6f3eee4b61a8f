// The D abstract syntax tree, as the parser builds it and the checker/codegen consume it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lang/source.h"
#include "lang/types.h"

namespace vtrace::lang::ast {

enum class Scope : uint8_t { Global, Thread /* self-> */, Clause /* this-> */ };

enum class Op : uint8_t {
  // binary
  Add,
  Sub,
  Mul,
  Div,
  Mod,
  Shl,
  Shr,
  BitAnd,
  BitOr,
  BitXor,
  LogAnd,
  LogOr,
  LogXor,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  // unary
  Neg,
  Plus,
  LogNot,
  BitNot,
  // assignment: Assign is "=", compound assignments carry their binary op in Expr::op2
  Assign,
  // ++ / --
  Inc,
  Dec,
};

enum class ExprKind : uint8_t {
  IntLit,      // ival, type (int, long long, unsigned ... per C literal rules and suffixes)
  StrLit,      // sval (escapes already decoded)
  Ident,       // name: a global variable or a built-in variable (timestamp, execname, ...)
  Var,         // scope Thread (self->name) or Clause (this->name)
  Index,       // scope + name + kids (the tuple keys): a[k1, k2] or self->a[k]
  Call,        // name + kids (arguments): subroutines and actions (trace, printf, strlen, ...)
  AggRef,      // name: @name in an argument position (printa(@a), clear(@a)); "" = anonymous @
  Unary,       // op + kids[0]
  Binary,      // op + kids[0], kids[1]
  Ternary,     // kids[0] ? kids[1] : kids[2]
  Assign,      // kids[0] (lvalue) = kids[1]; op == Assign, or op2 holds the compound op (+= ...)
  IncDec,      // op Inc/Dec, prefix, kids[0] (lvalue)
  Cast,        // cast_type, kids[0]
  SizeofType,  // cast_type
  SizeofExpr,  // kids[0]
  Field,       // args->name: a field of the probe's event record (host tracepoints)
  Deref,       // *kids[0]
  AddrOf,      // &kids[0]
  Subscript,   // kids[0][kids[1]] on a pointer, an array or a string
  Member,      // kids[0]->name (arrow) or kids[0].name
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind{};
  Loc loc;
  int64_t ival = 0;
  std::string sval;  // StrLit text
  std::string name;  // Ident / Var / Index / Call / AggRef
  Scope scope = Scope::Global;
  Op op = Op::Assign;
  Op op2 = Op::Assign;  // compound assignment's binary op
  bool prefix = false;  // IncDec
  bool arrow = false;   // Member: -> rather than .
  Type cast_type;       // Cast / SizeofType
  std::vector<ExprPtr> kids;

  // Filled in by the checker.
  Type type;
};

enum class StmtKind : uint8_t {
  Expr,       // expr;
  AggAssign,  // @name[keys] = func(args);
  If,         // if (expr) body else else_body   (vtrace extension, as in bpftrace / DTrace 2)
  Block,      // { body }
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;

struct Stmt {
  StmtKind kind{};
  Loc loc;
  ExprPtr expr;  // Expr statement; If condition

  // AggAssign
  std::string agg_name;  // without '@'; "" for the anonymous aggregation
  std::vector<ExprPtr> agg_keys;
  std::string agg_func;  // count, sum, avg, min, max, stddev, quantize, lquantize, llquantize
  Loc agg_func_loc;
  std::vector<ExprPtr> agg_args;

  std::vector<StmtPtr> body;       // If / Block
  std::vector<StmtPtr> else_body;  // If
};

// target:provider:module:function:name; an empty field matches anything (as "*").
struct ProbeDesc {
  std::string target, provider, module, function, name;
  std::string text;  // as written
  Loc loc;
};

struct Clause {
  std::vector<ProbeDesc> probes;
  ExprPtr predicate;  // null when absent
  std::vector<StmtPtr> body;
  bool has_body = false;  // false for a bare description ("BEGIN"): the default action
  Loc loc;
};

// int x;  self string s;  this int t;  int a[string, int];
struct Decl {
  Scope scope = Scope::Global;
  Type type;
  std::string name;
  bool is_array = false;
  std::vector<Type> key_types;
  Loc loc;
};

struct Pragma {
  std::string name;   // "quiet", "bufsize", ...
  std::string value;  // "" when given without '='
  Loc loc;
};

struct Program {
  // The struct, union and enum definitions the program's types refer to (types.h).
  std::vector<std::shared_ptr<const CType>> definitions;
  std::vector<Pragma> pragmas;
  std::vector<Decl> decls;
  std::vector<Clause> clauses;
};

}  // namespace vtrace::lang::ast
