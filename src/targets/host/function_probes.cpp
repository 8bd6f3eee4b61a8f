#include "targets/host/function_probes.h"

#include "engine/glob.h"

namespace vtrace::targets::host {

namespace {

std::string file_name(const std::string& path) {
  const size_t s = path.rfind('/');
  return s == std::string::npos ? path : path.substr(s + 1);
}

bool matches(const std::string& glob, const std::string& value) {
  return glob.empty() || engine::glob_match(glob, value);
}

}  // namespace

std::vector<std::string> module_aliases(const std::string& path, bool executable) {
  std::vector<std::string> out;
  const std::string name = file_name(path);
  for (size_t dot = name.find('.', 1); dot != std::string::npos; dot = name.find('.', dot + 1))
    out.push_back(name.substr(0, dot));
  if (executable) out.push_back("a.out");
  return out;
}

bool find_functions(const std::vector<std::string>& objects, const std::string& module_glob,
                    const std::string& function_glob, size_t max,
                    std::map<std::string, std::unique_ptr<sys::ElfSymbols>>& symbols,
                    std::vector<FunctionSite>& out, std::string& error) {
  out.clear();
  for (size_t i = 0; i < objects.size(); ++i) {
    const std::string& path = objects[i];
    const std::string module = file_name(path);
    std::vector<std::string> aliases = module_aliases(path, i == 0);
    bool named = matches(module_glob, module) || matches(module_glob, path);
    for (const std::string& a : aliases) named = named || matches(module_glob, a);
    if (!named) continue;
    auto& table = symbols[path];
    if (!table) table = std::make_unique<sys::ElfSymbols>(path);
    for (const sys::ElfSymbols::Sym& f : table->functions()) {
      uint64_t offset = 0;
      if (f.size == 0 || !matches(function_glob, f.name) || !table->code_offset_of(f.addr, offset))
        continue;
      if (out.size() == max) {
        error = "it matches more than " + std::to_string(max) +
                " functions (a uprobe each): name fewer";
        return false;
      }
      out.push_back({path, module, aliases, f.name, offset});
    }
  }
  return true;
}

}  // namespace vtrace::targets::host
