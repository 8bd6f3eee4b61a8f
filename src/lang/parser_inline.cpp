// D's inline definitions: `inline TYPE NAME = EXPR;` names an expression, and
// `inline TYPE NAME[TYPE A, TYPE B] = EXPR;` one of its parameters. A use is replaced by a copy
// of the expression (the parameters by the use's keys) converted to TYPE, as a cast would. The
// name is not defined inside its own expression (`inline int foo = foo + 3;` leaves foo
// unknown there), and defining it twice is an error. A use's keys are converted to the
// parameters' types as a cast would (a key of another kind is an error), and an inline whose
// expression, with the inlines it uses expanded, would exceed kMaxNodes is refused (inlines of
// inlines each used twice double at every level).
#include "lang/parser_impl.h"

namespace vtrace::lang {

using ast::Expr;
using ast::ExprKind;
using ast::ExprPtr;

namespace {

constexpr size_t kMaxNodes = 100000;

size_t nodes(const Expr& e) {
  size_t n = 1;
  for (const ExprPtr& k : e.kids)
    if (k) n += nodes(*k);
  return n;
}

// `e` converted to `type` as a cast would (a string stays itself: D has no cast to string, and
// the checker refuses a cast of another kind to one).
ExprPtr converted(ExprPtr e, const Type& type, const Loc& loc) {
  auto cast = std::make_unique<Expr>();
  cast->kind = ExprKind::Cast;
  cast->loc = loc;
  cast->cast_type = type;
  cast->kids.push_back(std::move(e));
  return cast;
}

// A deep copy of `e` in which identifiers named in `args` are copies of those expressions.
ExprPtr copy_of(const Expr& e, const std::map<std::string, const Expr*>& args) {
  if (e.kind == ExprKind::Ident)
    if (auto it = args.find(e.name); it != args.end()) return copy_of(*it->second, {});
  auto c = std::make_unique<Expr>();
  c->kind = e.kind;
  c->loc = e.loc;
  c->ival = e.ival;
  c->sval = e.sval;
  c->name = e.name;
  c->scope = e.scope;
  c->op = e.op;
  c->op2 = e.op2;
  c->prefix = e.prefix;
  c->arrow = e.arrow;
  c->cast_type = e.cast_type;
  c->type = e.type;
  for (const ExprPtr& k : e.kids) c->kids.push_back(k ? copy_of(*k, args) : nullptr);
  return c;
}

}  // namespace

void Parser::inline_decl() {
  advance();  // inline
  if (!at_type_start()) syntax_error();
  Inline in;
  in.type = pointers(parse_type());
  if (!at(Tok::Ident)) syntax_error();
  const Token name = cur_;
  if (inlines_.count(name.text))
    fail(name.loc, "identifier redefined: " + name.text + " (an inline definition before)");
  advance();
  if (at(Tok::LBracket)) {  // its parameters
    advance();
    for (;;) {
      if (!at_type_start()) syntax_error();
      in.param_types.push_back(pointers(parse_type()));
      if (!at(Tok::Ident)) syntax_error();
      in.params.push_back(cur_.text);
      advance();
      if (at(Tok::RBracket)) break;
      expect_advance(Tok::Comma);
    }
    advance();
  }
  expect_advance(Tok::Assign);
  in.expr = expression();
  if (nodes(*in.expr) > kMaxNodes)
    fail(name.loc, "inline " + name.text + " is too large: its expression, with the inlines it " +
                       "uses expanded, has more than " + std::to_string(kMaxNodes) + " operations");
  expect(Tok::Semi);
  inlines_.emplace(name.text, std::move(in));
  advance(true);
}

ExprPtr Parser::use_inline(const Token& name, std::vector<ExprPtr> keys) {
  const Inline& in = inlines_.at(name.text);
  if (keys.size() != in.params.size())
    fail(name.loc, "inline " + name.text + " takes " + std::to_string(in.params.size()) + " key" +
                       (in.params.size() == 1 ? "" : "s") + ", not " + std::to_string(keys.size()));
  std::map<std::string, const Expr*> args;
  for (size_t i = 0; i < keys.size(); ++i) {
    const Loc loc = keys[i]->loc;  // (read before the key moves)
    keys[i] = converted(std::move(keys[i]), in.param_types[i], loc);
    args[in.params[i]] = keys[i].get();
  }
  ExprPtr value = copy_of(*in.expr, args);
  if (in.type.is_string()) return value;  // a string stays one (D has no cast to string)
  return converted(std::move(value), in.type, name.loc);
}

}  // namespace vtrace::lang
