#include "targets/host/usdt_args.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "sys/process_memory.h"

namespace vtrace::targets::host {

namespace {

struct RegName {
  std::string_view name;
  uint8_t reg;
  uint8_t shift;
};

// Every spelling of the 16 general registers and %rip, with the 8-bit high halves.
constexpr RegName kRegNames[] = {
    {"rax", kRegAx, 0}, {"eax", kRegAx, 0}, {"ax", kRegAx, 0},  {"al", kRegAx, 0},
    {"ah", kRegAx, 8},  {"rbx", kRegBx, 0}, {"ebx", kRegBx, 0}, {"bx", kRegBx, 0},
    {"bl", kRegBx, 0},  {"bh", kRegBx, 8},  {"rcx", kRegCx, 0}, {"ecx", kRegCx, 0},
    {"cx", kRegCx, 0},  {"cl", kRegCx, 0},  {"ch", kRegCx, 8},  {"rdx", kRegDx, 0},
    {"edx", kRegDx, 0}, {"dx", kRegDx, 0},  {"dl", kRegDx, 0},  {"dh", kRegDx, 8},
    {"rsi", kRegSi, 0}, {"esi", kRegSi, 0}, {"si", kRegSi, 0},  {"sil", kRegSi, 0},
    {"rdi", kRegDi, 0}, {"edi", kRegDi, 0}, {"di", kRegDi, 0},  {"dil", kRegDi, 0},
    {"rbp", kRegBp, 0}, {"ebp", kRegBp, 0}, {"bp", kRegBp, 0},  {"bpl", kRegBp, 0},
    {"rsp", kRegSp, 0}, {"esp", kRegSp, 0}, {"sp", kRegSp, 0},  {"spl", kRegSp, 0},
    {"rip", kRegIp, 0}, {"eip", kRegIp, 0},
};

bool reg_by_name(std::string_view n, uint8_t& reg, uint8_t& shift) {
  for (const auto& r : kRegNames) {
    if (r.name == n) {
      reg = r.reg;
      shift = r.shift;
      return true;
    }
  }
  // %r8..%r15 with an optional d/w/b (or l) suffix.
  if (n.size() < 2 || n[0] != 'r' || !std::isdigit(static_cast<unsigned char>(n[1]))) return false;
  size_t i = 1;
  int num = 0;
  while (i < n.size() && std::isdigit(static_cast<unsigned char>(n[i])) && num < 100)
    num = num * 10 + (n[i++] - '0');
  if (num < 8 || num > 15) return false;
  std::string_view suffix = n.substr(i);
  if (!(suffix.empty() || suffix == "d" || suffix == "w" || suffix == "b" || suffix == "l"))
    return false;
  reg = static_cast<uint8_t>(kRegR8 + (num - 8));
  shift = 0;
  return true;
}

// A register operand "%name" at the start of s; advances s.
bool take_reg(std::string_view& s, uint8_t& reg, uint8_t& shift, std::string& error) {
  if (s.empty() || s[0] != '%') return false;
  size_t e = 1;
  while (e < s.size() && std::isalnum(static_cast<unsigned char>(s[e]))) ++e;
  std::string_view name = s.substr(1, e - 1);
  if (!reg_by_name(name, reg, shift)) {
    error = "register %" + std::string(name) + " is not supported";
    return false;
  }
  s.remove_prefix(e);
  return true;
}

// A decimal or 0x hex integer with an optional sign at the start of s; advances s.
bool take_int(std::string_view& s, int64_t& out) {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  int base = 10;
  if (i + 1 < s.size() && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
    base = 16;
    i += 2;
  }
  size_t start = i;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    int d;
    char c = s[i];
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (base == 16 && std::isxdigit(static_cast<unsigned char>(c))) {
      d = (std::tolower(static_cast<unsigned char>(c)) - 'a') + 10;
    } else {
      break;
    }
    if (v > (UINT64_MAX - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base)) return false;
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  if (i == start) return false;
  out = neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  s.remove_prefix(i);
  return true;
}

bool is_sym_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '$';
}

}  // namespace

