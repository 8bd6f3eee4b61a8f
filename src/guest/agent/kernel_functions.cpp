#include "guest/agent/kernel_functions.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "sys/tracefs.h"

namespace vtrace::guest {

namespace {

// Tracefs's limit on event names (MAX_EVENT_NAME_LEN) less the "e_"/"r_" prefix.
constexpr size_t kMaxName = 61;

bool valid_event_name(const std::string& f) {
  if (f.empty() || f.size() > kMaxName) return false;
  for (char c : f)
    if (!(c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
      return false;
  return true;
}

}  // namespace

void KernelFunctions::open(const std::string& tracefs_root) {
  root_ = tracefs_root;
  listed_ = false;
  functions_.clear();
  if (!available()) return;
  // Our group's events of an agent that died: removed one by one (a kernel older than 5.x has
  // no group-wide removal).
  std::ifstream in(root_ + "/kprobe_events");
  std::string line, group = std::string(kGroup) + "/";
  std::vector<std::string> stale;
  while (std::getline(in, line)) {
    const size_t at = line.find(group);
    if (line.size() > 2 && line[1] == ':' && at == 2) {
      const size_t end = line.find(' ', at);
      stale.push_back(line.substr(at, end - at));
    }
  }
  for (const std::string& ev : stale) sys::append_line(root_ + "/kprobe_events", "-:" + ev + "\n");
}

bool KernelFunctions::available() const {
  return !root_.empty() && access((root_ + "/kprobe_events").c_str(), W_OK) == 0;
}

std::vector<KernelFunctions::Function> KernelFunctions::match(const std::string& module_glob,
                                                              const std::string& glob) {
  if (!listed_) {
    listed_ = true;
    // "name" or "name [module]" per line.
    std::ifstream in(root_ + "/available_filter_functions");
    std::string line;
    while (std::getline(in, line)) {
      Function f{line.substr(0, line.find_first_of(" \t")), "vmlinux"};
      const size_t open = line.find('['), close = line.find(']');
      if (open != std::string::npos && close != std::string::npos && close > open + 1)
        f.module = line.substr(open + 1, close - open - 1);
      if (valid_event_name(f.name)) functions_.push_back(std::move(f));
    }
    auto by_name = [](const Function& a, const Function& b) { return a.name < b.name; };
    std::stable_sort(functions_.begin(), functions_.end(), by_name);
    functions_.erase(
        std::unique(functions_.begin(), functions_.end(),
                    [](const Function& a, const Function& b) { return a.name == b.name; }),
        functions_.end());
  }
  std::vector<Function> out;
  for (const Function& f : functions_)
    if (fnmatch(glob.c_str(), f.name.c_str(), 0) == 0 &&
        fnmatch(module_glob.c_str(), f.module.c_str(), 0) == 0)
      out.push_back(f);
  return out;
}

std::string KernelFunctions::event_name(const std::string& function, bool ret) {
  return (ret ? "r_" : "e_") + function;
}

std::string KernelFunctions::define(const std::string& function, bool ret) {
  if (!valid_event_name(function)) return "not a traceable function name: " + function;
  const std::string ev = event_name(function, ret);
  if (access((root_ + "/events/" + kGroup + "/" + ev + "/format").c_str(), R_OK) == 0) return "";
  std::ostringstream line;
  if (ret) {
    line << "r:" << kGroup << "/" << ev << " " << function << " arg1=$retval:s64\n";
  } else {
    static const char* const regs[kEntryArgs] = {"di", "si", "dx", "cx", "r8", "r9"};
    line << "p:" << kGroup << "/" << ev << " " << function;
    for (int i = 0; i < kEntryArgs; ++i) line << " arg" << i << "=%" << regs[i] << ":u64";
    line << "\n";
  }
  return sys::append_line(root_ + "/kprobe_events", line.str());
}

}  // namespace vtrace::guest
