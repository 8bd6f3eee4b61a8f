// C's operators on integer constants, as the compiler folds them (array dimensions, enum values,
// division by a constant zero): wrapping arithmetic, shift counts modulo 64. Nothing when C has
// no value (a division by zero, INT64_MIN / -1) or the operator folds nothing.
#pragma once
#include <cstdint>
#include <optional>

#include "lang/ast.h"

namespace vtrace::lang {

inline std::optional<int64_t> fold_unary(ast::Op op, int64_t v) {
  switch (op) {
    case ast::Op::Neg:
      return static_cast<int64_t>(0 - static_cast<uint64_t>(v));
    case ast::Op::Plus:
      return v;
    case ast::Op::BitNot:
      return ~v;
    case ast::Op::LogNot:
      return v == 0;
    default:
      return std::nullopt;
  }
}

inline std::optional<int64_t> fold_binary(ast::Op op, int64_t l, int64_t r) {
  const uint64_t a = static_cast<uint64_t>(l), b = static_cast<uint64_t>(r);
  switch (op) {
    case ast::Op::Add:
      return static_cast<int64_t>(a + b);
    case ast::Op::Sub:
      return static_cast<int64_t>(a - b);
    case ast::Op::Mul:
      return static_cast<int64_t>(a * b);
    case ast::Op::Div:
      if (r == 0 || (r == -1 && l == INT64_MIN)) return std::nullopt;
      return l / r;
    case ast::Op::Mod:
      if (r == 0 || r == -1) return std::nullopt;
      return l % r;
    case ast::Op::Shl:
      return static_cast<int64_t>(a << (b & 63));
    case ast::Op::Shr:
      return l >> (b & 63);
    case ast::Op::BitAnd:
      return l & r;
    case ast::Op::BitOr:
      return l | r;
    case ast::Op::BitXor:
      return l ^ r;
    default:
      return std::nullopt;
  }
}

}  // namespace vtrace::lang
