// `vtrace vm exec`: runs a command in a guest through the exec mailbox of its vtrace channel
// (struct vtrace_guest_exec in include/vtrace/guest_abi.h), which the guest's vtrace-agent serves.
// One request at a time per VM: the client holds an exclusive flock on <state dir>/exec.lock.
// Everything the guest writes back (lengths, status) is clamped: the guest is untrusted.
#pragma once
#include <string>
#include <vector>

#include "targets/qemu/vm_manager.h"
#include "vtrace/guest_abi.h"

namespace vtrace::targets::qemu {

struct ExecOptions {
  std::vector<std::string> argv;
  double timeout_s = 120;    // for the command to finish
  double agent_wait_s = 15;  // for the agent to be ready (a VM that just booted)
  bool traced = true;        // hold the command until a tracing session's probes are on
  double lock_wait_s = -1;   // for another request on the VM to finish (negative: as long)
};

struct ExecResult {
  int exit_status = 0;     // 0..255
  std::string output;      // stdout and stderr of the command, interleaved
  bool truncated = false;  // the guest had more output than fits the mailbox
};

// Where a VM's mailbox is (from VmInfo; tests point it at a file of their own).
struct ExecTarget {
  std::string vm_name;
  std::string channel;  // the channel file (vm_manager.h: SHM_DIR/NAME-ID.channel)
  std::string lock;     // the lock file (<state dir>/exec.lock)
  std::string console;  // named in errors when the agent does not answer
  int qemu_pid = 0;     // 0: do not watch for QEMU exiting
};

ExecTarget exec_target(const VmInfo& vm);

// Throws std::runtime_error with a message for the user (no agent, timeout, argv too long, ...).
ExecResult exec_command(const ExecTarget& target, const ExecOptions& options);

// The guest's answer in a mailbox `e` (guest-written: lengths are clamped to `output_cap`, the
// host's own size of the output area that follows `e`, the status to 0..255). Exposed for tests
// and the fuzzer.
ExecResult read_exec_reply(const vtrace_guest_exec* e, uint32_t output_cap);

}  // namespace vtrace::targets::qemu
