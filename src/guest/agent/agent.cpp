#include "guest/agent/agent.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "guest/agent/agent_log.h"
#include "guest/agent/ping_responder.h"

namespace vtrace::guest {

namespace {

constexpr auto kScanAttached = std::chrono::milliseconds(250);
constexpr auto kScanIdle = std::chrono::seconds(1);
constexpr auto kHousekeeping = std::chrono::milliseconds(50);

// The kernel's own TSC frequency from its boot log ("tsc: Refined TSC clocksource calibration:
// 2095.077 MHz" or "tsc: Detected 2095.077 MHz processor"); 0 when absent.
uint64_t kernel_tsc_khz() {
  int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return 0;
  uint64_t khz = 0;
  char line[2048];
  for (;;) {
    ssize_t n = read(fd, line, sizeof line - 1);
    if (n < 0) {
      if (errno == EPIPE) continue;  // overwritten records: go on with the next
      break;
    }
    line[n] = '\0';
    for (const char* key : {"tsc: Refined TSC clocksource calibration: ", "tsc: Detected "}) {
      const char* at = std::strstr(line, key);
      if (at == nullptr) continue;
      double mhz = std::strtod(at + std::strlen(key), nullptr);
      // "Refined" comes later and is more precise; it wins.
      if (mhz > 0 && (khz == 0 || key[5] == 'R')) khz = static_cast<uint64_t>(mhz * 1000 + 0.5);
    }
  }
  close(fd);
  return khz;
}

}  // namespace

Agent::~Agent() {
  std::lock_guard<std::mutex> lock(mu_);
  detach_all_locked();
}

bool Agent::map_channel(const std::atomic<bool>& stop) {
  std::string last;
  while (!stop) {
    std::string err;
    if (bar_.map(opts_.bar, err)) err = bar_.validate();
    if (err.empty()) return true;
    if (err != last) log_error("%s (retrying every second)", err.c_str());
    last = err;
    for (int i = 0; i < 10 && !stop; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

void Agent::publish_identity() {
  h_->agent_ready = 0;
  h_->agent_pid = static_cast<uint32_t>(getpid());
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  h_->ncpus = n > 0 ? static_cast<uint32_t>(n) : 1;
  utsname u{};
  if (uname(&u) == 0) copy_field(h_->kernel_release, sizeof h_->kernel_release, u.release);
  uint64_t khz = kernel_tsc_khz();
  if (khz == 0 && kernel_.clock().calibrated())
    khz = static_cast<uint64_t>(kernel_.clock().ticks_per_ns() * 1e6 + 0.5);
  h_->guest_tsc_khz = khz;
  set_agent_error(h_, "");
}

void Agent::init_kernel_probes() {
  if (!opts_.kernel) return;
  kernel_.exclude_own_threads(true);
  kernel_.set_symbols(&symbols_);
  std::string err = kernel_.init();
  if (!err.empty()) {
    log_error("kernel events: %s", err.c_str());
    set_agent_error(h_, "kernel events: " + err);
    return;
  }
  const auto& probes = kernel_.probes();
  for (uint32_t i = 0; i < probes.size(); ++i) {
    const KernelProbe& p = probes[i];
    const uint32_t entry = table_.add(VTRACE_GPROBE_KERNEL, 0, p.nargs, p.flags, p.provider,
                                      p.module, p.function, p.name);
    if (entry == kNoEntry) break;
    kernel_entries_.push_back(entry);
  }
  kernel_on_.assign(kernel_entries_.size(), 0);
  log_info("%zu guest kernel probes", kernel_entries_.size());
}

void Agent::serve_request() {
  const uint32_t gen = __atomic_load_n(&h_->request_gen, __ATOMIC_ACQUIRE);
  if (gen == request_gen_seen_) return;
  request_gen_seen_ = gen;
  char text[VTRACE_GUEST_REQUEST_LEN];
  std::memcpy(text, h_->request, sizeof text);  // the host may rewrite it: one copy
  text[sizeof text - 1] = '\0';
  const std::string req = text;
  uint32_t matched = 0, status = VTRACE_REQ_OK;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const uint32_t room = h_->max_probes > table_.count() ? h_->max_probes - table_.count() : 0;
    std::vector<uint32_t> added;
    if (req.rfind("fbt:", 0) == 0) {
      // "fbt:MODULE:FUNCTION" ("fbt:FUNCTION" from a vtrace that sent no module)
      const std::string rest = req.substr(4);
      const size_t colon = rest.find(':');
      if (colon == std::string::npos)
        added = kernel_.add_fbt("*", rest, room, matched, status);
      else
        added =
            kernel_.add_fbt(rest.substr(0, colon), rest.substr(colon + 1), room, matched, status);
    } else if (req.rfind("pid:", 0) == 0) {
      // "pid:PID:MODULE:FUNCTION"
      const size_t c1 = req.find(':', 4), c2 = c1 == std::string::npos ? c1 : req.find(':', c1 + 1);
      char* end = nullptr;
      const unsigned long pid = std::strtoul(req.c_str() + 4, &end, 10);
      if (c2 == std::string::npos || end != req.c_str() + c1 || pid == 0 || pid > INT32_MAX)
        status = VTRACE_REQ_BAD;
      else
        added = kernel_.add_pid(static_cast<uint32_t>(pid), req.substr(c1 + 1, c2 - c1 - 1),
                                req.substr(c2 + 1), room, matched, status);
    } else if (req.rfind("profile:", 0) == 0) {
      // "profile:NAME:PERIOD_NS"
      const size_t colon = req.find(':', 8);
      char* end = nullptr;
      const unsigned long long period =
          colon == std::string::npos ? 0 : std::strtoull(req.c_str() + colon + 1, &end, 10);
      if (colon == std::string::npos || end == nullptr || *end != '\0')
        status = VTRACE_REQ_BAD;
      else
        added = kernel_.add_profile(req.substr(8, colon - 8), period, room, matched, status);
    } else {
      status = VTRACE_REQ_BAD;
    }
    for (uint32_t i : added) {
      const KernelProbe& p = kernel_.probes()[i];
      const uint32_t entry = table_.add(VTRACE_GPROBE_KERNEL, 0, p.nargs, p.flags, p.provider,
                                        p.module, p.function, p.name);
      if (entry == kNoEntry) break;  // cannot be: room was counted
      kernel_entries_.push_back(entry);
    }
    kernel_on_.resize(kernel_entries_.size(), 0);
    table_.publish();
  }
  log_info("request %s: %u matched, status %u", text, matched, status);
  h_->request_matched = matched;
  h_->request_status = status;
  __atomic_store_n(&h_->request_ack_gen, gen, __ATOMIC_RELEASE);
}

int Agent::run(const std::atomic<bool>& stop) {
  mkdir("/dev/shm", 01777);  // probe.h maps /dev/shm/vtrace.PID; a bare initramfs has none
  if (!map_channel(stop)) return 0;
  h_ = bar_.header();
  const auto& l = bar_.layout();
  enabled_ = transport::guest_enabled(bar_.base(), l);
  native_ring_.attach(transport::guest_ring(bar_.base(), l, VTRACE_GUEST_RING_NATIVE), l.nslots);
  kernel_ring_.attach(transport::guest_ring(bar_.base(), l, VTRACE_GUEST_RING_KERNEL), l.nslots);
  __atomic_store_n(&h_->agent_ready, 0u, __ATOMIC_RELEASE);
  __atomic_store_n(&h_->probe_count, 0u, __ATOMIC_RELEASE);  // a restarted agent starts over
  table_.attach(h_, transport::guest_table(bar_.base(), l), l.max_probes);
  // A request an earlier agent saw is not served again (a host waiting for it times out).
  request_gen_seen_ = __atomic_load_n(&h_->request_gen, __ATOMIC_ACQUIRE);
  init_kernel_probes();
  publish_identity();
  {
    std::lock_guard<std::mutex> lock(mu_);
    scan_locked();
    table_.publish();
  }
  __atomic_store_n(&h_->agent_ready, 1u, __ATOMIC_RELEASE);
  log_info("ready on %s: %u probes, %u cpus, TSC %llu kHz", bar_.path().c_str(), table_.count(),
           h_->ncpus, static_cast<unsigned long long>(h_->guest_tsc_khz));

  PingResponder ping(h_);
  ping.start();
  ExecServer exec(bar_.base(), l, this, &symbols_);
  exec.start();

  auto last_scan = Clock::now(), last_house = last_scan;
  while (!stop) {
    const uint32_t attached = __atomic_load_n(&h_->host_attached, __ATOMIC_ACQUIRE);
    const uint64_t session = __atomic_load_n(&h_->host_session, __ATOMIC_ACQUIRE);
    if (attached && (!in_session_ || session != session_)) {
      if (in_session_) end_session();
      begin_session(session);
    } else if (!attached && in_session_) {
      end_session();
    }
    auto now = Clock::now();
    if (now - last_scan >= (in_session_ ? kScanAttached : kScanIdle)) {
      last_scan = now;
      std::lock_guard<std::mutex> lock(mu_);
      check_processes_locked();
      scan_locked();
      table_.publish();
    }
    serve_request();
    if (!in_session_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    set_sync((h_->host_flags & VTRACE_GHOST_SYNC) != 0);
    const uint32_t gen = __atomic_load_n(&h_->enable_gen, __ATOMIC_ACQUIRE);
    if (enable_dirty_ || gen != enable_gen_seen_) {
      enable_gen_seen_ = gen;
      enable_dirty_ = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        apply_enablings_locked();
      }
      // Counters first: a host that disabled everything to end its run reads the final drops
      // once it sees the ack (else drops of the last 50 ms would go unreported).
      write_counters();
      __atomic_store_n(&h_->enable_ack, gen, __ATOMIC_RELEASE);  // the host may go on
    }
    size_t n = relay_round();
    if (now - last_house >= kHousekeeping) {
      last_house = now;
      heartbeat_processes();
      write_counters();
    }
    if (sync_ && any_enabled_) {
      sched_yield();  // a site is (or soon will be) waiting for us
    } else if (n == 0) {
      idle_wait();
    }
  }
  exec.stop();
  ping.stop();
  if (in_session_) end_session();
  write_counters();
  __atomic_store_n(&h_->agent_ready, 0u, __ATOMIC_RELEASE);
  log_info("stopped");
  return 0;
}

NativeProcess* Agent::find_locked(pid_t pid) {
  auto it = by_pid_.find(pid);
  return it == by_pid_.end() ? nullptr : it->second;
}

void Agent::scan_locked() {
  for (pid_t pid : scanner_.scan(getpid())) {
    NativeProcess* old = find_locked(pid);
    if (old != nullptr && !old->exited()) {
      // A held `vm exec` child: the exec thread registers it.
      if (old->exe().empty()) continue;
      char buf[4096];
      ssize_t n = readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), buf, sizeof buf);
      if (n > 0 && old->exe() == std::string(buf, static_cast<size_t>(n))) continue;
      old->forget();  // the pid exec'ed another program: its old sites are gone
    }
    auto p = std::make_unique<NativeProcess>(pid);
    std::string err;
    if (!p->discover(err)) {
      log_info("pid %d: %s", pid, err.c_str());
      continue;
    }
    // Found between exec and the dynamic loader's relocations (the descriptors' strings are
    // link-time addresses): nothing validates yet. Look again at the next scans, as the exe
    // will not change to make the scanner report it again.
    if (p->unrelocated() && scanner_.retry(pid)) {
      log_info("pid %d: no readable probe descriptors yet, retrying", pid);
      continue;
    }
    p->add_entries(table_);
    log_info("pid %d (%s): %zu probes", pid, p->exe().c_str(), p->entries().size());
    by_pid_[pid] = p.get();
    procs_.push_back(std::move(p));
    enable_dirty_ = true;  // a new pid may be in the host's enablings already
  }
}

void Agent::check_processes_locked() {
  for (auto& p : procs_)
    if (p->has_channel() && !p->exe().empty()) p->check_alive();
}

void Agent::begin_session(uint64_t session) {
  std::lock_guard<std::mutex> lock(mu_);
  detach_all_locked();  // forget what an earlier session enabled
  native_ring_.reset();
  kernel_ring_.reset();
  session_ = session;
  in_session_ = true;
  stalled_ = false;
  watermark_ = 0;
  enable_dirty_ = true;
  symbols_.forget_named();  // a new session asks only about its own samples
  sync_ = (h_->host_flags & VTRACE_GHOST_SYNC) != 0;
  log_info("session %llu attached%s", static_cast<unsigned long long>(session),
           sync_ ? " (sync)" : "");
}

void Agent::end_session() {
  std::lock_guard<std::mutex> lock(mu_);
  detach_all_locked();
  in_session_ = false;
  log_info("session %llu detached", static_cast<unsigned long long>(session_));
}

void Agent::detach_all_locked() {
  for (auto& p : procs_) p->detach();
  if (kernel_any_on_) {
    std::fill(kernel_on_.begin(), kernel_on_.end(), 0);
    kernel_.apply(kernel_on_);
    kernel_any_on_ = false;
  }
  any_enabled_ = false;
}

void Agent::set_sync(bool sync) {
  if (sync == sync_) return;
  std::lock_guard<std::mutex> lock(mu_);
  sync_ = sync;
  for (auto& p : procs_) p->set_sync(sync);
}

void Agent::apply_enablings_locked() {
  const uint32_t count = table_.count();
  std::vector<uint8_t> kon(kernel_entries_.size());
  for (size_t i = 0; i < kon.size(); ++i) kon[i] = enabled_[kernel_entries_[i]];
  if (kon != kernel_on_) {
    std::string err = kernel_.apply(kon);
    if (!err.empty()) {
      log_error("kernel events: %s", err.c_str());
      set_agent_error(h_, "kernel events: " + err);
    }
    kernel_on_ = kon;
    kernel_any_on_ =
        std::any_of(kon.begin(), kon.end(), [](uint8_t b) { return (b & VTRACE_GEN_ON) != 0; });
  }
  bool any = kernel_any_on_;
  for (auto& p : procs_) {
    std::string err;
    if (!p->apply(enabled_, count, sync_, err)) {
      log_error("pid %d: %s", p->pid(), err.c_str());
      set_agent_error(h_, "pid " + std::to_string(p->pid()) + ": " + err);
    }
    any = any || p->any_enabled();
  }
  any_enabled_ = any;
}

size_t Agent::relay_round() {
  __builtin_ia32_lfence();
  const uint64_t start_tsc = __builtin_ia32_rdtsc();
  __builtin_ia32_lfence();  // the ring reads below start after the watermark is read
  const bool sync = sync_;
  // Async: records go straight into the BAR rings' slots, published once at the end of the
  // round. Sync: native records are kept aside, then written and waited for one at a time.
  RoundWriter kernel_out(kernel_ring_, sort_scratch_);
  RoundWriter native_out(native_ring_, sort_scratch_);
  StagedRound staged(native_staged_);
  RecordSink& native_sink = sync ? static_cast<RecordSink&>(staged) : native_out;
  uint64_t watermark = start_tsc;
  bool in_flight = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& p : procs_) {
      if (!p->has_channel()) continue;
      p->poll(native_sink, in_flight);
      if (p->exited()) p->detach();  // its last records are in this round
    }
    if (kernel_any_on_) {
      kernel_.poll([&](const KernelEvent& e) {
        if (e.probe >= kernel_entries_.size()) return;
        vtrace_guest_record* g = kernel_out.next();
        if (g == nullptr) return;
        g->probe = kernel_entries_[e.probe];
        g->pid = e.pid;
        g->tid = e.tid;
        g->vcpu = static_cast<uint16_t>(e.cpu);
        g->nargs = static_cast<uint8_t>(std::min<uint16_t>(e.nargs, VTRACE_MAX_ARGS));
        g->timestamp = e.tsc;
        g->seq = 0;
        g->tail_len = 0;
        g->kstack_len = 0;
        g->ustack_len = 0;
        g->ustack_image = 0;
        for (int a = 0; a < VTRACE_MAX_ARGS; ++a) g->args[a] = static_cast<uint64_t>(e.args[a]);
        std::memcpy(g->comm, e.comm, sizeof g->comm);
        g->comm[sizeof g->comm - 1] = '\0';
        g->str_arg = 0;
        if (e.str_arg >= 0) {  // a string the host asked for: read, or not (tail_len 0)
          g->str_arg = static_cast<uint8_t>(e.str_arg + 1);
          if (e.str_read) set_tail(*g, e.str.c_str(), e.str.size());
        } else if (!e.str.empty()) {
          set_tail(*g, e.str.c_str(), e.str.size());
        }
        if (g->tail_len == 0 && (!e.kstack.empty() || !e.ustack.empty()))
          set_stacks(*g, e.kstack, e.ustack);
        if (g->tail_len == 0 && e.no_kstack) g->kstack_len = VTRACE_GUEST_NO_KSTACK;
        g->ustack_image = e.image;
        kernel_out.commit(nullptr, 0, 0);
      });
      watermark = std::min(watermark, kernel_.watermark());
    }
  }
  size_t n = kernel_out.finish() + native_out.finish();
  relay_drops_ += kernel_out.drops() + native_out.drops();
  if (sync) {
    staged.sort();
    uint64_t pos = 0;
    // A host that stopped answering is not waited for again until its heartbeat moves.
    bool wait = !(stalled_ && h_->host_heartbeat == stalled_beat_);
    for (RelayRecord& r : staged) {
      bool written = native_ring_.write(r.rec, pos);
      if (!written) ++relay_drops_;
      // The site waits on its own ring until we mark its record; we wait for the host first.
      if (written && wait &&
          !wait_host_done(h_, native_ring_.ring(), pos, [this] { heartbeat_processes(); })) {
        wait = false;
        stalled_ = true;
        stalled_beat_ = h_->host_heartbeat;
      }
      // Said at the end of the run: these firings were not held while the host ran them.
      if (written && !wait) __atomic_fetch_add(&h_->unsynced, 1u, __ATOMIC_RELAXED);
      r.proc->mark_done(r.ring, r.pos);
    }
    n += staged.size();
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& p : procs_) p->finish_round();
  }
  // A site preempted between stamp and publish (on one vCPU the agent runs only when a site is
  // preempted) may hold a record stamped before this round: the watermark waits for it.
  if (in_flight) watermark = watermark_;
  if (watermark > watermark_) {  // it only moves forward
    watermark_ = watermark;
    __atomic_store_n(&h_->watermark, watermark, __ATOMIC_RELEASE);
  }
  return n;
}

