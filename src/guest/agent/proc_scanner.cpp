#include "guest/agent/proc_scanner.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>

#include "targets/process/elf_probes.h"

namespace vtrace::guest {

std::vector<pid_t> ProcScanner::scan(pid_t self) {
  std::vector<pid_t> found;
  DIR* d = opendir(proc_.c_str());
  if (d == nullptr) return found;
  std::unordered_map<pid_t, std::string> now;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0' || pid == self) continue;
    std::string link = proc_ + "/" + e->d_name + "/exe";
    char buf[4096];
    ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
    std::string exe = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
    auto it = exe_.find(static_cast<pid_t>(pid));
    bool changed = it == exe_.end() || it->second != exe;
    // Kernel threads have no executable; a process whose exe cannot be read is retried as new.
    if (changed && !exe.empty() && targets::has_probe_section(link))
      found.push_back(static_cast<pid_t>(pid));
    now.emplace(static_cast<pid_t>(pid), std::move(exe));
  }
  closedir(d);
  exe_ = std::move(now);
  return found;
}

}  // namespace vtrace::guest
