#include "lang/types.h"

namespace vtrace::lang {

Type Type::pointer_to(Type target) {
  auto c = std::make_shared<CType>();
  c->form = CType::Pointer;
  c->depth = target.depth() + 1;
  c->target = std::move(target);
  c->size = 8;
  c->align = 8;
  c->complete = true;
  Type t = u64();
  t.c = std::move(c);
  return t;
}

Type Type::array_of(Type element, uint64_t count) {
  auto c = std::make_shared<CType>();
  c->form = CType::Array;
  c->size = element.bytes() * count;
  c->align = element.align();
  c->count = count;
  c->depth = element.depth() + 1;
  c->target = std::move(element);
  c->complete = true;
  Type t = basic(Kind::Array, 0, false);
  t.c = std::move(c);
  return t;
}

bool Type::is_pointer() const {
  return kind == Kind::Int && c && c->form == CType::Pointer;
}

bool Type::is_enum() const {
  return kind == Kind::Int && c && c->form == CType::Enum;
}

const Type& Type::target() const {
  static const Type none;
  return c ? c->target : none;
}

uint64_t Type::bytes() const {
  switch (kind) {
    case Kind::Void:
      return 0;
    case Kind::String:
      return 8;
    case Kind::Int:
      return size;
    case Kind::Array:
    case Kind::Record:
      return c ? c->size : 0;
  }
  return 0;
}

uint32_t Type::align() const {
  switch (kind) {
    case Kind::Int:
      return size;
    case Kind::Array:
    case Kind::Record:
      return c ? c->align : 1;
    default:
      return 8;
  }
}

bool Type::operator==(const Type& o) const {
  if (kind != o.kind || size != o.size || is_signed != o.is_signed || tag != o.tag) return false;
  if (c == o.c) return true;
  if (!c || !o.c || c->form != o.c->form) return false;
  switch (c->form) {
    case CType::Pointer:
      return c->target == o.c->target;
    case CType::Array:
      return c->count == o.c->count && c->target == o.c->target;
    default:
      return false;  // one struct, union or enum is one definition
  }
}

std::string Type::name() const {
  if (c) {
    switch (c->form) {
      case CType::Pointer: {
        std::string t = c->target.name();
        return t + (t.back() == '*' ? "*" : " *");
      }
      case CType::Array:
        return c->target.name() + " [" + std::to_string(c->count) + "]";
      case CType::Struct:
        return "struct " + c->tag;
      case CType::Union:
        return "union " + c->tag;
      case CType::Enum:
        return "enum " + c->tag;
    }
  }
  switch (kind) {
    case Kind::Void:
      return "void";
    case Kind::String:
      return "string";
    case Kind::Array:
    case Kind::Record:
      return "?";
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
