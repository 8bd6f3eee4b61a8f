#include "lang/predicate_tests.h"

#include "lang/constant_fold.h"

namespace vtrace::lang {

namespace {

using bytecode::ArgTest;

// argN: its N.
std::optional<uint8_t> argument(const ast::Expr& e) {
  if (e.kind != ast::ExprKind::Ident || e.name.size() != 4 || e.name.compare(0, 3, "arg") != 0 ||
      e.name[3] < '0' || e.name[3] > '9')
    return std::nullopt;
  return static_cast<uint8_t>(e.name[3] - '0');
}

// An integer literal, possibly under unary -, + or ~: its value, and whether comparing it with
// an int64_t argument is unsigned (a 64-bit unsigned literal).
struct Literal {
  int64_t value;
  bool is_unsigned;
};
std::optional<Literal> literal(const ast::Expr& e) {
  if (e.kind == ast::ExprKind::IntLit)
    return Literal{e.ival, e.type.is_int() && !e.type.is_signed && e.type.size == 8};
  if (e.kind != ast::ExprKind::Unary || e.kids.size() != 1) return std::nullopt;
  if (e.op != ast::Op::Neg && e.op != ast::Op::Plus && e.op != ast::Op::BitNot) return std::nullopt;
  auto inner = literal(*e.kids[0]);
  if (!inner) return std::nullopt;
  auto v = fold_unary(e.op, inner->value);
  if (!v) return std::nullopt;
  return Literal{*v, inner->is_unsigned};
}

// The comparison `op` of (argument, literal), or of (literal, argument) when `swapped`.
std::optional<ArgTest::Cmp> comparison(ast::Op op, bool is_unsigned, bool swapped) {
  switch (op) {
    case ast::Op::Eq:
      return ArgTest::Eq;
    case ast::Op::Ne:
      return ArgTest::Ne;
    case ast::Op::Lt:
      return swapped ? (is_unsigned ? ArgTest::Gtu : ArgTest::Gt)
                     : (is_unsigned ? ArgTest::Ltu : ArgTest::Lt);
    case ast::Op::Le:
      return swapped ? (is_unsigned ? ArgTest::Geu : ArgTest::Ge)
                     : (is_unsigned ? ArgTest::Leu : ArgTest::Le);
    case ast::Op::Gt:
      return swapped ? (is_unsigned ? ArgTest::Ltu : ArgTest::Lt)
                     : (is_unsigned ? ArgTest::Gtu : ArgTest::Gt);
    case ast::Op::Ge:
      return swapped ? (is_unsigned ? ArgTest::Leu : ArgTest::Le)
                     : (is_unsigned ? ArgTest::Geu : ArgTest::Ge);
    default:
      return std::nullopt;
  }
}

bool collect(const ast::Expr& e, std::vector<ArgTest>& out) {
  if (e.kind == ast::ExprKind::Binary && e.kids.size() == 2) {
    if (e.op == ast::Op::LogAnd) return collect(*e.kids[0], out) && collect(*e.kids[1], out);
    const bool swapped = !argument(*e.kids[0]).has_value();
    auto arg = argument(*e.kids[swapped ? 1 : 0]);
    auto lit = literal(*e.kids[swapped ? 0 : 1]);
    if (!arg || !lit) return false;
    auto cmp = comparison(e.op, lit->is_unsigned, swapped);
    if (!cmp) return false;
    out.push_back({*arg, *cmp, lit->value});
    return true;
  }
  if (auto arg = argument(e)) {  // /argN/
    out.push_back({*arg, ArgTest::Ne, 0});
    return true;
  }
  if (e.kind == ast::ExprKind::Unary && e.op == ast::Op::LogNot && e.kids.size() == 1)
    if (auto arg = argument(*e.kids[0])) {  // /!argN/
      out.push_back({*arg, ArgTest::Eq, 0});
      return true;
    }
  return false;
}

}  // namespace

std::optional<std::vector<ArgTest>> predicate_tests(const ast::Expr& predicate) {
  std::vector<ArgTest> tests;
  if (!collect(predicate, tests)) return std::nullopt;
  return tests;
}

}  // namespace vtrace::lang
