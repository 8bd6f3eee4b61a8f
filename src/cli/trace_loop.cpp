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
constexpr uint64_t kGuestSyncPollNs = 20'000;  // sync mode with guests only: poll period
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
  explicit Loop(TraceSession& s) : s_(s) {}

  void run() {
    uint64_t next_beat = 0;
    uint64_t next_status = clock::host_now_ns() + kStatusNs;
    uint64_t sleep_ns = 0;
    uint32_t spins = 0;
    if (s_.sync && guests_active()) prctl(PR_SET_TIMERSLACK, 1000UL);  // short polls stay short
    while (!s_.engine->exited()) {
      uint64_t now = clock::host_now_ns();
      if (!fire_profile(now)) return;
      size_t n = drain_once();
      if (s_.engine->exited()) return;
      if (now >= next_beat) {
        next_beat = now + kHeartbeatNs;
        s_.procs->heartbeat();
        if (guests_active()) check_guests(now);
        if (!check_processes()) return;
        if (now >= next_status) {
          next_status = now + kStatusNs;
          s_.engine->report_drops();
        }
        if (!s_.engine->flush_output()) return;  // nobody reads the output any more
      }
      uint64_t wait_ns;
      if (n > 0 || (s_.sync && !s_.procs->empty())) {
        // Busy (or sync: a site may be waiting right now): no sleep, but look at signals now
        // and then so ^C always works.
        sleep_ns = 0;
        if (++spins < kSpinsPerSignalCheck) continue;
        wait_ns = 0;
      } else if (s_.sync && guests_active()) {
        // Sync guests: a guest's vCPU waits for the next poll, but spinning here would take a
        // host CPU from the vCPUs (TCG guests need them to get to the next probe at all).
        sleep_ns = 0;
        wait_ns = kGuestSyncPollNs;
      } else if (!s_.procs->empty() || usdt_active() || kernel_active() || guests_active()) {
        sleep_ns = sleep_ns == 0 ? kMinSleepNs : std::min(sleep_ns * 2, kMaxSleepNs);
        wait_ns = sleep_ns;
      } else {
        wait_ns = 1'000'000'000;
      }
      spins = 0;
      // Before waiting, not on every busy round. A closed pipe (`vtrace ... | head -1`) or a full
      // disk ends tracing: what follows has nowhere to go.
      if (!s_.engine->flush_output()) return;
      std::fflush(nullptr);
      uint64_t deadline = s_.profile->next_deadline();
      now = clock::host_now_ns();
      if (deadline != UINT64_MAX) wait_ns = deadline > now ? std::min(wait_ns, deadline - now) : 0;
      if (!s_.procs->empty() && !s_.sync && wait_ns > 0) {
        // Async processes: sleep on their doorbell, so a filling ring wakes the loop at once.
        s_.procs->wait_doorbell(wait_ns);
        wait_ns = 0;
      }
      if (!wait_signal(wait_ns)) return;
    }
  }

 private:
  bool fire_profile(uint64_t now) {
    due_.clear();
    s_.profile->collect_due(now, due_);
    for (uint32_t id : due_) {
      Record rec = engine::Engine::host_record(id);
      s_.engine->process(rec);
      if (s_.engine->exited()) return false;
    }
    return true;
  }

  bool usdt_active() const { return s_.usdt != nullptr && s_.usdt->active(); }
  bool guests_active() const { return s_.guests != nullptr && s_.guests->active(); }

  // Guests that stopped, clocks to re-measure, and probes that appeared in a guest since (a
  // program started there after the script): the engine enables its clauses on them.
  void check_guests(uint64_t now) {
    s_.guests->tick(now);
    uint32_t first = s_.guests->targets().refresh_tables(s_.engine->catalog());
    if (first == 0) return;
    s_.engine->enable_new(first);
    // Always re-written: it also tells the agent the host has seen its table (table_seen).
    s_.guests->enable(s_.engine->enabled_probes());
  }
  bool kernel_active() const { return s_.kernel != nullptr && s_.kernel->active(); }

  size_t drain_once() {
    size_t n = 0;
    if (kernel_active()) n += s_.kernel->poll(*s_.engine);
    if (usdt_active())
      n += s_.usdt->poll([this](const Record& r) {
        if (!s_.engine->exited()) s_.engine->process(r);
      });
    if (guests_active())
      n += s_.guests->targets().round(
          [this](Record& r) {
            if (s_.engine->exited()) return;
            if (s_.vmm != nullptr) s_.vmm->annotate(r);
            s_.engine->process(r);
          },
          clock::host_now_ns());
    if (s_.procs->empty()) return n;
    return n + s_.procs->round([this](const Record& r) { s_.engine->process(r); });
  }

  void drain_all() {
    for (int i = 0; i < 1000 && drain_once() > 0; ++i) {
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
  std::vector<uint32_t> due_;
};

}  // namespace

void trace_loop(TraceSession& s) {
  Loop(s).run();
}

void stop_processes(TraceSession& s) {
  if (s.usdt != nullptr && s.usdt->active()) {
    // Samples taken before the events close still count.
    for (int i = 0; i < 1000 && !s.engine->exited() &&
                    s.usdt->poll([&](const Record& r) { s.engine->process(r); }) > 0;
         ++i) {
    }
    s.usdt->shutdown();
  }
  if (s.guests != nullptr && s.guests->active()) {
    // Records the guests wrote before the end still count, in order (after exit() nothing
    // runs: no need to wait for them).
    if (!s.engine->exited())
      s.guests->drain([&](Record& r) {
        if (s.engine->exited()) return;
        if (s.vmm != nullptr) s.vmm->annotate(r);
        s.engine->process(r);
      });
    s.guests->targets().detach();
  }
  if (s.procs->empty()) return;
  for (auto& t : s.procs->all()) t->disable();
  // Records published before the probes went off still count.
  for (int i = 0; i < 1000 && s.procs->round([&](const Record& r) { s.engine->process(r); }) > 0;
       ++i) {
  }
  s.procs->shutdown();
}

}  // namespace vtrace::cli
