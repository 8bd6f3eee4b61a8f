#include "lang/lexer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace vtrace::lang {
namespace {

// All tokens of text in expression mode (desc_mode for the first token only when asked).
std::vector<Token> lex(const std::string& text, const MacroArgs& m = {}, bool desc = false) {
  Source src{"t.d", text};
  Lexer lx(src, m);
  std::vector<Token> out;
  for (;;) {
    Token t = lx.next(desc && out.empty());
    if (t.kind == Tok::Eof) break;
    out.push_back(t);
  }
  return out;
}

Token one(const std::string& text, const MacroArgs& m = {}) {
  auto v = lex(text, m);
  EXPECT_EQ(v.size(), 1u) << text;
  return v.empty() ? Token{} : v[0];
}

// The error of lexing text, as "line:col: message".
std::string lex_error(const std::string& text, const MacroArgs& m = {}, bool desc = false) {
  try {
    lex(text, m, desc);
  } catch (const CompileError& e) {
    return std::to_string(e.loc().line) + ":" + std::to_string(e.loc().col) + ": " + e.message();
  }
  return "no error";
}

TEST(Lexer, Punctuation) {
  auto v =
      lex("<<= >>= -> ++ -- << >> <= >= == != && || ^^ += -= *= /= %= &= |= ^= ( ) [ ] "
          "{ } , ; ? : . + - * / % & | ^ ~ ! < > =");
  std::vector<Tok> want = {
      Tok::ShlAssign, Tok::ShrAssign, Tok::Arrow,     Tok::Inc,       Tok::Dec,
      Tok::Shl,       Tok::Shr,       Tok::Le,        Tok::Ge,        Tok::EqEq,
      Tok::Ne,        Tok::AndAnd,    Tok::OrOr,      Tok::XorXor,    Tok::AddAssign,
      Tok::SubAssign, Tok::MulAssign, Tok::DivAssign, Tok::ModAssign, Tok::AndAssign,
      Tok::OrAssign,  Tok::XorAssign, Tok::LParen,    Tok::RParen,    Tok::LBracket,
      Tok::RBracket,  Tok::LBrace,    Tok::RBrace,    Tok::Comma,     Tok::Semi,
      Tok::Question,  Tok::Colon,     Tok::Dot,       Tok::Plus,      Tok::Minus,
      Tok::Star,      Tok::Slash,     Tok::Percent,   Tok::Amp,       Tok::Pipe,
      Tok::Caret,     Tok::Tilde,     Tok::Bang,      Tok::Lt,        Tok::Gt,
      Tok::Assign};
  ASSERT_EQ(v.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(v[i].kind, want[i]) << i;
}

TEST(Lexer, KeywordsAndIdentifiers) {
  auto v = lex("self this sizeof stringof if else int unsigned size_t string foo _bar9");
  std::vector<Tok> want = {Tok::KwSelf, Tok::KwThis, Tok::KwSizeof, Tok::KwStringof,
                           Tok::KwIf,   Tok::KwElse, Tok::TypeKw,   Tok::TypeKw,
                           Tok::TypeKw, Tok::TypeKw, Tok::Ident,    Tok::Ident};
  ASSERT_EQ(v.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(v[i].kind, want[i]) << i;
  EXPECT_EQ(v[11].text, "_bar9");
  // Kernel symbols, scoped by a module or not, are one name.
  auto k = lex("vmlinux`max_pfn + `jiffies struct union enum typedef");
  ASSERT_EQ(k.size(), 7u);
  EXPECT_EQ(k[0].text, "vmlinux`max_pfn");
  EXPECT_EQ(k[2].kind, Tok::Ident);
  EXPECT_EQ(k[2].text, "`jiffies");
  EXPECT_EQ(k[3].kind, Tok::KwStruct);
  EXPECT_EQ(k[6].kind, Tok::KwTypedef);
}

TEST(Lexer, Locations) {
  auto v = lex("a\n  bb /* x\n y */ c\n\td");
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].loc.line, 1u);
  EXPECT_EQ(v[0].loc.col, 1u);
  EXPECT_EQ(v[1].loc.line, 2u);
  EXPECT_EQ(v[1].loc.col, 3u);
  EXPECT_EQ(v[2].loc.line, 3u);
  EXPECT_EQ(v[2].loc.col, 7u);
  EXPECT_EQ(v[3].loc.line, 4u);
  EXPECT_EQ(v[3].loc.col, 2u);
}

TEST(Lexer, Comments) {
  EXPECT_EQ(lex("// all comment\n/* and */ x // more").size(), 1u);
  EXPECT_EQ(lex_error("x /* open\n\n"), "1:3: unterminated comment");
}

TEST(Lexer, IntegerTypes) {
  struct Case {
    const char* text;
    int64_t value;
    Type type;
  } cases[] = {
      {"0", 0, Type::i32()},
      {"42", 42, Type::i32()},
      {"2147483647", 2147483647, Type::i32()},
      {"2147483648", 2147483648LL, Type::i64()},
      {"0x7fffffff", 0x7fffffff, Type::i32()},
      {"0xffffffff", 0xffffffffLL, Type::int_of(4, false)},
      {"0x100000000", 0x100000000LL, Type::i64()},
      {"0xffffffffffffffff", -1, Type::u64()},
      {"18446744073709551615", -1, Type::u64()},
      {"9223372036854775807", INT64_MAX, Type::i64()},
      {"010", 8, Type::i32()},
      {"037777777777", 0xffffffffLL, Type::int_of(4, false)},
      {"0XfF", 255, Type::i32()},
      {"1u", 1, Type::int_of(4, false)},
      {"1U", 1, Type::int_of(4, false)},
      {"1l", 1, Type::i64()},
      {"1L", 1, Type::i64()},
      {"1ll", 1, Type::i64()},
      {"1LL", 1, Type::i64()},
      {"1ul", 1, Type::u64()},
      {"1lu", 1, Type::u64()},
      {"1ull", 1, Type::u64()},
      {"1ULL", 1, Type::u64()},
      {"1llu", 1, Type::u64()},
      {"5000000000u", 5000000000LL, Type::u64()},
  };
  for (const auto& c : cases) {
    Token t = one(c.text);
    EXPECT_EQ(t.kind, Tok::Int) << c.text;
    EXPECT_EQ(t.ival, c.value) << c.text;
    EXPECT_EQ(t.type, c.type) << c.text << " got " << t.type.name();
  }
}

TEST(Lexer, IntegerErrors) {
  EXPECT_EQ(lex_error("x = 18446744073709551616"), "1:5: integer literal too large");
  EXPECT_EQ(lex_error("0x10000000000000000"), "1:1: integer literal too large");
  EXPECT_EQ(lex_error("  09"), "1:3: invalid digit '9' in octal constant");
  EXPECT_EQ(lex_error("12abc"), "1:1: invalid integer constant \"12abc\"");
  EXPECT_EQ(lex_error("0x"), "1:1: invalid integer constant \"0x\"");
  EXPECT_EQ(lex_error("1uu"), "1:1: invalid integer constant \"1uu\"");
  EXPECT_EQ(lex_error("1lL"), "1:1: invalid integer constant \"1lL\"");
  EXPECT_EQ(lex_error("1.5"), "1:1: floating-point constants are not supported");
}

TEST(Lexer, CharacterConstants) {
  struct Case {
    const char* text;
    int64_t value;
  } cases[] = {{"'a'", 'a'},    {"'\\n'", '\n'}, {"'\\0'", 0},    {"'\\x41'", 0x41},
               {"'\\101'", 65}, {"'\\''", '\''}, {"'\"'", '"'},   {"'\\\\'", '\\'},
               {"'\\xff'", -1}, {"'\\377'", -1}, {"'\\t'", '\t'}, {"'\\a'", '\a'}};
  for (const auto& c : cases) {
    Token t = one(c.text);
    EXPECT_EQ(t.kind, Tok::Int) << c.text;
    EXPECT_EQ(t.ival, c.value) << c.text;
    EXPECT_EQ(t.type, Type::int_of(1, true)) << c.text;
  }
  EXPECT_EQ(lex_error("''"), "1:1: empty character constant");
  EXPECT_EQ(lex_error("'ab'"), "1:1: multi-character constants are not supported");
  EXPECT_EQ(lex_error(" 'a"), "1:2: unterminated character constant");
  EXPECT_EQ(lex_error("'\n'"), "1:1: unterminated character constant");
}

TEST(Lexer, StringEscapes) {
  Token t = one(R"("a\n\t\r\\\"\'\a\b\f\v\?\0\101\x41\x7e|")");
  EXPECT_EQ(t.kind, Tok::Str);
  EXPECT_EQ(t.sval, std::string("a\n\t\r\\\"'\a\b\f\v?\0AA~|", 17));
  EXPECT_EQ(one(R"("")").sval, "");
  EXPECT_EQ(one("\"h\xc3\xa9llo\"").sval, "h\xc3\xa9llo");  // UTF-8 passes through
  EXPECT_EQ(one(R"("\1234")").sval, "S4");                  // at most three octal digits
}

TEST(Lexer, StringErrors) {
  EXPECT_EQ(lex_error("x = \"abc"), "1:5: unterminated string");
  EXPECT_EQ(lex_error("x = \"abc\ndef\""), "1:5: unterminated string");
  EXPECT_EQ(lex_error("\"abc\\"), "1:1: unterminated string");
  EXPECT_EQ(lex_error("\"a\\qb\""), "1:3: invalid escape sequence '\\q'");
  EXPECT_EQ(lex_error("\"\\x\""), "1:2: \\x used with no following hex digits");
  EXPECT_EQ(lex_error("\"\\x100\""), "1:2: hex escape sequence out of range");
  EXPECT_EQ(lex_error("\"\\777\""), "1:2: octal escape sequence out of range");
  EXPECT_EQ(lex_error(std::string("\"a\0b\"", 5)), "1:3: invalid character '\\x00' in string");
}

TEST(Lexer, InvalidCharacters) {
  EXPECT_EQ(lex_error("a \x01"), "1:3: invalid character '\\x01'");
  EXPECT_EQ(lex_error(std::string("a\0", 2)), "1:2: invalid character '\\x00'");
  EXPECT_EQ(lex_error("x \xff"), "1:3: invalid character '\\xff'");
  EXPECT_EQ(lex_error("a \\ b"), "1:3: invalid character '\\'");
  EXPECT_EQ(lex_error("a # b"), "1:3: invalid character '#'");
}

TEST(Lexer, Aggregations) {
  auto v = lex("@ @a @foo_1");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].kind, Tok::Agg);
  EXPECT_EQ(v[0].text, "@");
  EXPECT_EQ(v[2].text, "@foo_1");
}

