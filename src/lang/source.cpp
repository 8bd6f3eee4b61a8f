#include "lang/source.h"

#include <cstdio>
#include <string_view>
#include <vector>

namespace vtrace::lang {

std::string Source::line_text(uint32_t n) const {
  if (n == 0) return "";
  const std::string& text = original.empty() ? this->text : original;
  size_t pos = 0;
  for (uint32_t i = 1; i < n; ++i) {
    pos = text.find('\n', pos);
    if (pos == std::string::npos) return "";
    ++pos;
  }
  size_t end = text.find('\n', pos);
  return text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

CompileError::CompileError(const Source& src, Loc loc, const std::string& message)
    : std::runtime_error(message),
      file_(src.name),
      loc_(loc),
      message_(message),
      line_(src.line_text(loc.line)) {}

CompileError::CompileError(const std::string& message)
    : std::runtime_error(message), message_(message) {}

namespace {

// One character of the echoed source line: how it is shown, and what goes under it in the caret
// line (a tab stays a tab so the caret lines up; anything else is as many spaces as it is wide).
struct Shown {
  size_t byte = 0;  // its offset in the line
  std::string text;
  std::string pad;
};

// Length of the valid UTF-8 sequence at s[i] (2-4 bytes, not a C1 control), 0 if none.
size_t utf8_len(std::string_view s, size_t i) {
  const auto u = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = u(i);
  const size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((u(i + k) & 0xc0) != 0x80) return 0;
  if (n == 2 && c == 0xc2 && u(i + 1) < 0xa0) return 0;  // U+0080..U+009F: C1 controls
  return n;
}

// The line split into shown characters: control bytes and stray bytes as \xNN, so an error never
// writes raw terminal control sequences from a script.
std::vector<Shown> shown_chars(std::string_view line) {
  std::vector<Shown> out;
  for (size_t i = 0; i < line.size();) {
    Shown c;
    c.byte = i;
    const unsigned char u = static_cast<unsigned char>(line[i]);
    if (u == '\t') {
      c.text = c.pad = "\t";
      i++;
    } else if (u >= 0x20 && u < 0x7f) {
      c.text = std::string(1, line[i]);
      c.pad = " ";
      i++;
    } else if (const size_t n = utf8_len(line, i); n > 0) {
      c.text = std::string(line.substr(i, n));
      c.pad = " ";
      i += n;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      c.text = buf;
      c.pad = "    ";
      i++;
    }
    out.push_back(std::move(c));
  }
  return out;
}

// Columns a shown character takes when budgeting the window (a tab counts as a full stop).
size_t width_of(const Shown& c) {
  return c.pad == "\t" ? 8 : c.pad.size();
}

}  // namespace

std::string CompileError::render() const {
  if (loc_.line == 0) return file_.empty() ? message_ : file_ + ": " + message_;
  std::string out = file_ + ":" + std::to_string(loc_.line) + ":" + std::to_string(loc_.col) +
                    ": error: " + message_ + "\n";
  const std::vector<Shown> chars = shown_chars(line_);
  // The shown character the caret points at (chars.size(): past the end of the line).
  const size_t byte = loc_.col > 0 ? loc_.col - 1 : 0;
  size_t at = 0;
  while (at < chars.size() && chars[at].byte < byte) at++;
  if (at > 0 && byte < line_.size() && (at == chars.size() || chars[at].byte > byte))
    at--;  // inside a multi-byte character: point at it
  // A long line (a 200 KB one-liner) is cut to a window of about kContext columns either side of
  // the caret, with "..." where it was cut.
  constexpr size_t kContext = 60;
  size_t lo = at, hi = at, left = 0, right = 0;
  while (lo > 0 && left + width_of(chars[lo - 1]) <= kContext) left += width_of(chars[--lo]);
  while (hi < chars.size() && right + width_of(chars[hi]) <= kContext)
    right += width_of(chars[hi++]);
  const std::string cut_before = lo > 0 ? "..." : "";
  out += "    " + cut_before;
  for (size_t i = lo; i < hi; ++i) out += chars[i].text;
  if (hi < chars.size()) out += "...";
  out += "\n    " + std::string(cut_before.size(), ' ');
  for (size_t i = lo; i < at; ++i) out += chars[i].pad;
  out += "^";
  return out;
}

}  // namespace vtrace::lang
