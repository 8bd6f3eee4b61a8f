// The recursive-descent D parser, shared by parser.cpp (program, clauses, declarations,
// statements) and parser_expr.cpp (expressions). Internal to src/lang.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "lang/ast.h"
#include "lang/lexer.h"
#include "lang/parser.h"

namespace vtrace::lang {

// The C type names a program declares: typedefs, struct/union/enum tags and enumerators.
struct TypeScope {
  std::unordered_set<std::string> typedef_names;  // what the lexer returns as TypeName
  std::unordered_map<std::string, Type> typedefs;
  std::unordered_map<std::string, std::shared_ptr<CType>> structs, unions, enums;
  std::unordered_map<std::string, std::pair<int64_t, Type>> enumerators;
  std::vector<std::shared_ptr<const CType>> definitions;  // every one, anonymous ones too
  std::shared_ptr<CType> define(CType::Form form, const std::string& tag);
  void add_builtins();  // parser_types.cpp
};

class Parser {
 public:
  Parser(const Source& src, const MacroArgs& macros) : src_(src), lex_(src, macros) {
    types_.add_builtins();
    lex_.set_type_names(&types_.typedef_names);
  }
  ast::Program run();

  // Nesting beyond this is an error: the parser, and every pass after it, recurses on the tree.
  static constexpr int kMaxDepth = 200;

 private:
  friend class DepthGuard;

  // Tokens.
  void advance(bool desc_mode = false);
  const Token& peek();
  bool at(Tok k) const { return cur_.kind == k; }
  void expect(Tok k);  // syntax error unless the current token is k (does not consume)
  void expect_advance(Tok k) {
    expect(k);
    advance();
  }
  [[noreturn]] void fail(Loc loc, const std::string& message) const;
  [[noreturn]] void syntax_error() const;  // near the current token
  void enter(Loc loc, const char* what);   // depth_ + 1, checked

  // parser.cpp
  void clause(ast::Program& prog);
  ast::ProbeDesc probe_desc(const Token& t) const;
  void declaration(ast::Program& prog);
  // parser_types.cpp: C types and declarators
  bool at_type_start() const { return starts_type(cur_.kind); }
  static bool starts_type(Tok k) {
    return k == Tok::TypeKw || k == Tok::TypeName || k == Tok::KwStruct || k == Tok::KwUnion ||
           k == Tok::KwEnum;
  }
  Type parse_type();              // specifiers: int, unsigned long, struct foo {...}, a typedef
  Type parse_type_name();         // specifiers and '*'s: what a cast or sizeof names
  Type pointers(Type base);       // '*'s (and their qualifiers) after a type
  Type array_dims(Type element);  // [N][M] after a declarator's name
  std::string keyword_and_tag();
  Type record_type(bool is_union);  // at struct/union
  Type enum_type();                 // at enum
  void typedef_decl();              // at typedef
  int64_t constant_of(const ast::Expr& e) const;
  void block(std::vector<ast::StmtPtr>& out);  // after '{', through '}'
  ast::StmtPtr statement();
  ast::StmtPtr if_statement();
  ast::StmtPtr agg_statement();
  void branch(std::vector<ast::StmtPtr>& out);
  void end_statement();

  // parser_inline.cpp: inline definitions and their uses
  struct Inline {
    Type type;
    std::vector<std::string> params;  // an inline with keys: their names
    std::vector<Type> param_types;    // and types
    ast::ExprPtr expr;
  };
  void inline_decl();  // at inline
  ast::ExprPtr use_inline(const Token& name, std::vector<ast::ExprPtr> keys);

  // parser_expr.cpp
  ast::ExprPtr expression();
  ast::ExprPtr ternary();
  ast::ExprPtr binary(int min_prec);
  ast::ExprPtr unary();
  ast::ExprPtr postfix();
  ast::ExprPtr primary();
  std::vector<ast::ExprPtr> expr_list(Tok close, bool allow_empty);
  void check_lvalue(const ast::Expr& e, const Token& op) const;

  const Source& src_;
  Lexer lex_;
  Token cur_;
  Token peek_;
  bool has_peek_ = false;
  int depth_ = 0;
  bool in_predicate_ = false;  // a '/' outside parentheses ends the predicate
  TypeScope types_;
  std::map<std::string, Inline> inlines_;
};

// Counts one level of nesting for the lifetime of a parse function.
class DepthGuard {
 public:
  DepthGuard(Parser& p, Loc loc, const char* what = "expression") : p_(p), saved_(p.depth_) {
    p.enter(loc, what);
  }
  ~DepthGuard() { p_.depth_ = saved_; }
  DepthGuard(const DepthGuard&) = delete;
  DepthGuard& operator=(const DepthGuard&) = delete;

 private:
  Parser& p_;
  int saved_;
};

}  // namespace vtrace::lang
