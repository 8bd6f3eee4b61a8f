#include "sys/process_facts.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vtrace::sys {

std::string exe_basename(std::string path) {
  const std::string deleted = " (deleted)";
  if (path.size() > deleted.size() &&
      path.compare(path.size() - deleted.size(), deleted.size(), deleted) == 0)
    path.resize(path.size() - deleted.size());
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void read_proc_comm(pid_t pid, char* comm, size_t size) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string text;
  if (size == 0 || !std::getline(in, text)) return;
  std::memset(comm, 0, size);
  size_t n = std::min(text.size(), size - 1);
  for (size_t i = 0; i < n; ++i) comm[i] = (text[i] >= 0x20 && text[i] < 0x7f) ? text[i] : '?';
}

bool read_exec_mappings(pid_t pid, std::vector<ExecMapping>& out) {
  out.clear();
  std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
  if (!in) return false;
  auto hex = [](const std::string& s, uint64_t& v) {
    char* end = nullptr;
    v = std::strtoull(s.c_str(), &end, 16);
    return !s.empty() && *end == '\0';
  };
  for (std::string line; std::getline(in, line);) {
    // start-end perms offset dev inode path
    std::istringstream f(line);
    std::string range, perms, offset, dev, inode;
    ExecMapping m;
    if (!(f >> range >> perms >> offset >> dev >> inode)) continue;
    std::getline(f >> std::ws, m.path);
    if (perms.size() < 3 || perms[2] != 'x' || m.path.empty() ||
        (m.path[0] != '/' && m.path[0] != '['))
      continue;
    const size_t dash = range.find('-');
    if (dash == std::string::npos || !hex(range.substr(0, dash), m.start) ||
        !hex(range.substr(dash + 1), m.end) || !hex(offset, m.offset))
      continue;
    m.inode = std::strtoull(inode.c_str(), nullptr, 10);
    m.file_id = dev + " " + inode;
    out.push_back(std::move(m));
  }
  return true;
}

bool read_credentials(pid_t pid, uint32_t& uid, uint32_t& gid, int32_t& ppid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  bool have_uid = false, have_gid = false, have_ppid = false;
  for (std::string line; std::getline(in, line);) {
    // "Uid:\treal\teffective\tsaved\tfs"
    if (line.rfind("Uid:", 0) == 0) have_uid = std::sscanf(line.c_str() + 4, "%u", &uid) == 1;
    if (line.rfind("Gid:", 0) == 0) have_gid = std::sscanf(line.c_str() + 4, "%u", &gid) == 1;
    if (line.rfind("PPid:", 0) == 0) have_ppid = std::sscanf(line.c_str() + 5, "%d", &ppid) == 1;
  }
  // A zombie's status still reads: only a process that runs has these as they are.
  return have_uid && have_gid && have_ppid && process_alive(pid);
}

bool process_alive(pid_t pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return false;
  // The state follows the last ')' (the command name may contain spaces and parentheses).
  size_t close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) return true;
  char state = text[close + 2];
  return state != 'Z' && state != 'X';
}

}  // namespace vtrace::sys
