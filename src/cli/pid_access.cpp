#include "cli/pid_access.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace vtrace::cli {

namespace {

constexpr unsigned long kPfKthread = 0x00200000;  // PF_KTHREAD, <linux/sched.h>

// The name and flags fields of /proc/PID/stat: "pid (comm) state ppid ... flags(9th) ...".
bool read_stat(pid_t pid, std::string& comm, unsigned long& flags) {
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (f == nullptr) return false;
  char buf[1024];
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* open = std::strchr(buf, '(');
  const char* close = std::strrchr(buf, ')');
  if (open == nullptr || close == nullptr || close < open) return false;
  comm.assign(open + 1, close);
  // After ") ": state, ppid, pgrp, session, tty_nr, tpgid, flags.
  char state = 0;
  long skip[5];
  return std::sscanf(close + 1, " %c %ld %ld %ld %ld %ld %lu", &state, &skip[0], &skip[1], &skip[2],
                     &skip[3], &skip[4], &flags) == 7;
}

}  // namespace

PidFacts probe_pid(pid_t pid) {
  PidFacts f;
  if (pid <= 0) {
    f.exists = false;
    return f;
  }
  if (kill(pid, 0) != 0) {
    if (errno == ESRCH) {
      f.exists = false;
      return f;
    }
    if (errno == EPERM) f.permitted = false;
  }
  unsigned long flags = 0;
  if (read_stat(pid, f.comm, flags)) f.kernel_thread = (flags & kPfKthread) != 0;
  if (f.kernel_thread) return f;
  char exe[4096];
  if (readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), exe, sizeof exe) < 0) {
    if (errno == EACCES || errno == EPERM) f.permitted = false;
    if (errno == ENOENT && kill(pid, 0) != 0 && errno == ESRCH) f.exists = false;  // exited
  }
  return f;
}

std::string describe_pid_problem(pid_t pid, const PidFacts& f) {
  const std::string who = "pid " + std::to_string(pid);
  const std::string name = f.comm.empty() ? "" : " (" + f.comm + ")";
  if (!f.exists) return who + ": no such process";
  if (f.kernel_thread)
    return who + name + ": is a kernel thread and cannot be traced with -p" +
           " (its events are the host's: syscall, sched, proc, tracepoint probes)";
  if (!f.permitted)
    return who + name +
           ": permission denied (another user's process, or one with privileges vtrace lacks)";
  return "";
}

std::string pid_trace_problem(pid_t pid) {
  return describe_pid_problem(pid, probe_pid(pid));
}

}  // namespace vtrace::cli
