// Bytes as lowercase hex (tracemem()'s dump in the structured formats).
#pragma once
#include <string>
#include <string_view>

namespace vtrace::exporters {

inline std::string hex_bytes(std::string_view bytes) {
  static const char* const kHex = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * bytes.size());
  for (const char c : bytes) {
    hex += kHex[static_cast<unsigned char>(c) >> 4];
    hex += kHex[static_cast<unsigned char>(c) & 15];
  }
  return hex;
}

}  // namespace vtrace::exporters
