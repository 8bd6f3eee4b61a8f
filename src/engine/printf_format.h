// DTrace's printf(): format-string parsing, compile-time argument checking, and formatting.
// Also the formats of trace() and of printa() with a "%@" conversion.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lang/types.h"

namespace vtrace::engine {

class StackTable;

// One runtime argument of printf/printa/trace.
struct FormatArg {
  lang::Type type;     // Int (with its size/signedness) or String
  int64_t i = 0;       // Int value, already narrowed to its type; a stack's id in `stacks`
  std::string_view s;  // String value
  const StackTable* stacks = nullptr;  // where a stack value's frames are (nullptr: not printed)
};

class Aggregation;

class PrintfFormat {
 public:
  // Parses `fmt` (escapes already decoded by the lexer). On error returns false and sets `error`
  // to a message as DTrace words it (e.g. "printf( ) format contains an invalid conversion").
  bool parse(std::string_view fmt, std::string& error);

  // Checks the argument types against the conversions, as dtrace does at compile time
  // (e.g. "%s" needs a string, "%d" an integer, the argument count must match). `first_arg` is
  // the 1-based position of the first value argument after the format, for messages such as
  // "printf( ) argument #2 is incompatible with conversion #1 prototype".
  bool check_args(const std::vector<lang::Type>& types, std::string& error,
                  int first_arg = 2) const;

  // printa(): checks `key_types` against the conversions other than %@; the "%@" conversions
  // take the aggregation value.
  bool check_printa(const std::vector<lang::Type>& key_types, std::string& error) const;

  // Appends the formatted text to `out`.
  void format(std::string& out, std::span<const FormatArg> args) const;

  bool has_agg_conversion() const;  // contains %@
  const std::string& text() const { return text_; }

  // Internal representation: literal text and conversions. Public so Aggregation::printa can
  // walk it; treat as read-only.
  struct Conv {
    std::string literal;  // text before the conversion (already unescaped)
    char conv = 0;        // 'd','i','u','x','X','o','c','s','p','e','f','g','E','G','%'; 0 = tail
    bool agg = false;     // %@...
    std::string flags;    // any of "-0+ #"
    int width = -1;       // -1 = none; -2 = '*' (taken from an argument)
    int precision = -1;   // -1 = none; -2 = '*'
    std::string length;   // "", "h", "hh", "l", "ll", ...
  };
  const std::vector<Conv>& convs() const { return convs_; }

 private:
  std::string text_;
  std::vector<Conv> convs_;
};

// trace(): appends one value as dtrace prints it. Quiet mode prints the bare value; otherwise the
// value gets dtrace's column width for its size (" %16lld" for 8-byte integers, ...).
void format_trace(std::string& out, const FormatArg& arg, bool quiet);

}  // namespace vtrace::engine
