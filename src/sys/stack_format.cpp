#include "sys/stack_format.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace vtrace::sys {

namespace {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

void pad_to(std::string& out, size_t from, int width) {
  const size_t len = out.size() - from;
  if (width > 0 && len < static_cast<size_t>(width))
    out.insert(from, static_cast<size_t>(width) - len, ' ');
}

}  // namespace

std::string format_frame(const Symbol& sym, bool with_offset) {
  // dtrace_addr2str(): the module alone still places an address ("libc.so.6`0x7f..").
  if (sym.name.empty())
    return sym.module.empty() ? hex(sym.addr) : std::string(sym.module) + "`" + hex(sym.addr);
  std::string out;
  out.reserve(sym.module.size() + sym.name.size() + 20);
  out.append(sym.module).push_back('`');
  out.append(sym.name);
  // dtrace tests pc > st_value: a function's first instruction prints without "+0x0".
  if (with_offset && sym.offset != 0) out += "+" + hex(sym.offset);
  return out;
}

std::string format_module(const Symbol& sym) {
  return sym.module.empty() ? hex(sym.addr) : std::string(sym.module);
}

std::string symbol_field(std::string_view text) {
  std::string out = "  ";
  out.append(text);
  if (text.size() < kSymbolFieldWidth) out.append(kSymbolFieldWidth - text.size(), ' ');
  return out;
}

StackLayout printf_stack_layout(int width, bool left_aligned) {
  // pfprint_stack(): a left-aligned width becomes the indent and is dropped from the format.
  if (left_aligned) return {width < 0 ? -width : width, 0};
  if (width < 0) return {-width, 0};  // "%*k" given a negative width: left-aligned too
  return {0, width};
}

std::string unwind_note(bool user, int error, size_t frames_before) {
  if (error == 0) return {};
  std::string out = "<";
  out += user ? "user" : "kernel";
  out += frames_before == 0 ? " stack not unwound: " : " stack unwind stopped: ";
  out += std::strerror(error < 0 ? -error : error);
  out += ">";
  return out;
}

std::string format_stack(std::span<const Symbol> frames, StackLayout layout,
                         std::string_view note) {
  const std::string pad(layout.indent > 0 ? static_cast<size_t>(layout.indent) : 0, ' ');
  std::string out = "\n";
  for (const Symbol& f : frames) {
    if (f.addr == 0) break;  // dt_print_stack(): a zero pc ends the stack
    out += pad;
    const size_t start = out.size();
    out += format_frame(f, true);
    pad_to(out, start, layout.width);
    out.push_back('\n');
  }
  if (!note.empty()) {
    out += pad;
    out.append(note);
    out.push_back('\n');
  }
  return out;
}

}  // namespace vtrace::sys
