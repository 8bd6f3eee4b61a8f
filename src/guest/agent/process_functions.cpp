#include "guest/agent/process_functions.h"

#include <fnmatch.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "sys/elf_symbols.h"
#include "sys/process_facts.h"
#include "sys/tracefs.h"

namespace vtrace::guest {

namespace {

std::string base_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool glob(const std::string& pattern, const std::string& s) {
  return pattern.empty() || fnmatch(pattern.c_str(), s.c_str(), 0) == 0;
}

// A path the kernel can be given in uprobe_events: no blank, no separator of its syntax.
bool plain_path(const std::string& p) {
  if (p.empty() || p[0] != '/') return false;
  for (unsigned char c : p)
    if (c <= 0x20 || c >= 0x7f || c == ':') return false;
  return true;
}

}  // namespace

void ProcessFunctions::open(const std::string& tracefs_root) {
  root_ = tracefs_root;
  if (!available()) return;
  std::ifstream in(root_ + "/uprobe_events");
  std::string line, group = std::string(kGroup) + "/";
  std::vector<std::string> stale;
  while (std::getline(in, line))
    if (line.size() > 2 && line[1] == ':' && line.compare(2, group.size(), group) == 0)
      stale.push_back(line.substr(2, line.find(' ') - 2));
  for (const std::string& ev : stale) sys::append_line(root_ + "/uprobe_events", "-:" + ev + "\n");
}

bool ProcessFunctions::available() const {
  return !root_.empty() && access((root_ + "/uprobe_events").c_str(), W_OK) == 0;
}

std::string ProcessFunctions::match(pid_t pid, const std::string& module_glob,
                                    const std::string& glob_name, std::vector<Function>& out) {
  out.clear();
  const std::string proc = "/proc/" + std::to_string(pid);
  char exe[4096];
  const ssize_t n = readlink((proc + "/exe").c_str(), exe, sizeof exe - 1);
  if (n <= 0) return "no process " + std::to_string(pid);
  const std::string exe_path(exe, static_cast<size_t>(n));
  // The executable first, then every other file mapped executable, once each.
  std::vector<std::string> files{exe_path};
  std::set<std::string> seen{exe_path};
  std::vector<sys::ExecMapping> maps;
  sys::read_exec_mappings(pid, maps);
  for (const sys::ExecMapping& m : maps)
    if (plain_path(m.path) && seen.insert(m.path).second) files.push_back(m.path);
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string module = base_name(files[i]);
    if (!glob(module_glob, module) && !(i == 0 && glob(module_glob, "a.out"))) continue;
    if (!plain_path(files[i])) continue;
    // The executable through /proc (the file the process runs, whatever its path now).
    const sys::ElfSymbols syms(i == 0 ? proc + "/exe" : files[i]);
    for (const sys::ElfSymbols::Sym& f : syms.functions()) {
      uint64_t off = 0;
      if (f.size == 0 || !glob(glob_name, f.name) || !syms.code_offset_of(f.addr, off)) continue;
      out.push_back({files[i], module, f.name, off});
    }
  }
  return "";
}

std::string ProcessFunctions::define(const Function& f, const std::string& event, bool ret) {
  if (access((root_ + "/events/" + kGroup + "/" + event + "/format").c_str(), R_OK) == 0) return "";
  char off[32];
  std::snprintf(off, sizeof off, "0x%llx", static_cast<unsigned long long>(f.offset));
  std::ostringstream line;
  line << (ret ? "r:" : "p:") << kGroup << "/" << event << " " << f.path << ":" << off;
  if (ret) {
    line << " arg1=$retval:s64";
  } else {
    static const char* const regs[kEntryArgs] = {"di", "si", "dx", "cx", "r8", "r9"};
    for (int i = 0; i < kEntryArgs; ++i) line << " arg" << i << "=%" << regs[i] << ":u64";
  }
  line << "\n";
  return sys::append_line(root_ + "/uprobe_events", line.str());
}

}  // namespace vtrace::guest
