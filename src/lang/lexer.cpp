#include "lang/lexer.h"

#include <cstdio>
#include <unordered_map>
#include <utility>

namespace vtrace::lang {

namespace {

bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_ident_char(char c) {
  return is_ident_start(c) || is_digit(c);
}
bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

// DTrace's probe-description character set; no digit first, and never '/', which opens the
// predicate.
bool is_desc_start(char c) {
  return is_ident_start(c) || c == '-' || c == '$' || c == ':' || c == '.' || c == '?' ||
         c == '*' || c == '\\' || c == '[' || c == ']' || c == '!';
}
bool is_desc_char(char c) {
  return is_desc_start(c) || is_digit(c) || c == '`';
}

const std::unordered_map<std::string_view, Tok>& keywords() {
  static const std::unordered_map<std::string_view, Tok> kw = {
      {"char", Tok::TypeKw},      {"short", Tok::TypeKw},        {"int", Tok::TypeKw},
      {"long", Tok::TypeKw},      {"signed", Tok::TypeKw},       {"unsigned", Tok::TypeKw},
      {"string", Tok::TypeKw},    {"void", Tok::TypeKw},         {"int8_t", Tok::TypeKw},
      {"int16_t", Tok::TypeKw},   {"int32_t", Tok::TypeKw},      {"int64_t", Tok::TypeKw},
      {"uint8_t", Tok::TypeKw},   {"uint16_t", Tok::TypeKw},     {"uint32_t", Tok::TypeKw},
      {"uint64_t", Tok::TypeKw},  {"uintptr_t", Tok::TypeKw},    {"size_t", Tok::TypeKw},
      {"ssize_t", Tok::TypeKw},   {"self", Tok::KwSelf},         {"this", Tok::KwThis},
      {"sizeof", Tok::KwSizeof},  {"stringof", Tok::KwStringof}, {"if", Tok::KwIf},
      {"else", Tok::KwElse},      {"struct", Tok::KwStruct},     {"union", Tok::KwUnion},
      {"enum", Tok::KwEnum},      {"typedef", Tok::KwTypedef},   {"inline", Tok::KwInline},
      {"const", Tok::TypeKw},     {"volatile", Tok::TypeKw},     {"intptr_t", Tok::TypeKw},
      {"ptrdiff_t", Tok::TypeKw}, {"off_t", Tok::TypeKw},        {"pid_t", Tok::TypeKw},
      {"uid_t", Tok::TypeKw},     {"gid_t", Tok::TypeKw},        {"time_t", Tok::TypeKw},
      {"uchar_t", Tok::TypeKw},   {"ushort_t", Tok::TypeKw},     {"uint_t", Tok::TypeKw},
      {"ulong_t", Tok::TypeKw},   {"longlong_t", Tok::TypeKw},   {"u_longlong_t", Tok::TypeKw},
      {"offset_t", Tok::TypeKw},  {"u_offset_t", Tok::TypeKw},
  };
  return kw;
}

struct Punct {
  std::string_view text;
  Tok kind;
};

// Longest first, so that "<<=" wins over "<<" and "<".
constexpr Punct kPuncts[] = {
    {"<<=", Tok::ShlAssign}, {">>=", Tok::ShrAssign}, {"->", Tok::Arrow},
    {"++", Tok::Inc},        {"--", Tok::Dec},        {"<<", Tok::Shl},
    {">>", Tok::Shr},        {"<=", Tok::Le},         {">=", Tok::Ge},
    {"==", Tok::EqEq},       {"!=", Tok::Ne},         {"&&", Tok::AndAnd},
    {"||", Tok::OrOr},       {"^^", Tok::XorXor},     {"+=", Tok::AddAssign},
    {"-=", Tok::SubAssign},  {"*=", Tok::MulAssign},  {"/=", Tok::DivAssign},
    {"%=", Tok::ModAssign},  {"&=", Tok::AndAssign},  {"|=", Tok::OrAssign},
    {"^=", Tok::XorAssign},  {"(", Tok::LParen},      {")", Tok::RParen},
    {"[", Tok::LBracket},    {"]", Tok::RBracket},    {"{", Tok::LBrace},
    {"}", Tok::RBrace},      {",", Tok::Comma},       {";", Tok::Semi},
    {"?", Tok::Question},    {":", Tok::Colon},       {".", Tok::Dot},
    {"+", Tok::Plus},        {"-", Tok::Minus},       {"*", Tok::Star},
    {"/", Tok::Slash},       {"%", Tok::Percent},     {"&", Tok::Amp},
    {"|", Tok::Pipe},        {"^", Tok::Caret},       {"~", Tok::Tilde},
    {"!", Tok::Bang},        {"<", Tok::Lt},          {">", Tok::Gt},
    {"=", Tok::Assign},
};

std::string char_name(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string(1, c);
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", u);
  return buf;
}

}  // namespace

std::string printable(std::string_view s) {
  constexpr size_t kMax = 60;
  std::string out;
  for (size_t i = 0; i < s.size() && i < kMax; ++i) out += char_name(s[i]);
  if (s.size() > kMax) out += "...";
  return out;
}

Lexer::Lexer(const Source& src, const MacroArgs& macros)
    : src_(src),
      macros_(macros),
      text_(src.text),
      defaultargs_(macros.defaultargs),
      argref_(macros.argref),
      pspec_(macros.pspec) {
  // A "#!" interpreter line is not D.
  if (text_.size() >= 2 && text_[0] == '#' && text_[1] == '!') {
    size_t eol = text_.find('\n');
    pos_ = eol == std::string_view::npos ? text_.size() : eol;
    col_ = static_cast<uint32_t>(pos_ + 1);
  }
}

void Lexer::fail(Loc loc, const std::string& message) const {
  throw CompileError(src_, loc, message);
}

void Lexer::advance(size_t n) {
  pos_ += n;
  col_ += static_cast<uint32_t>(n);
}

void Lexer::skip_space() {
  while (more()) {
    char c = text_[pos_];
    if (is_blank(c)) {
      advance(1);
    } else if (c == '\n') {
      ++pos_;
      ++line_;
      col_ = 1;
      line_blank_ = true;
    } else if (c == '/' && at(pos_ + 1) == '*') {
      Loc start = here();
      size_t end = text_.find("*/", pos_ + 2);
      if (end == std::string_view::npos) fail(start, "unterminated comment");
      for (size_t p = pos_; p < end + 2; ++p) {
        if (text_[p] == '\n') {
          ++line_;
          col_ = 1;
        } else {
          ++col_;
        }
      }
      pos_ = end + 2;
    } else if (c == '/' && at(pos_ + 1) == '/') {
      size_t eol = text_.find('\n', pos_);
      advance((eol == std::string_view::npos ? text_.size() : eol) - pos_);
    } else if (c == '#' && line_blank_) {
      directive();
    } else {
      return;
    }
  }
}

int Lexer::peek_char() {
  skip_space();
  return more() ? static_cast<unsigned char>(text_[pos_]) : -1;
}

// A line starting with '#': only "#pragma D option ..." means something to vtrace.
void Lexer::directive() {
  Loc hash = here();
  size_t eol = text_.find('\n', pos_);
  if (eol == std::string_view::npos) eol = text_.size();
  // Words of the line with their offsets; a comment ends the directive.
  std::vector<std::pair<std::string, size_t>> words;
  size_t p = pos_ + 1;
  size_t stop = eol;
  while (p < eol) {
    if (is_blank(text_[p])) {
      ++p;
      continue;
    }
    if (text_[p] == '/' && (at(p + 1) == '/' || at(p + 1) == '*')) {
      stop = p;
      break;
    }
    size_t b = p;
    while (p < eol && !is_blank(text_[p])) ++p;
    words.emplace_back(std::string(text_.substr(b, p - b)), b);
  }
  auto word_loc = [&](size_t i) {
    return Loc{hash.line, static_cast<uint32_t>(hash.col + (words[i].second - pos_))};
  };
  std::string name = words.empty() ? "" : words[0].first;
  // A line marker of the C preprocessor (-C): `# LINE "file" flags`, the next line's number.
  if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos &&
      name.size() < 10) {
    line_ = static_cast<uint32_t>(std::stoul(name)) - 1;  // the newline below adds one
    col_ += static_cast<uint32_t>(eol - pos_);
    pos_ = eol;
    return;
  }
  if (name != "pragma") {
    // "#include <x>" and "#define X" read as one word after '#' when written "#include".
    fail(hash, "preprocessor directive #" + printable(name) + " is not supported");
  }
  if (words.size() < 2)
    fail(hash, "#pragma requires a directive (vtrace supports #pragma D option)");
  if (words[1].first != "D")
    fail(word_loc(1), "unsupported #pragma \"" + printable(words[1].first) + "\"");
  if (words.size() < 3) fail(word_loc(1), "#pragma D requires a directive such as option");
  if (words[2].first != "option")
    fail(word_loc(2), "unsupported #pragma D directive \"" + printable(words[2].first) + "\"");
  if (words.size() < 4) fail(word_loc(2), "#pragma D option requires an option name");
  for (size_t i = 3; i < words.size(); ++i) {
    const std::string& w = words[i].first;
    size_t eq = w.find('=');
    std::string opt = w.substr(0, eq);
    bool ok = !opt.empty();
    for (char c : opt) ok = ok && (is_ident_char(c) || c == '-');
    if (!ok) fail(word_loc(i), "invalid option \"" + printable(w) + "\"");
    ast::Pragma pr;
    pr.name = opt;
    pr.value = eq == std::string::npos ? "" : w.substr(eq + 1);
    pr.loc = hash;
    // As in DTrace, the option applies to the macro arguments that follow the pragma.
    if (pr.name == "defaultargs") defaultargs_ = true;
    if (pr.name == "argref") argref_ = true;
    if (pr.name == "pspec") pspec_ = true;
    pragmas_.push_back(std::move(pr));
  }
  advance(stop - pos_);
}