TEST(Lexer, ProbeDescriptionMode) {
  auto v = lex("syscall::read*:entry/x/", {}, true);
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].kind, Tok::Desc);
  EXPECT_EQ(v[0].text, "syscall::read*:entry");
  EXPECT_EQ(v[1].kind, Tok::Slash);
  // Declaration keywords are not descriptions.
  EXPECT_EQ(lex("int x;", {}, true)[0].kind, Tok::TypeKw);
  EXPECT_EQ(lex("self int x;", {}, true)[0].kind, Tok::KwSelf);
  // Without desc mode the same text is several tokens.
  EXPECT_GT(lex("syscall::read:entry").size(), 1u);
}

// bpftrace's spelling of a file's USDT probe: a path right after "usdt:"; a predicate after it
// still opens with '/'.
TEST(Lexer, UsdtPathDescription) {
  auto v = lex("usdt:/usr/lib/x86_64-linux-gnu/libstdc++.so.6:libstdcxx:throw/x/", {}, true);
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].kind, Tok::Desc);
  EXPECT_EQ(v[0].sval, "usdt:/usr/lib/x86_64-linux-gnu/libstdc++.so.6:libstdcxx:throw");
  EXPECT_EQ(v[1].kind, Tok::Slash);
  // Only right after "usdt:": elsewhere '/' still ends the description.
  auto w = lex("foo:/x:a:b", {}, true);
  EXPECT_EQ(w[0].text, "foo:");
}

