#include "lang/parser.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace vtrace::lang {
namespace {

using ast::Expr;
using ast::ExprKind;
using ast::Op;
using ast::Stmt;
using ast::StmtKind;

ast::Program parse_text(const std::string& text, const MacroArgs& m = {}) {
  return parse(Source{"t.d", text}, m);
}

// "line:col: message" of the error parsing text, or "no error".
std::string error_of(const std::string& text, const MacroArgs& m = {}) {
  try {
    parse_text(text, m);
  } catch (const CompileError& e) {
    return std::to_string(e.loc().line) + ":" + std::to_string(e.loc().col) + ": " + e.message();
  }
  return "no error";
}

const char* op_text(Op op) {
  switch (op) {
    case Op::Add:
      return "+";
    case Op::Sub:
      return "-";
    case Op::Mul:
      return "*";
    case Op::Div:
      return "/";
    case Op::Mod:
      return "%";
    case Op::Shl:
      return "<<";
    case Op::Shr:
      return ">>";
    case Op::BitAnd:
      return "&";
    case Op::BitOr:
      return "|";
    case Op::BitXor:
      return "^";
    case Op::LogAnd:
      return "&&";
    case Op::LogOr:
      return "||";
    case Op::LogXor:
      return "^^";
    case Op::Eq:
      return "==";
    case Op::Ne:
      return "!=";
    case Op::Lt:
      return "<";
    case Op::Le:
      return "<=";
    case Op::Gt:
      return ">";
    case Op::Ge:
      return ">=";
    case Op::Neg:
      return "-";
    case Op::Plus:
      return "+";
    case Op::LogNot:
      return "!";
    case Op::BitNot:
      return "~";
    case Op::Assign:
      return "";
    case Op::Inc:
      return "++";
    case Op::Dec:
      return "--";
  }
  return "?";
}

std::string dump(const Expr& e);

std::string dump_list(const std::vector<ast::ExprPtr>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + dump(*v[i]);
  return s;
}

std::string scope_prefix(ast::Scope s) {
  return s == ast::Scope::Thread ? "self->" : s == ast::Scope::Clause ? "this->" : "";
}

// A compact S-expression of an expression tree.
std::string dump(const Expr& e) {
  switch (e.kind) {
    case ExprKind::IntLit:
      return std::to_string(e.ival);
    case ExprKind::StrLit:
      return "\"" + e.sval + "\"";
    case ExprKind::Ident:
      return e.name;
    case ExprKind::Var:
      return scope_prefix(e.scope) + e.name;
    case ExprKind::Index:
      return scope_prefix(e.scope) + e.name + "[" + dump_list(e.kids) + "]";
    case ExprKind::Call:
      return e.name + "(" + dump_list(e.kids) + ")";
    case ExprKind::AggRef:
      return "@" + e.name;
    case ExprKind::Field:
      return "args->" + e.name;
    case ExprKind::Unary:
      return std::string("(") + op_text(e.op) + dump(*e.kids[0]) + ")";
    case ExprKind::Binary:
      return std::string("(") + op_text(e.op) + " " + dump(*e.kids[0]) + " " + dump(*e.kids[1]) +
             ")";
    case ExprKind::Ternary:
      return "(? " + dump(*e.kids[0]) + " " + dump(*e.kids[1]) + " " + dump(*e.kids[2]) + ")";
    case ExprKind::Assign:
      return std::string("(") + op_text(e.op2) + "= " + dump(*e.kids[0]) + " " + dump(*e.kids[1]) +
             ")";
    case ExprKind::IncDec:
      return e.prefix ? std::string("(") + op_text(e.op) + dump(*e.kids[0]) + ")"
                      : "(" + dump(*e.kids[0]) + op_text(e.op) + ")";
    case ExprKind::Cast:
      return "(cast " + e.cast_type.name() + " " + dump(*e.kids[0]) + ")";
    case ExprKind::SizeofType:
      return "sizeof(" + e.cast_type.name() + ")";
    case ExprKind::SizeofExpr:
      return "(sizeof " + dump(*e.kids[0]) + ")";
    case ExprKind::Deref:
      return "(* " + dump(*e.kids[0]) + ")";
    case ExprKind::AddrOf:
      return "(& " + dump(*e.kids[0]) + ")";
    case ExprKind::Subscript:
      return "([] " + dump(*e.kids[0]) + " " + dump(*e.kids[1]) + ")";
    case ExprKind::Member:
      return std::string("(") + (e.arrow ? "->" : ".") + " " + dump(*e.kids[0]) + " " + e.name +
             ")";
  }
  return "?";
}

// The tree of the single expression statement in "BEGIN { <text>; }".
std::string expr_tree(const std::string& text) {
  auto p = parse_text("BEGIN { " + text + "; }");
  EXPECT_EQ(p.clauses.size(), 1u);
  EXPECT_EQ(p.clauses[0].body.size(), 1u);
  const Stmt& s = *p.clauses[0].body[0];
  EXPECT_EQ(s.kind, StmtKind::Expr);
  return dump(*s.expr);
}

std::string expr_tree_of(const ast::Program& p, size_t clause, size_t stmt) {
  return dump(*p.clauses.at(clause).body.at(stmt)->expr);
}

const Expr& only_expr(const ast::Program& p) {
  return *p.clauses.at(0).body.at(0)->expr;
}

// ---- probe descriptions and clauses ----

struct DescCase {
  const char* text;
  const char *target, *provider, *module, *function, *name;
};

TEST(Parser, ProbeDescriptionShapes) {
  const DescCase cases[] = {
      {"BEGIN", "", "", "", "", "BEGIN"},
      {"read:entry", "", "", "", "read", "entry"},
      {"a.out:main:entry", "", "", "a.out", "main", "entry"},
      {"dtrace:::BEGIN", "", "dtrace", "", "", "BEGIN"},
      {"profile:::tick-1sec", "", "profile", "", "", "tick-1sec"},
      {"syscall::read:entry", "", "syscall", "", "read", "entry"},
      {"web*:syscall::read:entry", "web*", "syscall", "", "read", "entry"},
      {"syscall::read*:entry", "", "syscall", "", "read*", "entry"},
      {"sys[a-c]all:::", "", "sys[a-c]all", "", "", ""},
      {":::", "", "", "", "", ""},
      {"host:sched::?witch:", "host", "sched", "", "?witch", ""},
      {"fbt:mod`x:f:entry", "", "fbt", "mod`x", "f", "entry"},
  };
  for (const auto& c : cases) {
    auto p = parse_text(c.text);
    ASSERT_EQ(p.clauses.size(), 1u) << c.text;
    const auto& d = p.clauses[0].probes.at(0);
    EXPECT_EQ(d.target, c.target) << c.text;
    EXPECT_EQ(d.provider, c.provider) << c.text;
    EXPECT_EQ(d.module, c.module) << c.text;
    EXPECT_EQ(d.function, c.function) << c.text;
    EXPECT_EQ(d.name, c.name) << c.text;
    EXPECT_EQ(d.text, c.text);
    EXPECT_FALSE(p.clauses[0].has_body);
  }
}

TEST(Parser, ProbeDescriptionMacros) {
  MacroArgs m;
  m.args = {"s.d", "libc.so", "malloc"};
  m.target = 4242;
  m.argref = true;  // not every description here references $2
  auto p = parse_text("pid$target:$1:$$2:entry { }", m);
  const auto& d = p.clauses.at(0).probes.at(0);
  EXPECT_EQ(d.provider, "pid4242");
  EXPECT_EQ(d.module, "libc.so");
  EXPECT_EQ(d.function, "malloc");
  EXPECT_EQ(d.text, "pid$target:$1:$$2:entry");
  EXPECT_EQ(error_of("pid$target:a.out:$3:entry", m), "1:18: macro argument $3 is not defined");
  EXPECT_EQ(error_of("x$nope:::", m), "1:2: macro variable $nope is not defined");
  m.defaultargs = true;
  EXPECT_EQ(parse_text("p:$3:f:", m).clauses[0].probes[0].module, "0");
  EXPECT_EQ(parse_text("p:$$3:f:", m).clauses[0].probes[0].module, "");
}

TEST(Parser, DescriptionTooManyFields) {
  EXPECT_EQ(error_of("\n  a:b:c:d:e:f { }"),
            "2:3: invalid probe description \"a:b:c:d:e:f\": too many fields");
}

TEST(Parser, DescriptionListsAndBodies) {
  auto p = parse_text(
      "syscall::read:entry,\n  syscall::write:entry\n, db1:syscall::open:entry\n{ x = 1; }\n"
      "BEGIN\nEND\ndtrace:::BEGIN /1/ {}\ntick-1s {}");
  ASSERT_EQ(p.clauses.size(), 5u);
  EXPECT_EQ(p.clauses[0].probes.size(), 3u);
  EXPECT_EQ(p.clauses[0].probes[2].target, "db1");
  EXPECT_EQ(p.clauses[0].probes[1].loc.line, 2u);
  EXPECT_EQ(p.clauses[0].probes[1].loc.col, 3u);
  EXPECT_TRUE(p.clauses[0].has_body);
  EXPECT_EQ(p.clauses[0].body.size(), 1u);
  EXPECT_FALSE(p.clauses[1].has_body);
  EXPECT_EQ(p.clauses[2].probes[0].name, "END");
  ASSERT_NE(p.clauses[3].predicate, nullptr);
  EXPECT_TRUE(p.clauses[4].has_body);
  EXPECT_TRUE(p.clauses[4].body.empty());
  EXPECT_EQ(p.clauses[4].loc.line, 8u);
}

TEST(Parser, Predicates) {
  auto p = parse_text("syscall::read:entry /execname == \"sh\" && (arg0 / 2) > 1/ { }");
  EXPECT_EQ(dump(*p.clauses[0].predicate), "(&& (== execname \"sh\") (> (/ arg0 2) 1))");
  p = parse_text("BEGIN/x/{}");
  EXPECT_EQ(dump(*p.clauses[0].predicate), "x");
  p = parse_text("BEGIN /a[1, 2] ? f(x / 3) : 0/ {}");
  EXPECT_EQ(dump(*p.clauses[0].predicate), "(? a[1, 2] f((/ x 3)) 0)");
  EXPECT_EQ(error_of("BEGIN /x {}"), "1:10: syntax error near \"{\"");
  EXPECT_EQ(error_of("BEGIN /x"), "1:9: syntax error: unexpected end of file");
}

TEST(Parser, Comments) {
  auto p = parse_text("/* c */ BEGIN // one\n/* pred? */ { /* in */ x = 1; // tail\n }");
  ASSERT_EQ(p.clauses.size(), 1u);
  EXPECT_EQ(p.clauses[0].body.size(), 1u);
  EXPECT_EQ(error_of("BEGIN {\n  /* never closed\n}"), "2:3: unterminated comment");
}

// ---- expressions ----

TEST(Parser, PrecedenceTree) {
  EXPECT_EQ(expr_tree("x = a + b * c << 1 == d && e || f ? g : h"),
            "(= x (? (|| (&& (== (<< (+ a (* b c)) 1) d) e) f) g h))");
  EXPECT_EQ(expr_tree("a | b ^ c & d"), "(| a (^ b (& c d)))");
  EXPECT_EQ(expr_tree("a || b ^^ c && d"), "(|| a (^^ b (&& c d)))");
  EXPECT_EQ(expr_tree("a < b == c >= d"), "(== (< a b) (>= c d))");
  EXPECT_EQ(expr_tree("a - b - c"), "(- (- a b) c)");
  EXPECT_EQ(expr_tree("a / b % c * d"), "(* (% (/ a b) c) d)");
  EXPECT_EQ(expr_tree("a >> b + c"), "(>> a (+ b c))");
  EXPECT_EQ(expr_tree("(a + b) * c"), "(* (+ a b) c)");
  EXPECT_EQ(expr_tree("a ? b : c ? d : e"), "(? a b (? c d e))");
  EXPECT_EQ(expr_tree("a ? b = 1 : c"), "(? a (= b 1) c)");
}

TEST(Parser, AssignmentIsRightAssociative) {
  EXPECT_EQ(expr_tree("a = b = c"), "(= a (= b c))");
  EXPECT_EQ(expr_tree("a += b -= 2"), "(+= a (-= b 2))");
  const char* ops[] = {"=", "+=", "-=", "*=", "/=", "%=", "&=", "^=", "|=", "<<=", ">>="};
  for (const char* op : ops)
    EXPECT_EQ(expr_tree(std::string("x ") + op + " 1"), std::string("(") + op + " x 1)");
  auto p = parse_text("BEGIN { x += 1 }");
  EXPECT_EQ(only_expr(p).kind, ExprKind::Assign);
  EXPECT_EQ(only_expr(p).op, Op::Assign);
  EXPECT_EQ(only_expr(p).op2, Op::Add);
}

TEST(Parser, UnaryAndPostfix) {
  EXPECT_EQ(expr_tree("-a"), "(-a)");
  EXPECT_EQ(expr_tree("+a"), "(+a)");
  EXPECT_EQ(expr_tree("!~a"), "(!(~a))");
  EXPECT_EQ(expr_tree("- -1"), "(-(-1))");
  EXPECT_EQ(expr_tree("x++"), "(x++)");
  EXPECT_EQ(expr_tree("--x"), "(--x)");
  EXPECT_EQ(expr_tree("self->n[1]++"), "(self->n[1]++)");
  EXPECT_EQ(expr_tree("-a * b"), "(* (-a) b)");
  EXPECT_EQ(expr_tree("!a && b"), "(&& (!a) b)");
  auto p = parse_text("BEGIN { x++; --y }");
  const Expr& inc = *p.clauses[0].body[0]->expr;
  EXPECT_EQ(inc.op, Op::Inc);
  EXPECT_FALSE(inc.prefix);
  const Expr& dec = *p.clauses[0].body[1]->expr;
  EXPECT_EQ(dec.op, Op::Dec);
  EXPECT_TRUE(dec.prefix);
}

TEST(Parser, PointersAndMembers) {
  EXPECT_EQ(expr_tree("*p + 1"), "(+ (* p) 1)");
  EXPECT_EQ(expr_tree("*p++"), "(* (p++))");
  EXPECT_EQ(expr_tree("&p->a[2]"), "(& ([] (-> p a) 2))");
  EXPECT_EQ(expr_tree("s.a.b"), "(. (. s a) b)");
  EXPECT_EQ(expr_tree("this->p->a"), "(-> this->p a)");
  EXPECT_EQ(expr_tree("f(x)[1]"), "([] f(x) 1)");
  EXPECT_EQ(expr_tree("a * *b"), "(* a (* b))");
  EXPECT_EQ(expr_tree("a & &b"), "(& a (& b))");
}

TEST(Parser, CTypes) {
  EXPECT_EQ(expr_tree("(char *)x"), "(cast char * x)");
  EXPECT_EQ(expr_tree("(unsigned long **)x"), "(cast unsigned long long ** x)");
  EXPECT_EQ(expr_tree("sizeof(int *)"), "sizeof(int *)");
  auto p = parse_text(
      "struct foo { char c; int i; char name[5]; long l; } *fp;\n"
      "union u { char c; long l; };\n"
      "typedef struct foo foo_t;\n"
      "enum color { RED, GREEN = 7, BLUE };\n"
      "BEGIN { x = (foo_t *)0; y = sizeof(foo_t) + sizeof(union u) + BLUE; }");
  ASSERT_EQ(p.decls.size(), 1u);
  const Type& fp = p.decls[0].type;
  ASSERT_TRUE(fp.is_pointer());
  const Type& foo = fp.target();
  ASSERT_TRUE(foo.is_record());
  EXPECT_EQ(foo.name(), "struct foo");
  ASSERT_EQ(foo.c->members.size(), 4u);
  EXPECT_EQ(foo.c->members[1].offset, 4u);   // int after a char: aligned to 4
  EXPECT_EQ(foo.c->members[2].offset, 8u);   // char name[5]
  EXPECT_EQ(foo.c->members[3].offset, 16u);  // long after 13 bytes: aligned to 8
  EXPECT_EQ(foo.bytes(), 24u);
  EXPECT_EQ(foo.c->members[2].type.name(), "char [5]");
  EXPECT_EQ(expr_tree_of(p, 0, 0), "(= x (cast struct foo * 0))");
  EXPECT_EQ(expr_tree_of(p, 0, 1), "(= y (+ (+ sizeof(struct foo) sizeof(union u)) 8))");
}

TEST(Parser, CastsAndSizeof) {
  EXPECT_EQ(expr_tree("(int)x"), "(cast int x)");
  EXPECT_EQ(expr_tree("(unsigned char)x + 1"), "(+ (cast unsigned char x) 1)");
  EXPECT_EQ(expr_tree("(long long)(a + b)"), "(cast long long (+ a b))");
  EXPECT_EQ(expr_tree("(uint16_t)x"), "(cast unsigned short x)");
  EXPECT_EQ(expr_tree("(string)x"), "(cast string x)");
  EXPECT_EQ(expr_tree("(void)x"), "(cast void x)");
  EXPECT_EQ(expr_tree("sizeof(int)"), "sizeof(int)");
  EXPECT_EQ(expr_tree("sizeof(unsigned long)"), "sizeof(unsigned long long)");
  EXPECT_EQ(expr_tree("sizeof x"), "(sizeof x)");
  EXPECT_EQ(expr_tree("sizeof(x) + 1"), "(+ (sizeof x) 1)");
  EXPECT_EQ(expr_tree("stringof x"), "stringof(x)");
  EXPECT_EQ(expr_tree("stringof(pid) + 1"), "(+ stringof(pid) 1)");
}

TEST(Parser, PrimaryForms) {
  EXPECT_EQ(expr_tree("self->x"), "self->x");
  EXPECT_EQ(expr_tree("this->y"), "this->y");
  EXPECT_EQ(expr_tree("self->a[1, \"k\"]"), "self->a[1, \"k\"]");
  EXPECT_EQ(expr_tree("this->a[x]"), "this->a[x]");
  EXPECT_EQ(expr_tree("a[execname, pid]"), "a[execname, pid]");
  EXPECT_EQ(expr_tree("printf(\"%d\\n\", x)"), "printf(\"%d\n\", x)");
  EXPECT_EQ(expr_tree("exit()"), "exit()");
  EXPECT_EQ(expr_tree("printa(@a)"), "printa(@a)");
  EXPECT_EQ(expr_tree("printa(\"%s %@d\\n\", @a)"), "printa(\"%s %@d\n\", @a)");
  EXPECT_EQ(expr_tree("clear(@)"), "clear(@)");
  EXPECT_EQ(expr_tree("trunc(@a, 5)"), "trunc(@a, 5)");
  EXPECT_EQ(expr_tree("normalize(@a, 10)"), "normalize(@a, 10)");
  EXPECT_EQ(expr_tree("'a' + 1"), "(+ 97 1)");
  auto p = parse_text("BEGIN { self->a[1] = 2; this->b = 3; c[1] = 4; }");
  const Expr& a = *p.clauses[0].body[0]->expr->kids[0];
  EXPECT_EQ(a.kind, ExprKind::Index);
  EXPECT_EQ(a.scope, ast::Scope::Thread);
  const Expr& b = *p.clauses[0].body[1]->expr->kids[0];
  EXPECT_EQ(b.kind, ExprKind::Var);
  EXPECT_EQ(b.scope, ast::Scope::Clause);
  const Expr& c = *p.clauses[0].body[2]->expr->kids[0];
  EXPECT_EQ(c.kind, ExprKind::Index);
  EXPECT_EQ(c.scope, ast::Scope::Global);
}

TEST(Parser, LiteralsCarryTypes) {
  auto p = parse_text("BEGIN { f(1, 5000000000, 0xffffffff, 1ul, 'x', \"s\\t\") }");
  const auto& k = only_expr(p).kids;
  ASSERT_EQ(k.size(), 6u);
  EXPECT_EQ(k[0]->type, Type::i32());
  EXPECT_EQ(k[1]->type, Type::i64());
  EXPECT_EQ(k[1]->ival, 5000000000LL);
  EXPECT_EQ(k[2]->type, Type::int_of(4, false));
  EXPECT_EQ(k[3]->type, Type::u64());
  EXPECT_EQ(k[4]->type, Type::int_of(1, true));
  EXPECT_EQ(k[4]->ival, 'x');
  EXPECT_EQ(k[5]->kind, ExprKind::StrLit);
  EXPECT_EQ(k[5]->sval, "s\t");
  EXPECT_EQ(error_of("BEGIN { x = 99999999999999999999; }"), "1:13: integer literal too large");
}

TEST(Parser, ExpressionLocations) {
  auto p = parse_text("BEGIN {\n  x = a +\n   b; }");
  const Expr& e = only_expr(p);
  EXPECT_EQ(e.loc.line, 2u);
  EXPECT_EQ(e.loc.col, 5u);           // at '='
  EXPECT_EQ(e.kids[1]->loc.col, 9u);  // at '+'
  EXPECT_EQ(e.kids[1]->kids[1]->loc.line, 3u);
  EXPECT_EQ(e.kids[1]->kids[1]->loc.col, 4u);
}

// ---- macros in expressions ----

TEST(Parser, Macros) {
  MacroArgs m;
  m.args = {"s.d", "42", "foo", "-3"};
  m.target = 77;
  m.argref = true;  // not every program here references $3
  EXPECT_EQ(dump(only_expr(parse_text("BEGIN { x = $1 + $3 }", m))), "(= x (+ 42 -3))");
  EXPECT_EQ(dump(only_expr(parse_text("BEGIN { x = $2 }", m))), "(= x foo)");
  EXPECT_EQ(dump(only_expr(parse_text("BEGIN { x = $$1 }", m))), "(= x \"42\")");
  EXPECT_EQ(dump(only_expr(parse_text("BEGIN { x = $target }", m))), "(= x 77)");
  EXPECT_EQ(dump(only_expr(parse_text("BEGIN { x = $0 }", m))), "(= x \"s.d\")");
  EXPECT_EQ(error_of("BEGIN {\n x = $4; }", m), "2:6: macro argument $4 is not defined");
  EXPECT_EQ(error_of("BEGIN { x = $$9; }", m), "1:13: macro argument $$9 is not defined");
  EXPECT_EQ(error_of("BEGIN { x = $bogus; }", m), "1:13: macro variable $bogus is not defined");
  m.defaultargs = true;
  EXPECT_EQ(dump(only_expr(parse_text("BEGIN { x = $4 + 1 }", m))), "(= x (+ 0 1))");
  EXPECT_EQ(dump(only_expr(parse_text("BEGIN { x = $$4 }", m))), "(= x \"\")");
}

// ---- pragmas and declarations ----

TEST(Parser, Pragmas) {
  auto p = parse_text(
      "#!/usr/sbin/vtrace -s\n#pragma D option quiet\n#pragma D option bufsize=16k\nBEGIN\n"
      "{\n#pragma D option flowindent\n}");
  ASSERT_EQ(p.pragmas.size(), 3u);
  EXPECT_EQ(p.pragmas[0].name, "quiet");
  EXPECT_EQ(p.pragmas[0].loc.line, 2u);
  EXPECT_EQ(p.pragmas[1].name, "bufsize");
  EXPECT_EQ(p.pragmas[1].value, "16k");
  EXPECT_EQ(p.pragmas[2].name, "flowindent");
  EXPECT_EQ(p.clauses.size(), 1u);
  EXPECT_EQ(error_of("BEGIN {}\n#include \"x.h\""),
            "2:1: preprocessor directive #include is not supported");
  EXPECT_EQ(error_of("#pragma D"), "1:9: #pragma D requires a directive such as option");
  EXPECT_EQ(error_of("#pragma ident \"x\""), "1:9: unsupported #pragma \"ident\"");
}

TEST(Parser, Declarations) {
  auto p = parse_text(
      "int x;\nstring s;\nself int t;\nthis string y;\nunsigned long long z;\n"
      "int a[string, int];\nself int arr[int];\nunsigned u;\nchar c; short h; long l;\n"
      "signed char sc; unsigned short int us; long long ll; long int li;\n"
      "int8_t i8; uint32_t u32; uint64_t u64; size_t sz; ssize_t ssz; uintptr_t up; int16_t i16;\n"
      "int m, n[int];\nBEGIN {}");
  ASSERT_EQ(p.clauses.size(), 1u);
  struct Want {
    const char* name;
    ast::Scope scope;
    Type type;
  } want[] = {
      {"x", ast::Scope::Global, Type::i32()},
      {"s", ast::Scope::Global, Type::str()},
      {"t", ast::Scope::Thread, Type::i32()},
      {"y", ast::Scope::Clause, Type::str()},
      {"z", ast::Scope::Global, Type::u64()},
      {"a", ast::Scope::Global, Type::i32()},
      {"arr", ast::Scope::Thread, Type::i32()},
      {"u", ast::Scope::Global, Type::int_of(4, false)},
      {"c", ast::Scope::Global, Type::int_of(1, true)},
      {"h", ast::Scope::Global, Type::int_of(2, true)},
      {"l", ast::Scope::Global, Type::i64()},
      {"sc", ast::Scope::Global, Type::int_of(1, true)},
      {"us", ast::Scope::Global, Type::int_of(2, false)},
      {"ll", ast::Scope::Global, Type::i64()},
      {"li", ast::Scope::Global, Type::i64()},
      {"i8", ast::Scope::Global, Type::int_of(1, true)},
      {"u32", ast::Scope::Global, Type::int_of(4, false)},
      {"u64", ast::Scope::Global, Type::u64()},
      {"sz", ast::Scope::Global, Type::u64()},
      {"ssz", ast::Scope::Global, Type::i64()},
      {"up", ast::Scope::Global, Type::u64()},
      {"i16", ast::Scope::Global, Type::int_of(2, true)},
      {"m", ast::Scope::Global, Type::i32()},
      {"n", ast::Scope::Global, Type::i32()},
  };
  ASSERT_EQ(p.decls.size(), std::size(want));
  for (size_t i = 0; i < std::size(want); ++i) {
    EXPECT_EQ(p.decls[i].name, want[i].name);
    EXPECT_EQ(p.decls[i].scope, want[i].scope) << want[i].name;
    EXPECT_EQ(p.decls[i].type, want[i].type) << want[i].name << " " << p.decls[i].type.name();
  }
  EXPECT_TRUE(p.decls[5].is_array);
  ASSERT_EQ(p.decls[5].key_types.size(), 2u);
  EXPECT_EQ(p.decls[5].key_types[0], Type::str());
  EXPECT_EQ(p.decls[5].key_types[1], Type::i32());
  EXPECT_TRUE(p.decls[6].is_array);
  EXPECT_FALSE(p.decls[0].is_array);
  EXPECT_TRUE(p.decls[23].is_array);
  EXPECT_EQ(p.decls[1].loc.line, 2u);
  EXPECT_EQ(p.decls[1].loc.col, 8u);
}

// ---- statements ----

TEST(Parser, AggregationStatements) {
  auto p = parse_text(
      "BEGIN { @a[execname, pid] = count(); @b = sum(arg0); @[probefunc] = quantize(x);\n"
      " @ = lquantize(x, 0, 100, 10) }");
  const auto& b = p.clauses[0].body;
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(b[0]->kind, StmtKind::AggAssign);
  EXPECT_EQ(b[0]->agg_name, "a");
  EXPECT_EQ(dump_list(b[0]->agg_keys), "execname, pid");
  EXPECT_EQ(b[0]->agg_func, "count");
  EXPECT_EQ(b[0]->agg_func_loc.col, 29u);
  EXPECT_TRUE(b[0]->agg_args.empty());
  EXPECT_EQ(b[1]->agg_name, "b");
  EXPECT_TRUE(b[1]->agg_keys.empty());
  EXPECT_EQ(b[1]->agg_func, "sum");
  EXPECT_EQ(dump_list(b[1]->agg_args), "arg0");
  EXPECT_EQ(b[2]->agg_name, "");
  EXPECT_EQ(dump_list(b[2]->agg_keys), "probefunc");
  EXPECT_EQ(b[3]->agg_name, "");
  EXPECT_EQ(b[3]->agg_func, "lquantize");
  EXPECT_EQ(dump_list(b[3]->agg_args), "x, 0, 100, 10");
  EXPECT_EQ(b[3]->loc.line, 2u);
  EXPECT_EQ(b[3]->loc.col, 2u);
}

TEST(Parser, IfElse) {
  auto p =
      parse_text("BEGIN { if (x > 1) { a = 1; b = 2; } else if (y) c = 3; else { d = 4 } e = 5 }");
  const auto& b = p.clauses[0].body;
  ASSERT_EQ(b.size(), 2u);
  const Stmt& s = *b[0];
  EXPECT_EQ(s.kind, StmtKind::If);
  EXPECT_EQ(dump(*s.expr), "(> x 1)");
  ASSERT_EQ(s.body.size(), 2u);
  ASSERT_EQ(s.else_body.size(), 1u);
  const Stmt& elif = *s.else_body[0];
  EXPECT_EQ(elif.kind, StmtKind::If);
  EXPECT_EQ(dump(*elif.expr), "y");
  ASSERT_EQ(elif.body.size(), 1u);
  EXPECT_EQ(dump(*elif.body[0]->expr), "(= c 3)");
  ASSERT_EQ(elif.else_body.size(), 1u);
  EXPECT_EQ(dump(*elif.else_body[0]->expr), "(= d 4)");
  EXPECT_EQ(dump(*b[1]->expr), "(= e 5)");
  // Dangling else binds to the nearest if; an empty branch is allowed.
  p = parse_text("BEGIN { if (a) if (b) x(); else y(); if (c) ; }");
  const Stmt& outer = *p.clauses[0].body[0];
  EXPECT_TRUE(outer.else_body.empty());
  EXPECT_EQ(outer.body[0]->else_body.size(), 1u);
  EXPECT_TRUE(p.clauses[0].body[1]->body.empty());
  EXPECT_EQ(error_of("BEGIN { if x { } }"), "1:12: syntax error near \"x\"");
  EXPECT_EQ(error_of("BEGIN { if (x) }"), "1:16: syntax error near \"}\"");
}

TEST(Parser, StatementTerminators) {
  auto p = parse_text("BEGIN { trace(1) }\nEND { ;; a = 1;; b = 2 }\ntick-1 { { c = 3 } d = 4; }");
  EXPECT_EQ(p.clauses[0].body.size(), 1u);
  EXPECT_EQ(p.clauses[1].body.size(), 2u);
  ASSERT_EQ(p.clauses[2].body.size(), 2u);
  EXPECT_EQ(p.clauses[2].body[0]->kind, StmtKind::Block);
  EXPECT_EQ(p.clauses[2].body[0]->body.size(), 1u);
  EXPECT_EQ(error_of("BEGIN { a = 1 b = 2 }"), "1:15: syntax error near \"b\"");
  EXPECT_EQ(error_of("BEGIN { trace(1) }}"), "1:19: syntax error near \"}\"");
}

}  // namespace
}  // namespace vtrace::lang
