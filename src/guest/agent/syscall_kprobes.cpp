#include "guest/agent/syscall_kprobes.h"

#include <unistd.h>

#include <fstream>
#include <vector>

#include "sys/tracefs.h"

namespace vtrace::guest {

namespace {

constexpr size_t kMaxEventName = 64;  // tracefs's MAX_EVENT_NAME_LEN
// Where a syscall's arguments are in the pt_regs its x86-64 function gets in %di: di, si, dx,
// r10, r8, r9.
constexpr int kArgRegOffset[6] = {112, 104, 96, 56, 72, 64};

}  // namespace

void SyscallKprobes::open(const std::string& tracefs_root) {
  root_ = tracefs_root;
  if (!available()) return;
  std::ifstream in(root_ + "/kprobe_events");
  std::string line, mine = std::string("p:") + kGroup + "/";
  std::vector<std::string> stale;
  while (std::getline(in, line))
    if (line.rfind(mine, 0) == 0) stale.push_back(line.substr(2, line.find(' ') - 2));
  for (const std::string& ev : stale) sys::append_line(root_ + "/kprobe_events", "-:" + ev + "\n");
}

bool SyscallKprobes::available() const {
  return !root_.empty() && access((root_ + "/kprobe_events").c_str(), W_OK) == 0;
}

std::string SyscallKprobes::define(const std::string& name, int nargs, int str_arg,
                                 std::string& event) {
  if (nargs > 6 || str_arg >= nargs) return "no argument " + std::to_string(str_arg);
  for (char c : name)
    if (!(c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')))
      return "not a syscall name: " + name;
  event = name + (str_arg >= 0 ? "_s" + std::to_string(str_arg) : std::string("_k"));
  if (event.size() > kMaxEventName) return "event name too long: " + event;
  if (access((root_ + "/events/" + kGroup + "/" + event + "/format").c_str(), R_OK) == 0)
    return "";
  std::string line = std::string("p:") + kGroup + "/" + event + " __x64_sys_" + name;
  for (int i = 0; i < nargs; ++i)
    line += " " + arg_field(i) + "=+" + std::to_string(kArgRegOffset[i]) + "(%di):u64";
  if (str_arg >= 0)
    line += std::string(" ") + kStringField + "=+0(+" + std::to_string(kArgRegOffset[str_arg]) +
            "(%di)):ustring";
  return sys::append_line(root_ + "/kprobe_events", line + "\n");
}

}  // namespace vtrace::guest
