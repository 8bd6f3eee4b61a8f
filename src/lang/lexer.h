// D tokens. The lexer is pulled one token at a time by the parser, which says whether a probe
// description may start here: D scans "syscall::read:entry" as one token only where a clause
// is expected (DTrace's lexer has the same two states).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "lang/ast.h"
#include "lang/parser.h"
#include "lang/source.h"
#include "lang/types.h"

namespace vtrace::lang {

enum class Tok : uint8_t {
  Eof,
  Ident,     // text = name
  Int,       // ival, type (also character constants)
  Str,       // sval (decoded)
  Desc,      // probe description: text as written, sval with macros expanded
  Agg,       // @name or @: text = "@name"
  TypeKw,    // char short int long signed unsigned string void int8_t ... size_t const volatile
  TypeName,  // a name the program made a type with typedef
  KwStruct,
  KwUnion,
  KwEnum,
  KwTypedef,
  KwInline,
  KwSelf,
  KwThis,
  KwSizeof,
  KwStringof,
  KwIf,
  KwElse,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Comma,
  Semi,
  Question,
  Colon,
  Dot,
  Arrow,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  Amp,
  Pipe,
  Caret,
  Tilde,
  Bang,
  Lt,
  Gt,
  Le,
  Ge,
  EqEq,
  Ne,
  AndAnd,
  OrOr,
  XorXor,
  Shl,
  Shr,
  Inc,
  Dec,
  Assign,
  AddAssign,
  SubAssign,
  MulAssign,
  DivAssign,
  ModAssign,
  AndAssign,
  OrAssign,
  XorAssign,
  ShlAssign,
  ShrAssign,
};

struct Token {
  Tok kind = Tok::Eof;
  std::string text;  // the source spelling (for messages); the name for Ident
  std::string sval;  // Str: decoded value; Desc: macro-expanded description
  int64_t ival = 0;
  Type type;  // Int: the literal's C type
  Loc loc;
};

// Quote a token or word for an error message: non-printable bytes as \xHH, long text cut.
std::string printable(std::string_view s);

// Parse an integer constant's spelling (digits with base prefix and u/l suffixes) into its
// value and C type. Returns "" on success, otherwise the error message.
std::string parse_int_constant(std::string_view s, uint64_t& value, Type& type);

class Lexer {
 public:
  Lexer(const Source& src, const MacroArgs& macros);

  // The next token. With desc_mode, a word made of probe-description characters is one Desc
  // token (or a declaration keyword: int, self, ...).
  Token next(bool desc_mode);

  // Skip blanks and comments; the next significant byte, or -1 at end of input.
  int peek_char();

  // #pragma D option lines seen so far.
  std::vector<ast::Pragma>& pragmas() { return pragmas_; }

  [[noreturn]] void fail(Loc loc, const std::string& message) const;

  // The parser's typedef names: the lexer returns them as TypeName tokens.
  void set_type_names(const std::unordered_set<std::string>* names) { type_names_ = names; }

 private:
  bool more() const { return pos_ < text_.size(); }
  char at(size_t p) const { return p < text_.size() ? text_[p] : '\0'; }
  Loc here() const { return {line_, col_}; }
  void advance(size_t n);  // over bytes that hold no newline
  Loc loc_at(size_t p) const { return {line_, static_cast<uint32_t>(col_ + (p - pos_))}; }

  void skip_space();
  void directive();
  void pragma_words(const std::vector<std::pair<std::string, size_t>>& words, Loc hash);

  Token scan_desc(Token t);
  Token scan_ident(Token t);
  Token scan_number(Token t);
  Token scan_char(Token t);
  Token scan_string(Token t);
  Token scan_macro(Token t);
  Token scan_punct(Token t);
  int scan_escape(size_t& p);  // p at the backslash; returns the byte value

  // Expand one macro variable starting at text_[p] == '$' for use inside a description.
  std::string expand_in_desc(size_t& p);
  // Argument n ($n / $$n), marked referenced; nullptr when not given.
  const std::string* macro_arg(size_t n);

 public:
  // dtrace's D_MACRO_UNUSED, once the whole program is read: "" or the error.
  std::string extraneous_argument() const;

 private:
  bool builtin_macro(std::string_view name, int64_t& value) const;

  const Source& src_;
  const MacroArgs& macros_;
  std::string_view text_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
  uint32_t col_ = 1;
  bool line_blank_ = true;        // only blanks since the last newline: '#' starts a directive
  bool defaultargs_ = false;      // -x defaultargs, or #pragma D option defaultargs seen so far
  bool argref_ = false;           // -x argref, or #pragma D option argref
  bool pspec_ = false;            // -x pspec, or #pragma D option pspec (MacroArgs::pspec)
  std::vector<bool> referenced_;  // per macro argument
  std::vector<ast::Pragma> pragmas_;
  const std::unordered_set<std::string>* type_names_ = nullptr;
};

}  // namespace vtrace::lang
