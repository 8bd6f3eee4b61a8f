// The -c command: started before tracing is enabled and held at a gate, so its pid is known to
// the script as $target and it runs only once BEGIN has fired (no firing is missed).
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace vtrace::cli {

class GatedChild {
 public:
  GatedChild() = default;
  GatedChild(const GatedChild&) = delete;
  GatedChild& operator=(const GatedChild&) = delete;
  // The command ends with vtrace: killed (SIGKILL) if it still runs, as dtrace kills a process
  // it created when it exits (libdtrace's dt_proc_destroy releases it with PRELEASE_KILL).
  ~GatedChild();

  // Forks a child that waits at the gate, then execs `command` split on whitespace (as dtrace -c
  // does: no shell), with `extra_env` ("NAME=value") added to its environment. Returns false
  // with `error` set when it cannot start.
  bool start(const std::string& command, std::string& error,
             const std::vector<std::string>& extra_env = {});
  // Lets the child exec. Returns false with `error` when the exec failed.
  bool release(std::string& error);
  // Kills a child that was never released.
  void abandon();
  pid_t pid() const { return pid_; }
  // The path execvp would run for the command's first word ("" when none).
  static std::string resolve(const std::string& command);

 private:
  pid_t pid_ = -1;
  int gate_fd_ = -1;  // write end: one byte opens the gate
  int exec_fd_ = -1;  // read end: the child's errno if exec fails, EOF if it succeeds
};

}  // namespace vtrace::cli
