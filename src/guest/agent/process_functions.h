// A guest process's functions as pid probes (pidPID:MODULE:FUNCTION:entry / :return, as DTrace
// names them): the function symbols of its executable and of the other files it has mapped to
// run code (the ELF files, read through /proc/PID/map_files or their paths), each at the file
// offset of its first instruction, where a uprobe event (tracefs uprobe_events) goes. A uprobe
// fires in every process that maps the file: the agent keeps only the firings of PID.
// x86-64: entry arguments arg0..arg5 are rdi, rsi, rdx, rcx, r8, r9; a return's arg1 is the
// return value (arg0, dtrace's return offset, is not something a uretprobe sees).
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace vtrace::guest {

class ProcessFunctions {
 public:
  static constexpr const char* kGroup = "vtrace_pid";
  static constexpr int kEntryArgs = 6;

  // `tracefs_root` is tracefs's mount point. Removes uprobe events a previous agent left.
  void open(const std::string& tracefs_root);
  bool available() const;

  struct Function {
    std::string path;    // the file (as the process maps it)
    std::string module;  // its file name
    std::string name;
    uint64_t offset = 0;  // file offset of the first instruction
  };
  // The functions of process `pid` whose module (file name, or "a.out" for the executable)
  // and name match the shell globs, with a size, in an executable segment; "" or an error
  // (no such process).
  std::string match(pid_t pid, const std::string& module_glob, const std::string& glob,
                    std::vector<Function>& out);
  // Defines the uprobe (or uretprobe) event `event` of group kGroup at f unless it exists. ""
  // or an error.
  std::string define(const Function& f, const std::string& event, bool ret);

 private:
  std::string root_;
};

}  // namespace vtrace::guest
