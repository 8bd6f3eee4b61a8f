// Parser error messages and locations, and robustness on hostile input.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "lang/parser.h"

namespace vtrace::lang {
namespace {

// "line:col: message" of the error parsing text, or "no error".
std::string error_of(const std::string& text, const MacroArgs& m = {}) {
  try {
    parse(Source{"t.d", text}, m);
  } catch (const CompileError& e) {
    return std::to_string(e.loc().line) + ":" + std::to_string(e.loc().col) + ": " + e.message();
  }
  return "no error";
}

TEST(ParserErrors, DeclarationErrors) {
  EXPECT_EQ(error_of("int int x;"), "1:1: invalid type \"int int\"");
  EXPECT_EQ(error_of("unsigned string x;"), "1:1: invalid type \"unsigned string\"");
  EXPECT_EQ(error_of("long long long x;"), "1:1: invalid type \"long long long\"");
  EXPECT_EQ(error_of("short long x;"), "1:1: invalid type \"short long\"");
  EXPECT_EQ(error_of("void v;"), "1:6: variable v cannot be declared void");
  EXPECT_EQ(error_of("int a[void];"), "1:7: void is not a valid key type");
  EXPECT_EQ(error_of("int x"), "1:6: syntax error: unexpected end of file");
  EXPECT_EQ(error_of("int x y;"), "1:7: syntax error near \"y\"");
  EXPECT_EQ(error_of("int a[];"), "1:7: syntax error near \"]\"");
  EXPECT_EQ(error_of("self x;"), "no error");  // an int, as in old C
  EXPECT_EQ(error_of("self 3;"), "1:6: syntax error near \"3\"");
  EXPECT_EQ(error_of("BEGIN { int x; }"), "1:9: declarations are not allowed inside a clause");
  EXPECT_EQ(error_of("int `xyz;"),
            "1:5: D scoping operator may not be used in a declaration name (`xyz)");
  // Types the passes after the parser would recurse on too deeply, through typedefs too.
  EXPECT_EQ(error_of("int " + std::string(40, '*') + "p;"), "1:37: too many levels of pointers");
  std::string chain = "typedef int *t0;";
  for (int i = 0; i < 20; ++i)
    chain += " typedef t" + std::to_string(i) + " *****t" + std::to_string(i + 1) + ";";
  EXPECT_NE(error_of(chain).find("too many levels of pointers"), std::string::npos);
  std::string dims = "int a";
  for (int i = 0; i < 40; ++i) dims += "[1]";
  EXPECT_NE(error_of(dims + ";").find("too many array dimensions"), std::string::npos);
  std::string nested;
  for (int i = 0; i < 300; ++i) nested += "struct a { ";
  EXPECT_NE(error_of(nested).find("struct or union nested too deeply"), std::string::npos);
  EXPECT_EQ(error_of("BEGIN { self int x; }"), "1:9: declarations are not allowed inside a clause");
}

TEST(ParserErrors, AggregationErrors) {
  EXPECT_EQ(error_of("BEGIN { @a = 1; }"),
            "1:14: @a must be assigned an aggregating function such as count()");
  EXPECT_EQ(error_of("BEGIN { @ = x; }"),
            "1:13: @ must be assigned an aggregating function such as count()");
  EXPECT_EQ(error_of("BEGIN { @a += count(); }"), "1:12: syntax error near \"+=\"");
  EXPECT_EQ(error_of("BEGIN { @a = count() + 1; }"), "1:22: syntax error near \"+\"");
  EXPECT_EQ(error_of("BEGIN { @a[] = count(); }"), "1:12: syntax error near \"]\"");
}

TEST(ParserErrors, SyntaxErrors) {
  EXPECT_EQ(error_of("BEGIN { x = 1 +; }"), "1:16: syntax error near \";\"");
  EXPECT_EQ(error_of("BEGIN {\n  trace(foo bar);\n}"), "2:13: syntax error near \"bar\"");
  EXPECT_EQ(error_of("BEGIN {"), "1:8: syntax error: unexpected end of file");
  EXPECT_EQ(error_of("BEGIN { x = (1 + 2; }"), "1:19: syntax error near \";\"");
  EXPECT_EQ(error_of("BEGIN,"), "1:7: syntax error: unexpected end of file");
  EXPECT_EQ(error_of("BEGIN, {}"), "1:8: syntax error near \"{\"");
  EXPECT_EQ(error_of("{ x = 1; }"), "1:1: syntax error near \"{\"");
  EXPECT_EQ(error_of("123"), "1:1: syntax error near \"123\"");
  EXPECT_EQ(error_of("BEGIN { x = \"a\" \"b\"; }"), "1:17: syntax error near \"\"b\"\"");
  EXPECT_EQ(error_of("BEGIN { f(1,); }"), "1:13: syntax error near \")\"");
  EXPECT_EQ(error_of("BEGIN { x = a ? b; }"), "1:18: syntax error near \";\"");
  EXPECT_EQ(error_of("BEGIN { self; }"), "1:9: self must be followed by ->name");
  EXPECT_EQ(error_of("BEGIN { self->; }"), "1:15: syntax error near \";\"");
  EXPECT_EQ(error_of("BEGIN { x = \x02; }"), "1:13: invalid character '\\x02'");
}

// As dtrace's grammar: a predicate needs actions, and in a script file so does a description
// (`-n BEGIN` has the default action); a type name before '*' starts a declaration unless
// pspec says the word is a description.
TEST(ParserErrors, ClausesNeedActionsAndAmbiguousWordsAreDeclarations) {
  EXPECT_EQ(error_of("BEGIN\n/1/\nEND {}"),
            "3:1: expected actions { } following probe description and predicate");
  EXPECT_EQ(error_of("BEGIN\nEND {}"), "no error");
  Source file{"t.d", "#pragma D option quiet\n\nprofile-1\n\texit(0);\n}\n"};
  file.from_file = true;
  try {
    parse(file, {});
    ADD_FAILURE() << "no error";
  } catch (const CompileError& e) {
    EXPECT_EQ(e.loc().line, 3u);
    EXPECT_EQ(e.message(), "expected predicate and/or actions following probe description");
  }
  EXPECT_EQ(error_of("int*x"), "1:6: syntax error: unexpected end of file");
  EXPECT_EQ(error_of("int*x;\nBEGIN { x = 0; }"), "no error");
  EXPECT_EQ(error_of("int*:::entry {}"), "no error");  // ':' no type name has
  MacroArgs pspec;
  pspec.pspec = true;
  EXPECT_EQ(error_of("int*x {}", pspec), "no error");
  EXPECT_EQ(error_of("#pragma D option pspec\nint*x {}"), "no error");
}

// C's pointer and member operators parse on any operand; their types are the compiler's to check.
TEST(ParserErrors, PointerAndMemberOperatorsParse) {
  for (const char* text :
       {"BEGIN { x = curthread->pid; }", "BEGIN { x = self->p->q; }", "BEGIN { x = f()->q; }",
        "BEGIN { x = (a)->q.r; }", "BEGIN { x = *p; *p = 1; }", "BEGIN { x = &p->q; }",
        "BEGIN { x = a[1][2]; }", "BEGIN { x = (struct foo *)p; }"})
    EXPECT_EQ(error_of(text), "no error") << text;
}

TEST(ParserErrors, CTypeDeclarations) {
  EXPECT_EQ(error_of("struct s { int a : 3; };"), "1:18: bit-field members are not supported");
  EXPECT_EQ(error_of("struct s { int a; int a; };"), "1:23: member a is already defined");
  EXPECT_EQ(error_of("struct s { int a; }; struct s { int b; };"),
            "1:22: struct s is already defined");
  EXPECT_EQ(error_of("struct s { struct t x; };"), "1:21: member x has incomplete type struct t");
  EXPECT_EQ(error_of("enum e { A, B }; enum f { A };"), "1:29: identifier redeclared: A");
  EXPECT_EQ(error_of("typedef int t; typedef long t;"), "1:29: type redeclared: t");
  EXPECT_EQ(error_of("int a[0];"), "1:6: array dimension must be a positive integer constant");
  EXPECT_EQ(error_of("BEGIN { int x; }"), "1:9: declarations are not allowed inside a clause");
  EXPECT_EQ(error_of("int `xyz;"),
            "1:5: D scoping operator may not be used in a declaration name (`xyz)");
  // Types the passes after the parser would recurse on too deeply, through typedefs too.
  EXPECT_EQ(error_of("int " + std::string(40, '*') + "p;"), "1:37: too many levels of pointers");
  std::string chain = "typedef int *t0;";
  for (int i = 0; i < 20; ++i)
    chain += " typedef t" + std::to_string(i) + " *****t" + std::to_string(i + 1) + ";";
  EXPECT_NE(error_of(chain).find("too many levels of pointers"), std::string::npos);
  std::string dims = "int a";
  for (int i = 0; i < 40; ++i) dims += "[1]";
  EXPECT_NE(error_of(dims + ";").find("too many array dimensions"), std::string::npos);
  std::string nested;
  for (int i = 0; i < 300; ++i) nested += "struct a { ";
  EXPECT_NE(error_of(nested).find("struct or union nested too deeply"), std::string::npos);
  EXPECT_EQ(error_of("typedef struct s { int a; } s_t; s_t *p; enum e { A = 1 << 4 } v;"),
            "no error");
}

TEST(ParserErrors, LvalueErrors) {
  EXPECT_EQ(error_of("BEGIN { 1 = 2; }"),
            "1:11: operator = requires a modifiable lvalue as an operand");
  EXPECT_EQ(error_of("BEGIN { a + b += 2; }"),
            "1:15: operator += requires a modifiable lvalue as an operand");
  EXPECT_EQ(error_of("BEGIN { f() = 2; }"),
            "1:13: operator = requires a modifiable lvalue as an operand");
  EXPECT_EQ(error_of("BEGIN { @a = count(); @a = 1 }"),
            "1:28: @a must be assigned an aggregating function such as count()");
  EXPECT_EQ(error_of("BEGIN { x = (a + 1)++; }"),
            "1:20: operator ++ requires a modifiable lvalue as an operand");
  EXPECT_EQ(error_of("BEGIN { --5; }"),
            "1:9: operator -- requires a modifiable lvalue as an operand");
}

TEST(ParserErrors, RenderedErrorHasCaret) {
  try {
    parse(Source{"x.d", "BEGIN\n{\n\ttrace(foo bar);\n}\n"}, {});
    FAIL() << "no error";
  } catch (const CompileError& e) {
    EXPECT_EQ(e.render(),
              "x.d:3:12: error: syntax error near \"bar\"\n    \ttrace(foo bar);\n"
              "    \t          ^");
  }
  try {
    parse(Source{"s.d", "BEGIN { x = \"oops; }"}, {});
    FAIL() << "no error";
  } catch (const CompileError& e) {
    EXPECT_EQ(e.render(),
              "s.d:1:13: error: unterminated string\n    BEGIN { x = \"oops; }\n"
              "                ^");
  }
}

// The echoed source line: control bytes escaped, a long line cut around the caret (issue 9: a
// 200 KB line was echoed whole, raw control bytes included).
TEST(ParserErrors, CaretLineIsEscapedAndCut) {
  const auto render = [](const std::string& text) {
    try {
      parse(Source{"x.d", text}, {});
    } catch (const CompileError& e) {
      return e.render();
    }
    return std::string("no error");
  };
  EXPECT_EQ(render("BEGIN { x = \"\x1b[2J\"; y = 1 2; }"),
            "x.d:1:27: error: syntax error near \"2\"\n"
            "    BEGIN { x = \"\\x1b[2J\"; y = 1 2; }\n" +
                std::string(33, ' ') + "^");
  // UTF-8 text stays as it is and takes one column.
  EXPECT_EQ(render("BEGIN { x = \"\xc3\xa9\"; y = 1 2; }"),
            "x.d:1:25: error: syntax error near \"2\"\n"
            "    BEGIN { x = \"\xc3\xa9\"; y = 1 2; }\n" +
                std::string(27, ' ') + "^");
  const std::string pad(200000, ' ');
  const std::string line = "BEGIN {" + pad + "x = 1 2;" + pad + "}";
  const std::string r = render(line);
  EXPECT_LT(r.size(), 400u);
  const size_t nl1 = r.find('\n'), nl2 = r.find('\n', nl1 + 1);
  ASSERT_NE(nl2, std::string::npos) << r;
  const std::string shown = r.substr(nl1 + 1, nl2 - nl1 - 1);
  const std::string caret = r.substr(nl2 + 1);
  EXPECT_EQ(shown.substr(0, 7), "    ...");
  EXPECT_EQ(shown.substr(shown.size() - 3), "...");
  ASSERT_EQ(caret.back(), '^');
  EXPECT_EQ(shown.substr(caret.size() - 1, 1), "2") << shown << "\n" << caret;
  // The caret at the start of a long line: nothing cut before it.
  const std::string start = render("@" + pad);
  EXPECT_NE(start.find("\n    @"), std::string::npos);
  EXPECT_EQ(start.substr(start.size() - 6), "\n    ^");
}

TEST(ParserErrors, NestingIsBounded) {
  std::string deep =
      "BEGIN { x = " + std::string(100000, '(') + "1" + std::string(100000, ')') + "; }";
  EXPECT_EQ(error_of(deep).substr(error_of(deep).find(": ") + 2), "expression nested too deeply");
  std::string unary = "BEGIN { x = " + std::string(100000, '!') + "1; }";
  EXPECT_NE(error_of(unary).find("nested too deeply"), std::string::npos);
  std::string chain = "BEGIN { x = 1";
  for (int i = 0; i < 100000; ++i) chain += " + 1";
  EXPECT_NE(error_of(chain + "; }").find("expression nested too deeply"), std::string::npos);
  std::string ifs = "BEGIN { ";
  for (int i = 0; i < 50000; ++i) ifs += "if (1) ";
  EXPECT_NE(error_of(ifs + "x = 1; }").find("nested too deeply"), std::string::npos);
  std::string blocks = "BEGIN " + std::string(50000, '{') + std::string(50000, '}');
  EXPECT_NE(error_of(blocks).find("block nested too deeply"), std::string::npos);
  std::string casts = "BEGIN { x = ";
  for (int i = 0; i < 50000; ++i) casts += "(int)";
  EXPECT_NE(error_of(casts + "1; }").find("nested too deeply"), std::string::npos);
  // Moderate nesting is fine: 90 parentheses, a 150-term chain.
  std::string ok = "BEGIN { x = " + std::string(90, '(') + "1" + std::string(90, ')') + "; }";
  EXPECT_EQ(error_of(ok), "no error");
  std::string terms = "BEGIN /x == 0";
  for (int i = 1; i < 150; ++i) terms += " || x == " + std::to_string(i);
  EXPECT_EQ(error_of(terms + "/ {}"), "no error");
  std::string ternary = "BEGIN { x = a";
  for (int i = 0; i < 100000; ++i) ternary += " ? b : c";
  EXPECT_NE(error_of(ternary + "; }").find("nested too deeply"), std::string::npos);
}

TEST(ParserErrors, LongInputIsLinear) {
  // Many clauses and statements parse (a quadratic pass would time out here).
  std::string big;
  for (int i = 0; i < 20000; ++i)
    big += "syscall::read:entry /pid == 1/ { @[execname] = count(); x++; }\n";
  auto p = parse(Source{"t.d", big}, {});
  EXPECT_EQ(p.clauses.size(), 20000u);
}

// Random and mutated inputs: the parser returns or throws CompileError, never crashes or hangs.
TEST(ParserErrors, GarbageNeverCrashes) {
  const std::string seeds[] = {
      "syscall::read:entry /pid == $target/ { @a[execname] = count(); self->t = timestamp; }",
      "#pragma D option quiet\nint x; BEGIN { if (x) { printf(\"%d\\n\", x); } else x++; }",
      "tick-1sec { printa(\"%s %@d\\n\", @a); trunc(@a, 5); (int)'a' ? -1 : ~0x10ull; }",
      "a,b,c /x/ { this->y = stringof(sizeof(int)) ^^ a[1,2] <<= 3; }",
  };
  const std::string alphabet =
      "abcxyz019_$@#:;,.()[]{}<>=!~+-*/%&|^?'\"\\ \n\t`\x01\x80\xff\0selfthisifelseint";
  uint64_t state = 0x9e3779b97f4a7c15ULL;
  auto rnd = [&state]() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  MacroArgs m;
  m.args = {"fuzz.d", "1", "foo"};
  m.argref = true;
  int parsed = 0, failed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    if (i % 2 == 0) {
      // Mutate a seed: replace, insert or delete a few bytes.
      text = seeds[rnd() % std::size(seeds)];
      int edits = 1 + rnd() % 4;
      for (int k = 0; k < edits && !text.empty(); ++k) {
        size_t pos = rnd() % text.size();
        char c = alphabet[rnd() % alphabet.size()];
        switch (rnd() % 3) {
          case 0:
            text[pos] = c;
            break;
          case 1:
            text.insert(text.begin() + pos, c);
            break;
          default:
            text.erase(pos, 1 + rnd() % 3);
        }
      }
    } else {
      size_t len = rnd() % 80;
      for (size_t k = 0; k < len; ++k) text += alphabet[rnd() % alphabet.size()];
    }
    try {
      parse(Source{"fuzz.d", text}, m);
      ++parsed;
    } catch (const CompileError& e) {
      EXPECT_FALSE(e.message().empty());
      EXPECT_GE(e.loc().line, 1u) << text;
      ++failed;
    }
  }
  EXPECT_GT(parsed, 0);
  EXPECT_GT(failed, 0);
}

}  // namespace
}  // namespace vtrace::lang
