// C types in D: integer specifiers, struct / union / enum definitions, typedef, and the '*'s and
// [N]s of declarators. Layouts follow the C ABI of x86-64 (members at their natural alignment).
#include <algorithm>
#include <optional>

#include "lang/constant_fold.h"
#include "lang/parser_impl.h"

namespace vtrace::lang {

namespace {

Type named_integer(const std::string& named) {
  if (named == "uintptr_t" || named == "size_t") return Type::u64();
  if (named == "ssize_t" || named == "intptr_t" || named == "ptrdiff_t" || named == "off_t" ||
      named == "time_t")
    return Type::i64();
  if (named == "pid_t") return Type::i32();
  // The Solaris names D has always had for C's integers.
  if (named == "uchar_t") return Type::int_of(1, false);
  if (named == "ushort_t") return Type::int_of(2, false);
  if (named == "uint_t") return Type::int_of(4, false);
  if (named == "ulong_t" || named == "u_longlong_t" || named == "u_offset_t") return Type::u64();
  if (named == "longlong_t" || named == "offset_t") return Type::i64();
  if (named == "uid_t" || named == "gid_t") return Type::int_of(4, false);
  // intN_t / uintN_t
  const bool u = named[0] == 'u';
  const int bits = std::stoi(named.substr(u ? 4 : 3));
  return Type::int_of(static_cast<uint8_t>(bits / 8), !u);
}

uint64_t align_up(uint64_t v, uint32_t a) {
  return a <= 1 ? v : (v + a - 1) / a * a;
}

// Members at their natural alignment (all at 0 in a union), the size rounded to the largest.
void lay_out(CType& rec) {
  uint64_t offset = 0, size = 0;
  uint32_t align = 1;
  for (Member& m : rec.members) {
    const uint32_t a = std::max<uint32_t>(1, m.type.align());
    m.offset = rec.form == CType::Union ? 0 : align_up(offset, a);
    offset = m.offset + m.type.bytes();
    size = std::max(size, offset);
    align = std::max(align, a);
  }
  rec.size = align_up(size, align);
  rec.align = align;
  rec.complete = true;
}

}  // namespace

std::shared_ptr<CType> TypeScope::define(CType::Form form, const std::string& tag) {
  auto def = std::make_shared<CType>();
  def->form = form;
  def->tag = tag;
  definitions.push_back(def);
  return def;
}

// The types and constants D programs find defined, as dtrace has them from its libraries:
// the network address types inet_ntoa(), inet_ntoa6() and inet_ntop() take, and AF_INET/6.
void TypeScope::add_builtins() {
  const Type u8 = Type::int_of(1, false), u16 = Type::int_of(2, false),
             u32 = Type::int_of(4, false);
  auto define = [&](const std::string& name, const Type& t) {
    typedefs[name] = t;
    typedef_names.insert(name);
  };
  auto record = [&](CType::Form form, const std::string& tag, std::vector<Member> members) {
    std::shared_ptr<CType> rec = TypeScope::define(form, tag);
    rec->members = std::move(members);
    lay_out(*rec);
    if (!tag.empty()) structs[tag] = rec;
    return defined_type(Kind::Record, 0, false, rec.get());
  };
  define("ipaddr_t", u32);
  define("in_addr_t", u32);
  record(CType::Struct, "in_addr", {{"s_addr", u32, 0}});
  const Type in6_u = record(CType::Union, "",
                            {{"u6_addr8", Type::array_of(u8, 16), 0},
                             {"u6_addr16", Type::array_of(u16, 8), 0},
                             {"u6_addr32", Type::array_of(u32, 4), 0}});
  define("in6_addr_t", record(CType::Struct, "in6_addr", {{"in6_u", in6_u, 0}}));
  for (const auto& [name, value] :
       {std::pair<const char*, int64_t>{"AF_INET", 2}, {"AF_INET6", 10}})
    enumerators[name] = {value, Type::i32()};
}

// Specifiers: [signed|unsigned] char|short|int|long|long long, string, void, a named integer
// type, a typedef name, or struct/union/enum; const and volatile are accepted and ignored.
Type Parser::parse_type() {
  if (at(Tok::KwStruct) || at(Tok::KwUnion)) return record_type(at(Tok::KwUnion));
  if (at(Tok::KwEnum)) return enum_type();
  Loc loc = cur_.loc;
  std::string spelled;
  int n_sign = 0, n_char = 0, n_short = 0, n_int = 0, n_long = 0, n_named = 0;
  bool is_unsigned = false;
  std::string named;
  std::optional<Type> typedef_type;
  while (at(Tok::TypeKw) || (at(Tok::TypeName) && n_named == 0 && spelled.empty())) {
    const std::string& w = cur_.text;
    if (at(Tok::TypeName)) {
      typedef_type = types_.typedefs.at(w);
      ++n_named;
    } else if (w == "const" || w == "volatile") {
      advance();
      continue;
    } else if (w == "signed" || w == "unsigned") {
      ++n_sign;
      is_unsigned = w == "unsigned";
    } else if (w == "char") {
      ++n_char;
    } else if (w == "short") {
      ++n_short;
    } else if (w == "int") {
      ++n_int;
    } else if (w == "long") {
      ++n_long;
    } else {
      ++n_named;
      named = w;
    }
    spelled += spelled.empty() ? w : " " + w;
    advance();
  }
  const int n_base = n_sign + n_char + n_short + n_int + n_long;
  const bool bad = (n_named > 0 && (n_named > 1 || n_base > 0)) || n_sign > 1 || n_char > 1 ||
                   n_short > 1 || n_int > 1 || n_long > 2 ||
                   (n_char && (n_short || n_int || n_long)) || (n_short && n_long);
  if (bad) fail(loc, "invalid type \"" + spelled + "\"");
  if (spelled.empty()) syntax_error();
  if (typedef_type) return *typedef_type;
  if (n_named) {
    if (named == "string") return Type::str();
    if (named == "void") return Type::void_type();
    return named_integer(named);
  }
  uint8_t size = n_char ? 1 : n_short ? 2 : n_long ? 8 : 4;
  return Type::int_of(size, !is_unsigned);
}

Type Parser::parse_type_name() {
  return pointers(parse_type());
}

// Deeper types than this (pointers and arrays, through typedefs too) are refused: the passes
// after the parser recurse on them.
constexpr uint32_t kMaxTypeDepth = 32;

Type Parser::pointers(Type base) {
  while (at(Tok::Star)) {
    if (base.depth() >= kMaxTypeDepth) fail(cur_.loc, "too many levels of pointers");
    base = Type::pointer_to(std::move(base));
    advance();
    while (at(Tok::TypeKw) && (cur_.text == "const" || cur_.text == "volatile")) advance();
  }
  return base;
}

Type Parser::array_dims(Type element) {
  std::vector<std::pair<int64_t, Loc>> dims;
  while (at(Tok::LBracket)) {
    Loc loc = cur_.loc;
    if (element.depth() + dims.size() >= kMaxTypeDepth) fail(loc, "too many array dimensions");
    advance();
    ast::ExprPtr n = expression();
    const int64_t count = constant_of(*n);
    if (count <= 0 || count > (int64_t{1} << 24))
      fail(loc, "array dimension must be a positive integer constant");
    dims.emplace_back(count, loc);
    expect_advance(Tok::RBracket);
  }
  // int a[2][3]: an array of 2 arrays of 3 ints.
  for (auto it = dims.rbegin(); it != dims.rend(); ++it) {
    if (element.is_void() || (element.is_record() && !element.c->complete))
      fail(it->second, "array element type " + element.name() + " is incomplete");
    element = Type::array_of(std::move(element), static_cast<uint64_t>(it->first));
  }
  return element;
}

// Past struct, union or enum: its tag, or "" when a { follows at once (an anonymous one).
std::string Parser::keyword_and_tag() {
  advance();
  if (at(Tok::Ident) || at(Tok::TypeName)) {
    std::string tag = cur_.text;
    advance();
    return tag;
  }
  if (!at(Tok::LBrace)) syntax_error();
  return "";
}

// struct [tag] [{ type declarator {, declarator} ; ... }]   (union alike)
Type Parser::record_type(bool is_union) {
  const Loc loc = cur_.loc;
  DepthGuard guard(*this, loc, "struct or union");
  const char* keyword = is_union ? "union" : "struct";
  auto& tags = is_union ? types_.unions : types_.structs;
  const std::string tag = keyword_and_tag();
  std::shared_ptr<CType> rec;
  if (!tag.empty()) {
    auto it = tags.find(tag);
    if (it != tags.end()) rec = it->second;
  }
  if (!rec) {
    rec = types_.define(is_union ? CType::Union : CType::Struct, tag);
    if (!tag.empty()) tags.emplace(tag, rec);
  }
  const Type t = defined_type(Kind::Record, 0, false, rec.get());
  if (!at(Tok::LBrace)) return t;
  if (rec->complete) fail(loc, std::string(keyword) + " " + tag + " is already defined");
  advance();
  if (at(Tok::RBrace)) syntax_error();  // C: at least one member
  while (!at(Tok::RBrace)) {
    if (!at_type_start()) syntax_error();
    const Type base = parse_type();
    for (;;) {
      Type mt = pointers(base);
      if (!at(Tok::Ident)) syntax_error();
      const std::string name = cur_.text;
      const Loc mloc = cur_.loc;
      advance();
      mt = array_dims(mt);
      if (at(Tok::Colon)) fail(cur_.loc, "bit-field members are not supported");
      if (mt.is_void() || (mt.is_record() && !mt.c->complete))
        fail(mloc, "member " + name + " has incomplete type " + mt.name());
      if (mt.is_string()) fail(mloc, "member " + name + " may not be a string");
      if (rec->member(name)) fail(mloc, "member " + name + " is already defined");
      rec->members.push_back({name, mt, 0});
      if (!at(Tok::Comma)) break;
      advance();
    }
    expect_advance(Tok::Semi);
  }
  advance();
  lay_out(*rec);
  return t;
}

// enum [tag] [{ NAME [= constant] {, NAME [= constant]} }]
Type Parser::enum_type() {
  const std::string tag = keyword_and_tag();
  std::shared_ptr<CType> en;
  if (!tag.empty()) {
    auto it = types_.enums.find(tag);
    if (it != types_.enums.end()) en = it->second;
  }
  if (!en) {
    en = types_.define(CType::Enum, tag);
    en->size = 4;
    en->align = 4;
    if (!tag.empty()) types_.enums.emplace(tag, en);
  }
  const Type t = defined_type(Kind::Int, 4, true, en.get());
  if (!at(Tok::LBrace)) return t;
  if (en->complete) fail(cur_.loc, "enum " + tag + " is already defined");
  advance();
  int64_t next = 0;
  if (at(Tok::RBrace)) syntax_error();  // C: at least one enumerator
  while (!at(Tok::RBrace)) {
    if (!at(Tok::Ident)) syntax_error();
    const std::string name = cur_.text;
    advance();
    if (at(Tok::Assign)) {
      advance();
      ast::ExprPtr v = ternary();
      // As dtrace, a bad value is reported where the parser stands after it.
      if (v->kind == ast::ExprKind::StrLit)
        fail(cur_.loc, "enumerator " + name + " must be assigned an integral constant expression");
      next = constant_of(*v);
    }
    if (next < INT32_MIN || next > INT32_MAX)
      fail(cur_.loc, "enumerator " + name + " value overflows int (" + std::to_string(next) + ")");
    if (types_.enumerators.count(name)) fail(cur_.loc, "identifier redeclared: " + name);
    en->enumerators.emplace_back(name, next);
    types_.enumerators[name] = {next, t};
    ++next;
    if (!at(Tok::Comma)) break;
    advance();
  }
  expect_advance(Tok::RBrace);
  en->complete = true;
  return t;
}

// typedef type declarator {, declarator} ;
void Parser::typedef_decl() {
  advance();
  if (!at_type_start()) syntax_error();
  const Type base = parse_type();
  for (;;) {
    Type t = pointers(base);
    if (!at(Tok::Ident) && !at(Tok::TypeName)) syntax_error();
    const std::string name = cur_.text;
    const Loc loc = cur_.loc;
    if (types_.typedefs.count(name)) fail(loc, "type redeclared: " + name);
    advance();
    t = array_dims(t);
    types_.typedefs[name] = t;
    types_.typedef_names.insert(name);
    if (!at(Tok::Comma)) break;
    advance();
  }
  expect(Tok::Semi);
}

// An integer constant expression of a declaration: literals, enumerators, sizeof of a type, and
// C's operators on them.
int64_t Parser::constant_of(const ast::Expr& e) const {
  using ast::ExprKind;
  using ast::Op;
  switch (e.kind) {
    case ExprKind::IntLit:
      return e.ival;
    case ExprKind::SizeofType:
      return static_cast<int64_t>(e.cast_type.bytes());
    case ExprKind::Unary:
      if (auto v = fold_unary(e.op, constant_of(*e.kids[0]))) return *v;
      break;
    case ExprKind::Binary: {
      const int64_t l = constant_of(*e.kids[0]), r = constant_of(*e.kids[1]);
      if ((e.op == Op::Div || e.op == Op::Mod) && r == 0)
        fail(e.loc, "expression contains division by zero");
      if (auto v = fold_binary(e.op, l, r)) return *v;
      break;
    }
    default:
      break;
  }
  fail(e.loc, "integer constant expression expected");
}

}  // namespace vtrace::lang
