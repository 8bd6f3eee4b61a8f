#include "targets/host/host_symbolizer.h"

namespace vtrace::targets::host {

engine::Symbol HostSymbolizer::kernel(uint32_t target, uint64_t addr) {
  engine::Symbol out;
  if (target != 0) return guests_ != nullptr ? guests_->kernel(target, addr) : out;
  sys::SymbolAt s = kallsyms_.lookup(addr);
  out.module = s.module;
  out.name = s.name;
  out.offset = s.offset;
  return out;
}

engine::Symbol HostSymbolizer::user(const engine::UserSpace& space, uint64_t addr) {
  engine::Symbol out;
  if (space.target != 0) return guests_ != nullptr ? guests_->user(space, addr) : out;
  if (space.pid <= 0) return out;
  sys::UserSymbol s = processes_.lookup(space.pid, addr);
  out.module = std::move(s.module);
  out.name = std::move(s.name);
  out.offset = s.offset;
  return out;
}

}  // namespace vtrace::targets::host
