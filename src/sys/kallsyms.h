// The running kernel's function symbols, from /proc/kallsyms: what stack(), func(), sym() and
// mod() print for a kernel address ("vmlinux`do_syscall_64+0x5b", or a module's name).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vtrace::sys {

struct SymbolAt {
  std::string_view module;  // "vmlinux" or the module; empty when the address has no symbol
  std::string_view name;
  uint64_t offset = 0;
};

class Kallsyms {
 public:
  // Reads the file once (the first lookup). Addresses are 0 there for a reader without
  // CAP_SYSLOG (kptr_restrict): then every lookup finds nothing, and usable() says why.
  SymbolAt lookup(uint64_t addr);
  bool usable(std::string& why);
  // For tests: parse this text instead of /proc/kallsyms.
  void load_text(std::string_view text);

 private:
  struct Sym {
    uint64_t addr;
    uint32_t name;  // offset into names_
    uint16_t len;
    uint16_t module;  // index into modules_
  };
  void load();
  bool loaded_ = false;
  std::vector<Sym> syms_;
  std::string names_;
  std::vector<std::string> modules_;
};

}  // namespace vtrace::sys
