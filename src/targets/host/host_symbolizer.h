// The host's symbolizer for the engine: kernel addresses through /proc/kallsyms, user addresses
// through the firing process's mappings and ELF symbol tables. Guests' addresses (another
// target) are not the host's: they go to the guests' symbolizer.
#pragma once
#include "engine/symbolizer.h"
#include "sys/elf_symbols.h"
#include "sys/kallsyms.h"

namespace vtrace::targets::host {

class HostSymbolizer : public engine::Symbolizer {
 public:
  engine::Symbol kernel(uint32_t target, uint64_t addr) override;
  engine::Symbol user(const engine::UserSpace& space, uint64_t addr) override;
  void remember(bool user, const engine::UserSpace& space, const uint64_t* frames,
                size_t n) override {
    if (space.target != 0) {
      if (guests_ != nullptr) guests_->remember(user, space, frames, n);
    } else if (user && space.pid > 0) {
      processes_.snapshot(space.pid, frames, n);
    }
  }
  // Who knows the addresses of other targets (guests); without one they print as addresses.
  void set_guests(engine::Symbolizer* guests) { guests_ = guests; }

 private:
  sys::Kallsyms kallsyms_;
  sys::ProcessSymbols processes_;
  engine::Symbolizer* guests_ = nullptr;
};

}  // namespace vtrace::targets::host
