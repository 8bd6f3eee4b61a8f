// Programs routed by syscall number for several owners (the clauses placed at syscall probes):
// one dispatcher (syscall_program.h) per owner and side, each with its own per-CPU data map for
// the record its programs rebuild, and each distinct program loaded once per dispatcher (a
// clause on syscall:::entry translates to a handful of distinct programs, not ~370).
#pragma once
#include <linux/bpf.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bpf/kernel_layout.h"
#include "bpf/syscall_program.h"
#include "sys/unique_fd.h"

namespace vtrace::bpf {

class SyscallRoutes {
 public:
  // The data map of `owner`'s dispatcher on `side` (created with it on first use), or -1 with
  // err set.
  int data_fd(uint32_t owner, SyscallSide side, const KernelLayout& layout, std::string& err);
  // Loads `insns` as a raw tracepoint program (unless the dispatcher has the same one) and
  // routes syscall `nr` to it. data_fd() of the same owner and side must come first. `what`
  // names the program in messages.
  bool route(uint32_t owner, SyscallSide side, uint32_t nr, const std::vector<bpf_insn>& insns,
             const std::string& what, std::string& err);
  // Attaches every dispatcher; detach() stops them all firing.
  bool attach(std::string& err);
  void detach();

 private:
  struct Owner {
    std::unique_ptr<SyscallDispatch> dispatch;
    sys::UniqueFd data;
    std::map<std::string, sys::UniqueFd> progs;  // by their instructions' bytes
  };
  std::map<std::pair<uint32_t, SyscallSide>, Owner> owners_;
};

}  // namespace vtrace::bpf
