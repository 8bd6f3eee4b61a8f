// The USDT probes of an unmodified binary: the `.note.stapsdt` notes <sys/sdt.h> leaves in an
// ELF64 executable or shared library (one note per probe site: pc, .stapsdt.base, semaphore,
// provider, name, argument spec). Addresses are adjusted by the difference between the note's
// recorded base and the actual address of `.stapsdt.base` (as systemtap does, for prelinked
// files), then turned into file offsets through the PT_LOAD headers: a uprobe is placed at a
// file offset, and a semaphore is a file offset too (the kernel's ref_ctr_offset). Also read:
// the function symbol containing each pc, and the DT_NEEDED/DT_RUNPATH entries (the libraries a
// program will map, for -c before it runs). Every read is bounds-checked: a malformed file gives
// an error or fewer notes, never a crash.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vtrace::targets::host {

struct UsdtNote {
  std::string provider;
  std::string raw_name;           // as in the note: "query__start"
  std::string name;               // as D spells it: "query-start"
  std::string args;               // the argument spec: "-4@%edi 8@-16(%rbp)"
  uint64_t pc = 0;                // link-time address of the probe (adjusted by .stapsdt.base)
  uint64_t base = 0;              // .stapsdt.base address recorded in the note
  uint64_t semaphore = 0;         // link-time address of the semaphore; 0 = none
  uint64_t pc_offset = 0;         // file offset of pc
  uint64_t semaphore_offset = 0;  // file offset of the semaphore; 0 = none (or unmappable)
  std::string function;           // the symbol containing pc; "" if none
  // Symbols the argument spec names ("NBuffers(%rip)"), with their link-time addresses.
  std::vector<std::pair<std::string, uint64_t>> symbols;
};

struct UsdtFile {
  std::string path;
  bool shared = false;  // ET_DYN
  std::vector<UsdtNote> notes;
  size_t invalid = 0;                // notes skipped as malformed
  std::vector<std::string> needed;   // DT_NEEDED
  std::vector<std::string> runpath;  // DT_RUNPATH or DT_RPATH, split on ':'
};

// Parses an ELF64 image in memory. False with `error` when it is not a little-endian ELF64 file;
// a file without notes parses (notes empty).
bool parse_usdt_elf(const uint8_t* data, size_t len, UsdtFile& out, std::string& error);

// Reads and parses a file. Errors: cannot open, not ELF64, and (when require_notes) "PATH has no
// USDT probes (.note.stapsdt)".
bool read_usdt_file(const std::string& path, UsdtFile& out, std::string& error,
                    bool require_notes = true);

}  // namespace vtrace::targets::host
