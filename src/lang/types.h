// D value types as vtrace models them: integers of C sizes and signedness, strings, and C's
// derived types (pointers, arrays, structs, unions, enums). Every integer value lives in a 64-bit
// register, sign- or zero-extended from its type; a pointer is an unsigned 64-bit integer that
// also knows what it points at, so everything past the compiler sees it as an integer. Arrays,
// structs and unions are never register values: they exist only in memory (alloca'd scratch).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace vtrace::lang {

enum class Kind : uint8_t { Void, Int, String, Array, Record };

// What an integer stands for beyond its value: a stack() / ustack() value is the engine's id of
// the return addresses gathered at the probe, printed as symbolized frames.
enum class Tag : uint8_t { None, Stack, Ustack };

struct CType;

struct Type {
  Kind kind = Kind::Void;
  uint8_t size = 8;       // bytes, for Int: 1, 2, 4 or 8
  bool is_signed = true;  // for Int
  Tag tag = Tag::None;    // for Int
  // Pointer (an Int of 8 bytes), enum (an Int of 4), Array and Record: what the type is made of.
  std::shared_ptr<const CType> c;

  static Type basic(Kind kind, uint8_t size, bool is_signed, Tag tag = Tag::None) {
    Type t;
    t.kind = kind;
    t.size = size;
    t.is_signed = is_signed;
    t.tag = tag;
    return t;
  }
  static Type void_type() { return basic(Kind::Void, 0, false); }
  static Type str() { return basic(Kind::String, 0, false); }
  static Type int_of(uint8_t size, bool is_signed) { return basic(Kind::Int, size, is_signed); }
  static Type i64() { return int_of(8, true); }
  static Type u64() { return int_of(8, false); }
  static Type i32() { return int_of(4, true); }
  static Type stack(bool user) {
    return basic(Kind::Int, 8, false, user ? Tag::Ustack : Tag::Stack);
  }
  static Type pointer_to(Type target);
  static Type array_of(Type element, uint64_t count);

  bool is_int() const { return kind == Kind::Int; }
  bool is_string() const { return kind == Kind::String; }
  bool is_void() const { return kind == Kind::Void; }
  bool is_stack() const { return tag != Tag::None; }
  bool is_pointer() const;
  bool is_array() const { return kind == Kind::Array; }
  bool is_record() const { return kind == Kind::Record; }
  bool is_enum() const;
  // A plain integer: not a pointer (enums are integers).
  bool is_arith() const { return is_int() && !is_pointer(); }
  // What a pointer points at, or an array's element.
  const Type& target() const;
  // sizeof: the bytes the type occupies in memory (strings: their strsize-free 8-byte handle).
  uint64_t bytes() const;
  // How many pointer and array types nest here (0 for a plain type): what name() recurses on.
  uint32_t depth() const;
  uint32_t align() const;

  // Same type: integers by size and sign, derived types by what they are made of.
  bool operator==(const Type& o) const;

  // C spelling, e.g. "int", "unsigned long long", "string", "struct foo *", "char [8]".
  std::string name() const;
};

struct Member {
  std::string name;
  Type type;
  uint64_t offset = 0;
};

struct CType {
  enum Form : uint8_t { Pointer, Array, Struct, Union, Enum } form = Pointer;
  Type target;         // Pointer: the pointee; Array: the element
  uint64_t count = 0;  // Array
  std::string tag;     // Struct, Union, Enum: the name after the keyword ("" when anonymous)
  std::vector<Member> members;                               // Struct, Union
  std::vector<std::pair<std::string, int64_t>> enumerators;  // Enum
  uint64_t size = 0;
  uint32_t align = 1;
  bool complete = false;  // a struct declared ahead ("struct foo;") is not, until defined
  uint32_t depth = 1;     // pointers and arrays nested in this one, itself included

  const Member* member(const std::string& name) const {
    for (const Member& m : members)
      if (m.name == name) return &m;
    return nullptr;
  }
};

inline uint32_t Type::depth() const {
  return c && (c->form == CType::Pointer || c->form == CType::Array) ? c->depth : 0;
}

// A struct, union or enum definition is owned by the program that declared it (TypeScope while
// parsing, then ast::Program and bytecode::Module); the Types that name it refer to it without
// owning it, so a self-referential struct (struct node { struct node *next; }) makes no cycle.
inline Type defined_type(Kind kind, uint8_t size, bool is_signed, const CType* def) {
  Type t = Type::basic(kind, size, is_signed);
  t.c = std::shared_ptr<const CType>(std::shared_ptr<const CType>(), def);
  return t;
}

// Truncate and re-extend a 64-bit value to an integer type (what a cast or a store does).
inline int64_t narrow(int64_t v, const Type& t) {
  if (t.kind != Kind::Int || t.size >= 8) return v;
  const int bits = t.size * 8;
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  uint64_t u = static_cast<uint64_t>(v) & mask;
  if (t.is_signed && (u >> (bits - 1)) != 0) u |= ~mask;
  return static_cast<int64_t>(u);
}

}  // namespace vtrace::lang