bool parse_usdt_arg(const std::string& text, UsdtArg& out, std::string& error) {
  out = UsdtArg{};
  std::string_view s = text;
  // The size prefix "[-]N@" (an old note may omit it: 8 bytes, unsigned).
  size_t at = s.find('@');
  if (at != std::string_view::npos) {
    std::string_view sz = s.substr(0, at);
    if (!sz.empty() && sz[0] == '-') {
      out.is_signed = true;
      sz.remove_prefix(1);
    }
    if (sz == "1" || sz == "2" || sz == "4" || sz == "8") {
      out.size = static_cast<uint8_t>(sz[0] - '0');
    } else {
      error = "bad argument size in \"" + text + "\"";
      return false;
    }
    s.remove_prefix(at + 1);
  }
  if (s.empty()) {
    error = "empty argument in \"" + text + "\"";
    return false;
  }
  if (s[0] == '%') {
    out.kind = UsdtArg::Kind::Reg;
    if (!take_reg(s, out.reg, out.shift, error)) return false;
    if (!s.empty()) {
      error = "trailing characters in \"" + text + "\"";
      return false;
    }
    return true;
  }
  if (s[0] == '$') {
    out.kind = UsdtArg::Kind::Imm;
    s.remove_prefix(1);
    if (!take_int(s, out.value) || !s.empty()) {
      error = "bad constant in \"" + text + "\"";
      return false;
    }
    return true;
  }
  // Memory: [disp | sym | disp+sym | sym+disp] ( [%base] [, %index [, scale]] )
  out.kind = UsdtArg::Kind::Mem;
  while (!s.empty() && s[0] != '(') {
    if (s[0] == '+') {
      s.remove_prefix(1);
    } else if (s[0] == '-' || std::isdigit(static_cast<unsigned char>(s[0]))) {
      int64_t v;
      if (!take_int(s, v)) {
        error = "bad displacement in \"" + text + "\"";
        return false;
      }
      // Displacements add modulo 2^64, as the address they make does (a signed overflow here
      // would be undefined behaviour).
      out.value = static_cast<int64_t>(static_cast<uint64_t>(out.value) + static_cast<uint64_t>(v));
    } else if (is_sym_char(s[0]) && out.symbol.empty()) {
      size_t e = 0;
      while (e < s.size() && is_sym_char(s[e])) ++e;
      out.symbol = std::string(s.substr(0, e));
      s.remove_prefix(e);
    } else {
      error = "bad memory operand \"" + text + "\"";
      return false;
    }
  }
  if (s.empty()) return true;  // an absolute address (or a symbol's)
  s.remove_prefix(1);          // '('
  if (!s.empty() && s[0] == '%' && !take_reg(s, out.reg, out.shift, error)) return false;
  if (!s.empty() && s[0] == ',') {
    s.remove_prefix(1);
    if (!take_reg(s, out.index, out.shift, error)) {
      if (error.empty()) error = "bad index register in \"" + text + "\"";
      return false;
    }
    if (!s.empty() && s[0] == ',') {
      s.remove_prefix(1);
      int64_t sc;
      if (!take_int(s, sc) || !(sc == 1 || sc == 2 || sc == 4 || sc == 8)) {
        error = "bad scale in \"" + text + "\"";
        return false;
      }
      out.scale = static_cast<uint8_t>(sc);
    }
  }
  out.shift = 0;
  if (s != ")") {
    error = "bad memory operand \"" + text + "\"";
    return false;
  }
  return true;
}

bool parse_usdt_args(const std::string& spec, std::vector<UsdtArg>& out, std::string& error,
                     size_t max_args) {
  out.clear();
  size_t i = 0;
  while (i < spec.size()) {
    while (i < spec.size() && (spec[i] == ' ' || spec[i] == '\t')) ++i;
    if (i == spec.size()) break;
    size_t e = i;
    while (e < spec.size() && spec[e] != ' ' && spec[e] != '\t') ++e;
    if (out.size() == max_args) {
      error = "more than " + std::to_string(max_args) + " arguments";
      return false;
    }
    UsdtArg a;
    if (!parse_usdt_arg(spec.substr(i, e - i), a, error)) return false;
    out.push_back(std::move(a));
    i = e;
  }
  return true;
}

