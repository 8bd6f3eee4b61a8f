// The text dtrace prints for symbolized addresses: stack()/ustack() frames, sym(), func(),
// mod(), usym(), ufunc(), umod(), uaddr() and printf's %a, %A and %k. Taken from Oracle's
// DTrace for Linux (dtrace-utils, branch devel): libdtrace/dt_consume.c (dt_print_stack,
// dt_print_ustack, dt_print_sym, dt_print_mod, dt_print_usym, dt_print_umod, dt_print_datum,
// dt_print_aggs), libdtrace/dt_subr.c (dtrace_addr2str, dtrace_uaddr2str) and
// libdtrace/dt_printf.c (pfprint_stack, pfprint_addr, pfprint_uaddr); checked against the
// expected outputs in test/unittest (file names in tests/sys/symbols_test.cpp).
//
// One frame or address (kernel and user alike; user modules are the mapped file's basename):
//   vmlinux`ksys_write+0x5e      the address is past the function's start
//   vmlinux`ksys_write           the address is the function's start (never "+0x0")
//   libc.so.6`0x7f3a1c02b1d0     a module maps the address but has no symbol for it
//   0x7f3a1c02b1d0               nothing maps the address
// sym(), func(), usym(), ufunc(): module`name, never an offset (dtrace rounds usym() to the
// function's start when it records it, so those keys aggregate per function); same fallbacks.
// uaddr(), printf %a and %A: module`name+0xoff, as a frame. mod(), umod(): the module, or 0xaddr.
// In trace() and as aggregation keys, those values are a field "  %-50s" (two spaces, then the
// text left-aligned in 50 columns); printf's %a/%A/%s use the conversion's own width.
//
// A whole stack (dt_print_stack, dt_print_ustack) is "\n", then one line per frame: `indent`
// spaces, the frame, "\n". The leading "\n" is part of the stack in every context:
//   trace(stack()): indent 14 (option stackindent); the "\n" ends the probe line, so the frames
//     start on the next line, and the record's own "\n" leaves an empty line after the last frame.
//   aggregation key (printa() default, and at exit): indent 14; the value (" %16lld") and any
//     later keys follow the last frame's newline, on a line of their own.
//   printf/printa "%k": indent 0, each frame formatted with the conversion: "%60k" right-aligns
//     each frame in 60 columns; "%-20k" indents each frame by 20 (no padding after it).
//
// dtrace says nothing when a stack could not be unwound. vtrace does (see unwind_note): a last
// line, indented as the frames, in angle brackets so that no tool takes it for a frame.
//
// The one implementation of these layouts: the engine prints stack() values, symbols and %k with
// it (engine/stack_table.h). Header-only, so the engine uses it without linking this layer's
// library (and its libelf).
#pragma once
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace vtrace::sys {

// What a lookup found for one address. Views: valid while the symbol tables they come from live.
struct Symbol {
  uint64_t addr = 0;
  std::string_view module;  // "vmlinux", a kernel module, "libc.so.6"; empty when nothing maps addr
  std::string_view name;    // the function; empty when the module has no symbol for addr
  uint64_t offset = 0;      // addr - the function's start
};

// dtrace's default stackindent (_dtrace_stkindent).
inline constexpr int kStackIndent = 14;
// The column width of sym()/mod()/usym()/umod()/uaddr() values in trace() and aggregation keys.
inline constexpr int kSymbolFieldWidth = 50;

namespace stack_format_detail {

inline std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

}  // namespace stack_format_detail

// A frame, uaddr(), %a, %A (with_offset), or sym()/func()/usym()/ufunc() (without).
inline std::string format_frame(const Symbol& sym, bool with_offset) {
  using stack_format_detail::hex;
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

// mod(), umod().
inline std::string format_module(const Symbol& sym) {
  return sym.module.empty() ? stack_format_detail::hex(sym.addr) : std::string(sym.module);
}

// The trace()/aggregation-key field of a symbol value: "  %-50s".
inline std::string symbol_field(std::string_view text) {
  std::string out = "  ";
  out.append(text);
  if (text.size() < kSymbolFieldWidth) out.append(kSymbolFieldWidth - text.size(), ' ');
  return out;
}

struct StackLayout {
  int indent = kStackIndent;  // spaces before each frame
  int width = 0;              // > 0: each frame right-aligned in this many columns
};

// The layout of printf's %k with this width: "%-Nk" indents by N, "%Nk" right-aligns in N.
inline StackLayout printf_stack_layout(int width, bool left_aligned) {
  // pfprint_stack(): a left-aligned width becomes the indent and is dropped from the format.
  if (left_aligned) return {width < 0 ? -width : width, 0};
  if (width < 0) return {-width, 0};  // "%*k" given a negative width: left-aligned too
  return {0, width};
}

// Why a stack is shorter than it should be, for its last line. error: the unwinder's -errno
// (bpf_get_stack, perf's callchain); 0 (a complete stack) gives "", nothing to say.
//   "<kernel stack not unwound: Bad address>"   no frame at all (frames_before == 0)
//   "<user stack unwind stopped: Bad address>"  some frames, then the unwinder failed
inline std::string unwind_note(bool user, int error, size_t frames_before) {
  if (error == 0) return {};
  std::string out = "<";
  out += user ? "user" : "kernel";
  out += frames_before == 0 ? " stack not unwound: " : " stack unwind stopped: ";
  out += std::strerror(error < 0 ? -error : error);
  out += ">";
  return out;
}

// A whole stack as dt_print_stack prints it, then `note` (if any) on a line of its own.
inline std::string format_stack(std::span<const Symbol> frames, StackLayout layout,
                                std::string_view note = {}) {
  const std::string pad(layout.indent > 0 ? static_cast<size_t>(layout.indent) : 0, ' ');
  std::string out = "\n";
  for (const Symbol& f : frames) {
    if (f.addr == 0) break;  // dt_print_stack(): a zero pc ends the stack
    out += pad;
    const size_t start = out.size();
    out += format_frame(f, true);
    const size_t len = out.size() - start;
    if (layout.width > 0 && len < static_cast<size_t>(layout.width))
      out.insert(start, static_cast<size_t>(layout.width) - len, ' ');
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
