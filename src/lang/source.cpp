#include "lang/source.h"

namespace vtrace::lang {

std::string Source::line_text(uint32_t n) const {
  if (n == 0) return "";
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

std::string CompileError::render() const {
  if (loc_.line == 0) return file_.empty() ? message_ : file_ + ": " + message_;
  std::string out = file_ + ":" + std::to_string(loc_.line) + ":" + std::to_string(loc_.col) +
                    ": error: " + message_ + "\n";
  out += "    " + line_ + "\n    ";
  // Keep tabs so the caret lines up under the offending column.
  for (uint32_t i = 1; i < loc_.col && i - 1 < line_.size(); ++i)
    out += line_[i - 1] == '\t' ? '\t' : ' ';
  out += "^";
  return out;
}

}  // namespace vtrace::lang
