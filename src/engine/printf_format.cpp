// printf()/printa()/trace() formatting as libdtrace's dt_printf.c and dt_consume.c do it.
#include "engine/printf_format.h"

#include <charconv>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "engine/printf_format_detail.h"
#include "engine/stack_table.h"

namespace vtrace::engine {

namespace {

bool is_int_conv(char c) {
  return std::strchr("diuxXoc", c) != nullptr;
}
bool is_fp_conv(char c) {
  return std::strchr("eEfgG", c) != nullptr;
}

// The argument prototypes dtrace names in its messages (dt_printf.c pfproto_*).
const char* prototype(char c) {
  switch (c) {
    case 'c':
      return "char, short, or int";
    case 's':
      return "char [] or string (or use stringof)";
    case 'k':
      return "stack";
    case 'p':
      return "pointer or integer";
    case 'e':
    case 'E':
    case 'f':
    case 'g':
    case 'G':
      return "float, double, or long double";
    default:
      return "char, short, int, long, or long long";
  }
}

// vtrace has no floating-point type, so %e/%f/%g take integers (dtrace would reject them).
bool arg_fits(char c, const lang::Type& t) {
  if (c == 's') return t.is_string();
  if (c == 'k') return t.is_stack();
  if (t.is_stack()) return false;  // a stack prints only with %k
  if (c == 'c') return t.is_int() && t.size <= 4;
  return t.is_int();
}

std::string conv_name(const PrintfFormat::Conv& c) {
  return c.length + c.conv;
}

std::string flags_in_order(const std::string& f) {
  std::string out;
  for (char c : std::string_view("#0-+ "))
    if (f.find(c) != std::string::npos) out.push_back(c);
  return out;
}

std::string msg(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string msg(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

// The shared argument check of dt_printf_validate(): `func` names the action, `exact` rejects
// extra arguments (printf), `agg` allows %@ (printa).
bool validate(const std::vector<PrintfFormat::Conv>& convs, const std::string& text,
              const std::vector<lang::Type>& types, std::string& error, const char* func,
              int first_arg, bool exact, bool agg) {
  if (text.empty()) {
    error = msg("%s( ) format string is empty", func);
    return false;
  }
  size_t j = 0;
  for (size_t i = 0; i < convs.size(); i++) {
    const auto& c = convs[i];
    if (c.conv == 0 || c.conv == '%') continue;
    const int n = static_cast<int>(i) + 1;
    const std::string name = conv_name(c);
    // A '*' width is consumed before a '*' precision, both before the value.
    for (const char* dyn : {"*", ".*"}) {
      if ((dyn[0] == '*' ? c.width : c.precision) != -2) continue;
      if (j >= types.size()) {
        error =
            msg("%s( ) prototype mismatch: conversion #%d (%%%s) is missing a corresponding "
                "\"%s\" argument",
                func, n, name.c_str(), dyn);
        return false;
      }
      if (!types[j].is_int()) {
        error = msg(
            "%s( ) argument #%d is incompatible with conversion #%d prototype:\n"
            "\tconversion: %% %s %s\n\t prototype: int\n\t  argument: %s",
            func, static_cast<int>(j) + first_arg, n, dyn, name.c_str(), types[j].name().c_str());
        return false;
      }
      j++;
    }
    lang::Type t;
    std::string what;
    if (c.agg) {
      if (!agg) {
        error = msg("%%@ conversion requires an aggregation and is not for use with %s( )", func);
        return false;
      }
      t = lang::Type::i64();
      what = "aggregating action";
    } else {
      if (j >= types.size()) {
        error =
            msg("%s( ) prototype mismatch: conversion #%d (%%%s) is missing a corresponding "
                "value argument",
                func, n, name.c_str());
        return false;
      }
      t = types[j];
      what = msg("argument #%d", static_cast<int>(j) + first_arg);
      j++;
    }
    if (!arg_fits(c.conv, t)) {
      const std::string tname = c.agg ? "int64_t" : t.name();
      error =
          msg("%s( ) %s is incompatible with conversion #%d prototype:\n\tconversion: %%%s\n"
              "\t prototype: %s\n\t  argument: %s",
              func, what.c_str(), n, name.c_str(), prototype(c.conv), tname.c_str());
      return false;
    }
  }
  if (exact && j < types.size()) {
    error = msg("%s( ) prototype mismatch: only %d arguments required by this format string", func,
                static_cast<int>(j));
    return false;
  }
  return true;
}

}  // namespace

namespace detail {

void appendf(std::string& out, const char* fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (static_cast<size_t>(n) < sizeof buf) {
    out.append(buf, n);
    return;
  }
  std::string big(static_cast<size_t>(n) + 1, '\0');
  va_start(ap, fmt);
  std::vsnprintf(big.data(), big.size(), fmt, ap);
  va_end(ap);
  out.append(big.data(), n);
}

void format_conv(std::string& out, const PrintfFormat::Conv& c, const FormatArg& arg, int width,
                 int precision) {
  width = clamp_field(width);
  // %s: a precision at least the string's length changes nothing; below it, it cuts the string.
  if (c.conv == 's' && arg.type.is_string() && precision >= static_cast<int>(arg.s.size()))
    precision = 0;
  else if (c.conv != 's')
    precision = clamp_field(precision);
  const bool plain = c.flags.empty() && width == 0 && precision <= 0;
  // Fast paths for the common bare conversions.
  if (plain && c.conv == 's' && arg.type.is_string()) {
    out.append(arg.s);
    return;
  }
  if (plain && (c.conv == 'd' || c.conv == 'i') && arg.type.is_int() && arg.type.is_signed) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, arg.i);
    out.append(buf, r.ptr);
    return;
  }
  // Otherwise rebuild a C conversion the way dt_printf_format() does and let printf(3) do it.
  std::string f = "%" + flags_in_order(c.flags);
  if (width != 0) f += std::to_string(width);
  if (precision > 0) f += "." + std::to_string(precision);
  const lang::Type& t = arg.type;
  const bool wide = t.size >= 8;
  // dtrace passes values of 1-4 byte types as 32-bit ints and 8-byte values with "ll".
  auto as_unsigned = [&]() -> uint64_t {
    const uint64_t u = static_cast<uint64_t>(arg.i);
    return t.size >= 8 ? u : u & ((uint64_t{1} << (t.size * 8)) - 1);
  };
  switch (c.conv) {
    case 'k':  // a stack: pfprint_stack(), the conversion's width lays out each frame
      if (arg.stacks != nullptr)
        out += arg.stacks->format(
            arg.i, sys::printf_stack_layout(width, c.flags.find('-') != std::string::npos));
      return;
    case 's': {
      f += 's';
      std::string s = t.is_string() ? std::string(arg.s) : std::to_string(arg.i);
      appendf(out, f.c_str(), s.c_str());
      return;
    }
    case 'c':
      f += 'c';
      appendf(out, f.c_str(), static_cast<int>(arg.i));
      return;
    case 'd':
    case 'i':
      if (t.is_signed || !t.is_int()) {
        f += wide ? "lld" : "d";
        if (wide)
          appendf(out, f.c_str(), static_cast<long long>(arg.i));
        else
          appendf(out, f.c_str(), static_cast<int>(arg.i));
        return;
      }
      [[fallthrough]];  // %d of an unsigned type becomes %u (pfcheck_dint)
    case 'u':
    case 'x':
    case 'X':
    case 'o':
    case 'p': {
      char conv = c.conv == 'p' ? 'x' : (c.conv == 'd' || c.conv == 'i') ? 'u' : c.conv;
      f += wide ? "ll" : "";
      f += conv;
      if (wide)
        appendf(out, f.c_str(), static_cast<unsigned long long>(as_unsigned()));
      else
        appendf(out, f.c_str(), static_cast<unsigned>(as_unsigned()));
      return;
    }
    default:
      if (is_fp_conv(c.conv)) {
        f += c.conv;
        double v = t.is_signed ? static_cast<double>(arg.i) : static_cast<double>(as_unsigned());
        appendf(out, f.c_str(), v);
      }
      return;
  }
}

}  // namespace detail

bool PrintfFormat::parse(std::string_view fmt, std::string& error) {
  text_ = std::string(fmt);
  convs_.clear();
  std::string literal;
  size_t p = 0;
  int n = 0;  // conversion number, as dtrace counts them (%% included)
  while (p < fmt.size()) {
    if (fmt[p] != '%') {
      literal.push_back(fmt[p++]);
      continue;
    }
    n++;
    Conv c;
    c.literal = std::move(literal);
    literal.clear();
    int digits = 0;
    bool dot = false;
    const size_t start = p;
    for (;;) {
      p++;
      if (p >= fmt.size()) {
        error = msg("format conversion #%d name expected before end of format string", n);
        return false;
      }
      const char ch = fmt[p];
      if (ch >= '0' && ch <= '9') {
        if (!dot && digits == 0 && ch == '0') {  // a leading 0 is the zero-pad flag
          if (c.flags.find('0') == std::string::npos) c.flags.push_back('0');
          if (auto k = c.flags.find('-'); k != std::string::npos) c.flags.erase(k, 1);
          continue;
        }
        int v = 0;
        while (p < fmt.size() && fmt[p] >= '0' && fmt[p] <= '9') {
          if (v < 100000) v = v * 10 + (fmt[p] - '0');
          p++;
        }
        p--;
        int& slot = dot ? c.precision : c.width;
        if (slot != -2) slot = v;
        digits++;
        continue;
      }
      switch (ch) {
        case '#':
        case '+':
        case ' ':
          if (c.flags.find(ch) == std::string::npos) c.flags.push_back(ch);
          continue;
        case '-':
          if (c.flags.find('-') == std::string::npos) c.flags.push_back('-');
          if (auto k = c.flags.find('0'); k != std::string::npos) c.flags.erase(k, 1);
          continue;
        case '*': {
          int& slot = dot ? c.precision : c.width;
          if (slot == -2) {
            error = msg("format conversion #%d has more than one '*' specified for the output %s",
                        n, dot ? "precision" : "width");
            return false;
          }
          slot = -2;
          continue;
        }
        case '.':
          if (dot) {
            error = msg("format conversion #%d has more than one '.' specified", n);
            return false;
          }
          dot = true;
          digits = 0;
          continue;
        case '?':  // pointer-sized width (LP64)
          c.width = 16;
          continue;
        case '@':
          c.agg = true;
          continue;
        case '\'':
          continue;  // thousands grouping: a no-op in the C locale
        case '$':
          error = msg("format conversion #%d uses unsupported positional format (%%n$)", n);
          return false;
        case '%':
          if (p == start + 1) {
            c.conv = '%';
            break;
          }
          error = msg("format conversion #%d cannot be combined with other format flags: %%%%", n);
          return false;
        case 'h':
        case 'l':
        case 'L':
        case 'w':
          if (c.length.size() < 6) c.length.push_back(ch);
          continue;
        default: {
          c.conv = ch;
          const std::string& len = c.length;
          const bool ok = (is_int_conv(ch) && (len.empty() || len == "h" || len == "hh" ||
                                               len == "l" || len == "ll")) ||
                          (len.empty() && (ch == 's' || ch == 'p' || ch == 'k' || is_fp_conv(ch)));
          if (!ok) {
            error = msg("format conversion #%d is undefined: %%%s", n, (len + ch).c_str());
            return false;
          }
          break;
        }
      }
      break;
    }
    p++;
    c.flags = flags_in_order(c.flags);
    convs_.push_back(std::move(c));
  }
  if (!literal.empty() || fmt.empty()) {
    Conv tail;
    tail.literal = std::move(literal);
    convs_.push_back(std::move(tail));
  }
  return true;
}

bool PrintfFormat::check_args(const std::vector<lang::Type>& types, std::string& error,
                              int first_arg) const {
  return validate(convs_, text_, types, error, "printf", first_arg, true, false);
}

bool PrintfFormat::check_printa(const std::vector<lang::Type>& key_types,
                                std::string& error) const {
  // printa() need not use every key; keys are "argument #2" onwards as dtrace numbers them.
  return validate(convs_, text_, key_types, error, "printa", 2, false, true);
}

void PrintfFormat::format(std::string& out, std::span<const FormatArg> args) const {
  size_t k = 0;
  auto dyn = [&](int spec) -> int {
    if (spec != -2) return spec < 0 ? 0 : spec;
    return k < args.size() ? detail::star_value(args[k++].i) : 0;
  };
  for (const auto& c : convs_) {
    out += c.literal;
    if (c.conv == 0) continue;
    if (c.conv == '%') {
      out.push_back('%');
      continue;
    }
    const int width = dyn(c.width);
    const int prec = dyn(c.precision);
    if (c.agg || k >= args.size()) return;  // checked at compile time; never format garbage
    detail::format_conv(out, c, args[k++], width, prec);
  }
}

bool PrintfFormat::has_agg_conversion() const {
  for (const auto& c : convs_)
    if (c.agg) return true;
  return false;
}

void format_trace(std::string& out, const FormatArg& arg, bool quiet) {
  if (arg.type.is_stack()) {
    // dt_print_stack(): its leading "\n" ends the probe line, the frames follow (indent 14).
    if (arg.stacks != nullptr) out += arg.stacks->format(arg.i);
    return;
  }
  if (arg.type.is_string()) {
    // dt_print_bytes(): a NUL-terminated printable string, in a 33-column field.
    if (quiet) {
      out.append(arg.s);
    } else {
      out += "  ";
      out.append(arg.s);
      if (arg.s.size() < 33) out.append(33 - arg.s.size(), ' ');
    }
    return;
  }
  // The value in its type's size and signedness, in the widths of Oracle's dtrace (dt_print_trace:
  // illumos printed 1- and 2-byte values unsigned and narrower columns).
  const int64_t v = arg.i;
  const bool s = arg.type.is_signed;
  switch (arg.type.size) {
    case 1:
      if (s)
        detail::appendf(out, quiet ? "%d" : " %3d", static_cast<int>(static_cast<int8_t>(v)));
      else
        detail::appendf(out, quiet ? "%u" : " %3u", static_cast<unsigned>(static_cast<uint8_t>(v)));
      break;
    case 2:
      if (s)
        detail::appendf(out, quiet ? "%d" : " %5d", static_cast<int>(static_cast<int16_t>(v)));
      else
        detail::appendf(out, quiet ? "%u" : " %5u",
                        static_cast<unsigned>(static_cast<uint16_t>(v)));
      break;
    case 4:
      if (s)
        detail::appendf(out, quiet ? "%d" : " %10d", static_cast<int32_t>(v));
      else
        detail::appendf(out, quiet ? "%u" : " %10u", static_cast<uint32_t>(v));
      break;
    default:
      if (s)
        detail::appendf(out, quiet ? "%lld" : " %19lld", static_cast<long long>(v));
      else
        detail::appendf(out, quiet ? "%llu" : " %20llu", static_cast<unsigned long long>(v));
      break;
  }
}

}  // namespace vtrace::engine
