// The verifier: it accepts what the compiler generates and rejects hand-built programs that would
// jump out of the program, index outside a table, read an unset register or mix integers and
// strings.
#include "bytecode/verifier.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lang/compiler.h"
#include "lang/parser.h"

namespace vtrace::bytecode {
namespace {

using lang::Type;

Insn I(Op op, uint8_t a = 0, uint8_t b = 0, uint8_t c = 0, uint32_t imm = 0) {
  return Insn{op, a, b, c, imm};
}

// A module with one entry in every table: const 0 = 7, string 0 = "s", one int global, one
// string global, one int local, dynvars: 0 = int keyed by (int), 1 = string keyed by (string,
// int), actions: 0 = printf("%d %s") taking (int, string), 1 = exit(int); aggregation 0 keyed
// by (string).
Module table_module() {
  Module m;
  m.consts = {7};
  m.strings = {"s"};
  m.globals = {{"gi", Type::i64(), VarScope::Global, false, {}},
               {"gs", Type::str(), VarScope::Global, false, {}}};
  m.locals = {{"li", Type::i64(), VarScope::Clause, false, {}}};
  VarInfo d0{"arr", Type::i64(), VarScope::Global, true, {Type::i64()}};
  VarInfo d1{"sarr", Type::str(), VarScope::Global, true, {Type::str(), Type::i64()}};
  m.dynvars = {d0, d1};
  Action pf;
  pf.kind = ActionKind::Printf;
  pf.arg_types = {Type::i64(), Type::str()};
  pf.format = "%d %s";
  pf.has_format = true;
  Action ex;
  ex.kind = ActionKind::Exit;
  ex.arg_types = {Type::i32()};
  m.actions = {pf, ex};
  AggInfo agg;
  agg.name = "a";
  agg.func = AggFunc::Count;
  agg.key_types = {Type::str()};
  m.aggs = {agg};
  return m;
}

ClauseCode clause_of(std::vector<Insn> code, uint32_t nregs = 8) {
  ClauseCode c;
  c.code = std::move(code);
  c.nregs = nregs;
  return c;
}

std::string check(std::vector<Insn> code, uint32_t nregs = 8) {
  Module m = table_module();
  ClauseCode c = clause_of(std::move(code), nregs);
  return verify(m, c);
}

// Expects a rejection whose message contains `what`.
#define EXPECT_REJECTED(code, what)                                             \
  do {                                                                          \
    std::string err_ = check code;                                              \
    EXPECT_NE(err_.find(what), std::string::npos) << "got: \"" << err_ << "\""; \
  } while (0)

TEST(VerifierTest, AcceptsEveryClauseTheCompilerGenerates) {
  const char* text = R"D(
    int x; string s;
    BEGIN { x = 1; s = "a"; this->t = x * 2; self->v = this->t; a[x, s] = x; }
    BEGIN /x > 0 && s == "a"/ { printf("%d %s\n", x, s); @c[s] = count(); @q = quantize(x); }
    BEGIN { trace(strjoin(s, lltostr(x))); printf("%s\n", substr(s, 0, 1)); }
    BEGIN { y = x ? 3 : 4; self->v++; a[x, s] += y; @m[x, s] = max(y); exit(0); }
  )D";
  lang::Source src{"t.d", text};
  Module m = lang::compile_source(src, lang::MacroArgs{});
  ASSERT_EQ(m.clauses.size(), 4u);
  for (const auto& c : m.clauses) EXPECT_EQ(verify(m, c), "");
}

TEST(VerifierTest, AcceptsMinimalValidPrograms) {
  EXPECT_EQ(check({}), "");
  EXPECT_EQ(check({I(Op::Ret)}), "");
  EXPECT_EQ(check({I(Op::Ldi, 0, 0, 0, 0), I(Op::Ldi, 1, 0, 0, 0), I(Op::Add, 2, 0, 1)}), "");
  // A jump to exactly the end of the program is allowed (it ends the clause).
  EXPECT_EQ(check({I(Op::Ldi, 0), I(Op::Jz, 0, 0, 0, 1), I(Op::Ldi, 1)}), "");
  EXPECT_EQ(check({I(Op::Jmp, 0, 0, 0, 0)}), "");
}

// Jumps are pc += 1 + imm with an unsigned 32-bit imm, so a backward jump cannot be encoded at
// all: the only way a jump can leave the program is forward, past its end.
TEST(VerifierTest, RejectsJumpPastTheEnd) {
  EXPECT_REJECTED(({I(Op::Jmp, 0, 0, 0, 1)}), "jump past the end");
  EXPECT_REJECTED(({I(Op::Ldi, 0), I(Op::Jz, 0, 0, 0, 5), I(Op::Ret)}), "jump past the end");
  EXPECT_REJECTED(({I(Op::Ldi, 0), I(Op::Jnz, 0, 0, 0, 2)}), "jump past the end");
  // The largest imm must not wrap around to a backward target.
  EXPECT_REJECTED(({I(Op::Ldi, 0), I(Op::Jmp, 0, 0, 0, 0xffffffffu)}), "jump past the end");
  EXPECT_REJECTED(({I(Op::Ldi, 0), I(Op::Jz, 0, 0, 0, 0xfffffffeu), I(Op::Ret)}),
                  "jump past the end");
}

TEST(VerifierTest, RejectsRegisterOutOfRange) {
  EXPECT_REJECTED(({I(Op::Ldi, 8, 0, 0, 0)}, 8), "register %r8 out of range");
  EXPECT_REJECTED(({I(Op::Ldi, 0), I(Op::Mov, 1, 9)}, 8), "out of range");
  EXPECT_REJECTED(({I(Op::Ldi, 0), I(Op::Add, 1, 0, 200)}, 8), "out of range");
  // Call/Act arguments must lie inside the register file.
  EXPECT_REJECTED(({I(Op::Ldi, 7), I(Op::Call, 0, 7, 2, uint32_t(Subr::Strjoin))}, 8), "out of");
}

TEST(VerifierTest, RejectsTooManyRegisters) {
  EXPECT_EQ(check({I(Op::Ldi, 255)}, 256), "");
  EXPECT_REJECTED(({I(Op::Ret)}, 257), "too many registers");
}

TEST(VerifierTest, RejectsTableIndicesOutOfRange) {
  EXPECT_REJECTED(({I(Op::Ldi, 0, 0, 0, 1)}), "constant index out of range");
  EXPECT_REJECTED(({I(Op::Lds, 0, 0, 0, 1)}), "string index out of range");
  EXPECT_REJECTED(({I(Op::Ldg, 0, 0, 0, 2)}), "variable index out of range");
  EXPECT_REJECTED(({I(Op::Ldi, 0), I(Op::Stg, 0, 0, 0, 2)}), "variable index out of range");
  EXPECT_REJECTED(({I(Op::Ldl, 0, 0, 0, 1)}), "variable index out of range");
  EXPECT_REJECTED(({I(Op::Ldi, 0), I(Op::Stl, 0, 0, 0, 1)}), "variable index out of range");
  EXPECT_REJECTED(({I(Op::Tclr), I(Op::Ldd, 0, 0, 0, 2)}), "dynamic variable index out of range");
  EXPECT_REJECTED(({I(Op::Ldi, 0), I(Op::Tclr), I(Op::Std, 0, 0, 0, 9)}),
                  "dynamic variable index out of range");
  EXPECT_REJECTED(({I(Op::Act, 0, 0, 0, 2)}), "action index out of range");
  EXPECT_REJECTED(({I(Op::Ldi, 0), I(Op::Tclr), I(Op::Agg, 0, 0, 0, 1)}),
                  "aggregation index out of range");
  EXPECT_REJECTED(({I(Op::Ldb, 0, 0, 0, uint32_t(Builtin::Count_))}), "unknown built-in");
  EXPECT_REJECTED(({I(Op::Ldb, 0, 0, 0, 1000)}), "unknown built-in");
  EXPECT_REJECTED(({I(Op::Call, 0, 0, 0, uint32_t(Subr::Count_))}), "unknown subroutine");
}

TEST(VerifierTest, RejectsUnknownOpcode) {
  EXPECT_REJECTED(({I(static_cast<Op>(200))}), "unknown opcode");
}

TEST(VerifierTest, RejectsReadOfUnsetRegister) {
  EXPECT_REJECTED(({I(Op::Mov, 0, 1)}), "read of unset register %r1");
  EXPECT_REJECTED(({I(Op::Ldi, 0), I(Op::Add, 2, 0, 1)}), "read of unset register %r1");
  EXPECT_REJECTED(({I(Op::Jz, 3, 0, 0, 0)}), "read of unset register %r3");
  EXPECT_REJECTED(({I(Op::Stg, 0, 0, 0, 0)}), "read of unset register %r0");
  EXPECT_REJECTED(({I(Op::Neg, 0, 4)}), "read of unset register %r4");
  // Code after Ret is reachable only by a jump, which carries the jump's register state.
  EXPECT_REJECTED(
      ({I(Op::Ldi, 1), I(Op::Jz, 1, 0, 0, 2), I(Op::Ldi, 0), I(Op::Ret), I(Op::Mov, 2, 0)}),
      "read of unset register %r0");
}

TEST(VerifierTest, RejectsRegisterSetOnOnlyOneOfTwoMergingPaths) {
  // r1 = cond; if (r1 == 0) skip; r0 = 7; <merge> r2 = r0 + r0
  EXPECT_REJECTED(({I(Op::Ldi, 1), I(Op::Jz, 1, 0, 0, 1), I(Op::Ldi, 0), I(Op::Add, 2, 0, 0)}),
                  "read of unset register %r0");
  // Set on both paths: accepted.
  EXPECT_EQ(check({I(Op::Ldi, 1), I(Op::Jz, 1, 0, 0, 2), I(Op::Ldi, 0), I(Op::Jmp, 0, 0, 0, 1),
                   I(Op::Ldi, 0), I(Op::Add, 2, 0, 0)}),
            "");
  // Set as an integer on one path and a string on the other: the merge forgets it.
  EXPECT_REJECTED(({I(Op::Ldi, 1), I(Op::Jz, 1, 0, 0, 2), I(Op::Ldi, 0), I(Op::Jmp, 0, 0, 0, 1),
                    I(Op::Lds, 0), I(Op::Add, 2, 0, 0)}),
                  "read of unset register %r0");
}

TEST(VerifierTest, RejectsIntegerOpOnString) {
  EXPECT_REJECTED(({I(Op::Lds, 0), I(Op::Ldi, 1), I(Op::Add, 2, 0, 1)}), "%r0 is not an integer");
  EXPECT_REJECTED(({I(Op::Lds, 0), I(Op::Neg, 1, 0)}), "is not an integer");
  EXPECT_REJECTED(({I(Op::Lds, 0), I(Op::Jz, 0, 0, 0, 0)}), "is not an integer");
  EXPECT_REJECTED(({I(Op::Lds, 0), I(Op::Narrow, 1, 0, 0, narrow_code(4, true))}),
                  "is not an integer");
  EXPECT_REJECTED(({I(Op::Lds, 0), I(Op::Stg, 0, 0, 0, 0)}), "is not an integer");  // gi
  // Ldb of a string built-in yields a string.
  EXPECT_REJECTED(({I(Op::Ldb, 0, 0, 0, uint32_t(Builtin::Execname)), I(Op::Not, 1, 0)}),
                  "is not an integer");
}

TEST(VerifierTest, RejectsStringOpOnInteger) {
  EXPECT_REJECTED(({I(Op::Ldi, 0), I(Op::Lds, 1), I(Op::Scmp, 2, 0, 1)}), "%r0 is not a string");
  EXPECT_REJECTED(({I(Op::Ldi, 0), I(Op::Stg, 0, 0, 0, 1)}), "is not a string");  // gs
  EXPECT_REJECTED(({I(Op::Ldi, 0), I(Op::Call, 1, 0, 1, uint32_t(Subr::Strlen))}),
                  "is not a string");
  EXPECT_REJECTED(({I(Op::Ldi, 0), I(Op::Tclr), I(Op::Tpush, 0, 0, 0, 1)}), "is not a string");
  // Tuple element type codes are 0 (int) and 1 (string) only.
  EXPECT_REJECTED(({I(Op::Ldi, 0), I(Op::Tclr), I(Op::Tpush, 0, 0, 0, 2)}), "bad tuple element");
}

TEST(VerifierTest, ChecksTupleShapeForDynamicVariables) {
  // arr[int]
  EXPECT_EQ(check({I(Op::Ldi, 0), I(Op::Tclr), I(Op::Tpush, 0), I(Op::Ldd, 1, 0, 0, 0)}), "");
  EXPECT_REJECTED(({I(Op::Tclr), I(Op::Ldd, 1, 0, 0, 0)}), "wrong number of keys");
  EXPECT_REJECTED(({I(Op::Lds, 0), I(Op::Tclr), I(Op::Tpush, 0, 0, 0, 1), I(Op::Ldd, 1, 0, 0, 0)}),
                  "tuple key 0 has the wrong type");
  // sarr[string, int] = string
  EXPECT_EQ(check({I(Op::Lds, 0), I(Op::Ldi, 1), I(Op::Tclr), I(Op::Tpush, 0, 0, 0, 1),
                   I(Op::Tpush, 1), I(Op::Std, 0, 0, 0, 1)}),
            "");
  EXPECT_REJECTED(({I(Op::Lds, 0), I(Op::Ldi, 1), I(Op::Tclr), I(Op::Tpush, 1),
                    I(Op::Tpush, 0, 0, 0, 1), I(Op::Std, 0, 0, 0, 1)}),
                  "tuple key 0 has the wrong type");
  // Storing an integer into a string array.
  EXPECT_REJECTED(({I(Op::Lds, 0), I(Op::Ldi, 1), I(Op::Tclr), I(Op::Tpush, 0, 0, 0, 1),
                    I(Op::Tpush, 1), I(Op::Std, 1, 0, 0, 1)}),
                  "is not a string");
  // Tuples that differ between two merging paths.
  EXPECT_REJECTED(({I(Op::Ldi, 0), I(Op::Tclr), I(Op::Jz, 0, 0, 0, 1), I(Op::Tpush, 0),
                    I(Op::Ldd, 1, 0, 0, 0)}),
                  "tuple differs between paths");
  // More than 16 keys.
  std::vector<Insn> longt = {I(Op::Ldi, 0), I(Op::Tclr)};
  for (int i = 0; i < 17; ++i) longt.push_back(I(Op::Tpush, 0));
  EXPECT_REJECTED((longt), "tuple too long");
}

TEST(VerifierTest, ChecksTupleShapeForAggregations) {
  // @a[string] = count()
  EXPECT_EQ(check({I(Op::Lds, 0), I(Op::Ldi, 1), I(Op::Tclr), I(Op::Tpush, 0, 0, 0, 1),
                   I(Op::Agg, 0, 1, 1, 0)}),
            "");
  EXPECT_REJECTED(({I(Op::Ldi, 1), I(Op::Tclr), I(Op::Agg, 0, 1, 1, 0)}), "wrong number of keys");
  EXPECT_REJECTED(({I(Op::Ldi, 1), I(Op::Tclr), I(Op::Tpush, 1), I(Op::Agg, 0, 1, 1, 0)}),
                  "tuple key 0 has the wrong type");
  // The value and the weight must be integers.
  EXPECT_REJECTED(({I(Op::Lds, 0), I(Op::Ldi, 1), I(Op::Tclr), I(Op::Tpush, 0, 0, 0, 1),
                    I(Op::Agg, 0, 0, 1, 0)}),
                  "is not an integer");
  EXPECT_REJECTED(({I(Op::Lds, 0), I(Op::Ldi, 1), I(Op::Tclr), I(Op::Tpush, 0, 0, 0, 1),
                    I(Op::Agg, 0, 1, 2, 0)}),
                  "read of unset register %r2");
}

TEST(VerifierTest, ChecksCallArguments) {
  const uint32_t join = uint32_t(Subr::Strjoin), len = uint32_t(Subr::Strlen);
  EXPECT_EQ(check({I(Op::Lds, 0), I(Op::Lds, 1), I(Op::Call, 2, 0, 2, join),
                   I(Op::Call, 3, 2, 1, len), I(Op::Add, 4, 3, 3)}),
            "");
  EXPECT_REJECTED(({I(Op::Lds, 0), I(Op::Lds, 1), I(Op::Call, 2, 0, 1, join)}),
                  "wrong number of arguments");
  EXPECT_REJECTED(({I(Op::Lds, 0), I(Op::Lds, 1), I(Op::Call, 2, 0, 3, join)}),
                  "wrong number of arguments");
  EXPECT_REJECTED(({I(Op::Lds, 0), I(Op::Ldi, 1), I(Op::Call, 2, 0, 2, join)}),
                  "%r1 is not a string");
  // substr(string, int): the index must be an integer.
  EXPECT_REJECTED(({I(Op::Lds, 0), I(Op::Lds, 1), I(Op::Call, 2, 0, 2, uint32_t(Subr::Substr2))}),
                  "%r1 is not an integer");
  // The result has the subroutine's type: strjoin's is a string.
  EXPECT_REJECTED(({I(Op::Lds, 0), I(Op::Lds, 1), I(Op::Call, 2, 0, 2, join), I(Op::Neg, 3, 2)}),
                  "%r2 is not an integer");
}

TEST(VerifierTest, ChecksActionArguments) {
  // printf("%d %s", int, string)
  EXPECT_EQ(check({I(Op::Ldi, 0), I(Op::Lds, 1), I(Op::Act, 0, 0, 2, 0)}), "");
  EXPECT_REJECTED(({I(Op::Ldi, 0), I(Op::Lds, 1), I(Op::Act, 0, 0, 1, 0)}),
                  "wrong number of arguments");
  EXPECT_REJECTED(({I(Op::Lds, 0), I(Op::Ldi, 1), I(Op::Act, 0, 0, 2, 0)}), "is not an integer");
  EXPECT_REJECTED(({I(Op::Ldi, 0), I(Op::Act, 0, 0, 2, 0)}), "read of unset register %r1");
  // exit(int)
  EXPECT_EQ(check({I(Op::Ldi, 3), I(Op::Act, 0, 3, 1, 1)}), "");
  EXPECT_REJECTED(({I(Op::Lds, 3), I(Op::Act, 0, 3, 1, 1)}), "is not an integer");
  EXPECT_REJECTED(({I(Op::Ldi, 7), I(Op::Act, 0, 7, 1, 1)}, 7), "out of");
}

TEST(VerifierTest, RejectsBadNarrowCode) {
  for (uint8_t size : {1, 2, 4, 8})
    for (bool sgn : {false, true})
      EXPECT_EQ(check({I(Op::Ldi, 0), I(Op::Narrow, 1, 0, 0, narrow_code(size, sgn))}), "");
  for (uint32_t code : {0u, 3u, 5u, 7u, 0x13u, 0x20u, 0x24u, 0x100u, 0xffffffffu}) {
    SCOPED_TRACE("code " + std::to_string(code));
    EXPECT_REJECTED(({I(Op::Ldi, 0), I(Op::Narrow, 1, 0, 0, code)}), "bad integer type");
  }
}

TEST(VerifierTest, RejectsPredicateEndOutsideTheProgram) {
  Module m = table_module();
  ClauseCode c = clause_of({I(Op::Ldi, 0), I(Op::Jz, 0, 0, 0, 0)});
  c.predicate_end = 2;
  EXPECT_EQ(verify(m, c), "");
  c.predicate_end = 3;
  EXPECT_NE(verify(m, c).find("predicate end"), std::string::npos);
}

TEST(VerifierTest, ErrorNamesTheOffset) {
  std::string err = check({I(Op::Ldi, 0), I(Op::Ldi, 1), I(Op::Add, 2, 0, 5)});
  EXPECT_EQ(err.rfind("offset 2: ", 0), 0u) << err;
}

TEST(VerifierTest, SubroutineSignaturesCoverEverySubroutine) {
  for (uint32_t s = 0; s < uint32_t(Subr::Count_); ++s) {
    const SubrSig& sig = subr_signature(static_cast<Subr>(s));
    EXPECT_NE(sig.name, nullptr);
    EXPECT_NE(sig.result, lang::Kind::Void) << sig.name;
  }
  EXPECT_EQ(subr_signature(Subr::Substr3).args.size(), 3u);
  EXPECT_EQ(subr_signature(Subr::Lltostr2).result, lang::Kind::String);
}

}  // namespace
}  // namespace vtrace::bytecode
