// D expressions: C's operators and precedence, plus ^^, self->, this-> and @.
#include <optional>
#include <utility>

#include "lang/parser_impl.h"

namespace vtrace::lang {

using ast::Expr;
using ast::ExprKind;
using ast::ExprPtr;
using ast::Op;

namespace {

// Binary operator precedence, lowest first; 0 = not a binary operator.
int precedence(Tok k) {
  switch (k) {
    case Tok::OrOr:
      return 1;
    case Tok::XorXor:
      return 2;
    case Tok::AndAnd:
      return 3;
    case Tok::Pipe:
      return 4;
    case Tok::Caret:
      return 5;
    case Tok::Amp:
      return 6;
    case Tok::EqEq:
    case Tok::Ne:
      return 7;
    case Tok::Lt:
    case Tok::Le:
    case Tok::Gt:
    case Tok::Ge:
      return 8;
    case Tok::Shl:
    case Tok::Shr:
      return 9;
    case Tok::Plus:
    case Tok::Minus:
      return 10;
    case Tok::Star:
    case Tok::Slash:
    case Tok::Percent:
      return 11;
    default:
      return 0;
  }
}

Op binary_op(Tok k) {
  switch (k) {
    case Tok::OrOr:
      return Op::LogOr;
    case Tok::XorXor:
      return Op::LogXor;
    case Tok::AndAnd:
      return Op::LogAnd;
    case Tok::Pipe:
      return Op::BitOr;
    case Tok::Caret:
      return Op::BitXor;
    case Tok::Amp:
      return Op::BitAnd;
    case Tok::EqEq:
      return Op::Eq;
    case Tok::Ne:
      return Op::Ne;
    case Tok::Lt:
      return Op::Lt;
    case Tok::Le:
      return Op::Le;
    case Tok::Gt:
      return Op::Gt;
    case Tok::Ge:
      return Op::Ge;
    case Tok::Shl:
      return Op::Shl;
    case Tok::Shr:
      return Op::Shr;
    case Tok::Plus:
      return Op::Add;
    case Tok::Minus:
      return Op::Sub;
    case Tok::Star:
      return Op::Mul;
    case Tok::Slash:
      return Op::Div;
    default:
      return Op::Mod;
  }
}

// Assignment operators; op2 is the compound operator's binary op, Op::Assign for "=".
bool assign_op(Tok k, Op& op2) {
  switch (k) {
    case Tok::Assign:
      op2 = Op::Assign;
      return true;
    case Tok::AddAssign:
      op2 = Op::Add;
      return true;
    case Tok::SubAssign:
      op2 = Op::Sub;
      return true;
    case Tok::MulAssign:
      op2 = Op::Mul;
      return true;
    case Tok::DivAssign:
      op2 = Op::Div;
      return true;
    case Tok::ModAssign:
      op2 = Op::Mod;
      return true;
    case Tok::AndAssign:
      op2 = Op::BitAnd;
      return true;
    case Tok::OrAssign:
      op2 = Op::BitOr;
      return true;
    case Tok::XorAssign:
      op2 = Op::BitXor;
      return true;
    case Tok::ShlAssign:
      op2 = Op::Shl;
      return true;
    case Tok::ShrAssign:
      op2 = Op::Shr;
      return true;
    default:
      return false;
  }
}

ExprPtr make(ExprKind kind, Loc loc) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->loc = loc;
  return e;
}

}  // namespace

void Parser::check_lvalue(const Expr& e, const Token& op) const {
  if (e.kind == ExprKind::Ident || e.kind == ExprKind::Var || e.kind == ExprKind::Index ||
      e.kind == ExprKind::Deref || e.kind == ExprKind::Subscript || e.kind == ExprKind::Member)
    return;
  fail(op.loc, "operator " + op.text + " requires a modifiable lvalue as an operand");
}

// assignment: ternary [assign-op assignment]   (right-associative)
ExprPtr Parser::expression() {
  DepthGuard guard(*this, cur_.loc);
  ExprPtr lhs = ternary();
  Op op2;
  if (!assign_op(cur_.kind, op2)) return lhs;
  Token op = cur_;
  check_lvalue(*lhs, op);
  advance();
  ExprPtr rhs = expression();
  auto e = make(ExprKind::Assign, op.loc);
  e->op = Op::Assign;
  e->op2 = op2;
  e->kids.push_back(std::move(lhs));
  e->kids.push_back(std::move(rhs));
  return e;
}