TEST(Lexer, MacroIntegersAndIdentifiers) {
  MacroArgs m;
  m.args = {"script.d", "42", "-7", "0x10", "foo", "hello world", "010"};
  m.target = 999;
  Token t = one("$1", m);
  EXPECT_EQ(t.kind, Tok::Int);
  EXPECT_EQ(t.ival, 42);
  EXPECT_EQ(t.type, Type::i32());
  EXPECT_EQ(one("$2", m).ival, -7);
  EXPECT_EQ(one("$3", m).ival, 16);
  EXPECT_EQ(one("$6", m).ival, 8);
  t = one("$4", m);
  EXPECT_EQ(t.kind, Tok::Ident);
  EXPECT_EQ(t.text, "foo");
  t = one("$$1", m);
  EXPECT_EQ(t.kind, Tok::Str);
  EXPECT_EQ(t.sval, "42");
  EXPECT_EQ(one("$$5", m).sval, "hello world");
  t = one("$0", m);
  EXPECT_EQ(t.kind, Tok::Str);
  EXPECT_EQ(t.sval, "script.d");
  EXPECT_EQ(one("$target", m).ival, 999);
  EXPECT_EQ(one("$pid", m).ival, getpid());
  EXPECT_EQ(one("$ppid", m).ival, getppid());
  EXPECT_EQ(one("$uid", m).ival, static_cast<int64_t>(getuid()));
  EXPECT_EQ(one("$gid", m).ival, static_cast<int64_t>(getgid()));
}

