// D programs: pragmas (via the lexer), declarations, clauses and statements.
#include "lang/parser.h"

#include <utility>

#include "lang/parser_impl.h"

namespace vtrace::lang {

using ast::Stmt;
using ast::StmtKind;
using ast::StmtPtr;

ast::Program parse(const Source& src, const MacroArgs& macros) {
  Parser p(src, macros);
  return p.run();
}

void Parser::advance(bool desc_mode) {
  if (has_peek_) {
    cur_ = std::move(peek_);
    has_peek_ = false;
    return;
  }
  cur_ = lex_.next(desc_mode);
}

const Token& Parser::peek() {
  if (!has_peek_) {
    peek_ = lex_.next(false);
    has_peek_ = true;
  }
  return peek_;
}

void Parser::expect(Tok k) {
  if (!at(k)) syntax_error();
}

void Parser::fail(Loc loc, const std::string& message) const {
  throw CompileError(src_, loc, message);
}

void Parser::syntax_error() const {
  if (at(Tok::Eof)) fail(cur_.loc, "syntax error: unexpected end of file");
  fail(cur_.loc, "syntax error near \"" + printable(cur_.text) + "\"");
}

void Parser::enter(Loc loc, const char* what) {
  if (++depth_ > kMaxDepth) fail(loc, std::string(what) + " nested too deeply");
}

ast::Program Parser::run() {
  ast::Program prog;
  advance(true);
  while (!at(Tok::Eof)) {
    if (at(Tok::KwInline)) {
      inline_decl();
    } else if (at_type_start() || at(Tok::KwSelf) || at(Tok::KwThis) || at(Tok::KwTypedef)) {
      declaration(prog);
    } else if (at(Tok::Desc)) {
      clause(prog);
    } else {
      syntax_error();
    }
  }
  if (std::string e = lex_.extraneous_argument(); !e.empty()) fail(cur_.loc, e);
  prog.pragmas = std::move(lex_.pragmas());
  prog.definitions = std::move(types_.definitions);
  return prog;
}

ast::ProbeDesc Parser::probe_desc(const Token& t) const {
  ast::ProbeDesc d;
  d.text = t.text;
  d.loc = t.loc;
  std::vector<std::string> fields(1);
  for (char c : t.sval) {
    if (c != ':') {
      fields.back() += c;
    } else if (fields.size() == 5) {
      fail(t.loc, "invalid probe description \"" + printable(t.text) + "\": too many fields");
    } else {
      fields.emplace_back();
    }
  }
  // Fields are right-aligned: "entry" is the name, "read:entry" function:name, and so on.
  std::string* slots[5] = {&d.target, &d.provider, &d.module, &d.function, &d.name};
  const size_t first = 5 - fields.size();
  for (size_t i = 0; i < fields.size(); ++i) *slots[first + i] = std::move(fields[i]);
  return d;
}

// probe-desc {, probe-desc} [/ predicate /] [{ statements }]
void Parser::clause(ast::Program& prog) {
  ast::Clause c;
  c.loc = cur_.loc;
  c.probes.push_back(probe_desc(cur_));
  // Peek at raw bytes: what follows a description decides how the next token is scanned.
  while (lex_.peek_char() == ',') {
    advance();
    advance(true);
    if (!at(Tok::Desc)) syntax_error();
    c.probes.push_back(probe_desc(cur_));
  }
  if (lex_.peek_char() == '/') {
    advance();
    expect_advance(Tok::Slash);
    in_predicate_ = true;
    c.predicate = expression();
    in_predicate_ = false;
    expect(Tok::Slash);
  }
  if (lex_.peek_char() == '{') {
    advance();
    c.has_body = true;
    block(c.body);
  }
  advance(true);
  // As dtrace's grammar: a predicate needs actions; in a script file a description needs one
  // or the other (on the command line, `-n BEGIN` is a clause with the default action).
  if (c.predicate && !c.has_body)
    fail(cur_.loc, "expected actions { } following probe description and predicate");
  if (!c.predicate && !c.has_body && src_.from_file)
    fail(c.loc, "expected predicate and/or actions following probe description");
  prog.clauses.push_back(std::move(c));
}

// [self|this] [type] declarator [ '[' key-type {, key-type} ']' ] {, declarator ...} ;
// typedef type declarator ;   struct foo { members };   enum e { A, B };
void Parser::declaration(ast::Program& prog) {
  if (at(Tok::KwTypedef)) {
    typedef_decl();
    advance(true);
    return;
  }
  ast::Scope scope = ast::Scope::Global;
  if (at(Tok::KwSelf) || at(Tok::KwThis)) {
    scope = at(Tok::KwSelf) ? ast::Scope::Thread : ast::Scope::Clause;
    advance();
  }
  // A storage class alone declares an int, as in old C (`self x;`).
  const bool implicit_int = scope != ast::Scope::Global && at(Tok::Ident);
  if (!implicit_int && !at_type_start()) syntax_error();
  const Type base = implicit_int ? Type::i32() : parse_type();
  if (at(Tok::Semi) && scope == ast::Scope::Global && (base.is_record() || base.is_enum())) {
    advance(true);  // a struct, union or enum defined (or declared ahead) without a variable
    return;
  }
  for (;;) {
    Type type = pointers(base);
    if (!at(Tok::Ident)) syntax_error();
    ast::Decl d;
    d.scope = scope;
    d.name = cur_.text;
    d.loc = cur_.loc;
    if (d.name.find('`') != std::string::npos)
      fail(cur_.loc, "D scoping operator may not be used in a declaration name (" + d.name + ")");
    if (type.is_void()) fail(cur_.loc, "variable " + d.name + " cannot be declared void");
    advance();
    if (at(Tok::LBracket) && starts_type(peek().kind)) {
      d.is_array = true;
      advance();
      for (;;) {
        if (!at_type_start()) syntax_error();
        Loc kl = cur_.loc;
        Type k = parse_type_name();
        if (k.is_void()) fail(kl, "void is not a valid key type");
        d.key_types.push_back(k);
        if (!at(Tok::Comma)) break;
        advance();
      }
      expect_advance(Tok::RBracket);
    } else {
      type = array_dims(type);
    }
    d.type = type;
    prog.decls.push_back(std::move(d));
    if (!at(Tok::Comma)) break;
    advance();
  }
  expect(Tok::Semi);
  advance(true);
}

void Parser::block(std::vector<StmtPtr>& out) {
  DepthGuard guard(*this, cur_.loc, "block");
  advance();
  while (!at(Tok::RBrace)) {
    if (at(Tok::Eof)) syntax_error();
    if (at(Tok::Semi)) {
      advance();
      continue;
    }
    out.push_back(statement());
  }
}

// A statement ends at ';', or just before the '}' that closes its block (D allows that).
void Parser::end_statement() {
  if (at(Tok::Semi)) {
    advance();
  } else if (!at(Tok::RBrace)) {
    syntax_error();
  }
}

StmtPtr Parser::statement() {
  if (at(Tok::KwIf)) return if_statement();
  if (at(Tok::Agg)) return agg_statement();
  if (at(Tok::LBrace)) {
    auto s = std::make_unique<Stmt>();
    s->kind = StmtKind::Block;
    s->loc = cur_.loc;
    block(s->body);
    advance();
    return s;
  }
  if (at_type_start() || at(Tok::KwTypedef) ||
      ((at(Tok::KwSelf) || at(Tok::KwThis)) && starts_type(peek().kind)))
    fail(cur_.loc, "declarations are not allowed inside a clause");
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::Expr;
  s->loc = cur_.loc;
  s->expr = expression();
  end_statement();
  return s;
}

StmtPtr Parser::if_statement() {
  DepthGuard guard(*this, cur_.loc, "statement");
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::If;
  s->loc = cur_.loc;
  advance();
  expect_advance(Tok::LParen);
  s->expr = expression();
  expect_advance(Tok::RParen);
  branch(s->body);
  if (at(Tok::KwElse)) {
    advance();
    branch(s->else_body);
  }
  return s;
}

// The body of an if or else: a { block } or a single statement.
void Parser::branch(std::vector<StmtPtr>& out) {
  if (at(Tok::LBrace)) {
    block(out);
    advance();
  } else if (at(Tok::Semi)) {
    advance();
  } else {
    out.push_back(statement());
  }
}

// @name[keys] = func(args);
StmtPtr Parser::agg_statement() {
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::AggAssign;
  s->loc = cur_.loc;
  const std::string agg = cur_.text;
  s->agg_name = agg.substr(1);
  advance();
  if (at(Tok::LBracket)) {
    advance();
    s->agg_keys = expr_list(Tok::RBracket, false);
  }
  expect_advance(Tok::Assign);
  if (at(Tok::Eof)) syntax_error();
  if (!at(Tok::Ident) || peek().kind != Tok::LParen)
    fail(cur_.loc, agg + " must be assigned an aggregating function such as count()");
  s->agg_func = cur_.text;
  s->agg_func_loc = cur_.loc;
  advance();
  advance();
  s->agg_args = expr_list(Tok::RParen, true);
  end_statement();
  return s;
}

}  // namespace vtrace::lang
