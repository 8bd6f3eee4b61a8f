// The byte encoding of a tuple key (aggregation keys, associative-array keys). Element types are
// fixed per aggregation/array by the checker, so the encoding needs no type tags:
//   integer -> 8 bytes, the int64 in host byte order
//   string  -> its bytes followed by one NUL (strings never contain NUL)
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "lang/types.h"

namespace vtrace::bytecode {

inline void tuple_put_int(std::string& key, int64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  key.append(b, 8);
}

inline void tuple_put_str(std::string& key, std::string_view s) {
  key.append(s.data(), s.size());
  key.push_back('\0');
}

// One decoded element of a tuple.
struct TupleElem {
  lang::Type type;
  int64_t i = 0;       // when type is Int
  std::string_view s;  // when type is String (points into the key)
};

// Decodes `key` according to `types`. Returns false when the key does not fit the types.
inline bool tuple_decode(std::string_view key, const std::vector<lang::Type>& types,
                         std::vector<TupleElem>& out) {
  out.clear();
  size_t pos = 0;
  for (const auto& t : types) {
    TupleElem e;
    e.type = t;
    if (t.is_string()) {
      size_t end = key.find('\0', pos);
      if (end == std::string_view::npos) return false;
      e.s = key.substr(pos, end - pos);
      pos = end + 1;
    } else {
      if (pos + 8 > key.size()) return false;
      std::memcpy(&e.i, key.data() + pos, 8);
      pos += 8;
    }
    out.push_back(e);
  }
  return pos == key.size();
}

}  // namespace vtrace::bytecode
