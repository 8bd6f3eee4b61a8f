#include "cli/trace_loop.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "clock/host_clock.h"

namespace vtrace::cli {

namespace {

constexpr uint64_t kHeartbeatNs = 50'000'000;  // sync sites give up after ~1 s without one
constexpr uint64_t kMinSleepNs = 200'000;      // async: first sleep after an empty poll
constexpr uint64_t kMaxSleepNs = 5'000'000;    // async: the back-off stops here
constexpr uint32_t kSpinsPerSignalCheck = 4096;
constexpr uint64_t kHeldSleepNs = 1'000'000;   // async, records held in the merge
constexpr uint64_t kStatusNs = 1'000'000'000;  // drops reported as they happen, as dtrace's
                                               // statusrate (1 Hz) does

// A process that exists and is not a zombie (an exited child its parent has not reaped).
bool process_alive(pid_t pid) {
  if (kill(pid, 0) != 0 && errno != EPERM) return false;
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (f == nullptr) return false;
  char buf[512];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* paren = std::strrchr(buf, ')');  // the state follows "(comm) "
  return paren == nullptr || paren[1] == '\0' || paren[2] != 'Z';
}

class Loop {
 public:
  explicit Loop(TraceSession& s) : s_(s), sink_(*s.engine) {}

  void run() {
    uint64_t next_beat = 0;
    uint64_t next_status = clock::host_now_ns() + kStatusNs;
    uint64_t sleep_ns = 0;
    uint32_t spins = 0;
    const auto& targets = s_.timeline->targets();
    if (sync_poll_ns() != UINT64_MAX && sync_poll_ns() > 0)
      prctl(PR_SET_TIMERSLACK, 1000UL);  // short polls stay short
    while (!s_.engine->exited()) {
      uint64_t now = clock::host_now_ns();
      size_t n = s_.timeline->round(now, sink_);
      if (s_.engine->exited()) return;
      if (now >= next_beat) {
        next_beat = now + kHeartbeatNs;
        for (targets::Target* t : targets)
          if (t->active()) t->tick(now, *s_.engine);
        if (!check_processes()) return;
        if (now >= next_status) {
          next_status = now + kStatusNs;
          s_.engine->report_drops();
        }
        if (!s_.engine->flush_output()) return;  // nobody reads the output any more
      }
      const uint64_t sync_poll = sync_poll_ns();
      uint64_t wait_ns;
      if (n > 0 || sync_poll == 0) {
        // Busy (or sync: a site may be waiting right now): no sleep, but look at signals now
        // and then so ^C always works.
        sleep_ns = 0;
        if (++spins < kSpinsPerSignalCheck) continue;
        wait_ns = 0;
      } else if (sync_poll != UINT64_MAX) {
        sleep_ns = 0;
        wait_ns = sync_poll;
      } else if (polled()) {
        sleep_ns = sleep_ns == 0 ? kMinSleepNs : std::min(sleep_ns * 2, kMaxSleepNs);
        // Records held for the others' watermarks go out at the next rounds.
        if (s_.timeline->held() > 0) sleep_ns = std::min(sleep_ns, kHeldSleepNs);
        wait_ns = sleep_ns;
      } else {
        wait_ns = 1'000'000'000;
      }
      spins = 0;
      // Before waiting, not on every busy round. A closed pipe (`vtrace ... | head -1`) or a full
      // disk ends tracing: what follows has nowhere to go.
      if (!s_.engine->flush_output()) return;
      std::fflush(nullptr);
      uint64_t deadline = UINT64_MAX;
      for (targets::Target* t : targets)
        if (t->active()) deadline = std::min(deadline, t->next_deadline());
      now = clock::host_now_ns();
      if (deadline != UINT64_MAX) wait_ns = deadline > now ? std::min(wait_ns, deadline - now) : 0;
      if (sync_poll == UINT64_MAX && wait_ns > 0)
        // Sleep on a doorbell if a target has one, so a filling ring wakes the loop at once.
        for (targets::Target* t : targets)
          if (t->active() && t->wait(wait_ns)) {
            wait_ns = 0;
            break;
          }
      if (!wait_signal(wait_ns)) return;
    }
  }

 private:
  // In sync mode, how long the loop may sleep (0: spin; UINT64_MAX: no site waits for it).
  uint64_t sync_poll_ns() const {
    uint64_t ns = UINT64_MAX;
    if (s_.sync)
      for (const targets::Target* t : s_.timeline->targets())
        if (t->active()) ns = std::min(ns, t->sync_poll_ns());
    return ns;
  }

  // Whether a target must be polled to see its records (one that only fires at its deadlines,
  // the profile ticks, is woken by them).
  bool polled() const {
    for (const targets::Target* t : s_.timeline->targets())
      if (t->active() && t->next_deadline() == UINT64_MAX) return true;
    return false;
  }

  void drain_all() {
    for (int i = 0; i < 1000 && s_.timeline->round(clock::host_now_ns(), sink_) > 0; ++i) {
    }
  }

  void announce_exit(targets::ProcessTarget& t) {
    if (t.exited()) return;
    drain_all();  // what it wrote before it died
    t.set_exited();
    if (!s_.engine->options().quiet) std::fprintf(stderr, "vtrace: pid %d has exited\n", t.pid());
  }

  // Notices -p processes that exited. False when tracing should stop.
  bool check_processes() {
    bool any = false;
    for (auto& t : s_.procs->all()) {
      if (t->pid() == s_.child) continue;  // the -c command: SIGCHLD tells
      if (!t->exited() && !t->check_alive()) announce_exit(*t);
      any = any || !t->exited();
    }
    for (pid_t& pid : s_.usdt_pids) {
      if (pid <= 0 || pid == s_.child) continue;
      if (process_alive(pid)) {
        any = true;
      } else {
        drain_all();
        if (!s_.engine->options().quiet) std::fprintf(stderr, "vtrace: pid %d has exited\n", pid);
        pid = -1;
      }
    }
    return !(s_.stop_without_procs && !any && s_.child <= 0);
  }

  bool wait_signal(uint64_t wait_ns) {
    timespec ts{static_cast<time_t>(wait_ns / 1000000000), static_cast<long>(wait_ns % 1000000000)};
    siginfo_t info;
    int sig = sigtimedwait(&s_.signals, &info, &ts);
    if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) return false;
    if (sig == SIGCHLD && s_.child > 0) {
      int status = 0;
      if (waitpid(s_.child, &status, WNOHANG) == s_.child) {
        drain_all();  // every event of the command's life, before END
        if (targets::ProcessTarget* t = s_.procs->find(s_.child)) {
          announce_exit(*t);
        } else if (!s_.engine->options().quiet) {
          std::fprintf(stderr, "vtrace: pid %d has exited\n", s_.child);
        }
        s_.child = -1;
        return false;
      }
    }
    return true;
  }

  TraceSession& s_;
  engine::EngineSink sink_;
};

}  // namespace

void trace_loop(TraceSession& s) {
  Loop(s).run();
}

}  // namespace vtrace::cli
