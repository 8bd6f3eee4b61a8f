// A D source text and the compile errors that point into it (file:line:col and a caret line).
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace vtrace::lang {

struct Loc {
  uint32_t line = 0;  // 1-based; 0 = no position
  uint32_t col = 0;   // 1-based
};

struct Source {
  std::string name;  // file name, or "<command line>" for -n
  std::string text;
  // A script file (-s): as dtrace, a probe description there needs a predicate or actions
  // (`vtrace -n BEGIN` has neither).
  bool from_file = false;
  // The text as written when `text` is its preprocessed form (-C); errors show its lines.
  std::string original = {};

  // The text of line n (1-based) without its newline; "" when out of range.
  std::string line_text(uint32_t n) const;
};

// A compile error. what() is the one-line message; render() adds the position, source line and
// caret, as printed by the vtrace command:
//   x.d:3:10: error: syntax error near "foo"
//       trace(foo bar);
//                 ^
class CompileError : public std::runtime_error {
 public:
  CompileError(const Source& src, Loc loc, const std::string& message);
  // An error with no source position (e.g. a bad option).
  explicit CompileError(const std::string& message);

  const std::string& file() const { return file_; }
  Loc loc() const { return loc_; }
  const std::string& message() const { return message_; }
  std::string render() const;

 private:
  std::string file_;
  Loc loc_;
  std::string message_;
  std::string line_;
};

}  // namespace vtrace::lang
