// The tracing loop of the vtrace command: polls every target through the one timeline, gives
// each its upkeep, watches signals and the lives of the traced processes, until exit(), ^C, or
// the end of the -c command (or of every -p process).
#pragma once
#include <signal.h>
#include <sys/types.h>

#include <vector>

#include "engine/engine.h"
#include "engine/engine_sink.h"
#include "targets/process/process_target.h"
#include "targets/timeline.h"

namespace vtrace::cli {

struct TraceSession {
  engine::Engine* engine = nullptr;
  targets::Timeline* timeline = nullptr;  // every target, merged by host time
  // The processes whose end ends tracing (-c, and -p with stop_without_procs).
  targets::ProcessTargets* procs = nullptr;
  std::vector<pid_t> usdt_pids;     // -p processes traced only through USDT
  pid_t child = -1;                 // the -c command, or -1
  bool sync = false;                // -x mode=sync: sites wait at their probes for the loop
  bool stop_without_procs = false;  // -p: stop once every traced process has exited
  sigset_t signals;                 // blocked: SIGINT, SIGTERM, SIGHUP, SIGCHLD
};

void trace_loop(TraceSession& s);

}  // namespace vtrace::cli
