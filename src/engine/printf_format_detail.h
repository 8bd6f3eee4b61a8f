// Internal to the engine: formatting of one printf conversion, shared by PrintfFormat::format and
// Aggregation::printa (which feeds keys and the aggregated value to the conversions itself).
#pragma once
#include <cstdint>
#include <string>

#include "engine/printf_format.h"

namespace vtrace::engine::detail {

// The widest field width or precision vtrace formats. dtrace(1) has no limit (libdtrace passes
// the width to printf(3)), so "%*d" with 2147483647 writes a 2 GB line; and a traced program
// can supply a '*' value as a probe argument. 8192 columns is wider than any terminal or column
// layout while bounding what one conversion adds to a line (%s precision needs no cap: it only
// cuts a string that strsize already bounds).
constexpr int kMaxFieldWidth = 8192;

// A width or precision clamped to [-kMaxFieldWidth, kMaxFieldWidth]; a negative width
// left-justifies, as in printf(3). format_conv() applies it.
inline int clamp_field(int64_t v) {
  return static_cast<int>(v < -kMaxFieldWidth  ? -kMaxFieldWidth
                          : v > kMaxFieldWidth ? kMaxFieldWidth
                                               : v);
}

// A '*' argument as the int printf(3) takes, saturated rather than truncated (2^32 + 5 is not 5).
inline int star_value(int64_t v) {
  return static_cast<int>(v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : v);
}

// Appends `arg` formatted by `c` (flags, conversion) with the resolved `width` and `precision`
// (0 or less = none: dtrace drops a zero width/precision, "%.0s" prints the whole string).
void format_conv(std::string& out, const PrintfFormat::Conv& c, const FormatArg& arg, int width,
                 int precision);

// snprintf into `out` (for the fixed dtrace layouts).
void appendf(std::string& out, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace vtrace::engine::detail
