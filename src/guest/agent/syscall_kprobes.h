// Syscall entries as kprobe events (tracefs kprobe_events) on the syscall's function, for what
// the syscall tracepoint cannot give: the string one argument points to, read by the kernel as
// the syscall starts (the `ustring` fetch type; what a guest's copyinstr(argN) of a syscall
// reads at the moment of the call, not after it, when the memory may have changed or the
// process gone), and the kernel's stack (the tracepoint hands perf the user's registers). The
// arguments are fetched from the pt_regs the function is given, as the tracepoint has them.
// x86-64 syscall functions (__x64_sys_NAME, Linux 4.17+). (Event probes on the tracepoint would
// be the natural tool for the string, but the kernel does not deliver them to perf.)
#pragma once
#include <string>

namespace vtrace::guest {

class SyscallKprobes {
 public:
  static constexpr const char* kGroup = "vtrace_sys";
  static constexpr const char* kStringField = "vtrace_s";  // the fetched string (__data_loc)

  // `tracefs_root` is tracefs's mount point. Removes the events a previous agent left.
  void open(const std::string& tracefs_root);
  bool available() const;
  // The field of argument i (a u64) in a defined event.
  static std::string arg_field(int i) { return "a" + std::to_string(i); }
  // Defines (unless it exists) the event of syscall `name` entering with its `nargs` arguments
  // and the string argument `str_arg` points to (-1: none), and gives its name in kGroup. ""
  // or an error.
  std::string define(const std::string& name, int nargs, int str_arg, std::string& event);

 private:
  std::string root_;
};

}  // namespace vtrace::guest