ExprPtr Parser::ternary() {
  ExprPtr cond = binary(1);
  if (!at(Tok::Question)) return cond;
  DepthGuard guard(*this, cur_.loc);  // "a ? b : c ? d : ..." recurses on the right
  auto e = make(ExprKind::Ternary, cur_.loc);
  advance();
  ExprPtr then = expression();
  expect_advance(Tok::Colon);
  ExprPtr otherwise = ternary();
  e->kids.push_back(std::move(cond));
  e->kids.push_back(std::move(then));
  e->kids.push_back(std::move(otherwise));
  return e;
}

// Precedence climbing: left-associative chains loop here instead of recursing, but each link
// still counts toward the depth limit because later passes recurse on the tree they make.
ExprPtr Parser::binary(int min_prec) {
  ExprPtr lhs = unary();
  const int saved = depth_;
  for (;;) {
    const int prec = precedence(cur_.kind);
    if (prec == 0 || prec < min_prec) break;
    if (at(Tok::Slash) && in_predicate_) break;  // the predicate's closing '/'
    Token op = cur_;
    advance();
    enter(op.loc, "expression");
    ExprPtr rhs = binary(prec + 1);
    auto e = make(ExprKind::Binary, op.loc);
    e->op = binary_op(op.kind);
    e->kids.push_back(std::move(lhs));
    e->kids.push_back(std::move(rhs));
    lhs = std::move(e);
  }
  depth_ = saved;
  return lhs;
}

ExprPtr Parser::unary() {
  const Token t = cur_;
  // Prefix operators, casts and parentheses recurse; count them (a plain operand costs nothing).
  std::optional<DepthGuard> guard;
  if (t.kind != Tok::Ident && t.kind != Tok::Int && t.kind != Tok::Str && t.kind != Tok::Agg &&
      t.kind != Tok::KwSelf && t.kind != Tok::KwThis)
    guard.emplace(*this, t.loc);
  switch (t.kind) {
    case Tok::Bang:
    case Tok::Tilde:
    case Tok::Minus:
    case Tok::Plus: {
      advance();
      auto e = make(ExprKind::Unary, t.loc);
      e->op = t.kind == Tok::Bang    ? Op::LogNot
              : t.kind == Tok::Tilde ? Op::BitNot
              : t.kind == Tok::Minus ? Op::Neg
                                     : Op::Plus;
      e->kids.push_back(unary());
      return e;
    }
    case Tok::Inc:
    case Tok::Dec: {
      advance();
      auto e = make(ExprKind::IncDec, t.loc);
      e->op = t.kind == Tok::Inc ? Op::Inc : Op::Dec;
      e->prefix = true;
      e->kids.push_back(unary());
      check_lvalue(*e->kids[0], t);
      return e;
    }
    case Tok::Star:
    case Tok::Amp: {
      advance();
      auto e = make(t.kind == Tok::Star ? ExprKind::Deref : ExprKind::AddrOf, t.loc);
      e->kids.push_back(unary());
      return e;
    }
    case Tok::KwSizeof: {
      advance();
      if (at(Tok::LParen) && starts_type(peek().kind)) {
        advance();
        auto e = make(ExprKind::SizeofType, t.loc);
        e->cast_type = parse_type_name();
        expect_advance(Tok::RParen);
        return e;
      }
      auto e = make(ExprKind::SizeofExpr, t.loc);
      e->kids.push_back(unary());
      return e;
    }
    case Tok::KwStringof: {
      advance();
      auto e = make(ExprKind::Call, t.loc);
      e->name = "stringof";
      e->kids.push_back(unary());
      return e;
    }
    case Tok::LParen:
      if (starts_type(peek().kind)) {
        advance();
        auto e = make(ExprKind::Cast, t.loc);
        e->cast_type = parse_type_name();
        expect_advance(Tok::RParen);
        e->kids.push_back(unary());
        return e;
      }
      return postfix();
    default:
      return postfix();
  }
}

