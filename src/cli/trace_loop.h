// The tracing loop of the vtrace command: fires profile ticks, polls the rings of every traced
// process, watches signals and the processes' lives, until exit(), ^C, or the end of the -c
// command (or of every -p process).
#pragma once
#include <signal.h>
#include <sys/types.h>

#include <vector>

#include "cli/guest_session.h"
#include "engine/engine.h"
#include "engine/profile_provider.h"
#include "targets/host/kernel_probes.h"
#include "targets/host/usdt_target.h"
#include "targets/host/vmm_probes.h"
#include "targets/process/process_target.h"

namespace vtrace::cli {

struct TraceSession {
  engine::Engine* engine = nullptr;
  engine::ProfileProvider* profile = nullptr;
  targets::ProcessTargets* procs = nullptr;
  targets::host::UsdtTargets* usdt = nullptr;     // USDT uprobes (may be inactive)
  std::vector<pid_t> usdt_pids;                   // -p processes traced only through USDT
  targets::host::KernelProbes* kernel = nullptr;  // host tracepoints (may be inactive)
  GuestSession* guests = nullptr;                 // QEMU guests (may be inactive)
  targets::host::VmmProbes* vmm = nullptr;        // sets vcpustolen of guest records
  pid_t child = -1;                               // the -c command, or -1
  bool sync = false;                              // -x mode=sync: poll without sleeping
  bool stop_without_procs = false;                // -p: stop once every traced process has exited
  sigset_t signals;                               // blocked: SIGINT, SIGTERM, SIGHUP, SIGCHLD
};

void trace_loop(TraceSession& s);

// Disables the probes of every process, reads what is left in their rings, detaches.
void stop_processes(TraceSession& s);

}  // namespace vtrace::cli
