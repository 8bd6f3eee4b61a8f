// Clauses, statements, actions and aggregations; the compiler's entry points.
#include "lang/compiler.h"

#include <cctype>
#include <cstring>

#include <functional>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <unordered_map>

#include "bytecode/verifier.h"
#include "lang/bpftrace_hints.h"
#include "lang/codegen.h"
#include "lang/parser.h"
#include "lang/predicate_tests.h"

namespace vtrace::lang {

using ast::Expr;
using ast::ExprKind;
using ast::Stmt;
using ast::StmtKind;

namespace {

struct AggFuncInfo {
  bytecode::AggFunc func;
  size_t min_args, max_args;  // including the value
};

const std::unordered_map<std::string, AggFuncInfo>& agg_funcs() {
  static const std::unordered_map<std::string, AggFuncInfo> m = {
      {"count", {bytecode::AggFunc::Count, 0, 0}},
      {"sum", {bytecode::AggFunc::Sum, 1, 1}},
      {"avg", {bytecode::AggFunc::Avg, 1, 1}},
      {"min", {bytecode::AggFunc::Min, 1, 1}},
      {"max", {bytecode::AggFunc::Max, 1, 1}},
      {"stddev", {bytecode::AggFunc::Stddev, 1, 1}},
      {"quantize", {bytecode::AggFunc::Quantize, 1, 2}},
      {"lquantize", {bytecode::AggFunc::Lquantize, 3, 5}},  // step defaults to 1
      {"llquantize", {bytecode::AggFunc::Llquantize, 5, 6}},
  };
  return m;
}

std::string agg_func_name(bytecode::AggFunc f) {
  for (const auto& [name, info] : agg_funcs())
    if (info.func == f) return name;
  return "?";
}

// DTrace's D_PROTO_LEN message for a call with the wrong number of arguments.
std::string prototype_mismatch(const std::string& name, size_t given, size_t lo, size_t hi) {
  std::string expected = lo == hi     ? std::to_string(lo)
                         : given < lo ? "at least " + std::to_string(lo)
                                      : "no more than " + std::to_string(hi);
  return name + "( ) prototype mismatch: " + std::to_string(given) + " arg" +
         (given == 1 ? "" : "s") + " passed, " + expected + " expected";
}

// DTrace's rules for llquantize() steps, which make every decade split into whole buckets.
std::string llquantize_steps_error(const bytecode::AggInfo& d) {
  const std::string steps = std::to_string(d.nsteps), factor = std::to_string(d.factor);
  if (d.nsteps <= 0) return "llquantize( ) number of steps must be positive";
  if (d.nsteps < d.factor) {
    if (d.factor % d.nsteps != 0)
      return "llquantize( ) number of steps (" + steps + ") must evenly divide factor (" + factor +
             ")";
    return "";
  }
  if (d.nsteps % d.factor != 0)
    return "llquantize( ) factor (" + factor + ") must evenly divide number of steps (" + steps +
           ")";
  // steps must divide factor^(low + 1) (factor^2 when low is 0)
  __int128 power = d.factor;
  for (int64_t i = 0; i < std::max<int64_t>(d.low, 1) && power <= INT64_MAX; ++i) power *= d.factor;
  if (power <= INT64_MAX && power % d.nsteps != 0)
    return "llquantize( ) number of steps (" + steps + ") must evenly divide factor (" + factor +
           ") raised to the power " + std::to_string(std::max<int64_t>(d.low, 1) + 1);
  return "";
}

// stack() and ustack() as statements record the stack, as trace(stack()) does (DTrace's
// stack() action).
bool is_stack_statement(const ast::Stmt& s) {
  return s.kind == ast::StmtKind::Expr && s.expr->kind == ast::ExprKind::Call &&
         (s.expr->name == "stack" || s.expr->name == "ustack");
}

}  // namespace

std::vector<std::string> action_names() {
  return {"trace", "printf", "printa",    "exit",        "speculate", "commit",  "discard",
          "clear", "trunc",  "normalize", "denormalize", "system",    "tracemem"};
}

bool is_action(const std::string& name) {
  static const std::vector<std::string> names = action_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

bytecode::Module Codegen::run(const ast::Program& prog) {
  mod_.source_name = src_.name;
  mod_.definitions = prog.definitions;
  for (const auto& p : prog.pragmas) mod_.pragmas.push_back({p.name, p.value, p.loc});
  for (const auto& d : prog.decls) declare(d);
  bool allow_empty = false;  // #pragma D option empty
  for (const auto& p : prog.pragmas)
    if (p.name == "empty" && (p.value.empty() || p.value == "1" || p.value == "true"))
      allow_empty = true;
  if (prog.clauses.empty() && !allow_empty) {
    // As dtrace (D_EMPTY), at the end of the text.
    Loc end{1, 1};
    for (char ch : src_.text)
      if (ch == '\n') ++end.line;
    fail(end, "empty D program translation unit");
  }
  for (const auto& c : prog.clauses) gen_clause(c);
  for (auto& c : mod_.clauses) {
    std::string err = bytecode::verify(mod_, c);
    if (!err.empty())
      throw CompileError(src_, c.loc, "internal error: generated code failed verification: " + err);
  }
  return std::move(mod_);
}

void Codegen::gen_clause(const ast::Clause& c) {
  mod_.clauses.emplace_back();
  clause_ = &mod_.clauses.back();
  clause_->loc = c.loc;
  action_order_ = ActionOrder{};
  for (const auto& p : c.probes) {
    // The spec's text names the description as DTrace's messages do, every field spelled out
    // ("BEGIN" is ":::BEGIN"), with the target only when one was written.
    std::string text = (p.target.empty() ? "" : p.target + ":") + p.provider + ":" + p.module +
                       ":" + p.function + ":" + p.name;
    clause_->probes.push_back({p.target, p.provider, p.module, p.function, p.name, text, p.loc});
  }
  next_reg_ = 0;
  if (c.predicate) {
    Val v = gen_raw(*c.predicate);
    if (!v.type.is_int())
      fail(c.predicate->loc, "predicate result must be of scalar type, not " + v.type.name());
    size_t skip = emit(bytecode::Op::Jz, v.reg);
    clause_->predicate_end = static_cast<uint32_t>(clause_->code.size());
    if (auto tests = predicate_tests(*c.predicate)) {
      clause_->predicate_is_tests = true;
      clause_->predicate_tests = std::move(*tests);
    }
    release_to(0);
    for (const auto& s : c.body) gen_stmt(*s);
    patch_to_here(skip);
  } else {
    for (const auto& s : c.body) gen_stmt(*s);
  }
  // As dtrace (DT_CLSFLAG_DATAREC), a firing shows the probe line when not quiet only for an
  // empty clause (the default action), a clause with a data-recording action, or one whose only
  // action is speculate() (the line goes to the speculation). Assignments, aggregations,
  // commit() and discard() alone print nothing.
  bool data = false, speculates = false;
  std::function<void(const Stmt&)> scan = [&](const Stmt& s) {
    if (s.kind == StmtKind::Expr && s.expr->kind == ExprKind::Call && is_action(s.expr->name)) {
      const std::string& n = s.expr->name;
      if (n == "speculate")
        speculates = true;
      else if (n != "commit" && n != "discard")
        data = true;
    }
    if (is_stack_statement(s)) data = true;
    for (const auto& b : s.body) scan(*b);
    for (const auto& b : s.else_body) scan(*b);
  };
  for (const auto& s : c.body) scan(*s);
  clause_->prints_probe_line = c.body.empty() || data || speculates;
  emit(bytecode::Op::Ret);
}

void Codegen::gen_stmt(const Stmt& s) {
  const uint32_t mark = next_reg_;
  switch (s.kind) {
    case StmtKind::Expr:
      if (s.expr->kind == ExprKind::Call && is_action(s.expr->name)) {
        gen_action(*s.expr);
      } else if (is_stack_statement(s)) {
        if (std::string err = action_order_.next(ActionClass::DataRecording); !err.empty())
          fail(s.loc, err);
        Val v = gen(*s.expr);
        bytecode::Action act;
        act.kind = bytecode::ActionKind::Trace;
        act.loc = s.expr->loc;
        act.arg_types.push_back(v.type);
        emit(bytecode::Op::Act, 0, v.reg, 1, add_action(std::move(act)));
      } else {
        gen(*s.expr);
      }
      break;
    case StmtKind::AggAssign:
      gen_aggregation(s);
      break;
    case StmtKind::Block:
      for (const auto& b : s.body) gen_stmt(*b);
      break;
    case StmtKind::If: {
      Val c = gen(*s.expr);
      if (!c.type.is_int()) fail(s.expr->loc, "if condition must be of scalar type");
      size_t to_else = emit(bytecode::Op::Jz, c.reg);
      release_to(mark);
      for (const auto& b : s.body) gen_stmt(*b);
      if (s.else_body.empty()) {
        patch_to_here(to_else);
      } else {
        size_t to_end = emit(bytecode::Op::Jmp);
        patch_to_here(to_else);
        for (const auto& b : s.else_body) gen_stmt(*b);
        patch_to_here(to_end);
      }
      break;
    }
  }
  release_to(static_cast<uint8_t>(mark));
}

uint32_t Codegen::add_action(bytecode::Action a) {
  mod_.actions.push_back(std::move(a));
  return static_cast<uint32_t>(mod_.actions.size() - 1);
}

uint32_t Codegen::agg_ref(const Expr& e) {
  if (e.kind != ExprKind::AggRef) fail(e.loc, "expected an aggregation (@name)");
  auto it = aggs_.find(e.name);
  if (it == aggs_.end()) fail(e.loc, "failed to resolve @" + e.name + ": Unknown aggregation");
  return it->second;
}

namespace {
// Which of a printf format's arguments are %s conversions (a '*' width or precision takes an
// argument of its own).
std::vector<bool> string_conversions(const std::string& f) {
  std::vector<bool> out;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') continue;
    if (++i < f.size() && f[i] == '%') continue;
    while (i < f.size() && std::strchr("-+ #0'", f[i]) != nullptr) ++i;
    for (int part = 0; part < 2; ++part) {
      if (i < f.size() && f[i] == '*') {
        out.push_back(false);
        ++i;
      }
      while (i < f.size() && std::isdigit(static_cast<unsigned char>(f[i]))) ++i;
      if (part == 0 && i < f.size() && f[i] == '.')
        ++i;
      else
        break;
    }
    while (i < f.size() && std::strchr("hlLqjzt", f[i]) != nullptr) ++i;
    if (i < f.size() && f[i] == '@') continue;  // printa's aggregation value
    if (i < f.size()) out.push_back(f[i] == 's');
  }
  return out;
}
}  // namespace

void Codegen::gen_action(const Expr& call) {
  const std::string& name = call.name;
  const auto& args = call.kids;
  bytecode::Action act;
  act.loc = call.loc;
  auto need_args = [&](size_t lo, size_t hi) {
    if (args.size() < lo || args.size() > hi)
      fail(call.loc, prototype_mismatch(name, args.size(), lo, hi));
  };
  auto format_arg = [&](const Expr& e) {
    if (e.kind != ExprKind::StrLit) fail(e.loc, name + "( ) format must be a string constant");
    return e.sval;
  };
  size_t first_value = 0;  // index of the first argument evaluated into registers
  if (name == "trace") {
    need_args(1, 1);
    act.kind = bytecode::ActionKind::Trace;
  } else if (name == "printf" || name == "system") {
    if (args.empty()) fail(call.loc, name + "( ) requires a format string");
    act.kind = name == "printf" ? bytecode::ActionKind::Printf : bytecode::ActionKind::System;
    act.format = format_arg(*args[0]);
    act.has_format = true;
    first_value = 1;
  } else if (name == "printa") {
    // printa(@a), printa("format", @a), or several aggregations joined by their keys
    // (printa("%d %@d %@d", @a, @b)): a format and at least one aggregation.
    if (args.empty()) need_args(1, 2);
    if (args[0]->kind != ExprKind::StrLit && args.size() > 1) format_arg(*args[0]);
    act.kind = bytecode::ActionKind::Printa;
    size_t first_agg = 0;
    if (args[0]->kind == ExprKind::StrLit) {
      need_args(2, SIZE_MAX);
      act.format = format_arg(*args[0]);
      act.has_format = true;
      first_agg = 1;
    }
    act.agg = agg_ref(*args[first_agg]);
    for (size_t i = first_agg + 1; i < args.size(); ++i) act.more_aggs.push_back(agg_ref(*args[i]));
    first_value = args.size();
  } else if (name == "exit" || name == "speculate" || name == "commit" || name == "discard") {
    need_args(1, 1);
    act.kind = name == "exit"        ? bytecode::ActionKind::Exit
               : name == "speculate" ? bytecode::ActionKind::Speculate
               : name == "commit"    ? bytecode::ActionKind::Commit
                                     : bytecode::ActionKind::Discard;
  } else if (name == "clear" || name == "denormalize") {
    need_args(1, 1);
    act.kind = name == "clear" ? bytecode::ActionKind::Clear : bytecode::ActionKind::Denormalize;
    act.agg = agg_ref(*args[0]);
    first_value = 1;
  } else if (name == "tracemem") {
    // tracemem(addr, size[, nbytes]): size bytes are recorded, nbytes (at most size) printed.
    need_args(2, 3);
    act.kind = bytecode::ActionKind::Tracemem;
    const auto size = fold(*args[1]);
    if (args[1]->kind == ExprKind::StrLit || !size || *size <= 0 || *size > (1 << 20))
      fail(args[1]->loc,
           "tracemem( ) argument #2 must be a non-zero positive integral constant expression");
    act.mem_size = static_cast<uint32_t>(*size);
    first_value = args.size();  // its values are evaluated below
  } else if (name == "trunc") {
    need_args(1, 2);
    act.kind = bytecode::ActionKind::Trunc;
    act.agg = agg_ref(*args[0]);
    first_value = 1;
  } else if (name == "normalize") {
    need_args(2, 2);
    act.kind = bytecode::ActionKind::Normalize;
    act.agg = agg_ref(*args[0]);
    first_value = 1;
  }
  using K = bytecode::ActionKind;
  ActionClass order = act.kind == K::Speculate ? ActionClass::Speculate
                      : act.kind == K::Commit  ? ActionClass::Commit
                      : act.kind == K::Discard ? ActionClass::Discard
                      : act.kind == K::Exit    ? ActionClass::Exit
                      : act.kind == K::System  ? ActionClass::Destructive
                                               : ActionClass::DataRecording;
  if (std::string err = action_order_.next(order); !err.empty()) fail(call.loc, err);
  uint8_t first = static_cast<uint8_t>(next_reg_);
  const std::vector<bool> wants_string =
      act.has_format ? string_conversions(act.format) : std::vector<bool>{};
  for (size_t i = first_value; i < args.size(); ++i) {
    if (args[i]->kind == ExprKind::AggRef)
      fail(args[i]->loc,
           name + "( ) argument #" + std::to_string(i + 1) + " may not be an aggregation");
    Val v = gen(*args[i]);
    // printf("%s", p) with a char *: the string it points at, read now.
    if (i - first_value < wants_string.size() && wants_string[i - first_value] &&
        v.type.is_pointer())
      v = as_string(v, args[i]->loc, name + "( ) argument #" + std::to_string(i + 1));
    next_reg_ = v.reg + 1;
    act.arg_types.push_back(v.type);
  }
  if (act.kind == bytecode::ActionKind::Tracemem) {
    for (size_t i : {size_t{0}, size_t{2}}) {
      if (i >= args.size()) break;
      Val v = decay(gen_raw(*args[i]));  // an array is its address
      if (!v.type.is_int())
        fail(args[i]->loc, "tracemem( ) argument #" + std::to_string(i + 1) + " is of type " +
                               v.type.name() + ", expected " +
                               (i == 0 ? "an address" : "an integer"));
      next_reg_ = v.reg + 1;
      act.arg_types.push_back(v.type);
    }
  }
  bool int_arg =
      act.kind == bytecode::ActionKind::Exit || act.kind == bytecode::ActionKind::Speculate ||
      act.kind == bytecode::ActionKind::Commit || act.kind == bytecode::ActionKind::Discard ||
      act.kind == bytecode::ActionKind::Trunc || act.kind == bytecode::ActionKind::Normalize;
  if (int_arg && !act.arg_types.empty() && !act.arg_types[0].is_int())
    fail(args[first_value]->loc, name + "( ) argument must be an integer");
  uint8_t count = static_cast<uint8_t>(act.arg_types.size());
  emit(bytecode::Op::Act, 0, first, count, add_action(std::move(act)));
}

void Codegen::gen_aggregation(const Stmt& s) {
  auto fi = agg_funcs().find(s.agg_func);
  if (fi == agg_funcs().end())
    fail(s.agg_func_loc, "failed to resolve " + s.agg_func + ": Unknown aggregating function" +
                             bpftrace_hint(s.agg_func));
  const AggFuncInfo& info = fi->second;
  const std::string shown = "@" + s.agg_name;
  if (std::string err = action_order_.next(ActionClass::Aggregation); !err.empty())
    fail(s.loc, err);
  if (s.agg_args.size() < info.min_args || s.agg_args.size() > info.max_args)
    fail(s.agg_func_loc,
         prototype_mismatch(s.agg_func, s.agg_args.size(), info.min_args, info.max_args));

  bytecode::AggInfo def;
  def.name = s.agg_name;
  def.func = info.func;
  def.loc = s.loc;
  auto param = [&](size_t i) -> int64_t {
    auto v = fold(*s.agg_args[i]);
    if (!v)
      fail(s.agg_args[i]->loc,
           s.agg_func + "( ) argument #" + std::to_string(i + 1) + " must be an integer constant");
    return *v;
  };
  size_t weight_arg = 1;
  if (info.func == bytecode::AggFunc::Lquantize) {
    def.base = param(1), def.limit = param(2), def.step = s.agg_args.size() > 3 ? param(3) : 1;
    if (def.step <= 0) fail(s.agg_args[3]->loc, "lquantize( ) step must be greater than zero");
    // DTrace's bounds (dt_cg_agg_lquantize): 32-bit base and limit, a 16-bit step, at least one
    // level.
    if (def.base < INT32_MIN || def.base > INT32_MAX)
      fail(s.agg_args[1]->loc, "lquantize( ) argument #1 must be a 32-bit quantity");
    if (def.limit < INT32_MIN || def.limit > INT32_MAX)
      fail(s.agg_args[2]->loc, "lquantize( ) argument #2 must be a 32-bit quantity");
    if (def.step > UINT16_MAX)
      fail(s.agg_args[3]->loc, "lquantize( ) argument #3 must be a 16-bit quantity");
    if (def.limit > def.base && (def.limit - def.base) / def.step == 0)
      fail(s.loc,
           "lquantize( ) step (argument #3) too large: must have at least one quantization level");
    if (def.limit <= def.base)
      fail(s.agg_args[2]->loc, "lquantize( ) upper bound must be greater than lower bound");
    if ((def.limit - def.base) / def.step > 10000)
      fail(s.agg_args.back()->loc,
           "lquantize( ) range divided by step must not exceed 10000 levels");
    weight_arg = 4;
  } else if (info.func == bytecode::AggFunc::Llquantize) {
    def.factor = param(1), def.low = param(2), def.high = param(3), def.nsteps = param(4);
    if (def.factor < 2) fail(s.agg_args[1]->loc, "llquantize( ) factor must be greater than one");
    if (def.low < 0) fail(s.agg_args[2]->loc, "llquantize( ) low magnitude must be non-negative");
    if (def.high < def.low)
      fail(s.agg_args[3]->loc, "llquantize( ) high magnitude must be at least low magnitude");
    if (def.high > 32) fail(s.agg_args[3]->loc, "llquantize( ) high magnitude too large");
    if (std::pow(static_cast<long double>(def.factor), def.high + 1) >
        static_cast<long double>(UINT64_MAX))
      fail(s.agg_args[3]->loc,
           "llquantize( ) argument #3 (high magnitude) will cause overflow of 64 bits");
    std::string steps_error = llquantize_steps_error(def);
    if (!steps_error.empty()) fail(s.agg_args[4]->loc, steps_error);
    weight_arg = 5;
  }

  // Keys, value and weight into consecutive registers.
  const uint8_t mark = static_cast<uint8_t>(next_reg_);
  std::vector<Type> key_types;
  for (const auto& k : s.agg_keys) {
    Val v = gen(*k);
    next_reg_ = v.reg + 1;
    key_types.push_back(v.type);  // the key keeps its type: dtrace prints it at that width
  }
  uint8_t value = alloc(s.loc);
  if (s.agg_args.empty()) {
    load_int(value, 0);
  } else {
    Val v = gen(*s.agg_args[0]);
    if (!v.type.is_int()) fail(s.agg_args[0]->loc, s.agg_func + "( ) value must be an integer");
    emit(bytecode::Op::Mov, value, v.reg);
  }
  next_reg_ = value + 1;
  uint8_t weight = alloc(s.loc);
  bool weighted = info.func >= bytecode::AggFunc::Quantize && s.agg_args.size() > weight_arg;
  if (weighted) {
    Val w = gen(*s.agg_args[weight_arg]);
    if (!w.type.is_int()) fail(s.agg_args[weight_arg]->loc, "weight must be an integer");
    emit(bytecode::Op::Mov, weight, w.reg);
  } else {
    load_int(weight, 1);
  }
  def.key_types = key_types;

  auto it = aggs_.find(s.agg_name);
  uint32_t index;
  if (it == aggs_.end()) {
    index = static_cast<uint32_t>(mod_.aggs.size());
    aggs_[s.agg_name] = index;
    mod_.aggs.push_back(def);
  } else {
    index = it->second;
    const bytecode::AggInfo& old = mod_.aggs[index];
    if (old.func != def.func)
      fail(s.agg_func_loc, "aggregation redefined: " + shown + "\n\t current: " + shown + " = " +
                               s.agg_func + "( )\n\tprevious: " + shown + " = " +
                               agg_func_name(old.func) + "( ) : line " +
                               std::to_string(old.loc.line));
    if (old.base != def.base || old.limit != def.limit || old.step != def.step ||
        old.factor != def.factor || old.low != def.low || old.high != def.high ||
        old.nsteps != def.nsteps)
      fail(s.agg_func_loc,
           shown + " is already defined with different " + s.agg_func + "( ) parameters");
    if (old.key_types.size() != key_types.size())
      fail(s.loc, shown + " is already defined with " + std::to_string(old.key_types.size()) +
                      " key(s), not " + std::to_string(key_types.size()));
    for (size_t i = 0; i < key_types.size(); ++i)
      if (old.key_types[i].kind != key_types[i].kind)
        fail(s.agg_keys[i]->loc, shown + " key #" + std::to_string(i + 1) + " is of type " +
                                     key_types[i].name() + ", expected " + old.key_types[i].name());
  }
  emit(bytecode::Op::Tclr);
  for (size_t i = 0; i < key_types.size(); ++i)
    emit(bytecode::Op::Tpush, static_cast<uint8_t>(mark + i), 0, 0,
         key_types[i].is_string() ? 1 : 0);
  emit(bytecode::Op::Agg, 0, value, weight, index);
}

bytecode::Module compile(const ast::Program& program, const Source& src,
                         const FieldResolver& fields) {
  return Codegen(src, &fields).run(program);
}

bytecode::Module compile_source(const Source& src, const MacroArgs& macros,
                                const FieldResolver& fields) {
  return compile(parse(src, macros), src, fields);
}

}  // namespace vtrace::lang
