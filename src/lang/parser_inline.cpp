// D's inline definitions: `inline TYPE NAME = EXPR;` names an expression, and
// `inline TYPE NAME[TYPE A, TYPE B] = EXPR;` one of its parameters. A use is replaced by a copy
// of the expression (the parameters by the use's keys) converted to TYPE, as a cast would. The
// name is not defined inside its own expression (`inline int foo = foo + 3;` leaves foo
// unknown there), and defining it twice is an error.
#include "lang/parser_impl.h"

namespace vtrace::lang {

using ast::Expr;
using ast::ExprKind;
using ast::ExprPtr;

namespace {

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
      pointers(parse_type());
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
  for (size_t i = 0; i < keys.size(); ++i) args[in.params[i]] = keys[i].get();
  ExprPtr value = copy_of(*in.expr, args);
  if (in.type.is_string()) return value;  // a string stays one (D has no cast to string)
  auto cast = std::make_unique<Expr>();
  cast->kind = ExprKind::Cast;
  cast->loc = name.loc;
  cast->cast_type = in.type;
  cast->kids.push_back(std::move(value));
  return cast;
}

}  // namespace vtrace::lang
