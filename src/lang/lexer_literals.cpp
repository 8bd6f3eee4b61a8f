// Integer, character and string constants, escapes, and macro variables ($1, $$1, $target).
#include <unistd.h>

#include <limits>
#include <string>

#include "lang/lexer.h"

namespace vtrace::lang {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
bool is_identifier(std::string_view s) {
  if (s.empty() || is_digit(s[0])) return false;
  for (char c : s)
    if (!is_alnum(c)) return false;
  return true;
}

}  // namespace

std::string parse_int_constant(std::string_view s, uint64_t& value, Type& type) {
  size_t p = 0;
  unsigned base = 10;
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    p = 2;
  } else if (!s.empty() && s[0] == '0') {
    base = 8;
  }
  size_t digits_start = p;
  uint64_t v = 0;
  for (; p < s.size(); ++p) {
    int d = hex_value(s[p]);
    if (d < 0 || (base != 16 && d >= 10)) break;
    if (static_cast<unsigned>(d) >= base)
      return "invalid digit '" + std::string(1, s[p]) + "' in octal constant";
    if (v > (std::numeric_limits<uint64_t>::max() - d) / base) return "integer literal too large";
    v = v * base + d;
  }
  if (p == digits_start) return "invalid integer constant \"" + printable(s) + "\"";
  // Suffixes: u and l/ll in either order and case.
  bool u = false;
  int l = 0;
  std::string_view suffix = s.substr(p);
  for (size_t i = 0; i < suffix.size(); ++i) {
    char c = suffix[i];
    if ((c == 'u' || c == 'U') && !u) {
      u = true;
    } else if ((c == 'l' || c == 'L') && l == 0) {
      l = 1;
      if (i + 1 < suffix.size() && suffix[i + 1] == c) {
        l = 2;
        ++i;
      }
    } else {
      return "invalid integer constant \"" + printable(s) + "\"";
    }
  }
  // C's rules, with long as 8 bytes: int, then unsigned int for hex/octal, then long long.
  const bool any_unsigned = u || base != 10;
  if (l == 0 && !u && v <= 0x7fffffffULL) {
    type = Type::int_of(4, true);
  } else if (l == 0 && any_unsigned && v <= 0xffffffffULL) {
    type = Type::int_of(4, false);
  } else if (!u && v <= 0x7fffffffffffffffULL) {
    type = Type::i64();
  } else {
    type = Type::u64();
  }
  value = v;
  return "";
}

Token Lexer::scan_number(Token t) {
  size_t e = pos_;
  while (e < text_.size() && is_alnum(text_[e])) ++e;
  std::string_view spelled = text_.substr(pos_, e - pos_);
  t.text = std::string(spelled);
  if (at(e) == '.' && is_digit(at(e + 1)))
    fail(t.loc, "floating-point constants are not supported");
  uint64_t v = 0;
  std::string err = parse_int_constant(spelled, v, t.type);
  if (!err.empty()) fail(t.loc, err);
  t.kind = Tok::Int;
  t.ival = static_cast<int64_t>(v);
  advance(e - pos_);
  return t;
}

int Lexer::scan_escape(size_t& p) {
  Loc loc = loc_at(p);
  char c = at(p + 1);
  p += 2;
  switch (c) {
    case 'n':
      return '\n';
    case 't':
      return '\t';
    case 'r':
      return '\r';
    case 'a':
      return '\a';
    case 'b':
      return '\b';
    case 'f':
      return '\f';
    case 'v':
      return '\v';
    case '\\':
      return '\\';
    case '"':
      return '"';
    case '\'':
      return '\'';
    case '?':
      return '?';
    default:
      break;
  }
  if (c >= '0' && c <= '7') {
    int v = c - '0';
    for (int i = 0; i < 2 && at(p) >= '0' && at(p) <= '7'; ++i) v = v * 8 + (text_[p++] - '0');
    if (v > 0xff) fail(loc, "octal escape sequence out of range");
    return v;
  }
  if (c == 'x') {
    if (hex_value(at(p)) < 0) fail(loc, "\\x used with no following hex digits");
    int v = 0;
    while (hex_value(at(p)) >= 0) {
      v = v * 16 + hex_value(text_[p++]);
      if (v > 0xff) fail(loc, "hex escape sequence out of range");
    }
    return v;
  }
  if (c == '\n' || c == '\0') return -1;  // the caller reports the unterminated constant
  fail(loc, "invalid escape sequence '\\" + printable(std::string_view(&text_[p - 1], 1)) + "'");
}

Token Lexer::scan_string(Token t) {
  size_t p = pos_ + 1;
  for (;;) {
    if (p >= text_.size() || text_[p] == '\n') fail(t.loc, "unterminated string");
    char c = text_[p];
    if (c == '"') break;
    if (c == '\\') {
      int v = scan_escape(p);
      if (v < 0) fail(t.loc, "unterminated string");
      t.sval += static_cast<char>(v);
    } else if (c == '\0') {
      fail(loc_at(p), "invalid character '\\x00' in string");
    } else {
      t.sval += c;
      ++p;
    }
  }
  ++p;
  t.kind = Tok::Str;
  t.text = std::string(text_.substr(pos_, p - pos_));
  advance(p - pos_);
  return t;
}

