// Firing: owning its strings, and its size in a speculation buffer.
#include "engine/consumer.h"

#include <cstring>

namespace vtrace::engine {

void Firing::own() {
  size_t total = 0;
  for (const FormatArg& v : values)
    if (v.type.is_string()) total += v.s.size();
  auto buf = std::make_unique<char[]>(total + 1);
  char* p = buf.get();
  for (FormatArg& v : values) {
    if (!v.type.is_string()) continue;
    if (!v.s.empty()) std::memcpy(p, v.s.data(), v.s.size());
    v.s = std::string_view(p, v.s.size());
    p += v.s.size();
  }
  strings_ = std::move(buf);
}

uint64_t Firing::buffer_bytes(uint64_t strsize) const {
  uint64_t n = 16;  // dtrace_rechdr_t (EPID and timestamp), 8-byte aligned
  for (const FormatArg& v : values) n += v.type.is_string() ? strsize : 8;
  return n;
}

}  // namespace vtrace::engine
