// The interpreter: hand-built and compiled clauses run against a fake host. Arithmetic has a
// defined result for every input, faults stop the clause with the faulting pc, and string
// subroutines respect their bounds.
#include "bytecode/interpreter.h"

#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bytecode/verifier.h"
#include "lang/compiler.h"
#include "lang/parser.h"

namespace vtrace::bytecode {
namespace {

using lang::Type;

Insn I(Op op, uint8_t a = 0, uint8_t b = 0, uint8_t c = 0, uint32_t imm = 0) {
  return Insn{op, a, b, c, imm};
}

// One value an action received, as the verifier typed it.
struct Val {
  bool is_str = false;
  int64_t i = 0;
  std::string s;
};

class FakeHost : public Host {
 public:
  explicit FakeHost(const Module& m) : mod_(m) {}

  Fault builtin(Builtin b, int64_t& v) override {
    v = b == Builtin::Uid ? 1234 : 0;
    return Fault::None;
  }
  int64_t load_dyn(uint32_t var, std::string_view tuple) override {
    auto it = dyn.find({var, std::string(tuple)});
    if (mod_.dynvars[var].type.is_string())
      return reinterpret_cast<int64_t>(it == dyn.end() ? "" : it->second.s.c_str());
    return it == dyn.end() ? 0 : it->second.i;
  }
  void store_dyn(uint32_t var, std::string_view tuple, int64_t value) override {
    Val v;
    if (mod_.dynvars[var].type.is_string()) {
      v.is_str = true;
      v.s = reinterpret_cast<const char*>(value);
    } else {
      v.i = value;
    }
    dyn[{var, std::string(tuple)}] = v;
  }
  Fault action(uint32_t index, const int64_t* args) override {
    const Action& a = mod_.actions[index];
    std::vector<Val> vals;
    for (size_t i = 0; i < a.arg_types.size(); ++i) {
      Val v;
      if (a.arg_types[i].is_string()) {
        v.is_str = true;
        v.s = reinterpret_cast<const char*>(args[i]);
      } else {
        v.i = lang::narrow(args[i], a.arg_types[i]);
      }
      vals.push_back(v);
    }
    actions.push_back({a.kind, vals});
    return next_action_fault;
  }
  void aggregate(uint32_t agg, std::string_view tuple, int64_t value, int64_t incr) override {
    aggs.push_back({agg, std::string(tuple), value, incr});
  }
  int64_t speculation() override { return 1; }

  struct Fired {
    ActionKind kind;
    std::vector<Val> args;
  };
  struct AggCall {
    uint32_t agg;
    std::string tuple;
    int64_t value, incr;
  };
  std::vector<Fired> actions;
  std::vector<AggCall> aggs;
  std::map<std::pair<uint32_t, std::string>, Val> dyn;
  Fault next_action_fault = Fault::None;

 private:
  const Module& mod_;
};

// Runs clause `ci` of a module against one record.
struct Runner {
  explicit Runner(Module m, size_t scratch_bytes = 4096)
      : mod(std::move(m)), host(mod), scratch(scratch_bytes) {
    globals.resize(mod.globals.size());
    locals.resize(mod.locals.size());
    ctx.module = &mod;
    ctx.record = &rec;
    ctx.names = {"host", "test", "mod", "func", "tick"};
    ctx.host = &host;
    ctx.globals = &globals;
    ctx.locals = &locals;
    ctx.scratch = &scratch;
  }
  ExecResult run(size_t ci = 0) {
    scratch.reset();
    return execute(mod.clauses.at(ci), ctx);
  }

