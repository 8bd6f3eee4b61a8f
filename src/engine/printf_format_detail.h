// Internal to the engine: formatting of one printf conversion, shared by PrintfFormat::format and
// Aggregation::printa (which feeds keys and the aggregated value to the conversions itself).
#pragma once
#include <string>

#include "engine/printf_format.h"

namespace vtrace::engine::detail {

// Appends `arg` formatted by `c` (flags, conversion) with the resolved `width` and `precision`
// (0 or less = none: dtrace drops a zero width/precision, "%.0s" prints the whole string).
void format_conv(std::string& out, const PrintfFormat::Conv& c, const FormatArg& arg, int width,
                 int precision);

// snprintf into `out` (for the fixed dtrace layouts).
void appendf(std::string& out, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace vtrace::engine::detail
