#include "lang/types.h"

namespace vtrace::lang {

std::string Type::name() const {
  switch (kind) {
    case Kind::Void:
      return "void";
    case Kind::String:
      return "string";
    case Kind::Int:
      break;
  }
  if (tag == Tag::Stack) return "stack";
  if (tag == Tag::Ustack) return "ustack";
  std::string base;
  switch (size) {
    case 1:
      base = "char";
      break;
    case 2:
      base = "short";
      break;
    case 4:
      base = "int";
      break;
    default:
      base = "long long";
      break;
  }
  return is_signed ? base : "unsigned " + base;
}

}  // namespace vtrace::lang