Token Lexer::scan_char(Token t) {
  size_t p = pos_ + 1;
  int count = 0;
  int value = 0;
  for (;;) {
    if (p >= text_.size() || text_[p] == '\n') fail(t.loc, "unterminated character constant");
    char c = text_[p];
    if (c == '\'') break;
    if (c == '\\') {
      value = scan_escape(p);
      if (value < 0) fail(t.loc, "unterminated character constant");
    } else if (c == '\0') {
      fail(loc_at(p), "invalid character '\\x00' in character constant");
    } else {
      value = static_cast<unsigned char>(c);
      ++p;
    }
    ++count;
  }
  ++p;
  if (count == 0) fail(t.loc, "empty character constant");
  if (count > 1) fail(t.loc, "multi-character constants are not supported");
  t.kind = Tok::Int;
  t.type = Type::int_of(1, true);
  t.ival = static_cast<int8_t>(value);  // char is signed, as in C on x86
  t.text = std::string(text_.substr(pos_, p - pos_));
  advance(p - pos_);
  return t;
}

const std::string* Lexer::macro_arg(size_t n) {
  static const std::string kEmpty;
  if (n == 0) return macros_.args.empty() ? &kEmpty : &macros_.args[0];
  if (n >= macros_.args.size()) return nullptr;
  referenced_.resize(macros_.args.size());
  referenced_[n] = true;
  return &macros_.args[n];
}

std::string Lexer::extraneous_argument() const {
  const size_t last = macros_.args.size() - 1;
  if (macros_.args.size() < 2 || argref_ || (last < referenced_.size() && referenced_[last]))
    return "";
  return "extraneous argument '" + macros_.args[last] + "' ($" + std::to_string(last) +
         " is not referenced)";
}

bool Lexer::builtin_macro(std::string_view name, int64_t& value) const {
  if (name == "target")
    value = macros_.target;
  else if (name == "pid")
    value = getpid();
  else if (name == "ppid")
    value = getppid();
  else if (name == "uid")
    value = getuid();
  else if (name == "gid")
    value = getgid();
  else if (name == "euid")
    value = geteuid();
  else if (name == "egid")
    value = getegid();
  else if (name == "pgid")
    value = getpgrp();
  else if (name == "sid")
    value = getsid(0);
  else
    return false;
  return true;
}

namespace {

// "$12" / "$$12" / "$name" starting at s[p] == '$': sets the parts and returns the length.
size_t split_macro(std::string_view s, size_t p, bool& dollar2, size_t& num, std::string& name) {
  size_t q = p + 1;
  dollar2 = false;
  if (q < s.size() && s[q] == '$' && q + 1 < s.size() && is_digit(s[q + 1])) {
    dollar2 = true;
    ++q;
  }
  if (q < s.size() && is_digit(s[q])) {
    num = 0;
    while (q < s.size() && is_digit(s[q])) {
      if (num < 100000) num = num * 10 + (s[q] - '0');
      ++q;
    }
    return q - p;
  }
  size_t b = q;
  while (q < s.size() && is_alnum(s[q])) ++q;
  name = std::string(s.substr(b, q - b));
  return q - p;
}

}  // namespace

Token Lexer::scan_macro(Token t) {
  bool dollar2 = false;
  size_t num = std::string::npos;
  std::string name;
  size_t len = split_macro(text_, pos_, dollar2, num, name);
  t.text = std::string(text_.substr(pos_, len));
  if (num == std::string::npos) {
    int64_t v = 0;
    if (name.empty()) fail(t.loc, "invalid character '$'");
    if (!builtin_macro(name, v))
      fail(t.loc, "macro variable $" + printable(name) + " is not defined");
    t.kind = Tok::Int;
    t.ival = v;
    t.type = Type::i64();
    advance(len);
    return t;
  }
  const std::string* arg = macro_arg(num);
  if (arg == nullptr && !defaultargs_) fail(t.loc, "macro argument " + t.text + " is not defined");
  if (dollar2 || num == 0) {
    t.kind = Tok::Str;
    t.sval = arg ? *arg : "";
  } else if (arg == nullptr) {
    t.kind = Tok::Int;
    t.type = Type::int_of(4, true);
  } else {
    // An integer-looking argument is a constant; any other word reads as an identifier.
    std::string_view a = *arg;
    bool neg = !a.empty() && a[0] == '-';
    std::string_view digits = neg ? a.substr(1) : a;
    uint64_t v = 0;
    Type ty;
    if (!digits.empty() && is_digit(digits[0]) && parse_int_constant(digits, v, ty).empty()) {
      t.kind = Tok::Int;
      t.type = ty;
      t.ival = neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
    } else if (is_identifier(a)) {
      t.kind = Tok::Ident;
      t.text = std::string(a);
    } else {
      fail(t.loc, "macro argument " + t.text + " (\"" + printable(a) +
                      "\") is not an integer or identifier; use $" + t.text + " for a string");
    }
  }
  advance(len);
  return t;
}

std::string Lexer::expand_in_desc(size_t& p) {
  bool dollar2 = false;
  size_t num = std::string::npos;
  std::string name;
  size_t len = split_macro(text_, p, dollar2, num, name);
  Loc loc = loc_at(p);
  std::string spelled(text_.substr(p, len));
  p += len;
  if (num == std::string::npos) {
    int64_t v = 0;
    if (name.empty()) fail(loc, "invalid character '$' in probe description");
    if (!builtin_macro(name, v))
      fail(loc, "macro variable $" + printable(name) + " is not defined");
    return std::to_string(v);
  }
  const std::string* arg = macro_arg(num);
  if (arg == nullptr) {
    if (!defaultargs_) fail(loc, "macro argument " + spelled + " is not defined");
    return dollar2 ? "" : "0";
  }
  return *arg;
}

}  // namespace vtrace::lang
