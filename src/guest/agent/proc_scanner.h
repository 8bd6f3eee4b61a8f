// Finds guest processes that carry probe.h sites: walks /proc and looks at the executable of
// each pid it has not seen with that executable before (one readlink a pid a scan; the ELF is
// opened only for a new pid or after an exec), so a scan every 250 ms stays cheap.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace vtrace::guest {

// Scans a pid is retried at, at most (a process caught right after exec is relocated by its
// dynamic loader within microseconds; a few scans cover a slow, busy guest).
inline constexpr uint32_t kScanRetries = 8;

class ProcScanner {
 public:
  explicit ProcScanner(std::string proc = "/proc") : proc_(std::move(proc)) {}
  // Pids whose executable changed since the last scan (new pids included) and has a
  // vtrace_probes section, and pids retry() asked for. `self` is skipped.
  std::vector<pid_t> scan(pid_t self);
  // Reports `pid` (seen at the last scan) again at the next scan although its executable did
  // not change: its probes could not be read yet (found before the dynamic loader relocated
  // its descriptors' string pointers). False once it was retried kScanRetries times with this
  // executable.
  bool retry(pid_t pid);

 private:
  struct Seen {
    std::string exe;       // the executable at the last scan
    uint32_t retries = 0;  // retry() calls granted for this executable
    bool again = false;    // report at the next scan
  };
  std::string proc_;
  std::unordered_map<pid_t, Seen> seen_;
};

}  // namespace vtrace::guest
