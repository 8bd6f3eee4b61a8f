// The guest kernel's functions as fbt probes (fbt::FUNC:entry / :return): the functions the
// kernel lets kprobes trace (tracefs available_filter_functions), and the kprobe events that
// carry their arguments (tracefs kprobe_events), made when a probe is first enabled and kept
// until the agent goes (an event defined and not enabled costs nothing). x86-64 calling
// convention: entry arguments arg0..arg5 are rdi, rsi, rdx, rcx, r8, r9; a return's arg1 is the
// return value (dtrace's arg0, the returning instruction's offset, is not something a
// kretprobe sees: the host faults a clause that reads it).
#pragma once
#include <string>
#include <vector>

namespace vtrace::guest {

class KernelFunctions {
 public:
  static constexpr const char* kGroup = "vtrace_fbt";
  // Entry: the six argument registers.
  static constexpr int kEntryArgs = 6;

  // `tracefs_root` is tracefs's mount point. Removes kprobe events a previous agent left.
  void open(const std::string& tracefs_root);
  // Whether the kernel has kprobe events at all.
  bool available() const;
  struct Function {
    std::string name;
    std::string module;  // "vmlinux", or the loadable module it is in
  };
  // Traceable functions whose name and module match the shell globs, in name order, without
  // the ones whose names cannot be an event's (compiler clones like foo.isra.0, names too long).
  std::vector<Function> match(const std::string& module_glob, const std::string& glob);
  // Tracefs event name of a function's entry or return probe (in group kGroup).
  static std::string event_name(const std::string& function, bool ret);
  // Defines the kprobe event of a function's entry or return probe unless it exists. "" or an
  // error.
  std::string define(const std::string& function, bool ret);

 private:
  std::string root_;
  bool listed_ = false;
  std::vector<Function> functions_;  // sorted by name, unique
};

}  // namespace vtrace::guest
