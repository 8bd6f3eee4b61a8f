// The D name of a probe an instrumented program or a USDT note declares: "__" in the C name
// becomes "-" (DTrace's convention: `query__start` is probe `query-start`). Shared by the host
// targets, the guest agent and the catalog.
#pragma once
#include <string>

namespace vtrace::sys {

inline std::string d_probe_name(const std::string& raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '_' && i + 1 < raw.size() && raw[i + 1] == '_') {
      out += '-';
      ++i;
    } else {
      out += raw[i];
    }
  }
  return out;
}

}  // namespace vtrace::sys