  Module mod;
  FakeHost host;
  Scratch scratch;
  VarStore globals, locals;
  Record rec;
  ExecContext ctx;
};

Module compiled(const std::string& text) {
  lang::Source src{"t.d", text};
  return lang::compile_source(src, lang::MacroArgs{});
}

// Compiles `BEGIN { trace(expr); }` and runs it with arg0/arg1 set; the traced value.
struct TraceResult {
  ExecResult res;
  Val v;
};
TraceResult trace_expr(const std::string& expr, int64_t arg0 = 0, int64_t arg1 = 0,
                       size_t scratch = 4096) {
  Runner r(compiled("BEGIN { trace(" + expr + "); }"), scratch);
  r.rec.args[0] = arg0;
  r.rec.args[1] = arg1;
  TraceResult t;
  t.res = r.run();
  if (!r.host.actions.empty()) t.v = r.host.actions.back().args.at(0);
  return t;
}
int64_t int_of(const std::string& expr, int64_t arg0 = 0, int64_t arg1 = 0) {
  TraceResult t = trace_expr(expr, arg0, arg1);
  EXPECT_EQ(t.res.fault, Fault::None) << expr << ": " << fault_name(t.res.fault);
  EXPECT_FALSE(t.v.is_str) << expr;
  return t.v.i;
}
std::string str_of(const std::string& expr, int64_t arg0 = 0, int64_t arg1 = 0) {
  TraceResult t = trace_expr(expr, arg0, arg1);
  EXPECT_EQ(t.res.fault, Fault::None) << expr << ": " << fault_name(t.res.fault);
  EXPECT_TRUE(t.v.is_str) << expr;
  return t.v.s;
}
Fault fault_of(const std::string& expr, int64_t arg0 = 0, int64_t arg1 = 0) {
  return trace_expr(expr, arg0, arg1).res.fault;
}

// A hand-built module with one trace(int) action (index 0) and consts.
Module hand_module(std::vector<int64_t> consts, std::vector<Insn> code, uint32_t nregs = 8) {
  Module m;
  m.consts = std::move(consts);
  m.strings = {"hello", ""};
  Action tr;
  tr.kind = ActionKind::Trace;
  tr.arg_types = {Type::i64()};
  m.actions = {tr};
  ClauseCode c;
  c.code = std::move(code);
  c.nregs = nregs;
  m.clauses.push_back(std::move(c));
  EXPECT_EQ(verify(m, m.clauses[0]), "");
  return m;
}

// r2 = consts[0] OP consts[1]; trace(r2)
int64_t hand_binary(Op op, int64_t a, int64_t b, Fault* fault = nullptr) {
  Runner r(hand_module({a, b}, {I(Op::Ldi, 0, 0, 0, 0), I(Op::Ldi, 1, 0, 0, 1), I(op, 2, 0, 1),
                                I(Op::Act, 0, 2, 1, 0)}));
  ExecResult res = r.run();
  if (fault != nullptr) *fault = res.fault;
  return r.host.actions.empty() ? INT64_C(0x7eadbeef) : r.host.actions[0].args[0].i;
}

TEST(InterpreterTest, HandBuiltArithmetic) {
  EXPECT_EQ(hand_binary(Op::Add, 2, 3), 5);
  EXPECT_EQ(hand_binary(Op::Sub, 2, 3), -1);
  EXPECT_EQ(hand_binary(Op::Mul, -4, 3), -12);
  EXPECT_EQ(hand_binary(Op::Sdiv, -7, 2), -3);
  EXPECT_EQ(hand_binary(Op::Srem, -7, 2), -1);
  EXPECT_EQ(hand_binary(Op::Udiv, -1, 2), INT64_MAX);
  EXPECT_EQ(hand_binary(Op::Urem, 7, 4), 3);
  EXPECT_EQ(hand_binary(Op::Slt, -1, 0), 1);
  EXPECT_EQ(hand_binary(Op::Ult, -1, 0), 0);
  EXPECT_EQ(hand_binary(Op::Sle, 3, 3), 1);
  EXPECT_EQ(hand_binary(Op::Ule, 4, 3), 0);
  EXPECT_EQ(hand_binary(Op::Eq, 4, 4), 1);
  EXPECT_EQ(hand_binary(Op::Ne, 4, 4), 0);
  EXPECT_EQ(hand_binary(Op::And, 6, 3), 2);
  EXPECT_EQ(hand_binary(Op::Or, 6, 3), 7);
  EXPECT_EQ(hand_binary(Op::Xor, 6, 3), 5);
}

TEST(InterpreterTest, OverflowingArithmeticWraps) {
  EXPECT_EQ(hand_binary(Op::Add, INT64_MAX, 1), INT64_MIN);
  EXPECT_EQ(hand_binary(Op::Sub, INT64_MIN, 1), INT64_MAX);
  EXPECT_EQ(hand_binary(Op::Mul, INT64_MAX, 2), -2);
  // INT64_MIN / -1 overflows in C (and traps on x86): the VM defines it as the wrapped value.
  Fault f = Fault::None;
  EXPECT_EQ(hand_binary(Op::Sdiv, INT64_MIN, -1, &f), INT64_MIN);
  EXPECT_EQ(f, Fault::None);
  EXPECT_EQ(hand_binary(Op::Srem, INT64_MIN, -1, &f), 0);
  EXPECT_EQ(f, Fault::None);
  EXPECT_EQ(hand_binary(Op::Srem, 7, -1), 0);
  EXPECT_EQ(hand_binary(Op::Sdiv, 7, -1), -7);
}

TEST(InterpreterTest, CompiledDivisionByMinusOne) {
  EXPECT_EQ(int_of("arg0 / arg1", INT64_MIN, -1), INT64_MIN);
  EXPECT_EQ(int_of("arg0 % arg1", INT64_MIN, -1), 0);
  EXPECT_EQ(int_of("arg0 / arg1", 9, -1), -9);
  EXPECT_EQ(int_of("-arg0", INT64_MIN), INT64_MIN);
  // Constant operands (the compiler may fold them) must give the same result.
  EXPECT_EQ(int_of("(-9223372036854775807 - 1) / -1"), INT64_MIN);
  EXPECT_EQ(int_of("(-9223372036854775807 - 1) % -1"), 0);
}

TEST(InterpreterTest, ShiftsByAtLeast64AreDefined) {
  // Shift counts are taken modulo 64 (what x86 does), never undefined behaviour.
  EXPECT_EQ(hand_binary(Op::Shl, 1, 64), 1);
  EXPECT_EQ(hand_binary(Op::Shl, 1, 65), 2);
  EXPECT_EQ(hand_binary(Op::Lsr, -1, 64), -1);
  EXPECT_EQ(hand_binary(Op::Lsr, -1, 63), 1);
  EXPECT_EQ(hand_binary(Op::Asr, -8, 66), -2);
  EXPECT_EQ(hand_binary(Op::Shl, 1, -1), INT64_MIN);
  EXPECT_EQ(int_of("arg0 << arg1", 3, 64), 3);
  EXPECT_EQ(int_of("arg0 << arg1", 1, 63), INT64_MIN);
  EXPECT_EQ(int_of("arg0 >> arg1", -16, 130), -4);
}

TEST(InterpreterTest, DivisionByZeroFaultsAtItsPc) {
  Fault f = Fault::None;
  for (Op op : {Op::Sdiv, Op::Udiv, Op::Srem, Op::Urem}) {
    Runner r(hand_module({5, 0}, {I(Op::Ldi, 0, 0, 0, 0), I(Op::Ldi, 1, 0, 0, 1), I(op, 2, 0, 1),
                                  I(Op::Act, 0, 2, 1, 0)}));
    ExecResult res = r.run();
    EXPECT_EQ(res.fault, Fault::DivideByZero);
    EXPECT_EQ(res.pc, 2u);
    EXPECT_TRUE(r.host.actions.empty()) << "the clause stops at the fault";
  }
  (void)f;
  EXPECT_EQ(fault_of("arg0 / arg1", 1, 0), Fault::DivideByZero);
  EXPECT_EQ(fault_of("arg0 % arg1", 1, 0), Fault::DivideByZero);
  EXPECT_EQ(fault_of("(unsigned long long)arg0 / arg1", 1, 0), Fault::DivideByZero);
  EXPECT_STREQ(fault_name(Fault::DivideByZero), "divide-by-zero");
}

TEST(InterpreterTest, CompiledFaultPcPointsAtTheDivide) {
  Runner r(compiled("BEGIN { x = arg0; trace(x); trace(x / arg1); trace(3); }"));
  r.rec.args[0] = 4;
  ExecResult res = r.run();
  ASSERT_EQ(res.fault, Fault::DivideByZero);
  ASSERT_LT(res.pc, r.mod.clauses[0].code.size());
  Op op = r.mod.clauses[0].code[res.pc].op;
  EXPECT_TRUE(op == Op::Sdiv || op == Op::Udiv) << "pc " << res.pc;
  ASSERT_EQ(r.host.actions.size(), 1u);  // trace(x) ran, trace(3) did not
  EXPECT_EQ(r.host.actions[0].args[0].i, 4);
}

TEST(InterpreterTest, NarrowTruncatesAndExtends) {
  auto narrow_hand = [](int64_t v, uint8_t size, bool sgn) {
    Runner r(hand_module({v}, {I(Op::Ldi, 0), I(Op::Narrow, 1, 0, 0, narrow_code(size, sgn)),
                               I(Op::Act, 0, 1, 1, 0)}));
    r.run();
    return r.host.actions.at(0).args.at(0).i;
  };
  EXPECT_EQ(narrow_hand(0x1ff, 1, true), -1);
  EXPECT_EQ(narrow_hand(0x1ff, 1, false), 255);
  EXPECT_EQ(narrow_hand(0x18000, 2, true), -32768);
  EXPECT_EQ(narrow_hand(-1, 4, false), 0xffffffffLL);
  EXPECT_EQ(narrow_hand(-1, 8, false), -1);
  EXPECT_EQ(int_of("(char)arg0", 0x181), -127);
  EXPECT_EQ(int_of("(unsigned short)arg0", -1), 65535);
}

TEST(InterpreterTest, PredicateFalseIsReported) {
  Runner r(compiled("BEGIN /arg0 > 5/ { trace(arg0); }"));
  r.rec.args[0] = 1;
  ExecResult res = r.run();
  EXPECT_EQ(res.fault, Fault::None);
  EXPECT_TRUE(res.predicate_false);
  EXPECT_TRUE(r.host.actions.empty());
  r.rec.args[0] = 9;
  res = r.run();
  EXPECT_FALSE(res.predicate_false);
  ASSERT_EQ(r.host.actions.size(), 1u);
  EXPECT_EQ(r.host.actions[0].args[0].i, 9);
}

TEST(InterpreterTest, ConditionalInsideBodyIsNotPredicateFalse) {
  Runner r(compiled("BEGIN { x = arg0 ? 1 : 2; trace(x); }"));
  ExecResult res = r.run();
  EXPECT_FALSE(res.predicate_false);
  ASSERT_EQ(r.host.actions.size(), 1u);
  EXPECT_EQ(r.host.actions[0].args[0].i, 2);
}

TEST(InterpreterTest, BuiltinsComeFromTheRecordAndNames) {
  Runner r(
      compiled("BEGIN { printf(\"%d %d %d %s %s %s %s %s %d\", pid, tid, cpu, probeprov, "
               "probemod, probefunc, probename, execname, uid); }"));
  r.rec.pid = 11;
  r.rec.tid = 12;
  r.rec.cpu = 3;
  std::snprintf(r.rec.execname, sizeof r.rec.execname, "%s", "bash");
  ASSERT_EQ(r.run().fault, Fault::None);
  ASSERT_EQ(r.host.actions.size(), 1u);
  const auto& a = r.host.actions[0].args;
  EXPECT_EQ(a[0].i, 11);
  EXPECT_EQ(a[1].i, 12);
  EXPECT_EQ(a[2].i, 3);
  EXPECT_EQ(a[3].s, "test");
  EXPECT_EQ(a[4].s, "mod");
  EXPECT_EQ(a[5].s, "func");
  EXPECT_EQ(a[6].s, "tick");
  EXPECT_EQ(a[7].s, "bash");
  EXPECT_EQ(a[8].i, 1234);  // from Host::builtin
  EXPECT_EQ(str_of("vmname"), "host");
}

TEST(InterpreterTest, GlobalsLocalsAndDynamicVariables) {
  Runner r(
      compiled("int g; BEGIN { g = g + arg0; this->l = g * 2; a[arg0] = this->l; s = \"str\"; "
               "self->t = s; trace(a[arg0] + g); trace(self->t); }"));
  r.rec.args[0] = 5;
  ASSERT_EQ(r.run().fault, Fault::None);
  ASSERT_EQ(r.host.actions.size(), 2u);
  EXPECT_EQ(r.host.actions[0].args[0].i, 15);
  EXPECT_EQ(r.host.actions[1].args[0].s, "str");
  ASSERT_EQ(r.run().fault, Fault::None);  // g persists: 10, a[5] = 20
  EXPECT_EQ(r.host.actions[2].args[0].i, 30);
}

TEST(InterpreterTest, AggregationCallsCarryTupleValueAndWeight) {
  Runner r(compiled("BEGIN { @[probefunc, arg0] = sum(arg1); @q = quantize(arg1, 3); }"));
  r.rec.args[0] = 7;
  r.rec.args[1] = 40;
  ASSERT_EQ(r.run().fault, Fault::None);
  ASSERT_EQ(r.host.aggs.size(), 2u);
  std::string key("func\0", 5);
  int64_t seven = 7;
  key.append(reinterpret_cast<const char*>(&seven), 8);
  EXPECT_EQ(r.host.aggs[0].tuple, key);
  EXPECT_EQ(r.host.aggs[0].value, 40);
  EXPECT_EQ(r.host.aggs[0].incr, 1);
  EXPECT_EQ(r.host.aggs[1].tuple, "");
  EXPECT_EQ(r.host.aggs[1].incr, 3);
}

TEST(InterpreterTest, ActionFaultStopsTheClause) {
  Runner r(compiled("BEGIN { trace(1); trace(2); }"));
  r.host.next_action_fault = Fault::IllegalOp;
  ExecResult res = r.run();
  EXPECT_EQ(res.fault, Fault::IllegalOp);
  EXPECT_EQ(r.host.actions.size(), 1u);
  EXPECT_EQ(r.mod.clauses[0].code[res.pc].op, Op::Act);
}

TEST(InterpreterTest, ScratchExhaustionFaults) {
  // strjoin of two 40-byte strings needs 81 bytes of scratch.
  Runner r(compiled("BEGIN { trace(strjoin(\"0123456789012345678901234567890123456789\", "
                    "\"0123456789012345678901234567890123456789\")); }"),
           64);
  ExecResult res = r.run();
  EXPECT_EQ(res.fault, Fault::OutOfScratch);
  EXPECT_EQ(r.mod.clauses[0].code[res.pc].op, Op::Call);
  EXPECT_TRUE(r.host.actions.empty());

  // Loading a string variable copies it to scratch too.
  Runner g(compiled("BEGIN { s = \"0123456789012345678901234567890123456789\"; trace(s); }"), 16);
  EXPECT_EQ(g.run().fault, Fault::OutOfScratch);

  // Each clause run starts with empty scratch: a run that fits keeps fitting.
  Runner ok(compiled("BEGIN { trace(strjoin(\"abc\", \"def\")); }"), 8);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(ok.run().fault, Fault::None);
  EXPECT_EQ(ok.host.actions.back().args[0].s, "abcdef");
}

TEST(InterpreterTest, ScratchCopyAndReserve) {
  Scratch s(8);
  const char* a = s.copy("abc", 100);
  ASSERT_NE(a, nullptr);
  EXPECT_STREQ(a, "abc");
  EXPECT_EQ(s.copy("abcd", 100), nullptr);  // 4 used + 5 > 8
  const char* b = s.copy("abcd", 2);        // cut to 2 bytes
  ASSERT_NE(b, nullptr);
  EXPECT_STREQ(b, "ab");
  EXPECT_EQ(s.reserve(1), nullptr);
  s.reset();
  EXPECT_NE(s.reserve(7), nullptr);
  EXPECT_EQ(s.reserve(8), nullptr);
}

TEST(InterpreterTest, StringsAreBoundedByStrsize) {
  Runner r(compiled("BEGIN { s = strjoin(\"abcdef\", \"ghijkl\"); trace(s); trace(strlen(s)); }"));
  r.ctx.strsize = 5;  // strings hold at most 4 bytes
  ASSERT_EQ(r.run().fault, Fault::None);
  ASSERT_EQ(r.host.actions.size(), 2u);
  EXPECT_EQ(r.host.actions[0].args[0].s, "abcd");
  EXPECT_EQ(r.host.actions[1].args[0].i, 4);
}

TEST(InterpreterTest, Substr) {
  EXPECT_EQ(str_of("substr(\"hello\", 1)"), "ello");
  EXPECT_EQ(str_of("substr(\"hello\", 1, 3)"), "ell");
  EXPECT_EQ(str_of("substr(\"hello\", 0, 100)"), "hello");
  EXPECT_EQ(str_of("substr(\"hello\", 5)"), "");
  EXPECT_EQ(str_of("substr(\"hello\", -2)"), "lo");
  EXPECT_EQ(str_of("substr(\"hello\", 2, 0)"), "");
  // Outside the string is empty, as in DTrace; a window starting before it keeps its overlap.
  EXPECT_EQ(str_of("substr(\"hello\", 6)"), "");
  EXPECT_EQ(str_of("substr(\"hello\", -6)"), "hello");
  EXPECT_EQ(str_of("substr(\"hello\", -7, 3)"), "h");
  EXPECT_EQ(str_of("substr(\"hello\", -8, 3)"), "");
  EXPECT_EQ(str_of("substr(\"hello\", arg0)", INT64_MIN), "");
  EXPECT_EQ(str_of("substr(\"hello\", arg0)", INT64_MAX), "");
  // A negative length counts back from the end, as in DTrace.
  EXPECT_EQ(str_of("substr(\"hello\", 1, -1)"), "ell");
  EXPECT_EQ(str_of("substr(\"hello\", 1, -10)"), "");
  EXPECT_EQ(str_of("substr(\"hello\", 1, arg0)", INT64_MIN), "");
  EXPECT_EQ(str_of("substr(\"hello\", 1, arg0)", INT64_MAX), "ello");
}

TEST(InterpreterTest, Lltostr) {
  EXPECT_EQ(str_of("lltostr(arg0)", -42), "-42");
  EXPECT_EQ(str_of("lltostr(arg0)", INT64_MIN), "-9223372036854775808");
  EXPECT_EQ(str_of("lltostr(255, 16)"), "0xff");
  EXPECT_EQ(str_of("lltostr(8, 8)"), "010");
  EXPECT_EQ(str_of("lltostr(0, 8)"), "0");
  EXPECT_EQ(str_of("lltostr(5, 2)"), "101");
  EXPECT_EQ(str_of("lltostr(35, 36)"), "z");
  for (int64_t base : {INT64_MIN, int64_t{-10}, int64_t{0}, int64_t{1}, int64_t{37}, INT64_MAX})
    EXPECT_EQ(fault_of("lltostr(10, arg0)", base), Fault::BadArgument) << base;
  EXPECT_STREQ(fault_name(Fault::BadArgument), "invalid argument to subroutine");
}

TEST(InterpreterTest, BasenameAndDirname) {
  struct Case {
    const char *in, *base, *dir;
  };
  for (const Case& c : std::vector<Case>{{"/usr/bin/ls", "ls", "/usr/bin"},
                                         {"/usr/bin/", "bin", "/usr"},
                                         {"usr", "usr", "."},
                                         {"usr/", "usr", "."},
                                         {"/", "/", "/"},
                                         {"//", "/", "/"},
                                         {"", ".", "."},
                                         {"/a", "a", "/"},
                                         {"a//b//", "b", "a"},
                                         {"//a", "a", "/"},
                                         {".", ".", "."},
                                         {"..", "..", "."}}) {
    std::string lit = std::string("\"") + c.in + "\"";
    EXPECT_EQ(str_of("basename(" + lit + ")"), c.base) << c.in;
    EXPECT_EQ(str_of("dirname(" + lit + ")"), c.dir) << c.in;
  }
}

TEST(InterpreterTest, IndexRindexStrstrStrlen) {
  EXPECT_EQ(int_of("index(\"abcabc\", \"bc\")"), 1);
  EXPECT_EQ(int_of("index(\"abcabc\", \"bc\", 2)"), 4);
  EXPECT_EQ(int_of("index(\"abcabc\", \"bc\", 100)"), -1);
  EXPECT_EQ(int_of("index(\"abcabc\", \"bc\", -5)"), 1);
  EXPECT_EQ(int_of("index(\"abc\", \"x\")"), -1);
  EXPECT_EQ(int_of("rindex(\"abcabc\", \"bc\")"), 4);
  EXPECT_EQ(int_of("rindex(\"abcabc\", \"bc\", 3)"), 1);
  EXPECT_EQ(int_of("rindex(\"abcabc\", \"bc\", -1)"), -1);
  EXPECT_EQ(str_of("strstr(\"hello world\", \"o w\")"), "o world");
  EXPECT_EQ(str_of("strstr(\"hello\", \"z\")"), "");
  EXPECT_EQ(int_of("strlen(\"\")"), 0);
  EXPECT_EQ(int_of("strlen(\"four\")"), 4);
  EXPECT_EQ(str_of("toupper(\"aBc1\")"), "ABC1");
  EXPECT_EQ(str_of("tolower(\"aBc1\")"), "abc1");
  EXPECT_EQ(int_of("strtoll(\"0x10\")"), 16);
  EXPECT_EQ(int_of("strtoll(\"-12\")"), -12);
}

TEST(InterpreterTest, StringComparison) {
  EXPECT_EQ(int_of("\"abc\" < \"abd\""), 1);
  EXPECT_EQ(int_of("\"abc\" == \"abc\""), 1);
  EXPECT_EQ(int_of("\"b\" > \"abc\""), 1);
  EXPECT_EQ(int_of("\"\" != \"x\""), 1);
}

TEST(InterpreterTest, JumpsOnlyForward) {
  // r0 = 0; if (r0 == 0) skip the next trace; trace(99); trace(7)
  Runner r(hand_module({0, 99, 7},
                       {I(Op::Ldi, 0, 0, 0, 0), I(Op::Jz, 0, 0, 0, 2), I(Op::Ldi, 1, 0, 0, 1),
                        I(Op::Act, 0, 1, 1, 0), I(Op::Ldi, 1, 0, 0, 2), I(Op::Act, 0, 1, 1, 0)}));
  r.run();
  ASSERT_EQ(r.host.actions.size(), 1u);
  EXPECT_EQ(r.host.actions[0].args[0].i, 7);
  // Ret stops the clause.
  Runner q(hand_module({3}, {I(Op::Ldi, 0), I(Op::Ret), I(Op::Act, 0, 0, 1, 0)}));
  q.run();
  EXPECT_TRUE(q.host.actions.empty());
}

}  // namespace
}  // namespace vtrace::bytecode
