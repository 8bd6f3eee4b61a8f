// D value types as vtrace models them: integers of C sizes and signedness, and strings.
// Every integer value lives in a 64-bit register, sign- or zero-extended from its type.
#pragma once
#include <cstdint>
#include <string>

namespace vtrace::lang {

enum class Kind : uint8_t { Void, Int, String };

// What an integer stands for beyond its value: a stack() / ustack() value is the engine's id of
// the return addresses gathered at the probe, printed as symbolized frames.
enum class Tag : uint8_t { None, Stack, Ustack };

struct Type {
  Kind kind = Kind::Void;
  uint8_t size = 8;       // bytes, for Int: 1, 2, 4 or 8
  bool is_signed = true;  // for Int
  Tag tag = Tag::None;    // for Int

  static Type void_type() { return {Kind::Void, 0, false}; }
  static Type str() { return {Kind::String, 0, false}; }
  static Type int_of(uint8_t size, bool is_signed) { return {Kind::Int, size, is_signed}; }
  static Type i64() { return int_of(8, true); }
  static Type u64() { return int_of(8, false); }
  static Type i32() { return int_of(4, true); }
  static Type stack(bool user) { return {Kind::Int, 8, false, user ? Tag::Ustack : Tag::Stack}; }

  bool is_int() const { return kind == Kind::Int; }
  bool is_string() const { return kind == Kind::String; }
  bool is_void() const { return kind == Kind::Void; }
  bool is_stack() const { return tag != Tag::None; }
  bool operator==(const Type&) const = default;

  // C spelling, e.g. "int", "unsigned long long", "string".
  std::string name() const;
};

// Truncate and re-extend a 64-bit value to an integer type (what a cast or a store does).
inline int64_t narrow(int64_t v, Type t) {
  if (t.kind != Kind::Int || t.size >= 8) return v;
  const int bits = t.size * 8;
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  uint64_t u = static_cast<uint64_t>(v) & mask;
  if (t.is_signed && (u >> (bits - 1)) != 0) u |= ~mask;
  return static_cast<int64_t>(u);
}

}  // namespace vtrace::lang
