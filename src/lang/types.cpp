#include "lang/types.h"

namespace vtrace::lang {

std::string Type::name() const {
  switch (kind) {
    case Kind::Void: return "void";
    case Kind::String: return "string";
    case Kind::Int: break;
  }
  std::string base;
  switch (size) {
    case 1: base = "char"; break;
    case 2: base = "short"; break;
    case 4: base = "int"; break;
    default: base = "long long"; break;
  }
  return is_signed ? base : "unsigned " + base;
}

int64_t narrow(int64_t v, Type t) {
  if (!t.is_int() || t.size >= 8) return v;
  const int bits = t.size * 8;
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  uint64_t u = static_cast<uint64_t>(v) & mask;
  if (t.is_signed && (u >> (bits - 1)) != 0) u |= ~mask;
  return static_cast<int64_t>(u);
}

}  // namespace vtrace::lang