void resolve_usdt_symbol(UsdtArg& arg, uint64_t symbol_addr, uint64_t pc) {
  if (arg.kind != UsdtArg::Kind::Mem || arg.symbol.empty()) return;
  // A symbol in a memory operand is an absolute address; %rip-relative or not, it moves with the
  // load bias, which the sampled %rip (the probe's address) carries.
  arg.value = static_cast<int64_t>(symbol_addr + static_cast<uint64_t>(arg.value) - pc);
  arg.reg = kRegIp;
  arg.index = kRegNone;
  arg.symbol.clear();
}

uint64_t usdt_regs_mask(const std::vector<UsdtArg>& args) {
  uint64_t m = 0;
  for (const auto& a : args) {
    if (a.reg < kRegCount) m |= uint64_t{1} << a.reg;
    if (a.kind == UsdtArg::Kind::Mem && a.index < kRegCount) m |= uint64_t{1} << a.index;
  }
  return m & kUsableRegsMask;
}

bool usdt_reads_memory(const std::vector<UsdtArg>& args) {
  for (const auto& a : args)
    if (a.kind == UsdtArg::Kind::Mem) return true;
  return false;
}

namespace {

int64_t extend(uint64_t v, uint8_t size, bool is_signed) {
  if (size >= 8) return static_cast<int64_t>(v);
  const unsigned bits = size * 8u;
  uint64_t mask = (uint64_t{1} << bits) - 1;
  v &= mask;
  if (is_signed && (v >> (bits - 1)) != 0) v |= ~mask;
  return static_cast<int64_t>(v);
}

bool get_reg(const UsdtSampleRegs& s, uint8_t r, uint64_t& v) {
  if (r >= kRegCount || (s.valid & (uint64_t{1} << r)) == 0) return false;
  v = s.regs[r];
  return true;
}

}  // namespace

int64_t eval_usdt_arg(const UsdtArg& arg, const UsdtSampleRegs& s, UsdtEvalStats& stats) {
  switch (arg.kind) {
    case UsdtArg::Kind::Imm:
      return extend(static_cast<uint64_t>(arg.value), arg.size, arg.is_signed);
    case UsdtArg::Kind::Reg: {
      uint64_t v;
      if (!get_reg(s, arg.reg, v)) {
        ++stats.missing_regs;
        return 0;
      }
      return extend(v >> arg.shift, arg.size, arg.is_signed);
    }
    case UsdtArg::Kind::Mem:
      break;
  }
  if (!arg.symbol.empty()) {  // never resolved
    ++stats.missing_regs;
    return 0;
  }
  uint64_t addr = static_cast<uint64_t>(arg.value), v = 0;
  if (arg.reg != kRegNone) {
    if (!get_reg(s, arg.reg, v)) {
      ++stats.missing_regs;
      return 0;
    }
    addr += v;
  }
  if (arg.index != kRegNone) {
    if (!get_reg(s, arg.index, v)) {
      ++stats.missing_regs;
      return 0;
    }
    addr += v * arg.scale;
  }
  uint64_t out = 0;
  uint64_t sp;
  if (s.stack != nullptr && get_reg(s, kRegSp, sp) && addr >= sp && addr - sp <= s.stack_size &&
      s.stack_size - (addr - sp) >= arg.size) {
    std::memcpy(&out, s.stack + (addr - sp), arg.size);
    ++stats.stack_reads;
  } else if (s.pid > 0 && sys::read_process_memory(s.pid, addr, &out, arg.size) == arg.size) {
    ++stats.process_reads;
  } else {
    ++stats.failed_reads;
    return 0;
  }
  return extend(out, arg.size, arg.is_signed);
}

}  // namespace vtrace::targets::host