Token Lexer::next(bool desc_mode) {
  skip_space();
  Token t;
  t.loc = here();
  if (!more()) return t;
  line_blank_ = false;
  char c = text_[pos_];
  if (desc_mode && is_desc_start(c)) return scan_desc(std::move(t));
  // A name may be scoped by a module with '`' (vmlinux`max_pfn, `max_pfn): D's kernel symbols.
  if (is_ident_start(c) || c == '`') return scan_ident(std::move(t));
  if (is_digit(c)) return scan_number(std::move(t));
  if (c == '\'') return scan_char(std::move(t));
  if (c == '"') return scan_string(std::move(t));
  if (c == '$') return scan_macro(std::move(t));
  if (c == '@') {
    size_t e = pos_ + 1;
    while (e < text_.size() && is_ident_char(text_[e])) ++e;
    t.kind = Tok::Agg;
    t.text = std::string(text_.substr(pos_, e - pos_));
    advance(e - pos_);
    return t;
  }
  return scan_punct(std::move(t));
}

Token Lexer::scan_ident(Token t) {
  size_t e = pos_;
  while (e < text_.size() && (is_ident_char(text_[e]) || text_[e] == '`')) ++e;
  t.text = std::string(text_.substr(pos_, e - pos_));
  auto it = keywords().find(t.text);
  t.kind = it == keywords().end() ? Tok::Ident : it->second;
  if (t.kind == Tok::Ident && type_names_ != nullptr && type_names_->count(t.text))
    t.kind = Tok::TypeName;
  advance(e - pos_);
  return t;
}