TEST(Lexer, MacroErrors) {
  MacroArgs m;
  m.args = {"s.d", "hello world"};
  EXPECT_EQ(lex_error("x + $2", m), "1:5: macro argument $2 is not defined");
  EXPECT_EQ(lex_error("x + $$2", m), "1:5: macro argument $$2 is not defined");
  EXPECT_EQ(lex_error("$foo", m), "1:1: macro variable $foo is not defined");
  EXPECT_EQ(lex_error("a $ b", m), "1:3: invalid character '$'");
  EXPECT_EQ(lex_error("$1", m),
            "1:1: macro argument $1 (\"hello world\") is not an integer or identifier; use $$1 "
            "for a string");
}

TEST(Lexer, MacroDefaultArgs) {
  MacroArgs m;
  m.defaultargs = true;
  Token t = one("$3", m);
  EXPECT_EQ(t.kind, Tok::Int);
  EXPECT_EQ(t.ival, 0);
  t = one("$$3", m);
  EXPECT_EQ(t.kind, Tok::Str);
  EXPECT_EQ(t.sval, "");
  EXPECT_EQ(one("$0", m).sval, "");
}

TEST(Lexer, Pragmas) {
  Source src{"t.d", "#pragma D option quiet\n  #pragma D option bufsize=4m switchrate=10hz\nx"};
  Lexer lx(src, {});
  Token t = lx.next(false);
  EXPECT_EQ(t.kind, Tok::Ident);
  EXPECT_EQ(t.loc.line, 3u);
  ASSERT_EQ(lx.pragmas().size(), 3u);
  EXPECT_EQ(lx.pragmas()[0].name, "quiet");
  EXPECT_EQ(lx.pragmas()[0].value, "");
  EXPECT_EQ(lx.pragmas()[1].name, "bufsize");
  EXPECT_EQ(lx.pragmas()[1].value, "4m");
  EXPECT_EQ(lx.pragmas()[1].loc.line, 2u);
  EXPECT_EQ(lx.pragmas()[1].loc.col, 3u);
  EXPECT_EQ(lx.pragmas()[2].name, "switchrate");
  EXPECT_EQ(lx.pragmas()[2].value, "10hz");
}

TEST(Lexer, PragmaErrors) {
  EXPECT_EQ(lex_error("#include <stdio.h>"),
            "1:1: preprocessor directive #include is not supported");
  EXPECT_EQ(lex_error("x\n#define X 1"), "2:1: preprocessor directive #define is not supported");
  EXPECT_EQ(lex_error("#pragma once"), "1:9: unsupported #pragma \"once\"");
  EXPECT_EQ(lex_error("#pragma D"), "1:9: #pragma D requires a directive such as option");
  EXPECT_EQ(lex_error("#pragma D attributes x"),
            "1:11: unsupported #pragma D directive \"attributes\"");
  EXPECT_EQ(lex_error("#pragma D option"), "1:11: #pragma D option requires an option name");
  EXPECT_EQ(lex_error("#pragma D option =5"), "1:18: invalid option \"=5\"");
  EXPECT_EQ(lex_error("#pragma"),
            "1:1: #pragma requires a directive (vtrace supports #pragma D option)");
}

TEST(Lexer, Shebang) {
  auto v = lex("#!/usr/sbin/vtrace -s\nx");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].loc.line, 2u);
  EXPECT_EQ(v[0].loc.col, 1u);
}

TEST(Lexer, PrintableQuotesBytes) {
  EXPECT_EQ(printable("ab\x01"), "ab\\x01");
  EXPECT_EQ(printable(std::string(100, 'a')), std::string(60, 'a') + "...");
}

}  // namespace
}  // namespace vtrace::lang
