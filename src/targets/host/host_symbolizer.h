// The host's symbolizer for the engine: kernel addresses through /proc/kallsyms, user addresses
// through the firing process's mappings and ELF symbol tables. Guests' addresses (another
// target) are not the host's: they print as addresses until guests have their own.
#pragma once
#include "engine/symbolizer.h"
#include "sys/elf_symbols.h"
#include "sys/kallsyms.h"

namespace vtrace::targets::host {

class HostSymbolizer : public engine::Symbolizer {
 public:
  engine::Symbol kernel(uint32_t target, uint64_t addr) override;
  engine::Symbol user(uint32_t target, int32_t pid, uint64_t addr) override;
  void remember(uint32_t target, int32_t pid, const uint64_t* frames, size_t n) override {
    if (target == 0 && pid > 0) processes_.snapshot(pid, frames, n);
  }

 private:
  sys::Kallsyms kallsyms_;
  sys::ProcessSymbols processes_;
};

}  // namespace vtrace::targets::host
