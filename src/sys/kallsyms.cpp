#include "sys/kallsyms.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_map>

namespace vtrace::sys {

void Kallsyms::load() {
  loaded_ = true;
  std::ifstream in("/proc/kallsyms");
  std::stringstream text;
  text << in.rdbuf();
  load_text(text.str());
}

void Kallsyms::load_text(std::string_view text) {
  loaded_ = true;
  syms_.clear();
  names_.clear();
  modules_ = {"vmlinux"};
  std::unordered_map<std::string, uint16_t> module_index{{"vmlinux", 0}};
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    // "ffffffff81000000 T _stext" or "ffffffffc0000000 t fn\t[module]"
    const size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || sp1 + 3 > line.size()) continue;
    const char type = line[sp1 + 1];
    if (type != 't' && type != 'T' && type != 'w' && type != 'W') continue;  // functions only
    uint64_t addr = 0;
    for (char c : line.substr(0, sp1)) {
      const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) break;
      addr = addr << 4 | static_cast<uint64_t>(d);
    }
    if (addr == 0) continue;
    std::string_view rest = line.substr(sp1 + 3);
    std::string_view name = rest.substr(0, rest.find_first_of("\t "));
    uint16_t module = 0;
    const size_t open = rest.find('[');
    if (open != std::string_view::npos) {
      const size_t close = rest.find(']', open);
      std::string m(rest.substr(open + 1, close == std::string_view::npos ? 0 : close - open - 1));
      auto [it, added] = module_index.try_emplace(m, static_cast<uint16_t>(modules_.size()));
      if (added) modules_.push_back(m);
      module = it->second;
    }
    if (name.empty() || name.size() > UINT16_MAX) continue;
    syms_.push_back(
        {addr, static_cast<uint32_t>(names_.size()), static_cast<uint16_t>(name.size()), module});
    names_.append(name);
  }
  std::stable_sort(syms_.begin(), syms_.end(),
                   [](const Sym& a, const Sym& b) { return a.addr < b.addr; });
}

bool Kallsyms::usable(std::string& why) {
  if (!loaded_) load();
  if (syms_.empty()) {
    why = "kernel symbols are hidden (/proc/kallsyms shows no addresses): run as root";
    return false;
  }
  return true;
}

SymbolAt Kallsyms::lookup(uint64_t addr) {
  if (!loaded_) load();
  auto it = std::upper_bound(syms_.begin(), syms_.end(), addr,
                             [](uint64_t a, const Sym& s) { return a < s.addr; });
  if (it == syms_.begin()) return {};
  const Sym& s = *(it - 1);
  SymbolAt out;
  out.module = modules_[s.module];
  out.name = std::string_view(names_).substr(s.name, s.len);
  out.offset = addr - s.addr;
  return out;
}

}  // namespace vtrace::sys