void Agent::idle_wait() {
  const uint64_t ns = uint64_t{opts_.poll_us} * 1000;
  NativeProcess* bell = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& p : procs_)
      if (p->has_channel() && p->any_enabled()) {
        if (bell != nullptr) {  // several: one futex cannot watch them all
          bell = nullptr;
          break;
        }
        bell = p.get();
      }
  }
  // One traced process (the usual case): a ring of it reaching half full wakes us at once, so
  // a site firing in a tight loop on a busy vCPU does not overrun its ring while we sleep.
  // Only this thread destroys channels: the process keeps its channel while we wait.
  if (bell != nullptr)
    bell->wait_doorbell(ns);
  else
    std::this_thread::sleep_for(std::chrono::nanoseconds(ns));
}

void Agent::heartbeat_processes() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& p : procs_) p->heartbeat();
}

void Agent::write_counters() {
  uint64_t drops = 0, rejects = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& p : procs_) {
      drops += p->drops();
      rejects += p->rejects();
    }
  }
  h_->relay_drops = relay_drops_;
  h_->process_drops = drops;
  h_->process_rejects = rejects;
  h_->kernel_lost = kernel_.lost();
}

// --- held `vm exec` children ----------------------------------------------------------------

bool Agent::host_attached() {
  return h_ != nullptr && __atomic_load_n(&h_->host_attached, __ATOMIC_ACQUIRE) != 0;
}

