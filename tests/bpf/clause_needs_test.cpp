// What a clause needs gathered at its probe, read from the bytecode the D compiler makes.
#include "bpf/clause_needs.h"

#include <gtest/gtest.h>

#include "lang/compiler.h"
#include "lang/parser.h"
#include "lang/source.h"

namespace vtrace::bpf {
namespace {

ClauseNeeds needs_of(const std::string& text) {
  lang::Source src{"<test>", text};
  bytecode::Module mod = lang::compile_source(src, lang::MacroArgs{});
  ClauseNeeds all;
  for (const bytecode::ClauseCode& c : mod.clauses) all.merge(clause_needs(mod, c));
  return all;
}

ExprOp arg(int64_t n) {
  ExprOp o;
  o.kind = ExprOp::Arg;
  o.value = n;
  return o;
}
ExprOp konst(int64_t v) {
  ExprOp o;
  o.kind = ExprOp::Const;
  o.value = v;
  return o;
}
ExprOp op(ExprOp::Kind k) {
  ExprOp o;
  o.kind = k;
  return o;
}

TEST(ClauseNeeds, CopyinstrOfAnArgument) {
  ClauseNeeds n = needs_of("syscall::openat:entry { printf(\"%s\", copyinstr(arg1)); }");
  ASSERT_EQ(n.strings.size(), 1u);
  EXPECT_EQ(n.strings[0].addr, Expr{arg(1)});
  EXPECT_TRUE(n.strings[0].len.empty());
  EXPECT_EQ(n.kernel_frames, 0u);
}

TEST(ClauseNeeds, AddressAndLengthExpressions) {
  ClauseNeeds n = needs_of("syscall::write:entry { trace(copyinstr(arg1 + 4, arg2 * 2)); }");
  ASSERT_EQ(n.strings.size(), 1u);
  EXPECT_EQ(n.strings[0].addr, (Expr{arg(1), konst(4), op(ExprOp::Add)}));
  EXPECT_EQ(n.strings[0].len, (Expr{arg(2), konst(2), op(ExprOp::Mul)}));
}

TEST(ClauseNeeds, CopyinAndCopyintoAreByteCopies) {
  ClauseNeeds n = needs_of(
      "syscall::write:entry { this->p = (char *)copyin(arg1, arg2); trace(copyinstr(arg1, arg2));"
      " copyinto(arg1 + 1, 4, (char *)alloca(4)); }");
  ASSERT_EQ(n.strings.size(), 3u);
  EXPECT_TRUE(n.strings[0].bytes);
  EXPECT_EQ(n.strings[0].addr, Expr{arg(1)});
  EXPECT_EQ(n.strings[0].len, Expr{arg(2)});
  EXPECT_FALSE(n.strings[1].bytes);  // the same address and length, but a string
  EXPECT_TRUE(n.strings[2].bytes);
  EXPECT_EQ(n.strings[2].len, Expr{konst(4)});
}

TEST(ClauseNeeds, TheSameStringOnceForTwoClauses) {
  ClauseNeeds n = needs_of(
      "syscall::openat:entry { trace(copyinstr(arg1)); } "
      "syscall::openat:entry { trace(copyinstr(arg1)); trace(copyinstr(arg2)); }");
  EXPECT_EQ(n.strings.size(), 2u);
}

TEST(ClauseNeeds, AnAddressFromAVariableCannotBeGathered) {
  ClauseNeeds n = needs_of("syscall::openat:entry { x = arg1; trace(copyinstr(x)); }");
  EXPECT_TRUE(n.strings.empty());
  // Where two paths meet, the register could hold either value: nothing is assumed.
  n = needs_of("syscall::openat:entry { trace(copyinstr(arg0 ? arg1 : arg2)); }");
  EXPECT_TRUE(n.strings.empty());
}

TEST(ClauseNeeds, StackDepths) {
  EXPECT_EQ(needs_of("syscall::getppid:entry { stack(); }").kernel_frames, kDefaultStackFrames);
  EXPECT_EQ(needs_of("syscall::getppid:entry { @[stack(5)] = count(); }").kernel_frames, 5u);
  ClauseNeeds n = needs_of("syscall::getppid:entry { @[ustack(3)] = count(); ustack(7); }");
  EXPECT_EQ(n.user_frames, 7u);
  EXPECT_EQ(n.kernel_frames, 0u);
}

TEST(ClauseNeeds, ArgumentsResolveToFields) {
  Expr e{arg(1), konst(4), op(ExprOp::Add)};
  ExprOp field;
  field.kind = ExprOp::Field;
  field.offset = 24;
  EXPECT_TRUE(resolve_args(e, [&](int64_t i) -> std::optional<ExprOp> {
    if (i == 1) return field;
    return std::nullopt;
  }));
  EXPECT_EQ(e[0], field);
  Expr other{arg(2)};
  EXPECT_FALSE(resolve_args(other, [](int64_t) { return std::nullopt; }));
}

}  // namespace
}  // namespace vtrace::bpf
