// libFuzzer target: arbitrary bytes as what a USDT-instrumented binary gives the host target
// (src/targets/host/usdt_notes.h, usdt_args.h): the file's `.note.stapsdt` notes and their
// argument specs.
//
// The first byte picks the use of the rest:
//   even: an ELF64 image parsed by parse_usdt_elf (the buffer entry point read_usdt_file maps a
//         file into); every note's argument spec is then parsed and evaluated against a sample
//         made of the image's own bytes (registers and a stack copy).
//   odd:  an argument spec (up to the first NUL) parsed by parse_usdt_args; what follows the
//         NUL is a sample: 24 u64 registers, a u64 mask of the valid ones, then the stack copy.
//         Symbolic operands are resolved against an address taken from the sample.
//
// Invariants: no crash, hang or sanitizer report; a note is kept only with a non-empty printable
// provider and name and a pc inside the file (its semaphore offset too, or 0); at most 65536
// notes; a parsed argument has a size of 1, 2, 4 or 8, a scale of 1, 2, 4 or 8, registers that
// exist; the register mask has only registers a uprobe sample carries; an evaluated value fits
// the argument's size (sign- or zero-extended).
//
// Seeds: fuzz/corpus/usdt/ (fuzz/make_seeds.py). Run: see fuzz/CMakeLists.txt.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "targets/host/usdt_args.h"
#include "targets/host/usdt_notes.h"

namespace {

namespace host = vtrace::targets::host;

bool printable(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f) return false;
  return true;
}

bool valid_reg(uint8_t r) {
  return r < host::kRegCount || r == host::kRegNone;
}

void check_value(const host::UsdtArg& a, int64_t v) {
  if (a.size >= 8) return;
  const unsigned bits = a.size * 8u;
  if (a.is_signed) {
    const int64_t lim = int64_t{1} << (bits - 1);
    CHECK(v >= -lim && v < lim);
  } else {
    CHECK(static_cast<uint64_t>(v) < (uint64_t{1} << bits));
  }
}

// Parses `spec` and evaluates it against `s`; `sym` is the address symbols resolve to.
void args_against(const std::string& spec, const host::UsdtSampleRegs& s, uint64_t sym,
                  uint64_t pc) {
  std::vector<host::UsdtArg> args;
  std::string err;
  if (!host::parse_usdt_args(spec, args, err)) {
    CHECK(!err.empty());
    return;
  }
  CHECK(args.size() <= 10);
  for (const auto& a : args) {
    CHECK(a.size == 1 || a.size == 2 || a.size == 4 || a.size == 8);
    CHECK(a.scale == 1 || a.scale == 2 || a.scale == 4 || a.scale == 8);
    CHECK(valid_reg(a.reg) && valid_reg(a.index));
    CHECK(a.shift == 0 || a.shift == 8);
    if (a.kind == host::UsdtArg::Kind::Reg) CHECK(a.reg < host::kRegCount);
    if (a.kind != host::UsdtArg::Kind::Mem) CHECK(a.symbol.empty());
  }
  CHECK((host::usdt_regs_mask(args) & ~host::kUsableRegsMask) == 0);
  (void)host::usdt_reads_memory(args);
  host::UsdtEvalStats stats;
  for (auto a : args) {
    check_value(a, host::eval_usdt_arg(a, s, stats));
    host::resolve_usdt_symbol(a, sym, pc);
    CHECK(a.symbol.empty());
    check_value(a, host::eval_usdt_arg(a, s, stats));
  }
}

host::UsdtSampleRegs sample_from(const uint8_t* data, size_t size) {
  host::UsdtSampleRegs s;
  const size_t regs = std::min(size, sizeof s.regs);
  std::memcpy(s.regs, data, regs);
  data += regs;
  size -= regs;
  const size_t mask = std::min<size_t>(size, 8);
  std::memcpy(&s.valid, data, mask);
  data += mask;
  size -= mask;
  s.stack = size > 0 ? data : nullptr;
  s.stack_size = size;
  s.pid = 0;  // never read a process
  return s;
}

void fuzz_elf(const uint8_t* data, size_t size) {
  host::UsdtFile f;
  std::string err;
  if (!host::parse_usdt_elf(data, size, f, err)) {
    CHECK(!err.empty() && f.notes.empty());
    return;
  }
  CHECK(f.notes.size() <= 65536);
  host::UsdtSampleRegs s = sample_from(data, size);
  for (const auto& n : f.notes) {
    CHECK(!n.provider.empty() && printable(n.provider) && n.provider.size() <= 256);
    CHECK(!n.raw_name.empty() && printable(n.raw_name) && n.raw_name.size() <= 256);
    CHECK(!n.name.empty());
    CHECK(printable(n.args) && n.args.size() <= 4096);
    CHECK(n.pc_offset < size);
    CHECK(n.semaphore_offset < size);
    CHECK(printable(n.function));
    CHECK(n.symbols.size() <= 10);
    args_against(n.args, s, n.symbols.empty() ? 0 : n.symbols.front().second, n.pc);
  }
  for (const auto& d : f.needed) CHECK(!d.empty() && printable(d));
  for (const auto& d : f.runpath) CHECK(!d.empty() && printable(d));
}

void fuzz_spec(const uint8_t* data, size_t size) {
  const uint8_t* nul = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  const size_t len = nul != nullptr ? static_cast<size_t>(nul - data) : size;
  const std::string spec(reinterpret_cast<const char*>(data), len);
  const size_t rest = nul != nullptr ? size - len - 1 : 0;
  host::UsdtSampleRegs s = sample_from(data + len + (nul != nullptr ? 1 : 0), rest);
  args_against(spec, s, s.regs[host::kRegAx], s.regs[host::kRegIp]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if ((data[0] & 1) == 0)
    fuzz_elf(data + 1, size - 1);
  else
    fuzz_spec(data + 1, size - 1);
  return 0;
}