bool Agent::begin_traced(pid_t pid) {
  // The main thread may not have started the host's session yet: a channel made before it
  // would be detached by begin_session().
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!host_attached()) return false;
      if (in_session_ && session_ == h_->host_session) {
        auto p = std::make_unique<NativeProcess>(pid);
        std::string err;
        if (!p->open_channel(sync_, err)) {
          log_error("exec: pid %d: %s", pid, err.c_str());
          return false;
        }
        by_pid_[pid] = p.get();
        procs_.push_back(std::move(p));
        return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

uint32_t Agent::traced_client(pid_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  NativeProcess* p = find_locked(pid);
  return p != nullptr ? p->client_pid() : 0;
}

uint32_t Agent::register_traced(pid_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  NativeProcess* p = find_locked(pid);
  if (p == nullptr) return 0;
  std::string err;
  if (!p->discover(err)) {
    log_error("exec: pid %d: %s", pid, err.c_str());
    return 0;
  }
  p->add_entries(table_);
  log_info("exec: pid %d (%s): %zu probes", pid, p->exe().c_str(), p->entries().size());
  return table_.publish();
}

void Agent::enable_traced(pid_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  NativeProcess* p = find_locked(pid);
  if (p == nullptr) return;
  std::string err;
  if (!p->apply(enabled_, table_.count(), sync_, err))
    log_error("exec: pid %d: %s", pid, err.c_str());
  if (p->any_enabled()) any_enabled_ = true;
}

void Agent::open_gate(pid_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  if (NativeProcess* p = find_locked(pid)) p->open_gate();
}

}  // namespace vtrace::guest