ExprPtr Parser::postfix() {
  ExprPtr e = primary();
  for (;;) {
    if (at(Tok::Inc) || at(Tok::Dec)) {
      check_lvalue(*e, cur_);
      auto n = make(ExprKind::IncDec, cur_.loc);
      n->op = at(Tok::Inc) ? Op::Inc : Op::Dec;
      n->kids.push_back(std::move(e));
      e = std::move(n);
      advance();
    } else if (at(Tok::Arrow) && e->kind == ExprKind::Ident && e->name == "args") {
      // args->FIELD: a field of a tracepoint's record, resolved against the clause's probes.
      advance();
      if (!at(Tok::Ident)) syntax_error();
      auto f = make(ExprKind::Field, e->loc);
      f->name = cur_.text;
      advance();
      e = std::move(f);
    } else if (at(Tok::Arrow) || at(Tok::Dot)) {
      auto m = make(ExprKind::Member, cur_.loc);
      m->arrow = at(Tok::Arrow);
      advance();
      if (!at(Tok::Ident) && !at(Tok::TypeName)) syntax_error();
      m->name = cur_.text;
      advance();
      m->kids.push_back(std::move(e));
      e = std::move(m);
    } else if (at(Tok::LBracket)) {
      auto sub = make(ExprKind::Subscript, cur_.loc);
      advance();
      sub->kids.push_back(std::move(e));
      std::vector<ExprPtr> index = expr_list(Tok::RBracket, false);
      if (index.size() != 1) fail(sub->loc, "operator [] takes one index here");
      sub->kids.push_back(std::move(index[0]));
      e = std::move(sub);
    } else {
      return e;
    }
  }
}

// Keys or arguments after the opening bracket, through the closing one.
std::vector<ExprPtr> Parser::expr_list(Tok close, bool allow_empty) {
  const bool saved = in_predicate_;
  in_predicate_ = false;
  std::vector<ExprPtr> out;
  if (at(close) && allow_empty) {
    advance();
    in_predicate_ = saved;
    return out;
  }
  for (;;) {
    out.push_back(expression());
    if (!at(Tok::Comma)) break;
    advance();
  }
  expect_advance(close);
  in_predicate_ = saved;
  return out;
}

ExprPtr Parser::primary() {
  const Token t = cur_;
  switch (t.kind) {
    case Tok::Int: {
      auto e = make(ExprKind::IntLit, t.loc);
      e->ival = t.ival;
      e->type = t.type;
      advance();
      return e;
    }
    case Tok::Str: {
      auto e = make(ExprKind::StrLit, t.loc);
      e->sval = t.sval;
      e->type = Type::str();
      advance();
      return e;
    }
    case Tok::Ident: {
      advance();
      ExprPtr e;
      if (inlines_.count(t.text)) {
        std::vector<ExprPtr> keys;
        if (at(Tok::LBracket)) {
          advance();
          keys = expr_list(Tok::RBracket, false);
        }
        return use_inline(t, std::move(keys));
      }
      if (at(Tok::LParen)) {
        e = make(ExprKind::Call, t.loc);
        advance();
        e->kids = expr_list(Tok::RParen, true);
      } else if (at(Tok::LBracket)) {
        e = make(ExprKind::Index, t.loc);
        advance();
        e->kids = expr_list(Tok::RBracket, false);
      } else if (auto en = types_.enumerators.find(t.text); en != types_.enumerators.end()) {
        e = make(ExprKind::IntLit, t.loc);
        e->ival = en->second.first;
        e->type = en->second.second;
      } else {
        e = make(ExprKind::Ident, t.loc);
      }
      e->name = t.text;
      return e;
    }
    case Tok::KwSelf:
    case Tok::KwThis: {
      advance();
      if (!at(Tok::Arrow)) fail(t.loc, t.text + " must be followed by ->name");
      advance();
      if (!at(Tok::Ident)) syntax_error();
      const Token name = cur_;
      advance();
      ExprPtr e;
      if (at(Tok::LBracket)) {
        e = make(ExprKind::Index, t.loc);
        advance();
        e->kids = expr_list(Tok::RBracket, false);
      } else {
        e = make(ExprKind::Var, t.loc);
      }
      e->scope = t.kind == Tok::KwSelf ? ast::Scope::Thread : ast::Scope::Clause;
      e->name = name.text;
      return e;
    }
    case Tok::Agg: {
      auto e = make(ExprKind::AggRef, t.loc);
      e->name = t.text.substr(1);
      advance();
      return e;
    }
    case Tok::LParen: {
      advance();
      const bool saved = in_predicate_;
      in_predicate_ = false;
      ExprPtr e = expression();
      expect_advance(Tok::RParen);
      in_predicate_ = saved;
      return e;
    }
    default:
      syntax_error();
  }
}

}  // namespace vtrace::lang
