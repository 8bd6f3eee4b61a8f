// Why a -p process cannot be traced, said before any target tries it: "no such process" was
// all vtrace said for pid 1 as a user (permission) and for pid 2 (a kernel thread).
#pragma once
#include <sys/types.h>

#include <string>

namespace vtrace::cli {

// What vtrace can tell about a pid before tracing it.
struct PidFacts {
  bool exists = true;          // kill(pid, 0) did not fail with ESRCH
  bool permitted = true;       // signals and /proc/PID/exe are ours to use (else EPERM/EACCES)
  bool kernel_thread = false;  // PF_KTHREAD: no user address space, no executable
  std::string comm;            // its name, from /proc/PID/stat ("" if unknown)
};

PidFacts probe_pid(pid_t pid);

// The message for `facts` ("pid 2: is a kernel thread (kthreadd) ...", "pid 1: permission
// denied ..."), or "" when the process can be traced as far as these facts tell.
std::string describe_pid_problem(pid_t pid, const PidFacts& facts);

// describe_pid_problem(pid, probe_pid(pid)).
std::string pid_trace_problem(pid_t pid);

}  // namespace vtrace::cli
