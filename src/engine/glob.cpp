#include "engine/glob.h"

namespace vtrace::engine {

namespace {

// Matches one [...] class at pattern[p] against c; sets p past the class. A malformed class
// (no closing ']') matches '[' literally.
bool match_class(std::string_view pat, size_t& p, char c) {
  size_t i = p + 1;
  bool negate = i < pat.size() && (pat[i] == '!' || pat[i] == '^');
  if (negate) ++i;
  bool found = false;
  bool first = true;
  while (i < pat.size() && (first || pat[i] != ']')) {
    first = false;
    char lo = pat[i];
    if (lo == '\\' && i + 1 < pat.size()) lo = pat[++i];
    char hi = lo;
    if (i + 2 < pat.size() && pat[i + 1] == '-' && pat[i + 2] != ']') {
      hi = pat[i + 2];
      i += 2;
    }
    if (c >= lo && c <= hi) found = true;
    ++i;
  }
  if (i >= pat.size()) {  // unterminated: a literal '['
    ++p;
    return c == '[';
  }
  p = i + 1;
  return found != negate;
}

}  // namespace

bool has_glob_chars(std::string_view s) {
  return s.find_first_of("*?[\\") != std::string_view::npos;
}

bool glob_match(std::string_view pat, std::string_view text) {
  // Iterative matcher with single-star backtracking: linear in practice, never exponential.
  size_t p = 0, t = 0;
  size_t star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pat.size()) {
      char pc = pat[p];
      if (pc == '*') {
        star_p = ++p;
        star_t = t;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++t;
        continue;
      }
      if (pc == '[') {
        size_t np = p;
        if (match_class(pat, np, text[t])) {
          p = np;
          ++t;
          continue;
        }
      } else {
        if (pc == '\\' && p + 1 < pat.size()) pc = pat[++p];
        if (pc == text[t]) {
          ++p;
          ++t;
          continue;
        }
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    t = ++star_t;
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

}  // namespace vtrace::engine