Token Lexer::scan_desc(Token t) {
  size_t e = pos_;
  while (e < text_.size() && is_desc_char(text_[e])) ++e;
  // bpftrace's "usdt:/path/to/bin:provider:name": a path may follow "usdt:" (up to the next ':').
  if (e < text_.size() && text_[e] == '/' && text_.substr(pos_, e - pos_) == "usdt:") {
    while (e < text_.size() &&
           ((is_desc_char(text_[e]) && text_[e] != ':') || text_[e] == '/' || text_[e] == '+'))
      ++e;
    while (e < text_.size() && is_desc_char(text_[e])) ++e;
  }
  std::string_view raw = text_.substr(pos_, e - pos_);
  // As dtrace resolves "int*x": unless pspec is set, a word without a character no type name
  // has (":-.?!`") that is a type name before its first '*' starts a declaration; "int:*" or
  // "BEGIN" are descriptions.
  if (!pspec_ && raw.find_first_of(":-.?!`") == std::string_view::npos && raw != "BEGIN" &&
      raw != "END" && raw != "ERROR") {
    const size_t star = raw.find('*');
    if (star != std::string_view::npos && star > 0) {
      const std::string_view head = raw.substr(0, star);
      auto kw = keywords().find(head);
      const bool type_kw = kw != keywords().end() && kw->second == Tok::TypeKw;
      if (type_kw || (type_names_ != nullptr && type_names_->count(std::string(head)))) {
        t.text = std::string(head);
        t.kind = type_kw ? Tok::TypeKw : Tok::TypeName;
        advance(star);
        return t;
      }
    }
  }
  t.text = std::string(raw);
  // A declaration keyword at top level starts a declaration, not a clause.
  auto it = keywords().find(raw);
  if (it != keywords().end() &&
      (it->second == Tok::TypeKw || it->second == Tok::KwSelf || it->second == Tok::KwThis ||
       it->second == Tok::KwStruct || it->second == Tok::KwUnion || it->second == Tok::KwEnum ||
       it->second == Tok::KwTypedef || it->second == Tok::KwInline)) {
    t.kind = it->second;
    advance(e - pos_);
    return t;
  }
  if (type_names_ != nullptr && type_names_->count(t.text)) {
    t.kind = Tok::TypeName;
    advance(e - pos_);
    return t;
  }
  t.kind = Tok::Desc;
  size_t p = pos_;
  while (p < e) {
    if (text_[p] == '$') {
      t.sval += expand_in_desc(p);
    } else {
      t.sval += text_[p++];
    }
  }
  advance(e - pos_);
  return t;
}

Token Lexer::scan_punct(Token t) {
  char c = text_[pos_];
  for (const Punct& p : kPuncts) {
    if (text_.substr(pos_, p.text.size()) == p.text) {
      t.kind = p.kind;
      t.text = std::string(p.text);
      advance(p.text.size());
      return t;
    }
  }
  fail(t.loc, "invalid character '" + char_name(c) + "'");
}

}  // namespace vtrace::lang
