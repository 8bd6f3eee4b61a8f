#include "guest/agent/proc_scanner.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>

#include "sys/elf_probes.h"

namespace vtrace::guest {

std::vector<pid_t> ProcScanner::scan(pid_t self) {
  std::vector<pid_t> found;
  DIR* d = opendir(proc_.c_str());
  if (d == nullptr) return found;
  std::unordered_map<pid_t, Seen> now;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0' || pid == self) continue;
    std::string link = proc_ + "/" + e->d_name + "/exe";
    char buf[4096];
    ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
    Seen s;
    s.exe = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
    auto it = seen_.find(static_cast<pid_t>(pid));
    const bool changed = it == seen_.end() || it->second.exe != s.exe;
    if (!changed) s.retries = it->second.retries;  // an exec starts the count over
    // Kernel threads have no executable; a process whose exe cannot be read is retried as new.
    if ((changed && !s.exe.empty() && sys::has_probe_section(link)) ||
        (!changed && it->second.again))
      found.push_back(static_cast<pid_t>(pid));
    now.emplace(static_cast<pid_t>(pid), std::move(s));
  }
  closedir(d);
  seen_ = std::move(now);
  return found;
}

bool ProcScanner::retry(pid_t pid) {
  auto it = seen_.find(pid);
  if (it == seen_.end() || it->second.retries >= kScanRetries) return false;
  ++it->second.retries;
  it->second.again = true;
  return true;
}

}  // namespace vtrace::guest
