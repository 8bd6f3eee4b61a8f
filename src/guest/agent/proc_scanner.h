// Finds guest processes that carry probe.h sites: walks /proc and looks at the executable of
// each pid it has not seen with that executable before (one readlink a pid a scan; the ELF is
// opened only for a new pid or after an exec), so a scan every 250 ms stays cheap.
#pragma once
#include <sys/types.h>

#include <string>
#include <unordered_map>
#include <vector>

namespace vtrace::guest {

class ProcScanner {
 public:
  explicit ProcScanner(std::string proc = "/proc") : proc_(std::move(proc)) {}
  // Pids whose executable changed since the last scan (new pids included) and has a
  // vtrace_probes section. `self` is skipped.
  std::vector<pid_t> scan(pid_t self);

 private:
  std::string proc_;
  std::unordered_map<pid_t, std::string> exe_;  // pid -> executable seen at the last scan
};

}  // namespace vtrace::guest
