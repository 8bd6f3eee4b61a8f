#include "targets/qemu/guest_target.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <x86intrin.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <thread>

#include "clock/host_clock.h"
#include "clock/kvm_tsc.h"
#include "sys/private_file.h"
#include "sys/probe_name.h"
#include "targets/process/target_counter.h"
#include "targets/qemu/vm_manager.h"

namespace vtrace::targets::qemu {

namespace {

constexpr uint64_t kAgentStallNs = 3'000'000'000;  // no agent heartbeat this long: stopped
// A watermark translated this much earlier than the moment it was read (beyond the bound) is
// checked with pings: an agent round publishes one every few milliseconds.
constexpr uint64_t kWatermarkLagNs = 50'000'000;
constexpr uint64_t kFitSlackNs = 1'000'000;         // scheduling between stamp and publish
constexpr uint64_t kFitCheckEveryNs = 100'000'000;  // at most this often
constexpr uint64_t kFitCheckWaitNs = 500'000'000;   // for the agent to start answering
constexpr int kFitCheckPings = 4;
constexpr uint64_t kFitCheckPingWaitNs = 1'000'000;  // a slow agent costs the others 4 ms at most
// An agent whose heartbeat (every 50 ms) has not moved this long is not pinged: it would not
// answer (its VM stopped without an event we saw, its vCPU starved) and the wait would hold up
// every other target's reading.
constexpr uint64_t kAgentQuietNs = 150'000'000;
// A pause's jump is measured again while its best ping bracket is wider than this (at most
// kJumpAttempts bursts, over as many poll rounds).
constexpr uint64_t kGoodJumpErrorNs = 20'000;
constexpr int kJumpAttempts = 8;

// A string field of a table entry: NUL-terminated within the field, printable, no ':' (it
// would make the probe unnameable), not empty unless `may_be_empty`.
bool valid_field(const char* f, size_t size, bool may_be_empty, std::string& out) {
  const void* nul = std::memchr(f, '\0', size);
  if (nul == nullptr) return false;
  out.assign(f, static_cast<const char*>(nul));
  if (out.empty()) return may_be_empty;
  for (char c : out)
    if (c < 0x21 || c > 0x7e || c == ':') return false;
  return true;
}

}  // namespace

GuestTarget::~GuestTarget() {
  detach();
  if (base_ != nullptr) munmap(base_, size_);
  if (fd_ >= 0) close(fd_);
}

bool GuestTarget::lock(std::string& error) {
  if (fd_ >= 0 && flock(fd_, LOCK_EX | LOCK_NB) == 0) return true;
  error = "VM " + name_ + " is being traced by another vtrace";
  return false;
}

bool GuestTarget::open(const std::string& path, int qemu_pid, int ready_ms, std::string& error) {
  qemu_pid_ = qemu_pid;
  // Ours, private, not a symlink (vm_manager made it): never a file someone else planted.
  std::string why;
  fd_ = sys::open_private_file(path, O_RDWR, 0, why).release();
  if (fd_ < 0) {
    error = "cannot open the channel of VM " + name_ + ": " + why;
    return false;
  }
  struct stat st;
  if (fstat(fd_, &st) != 0 || st.st_size <= 0) {
    error = "the channel of VM " + name_ + " is empty";
    return false;
  }
  size_ = static_cast<size_t>(st.st_size);
  layout_ = transport::guest_layout(size_);
  void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (p == MAP_FAILED || layout_.total_size == 0) {
    error = "cannot map the channel of VM " + name_;
    return false;
  }
  base_ = p;
  transport::GuestLayout theirs;
  std::string bad = transport::read_guest_layout(header(), size_, theirs);
  if (!bad.empty()) {
    error = "VM " + name_ + ": " + bad;
    return false;
  }
  entries_.reserve(layout_.max_probes);
  // Pings of two host processes (a tracer and `vm list -v`) must not answer each other.
  ping_seq_ = static_cast<uint64_t>(getpid()) << 32;
  if (clock::TscClock::usable()) host_tsc_.start(2'000'000);
  if (ready_ms < 0) return true;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ready_ms);
  while (!agent_ready()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      error = "the vtrace-agent of VM " + name_ + " is not running";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

bool GuestTarget::agent_ready() const {
  return base_ != nullptr && __atomic_load_n(&header()->agent_ready, __ATOMIC_ACQUIRE) != 0;
}

bool GuestTarget::accept_entry(const vtrace_guest_probe& e, engine::Catalog& catalog,
                               Entry& entry) {
  std::string provider, module, function, name;
  if ((e.kind != VTRACE_GPROBE_NATIVE && e.kind != VTRACE_GPROBE_KERNEL) ||
      e.nargs > VTRACE_MAX_ARGS ||
      (e.flags & ~uint16_t{VTRACE_DESC_STR0 | VTRACE_GPROBE_STACKS}) != 0 ||
      ((e.flags & VTRACE_DESC_STR0) != 0 && (e.flags & VTRACE_GPROBE_STACKS) != 0) ||
      !valid_field(e.provider, sizeof e.provider, false, provider) ||
      !valid_field(e.module, sizeof e.module, true, module) ||
      !valid_field(e.function, sizeof e.function, true, function) ||
      !valid_field(e.name, sizeof e.name, false, name))
    return false;
  entry.id = catalog.add(name_, provider, module, function, sys::d_probe_name(name), "", name_);
  entry.flags = e.flags;
  entry.nargs = e.nargs;
  entry.kernel = e.kind == VTRACE_GPROBE_KERNEL;
  // A kretprobe or uretprobe does not see dtrace's arg0 of fbt:::return or pidN:::return (the
  // returning instruction's offset): a clause reading it faults rather than reading the
  // agent's 0.
  const bool boundary = provider == "fbt" || provider.rfind("pid", 0) == 0;
  entry.unread_args = boundary && name == "return" ? 1 : 0;
  return true;
}

bool GuestTarget::request_probes(const std::string& request, int timeout_ms, uint32_t& matched,
                                 std::string& why) {
  matched = 0;
  if (base_ == nullptr || stopped_ || !agent_ready()) {
    why = "its vtrace-agent is not running";
    return false;
  }
  if (request.size() >= VTRACE_GUEST_REQUEST_LEN) {
    why = "pattern too long for a guest (" + request + ")";
    return false;
  }
  vtrace_guest_header* h = header();
  std::memset(h->request, 0, sizeof h->request);
  std::memcpy(h->request, request.data(), request.size());
  const uint32_t gen = __atomic_add_fetch(&h->request_gen, 1, __ATOMIC_SEQ_CST);
  const uint64_t end = clock::host_now_ns() + uint64_t(timeout_ms) * 1'000'000;
  while (__atomic_load_n(&h->request_ack_gen, __ATOMIC_ACQUIRE) != gen) {
    if (clock::host_now_ns() > end) {
      why =
          "its agent did not answer a request for probes (an agent older than this vtrace: "
          "restart the VM)";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  matched = h->request_matched;  // the guest's word: only printed
  switch (h->request_status) {
    case VTRACE_REQ_OK:
      return true;
    case VTRACE_REQ_TABLE_FULL:
      why = "its probe table has no room for the " + std::to_string(matched) + " functions of " +
            request + " (restart the VM's agent to empty it)";
      return false;
    case VTRACE_REQ_TOO_MANY:
      why = request + " matches " + std::to_string(matched) + " functions, more than the " +
            std::to_string(VTRACE_REQ_MAX_FUNCTIONS) + " one description may trace (name fewer)";
      return false;
    case VTRACE_REQ_UNSUPPORTED:
      why = "its kernel cannot make them (" + request + ")";
      return false;
    case VTRACE_REQ_NO_PROCESS:
      why = "it has no such process (" + request + ")";
      return false;
    case VTRACE_REQ_BAD:
      why = "its agent did not understand the request " + request;
      return false;
    default:
      why = "its agent answered the request " + request + " with an unknown status";
      return false;
  }
}

size_t GuestTarget::refresh_table(engine::Catalog& catalog) {
  if (base_ == nullptr || stopped_) return 0;
  const uint32_t gen = __atomic_load_n(&header()->table_gen, __ATOMIC_ACQUIRE);
  if (gen == table_gen_ && !entries_.empty()) return 0;
  table_gen_ = gen;
  uint32_t count = __atomic_load_n(&header()->probe_count, __ATOMIC_ACQUIRE);
  const uint64_t bad_before = bad_entries_;
  if (count > layout_.max_probes) {
    ++bad_entries_;  // a count beyond the table: read what the table can hold
    count = layout_.max_probes;
  }
  size_t added = 0;
  const vtrace_guest_probe* table = transport::guest_table(base_, layout_);
  // Entries are only ever added: what was read once is never read again, so a guest that
  // rewrites an entry later cannot change a probe the engine already knows.
  for (uint32_t i = static_cast<uint32_t>(entries_.size()); i < count; ++i) {
    vtrace_guest_probe e;
    std::memcpy(&e, &table[i], sizeof e);
    Entry entry;
    if (accept_entry(e, catalog, entry)) {
      probe_ids_.push_back(entry.id);
      ++added;
    } else {
      ++bad_entries_;
    }
    entries_.push_back(entry);
  }
  // Said at once, not only in the final report: the probes of this guest the script waits for
  // may never appear.
  if (bad_entries_ > bad_before && !table_warned_) {
    table_warned_ = true;
    std::fprintf(stderr,
                 "vtrace: VM %s: its probe table is corrupt (%llu entries rejected); probes it "
                 "adds may be missing\n",
                 name_.c_str(), static_cast<unsigned long long>(bad_entries_));
  }
  return added;
}

GuestTarget::Counters GuestTarget::read_counters() const {
  const vtrace_guest_header* h = header();
  return {h->relay_drops, h->process_drops, h->process_rejects, h->kernel_lost, h->unsynced};
}

void GuestTarget::attach(bool sync) {
  vtrace_guest_header* h = header();
  // QEMU's events, for pauses. A VM an older vtrace started has no event socket: said once.
  if (!events_path_.empty() && !events_.is_open()) {
    std::string err;
    if (!events_.open(events_path_, 1000, err))
      clock_note_ = "QEMU's pause events not followed: " + err +
                    " (another client holds the socket, or an older vtrace started the VM); "
                    "pauses are found by the guest's readings";
  }
  // The agent's counters run for the life of the guest: this run reports what it added.
  at_attach_ = read_counters();
  __atomic_store_n(&h->host_attached, 0u, __ATOMIC_SEQ_CST);
  for (uint32_t i = 0; i < VTRACE_GUEST_NRINGS; ++i) {
    vtrace_ring* r = transport::guest_ring(base_, layout_, i);
    __atomic_store_n(&r->head, 0u, __ATOMIC_RELAXED);
    __atomic_store_n(&r->tail, 0u, __ATOMIC_RELAXED);
    __atomic_store_n(&r->drops, 0u, __ATOMIC_RELAXED);
    __atomic_store_n(&r->done, 0u, __ATOMIC_RELAXED);
    tails_[i] = 0;
  }
  sync_ = sync;
  __atomic_store_n(&h->host_flags, sync ? VTRACE_GHOST_SYNC : 0u, __ATOMIC_RELAXED);
  __atomic_fetch_add(&h->host_session, 1, __ATOMIC_SEQ_CST);
  __atomic_store_n(&h->host_attached, 1u, __ATOMIC_SEQ_CST);
  attached_ = true;
  traced_ = true;
  last_beat_change_ns_ = attach_ns_ = clock::host_now_ns();
}

void GuestTarget::enable(const std::vector<uint32_t>& enabled,
                         const std::function<uint8_t(uint32_t)>& wants) {
  if (base_ == nullptr) return;
  volatile uint8_t* bytes = transport::guest_enabled(base_, layout_);
  for (uint32_t i = 0; i < entries_.size(); ++i) {
    Entry& e = entries_[i];
    const bool on = e.id != 0 && std::binary_search(enabled.begin(), enabled.end(), e.id);
    // Only a kernel probe reads anything at the probe for us; a string probe's tail is its own.
    uint8_t extra = on && wants && e.kernel ? wants(e.id) : 0;
    if ((e.flags & VTRACE_DESC_STR0) != 0) extra = 0;
    const uint8_t byte = on ? static_cast<uint8_t>(VTRACE_GEN_ON | extra) : 0;
    // What its records may carry: what was ever asked this session (records written before a
    // disabling are still read at the end).
    e.asked |= byte;
    bytes[i] = byte;
  }
  __atomic_store_n(&header()->table_seen, table_gen_, __ATOMIC_RELEASE);
  enable_gen_ = __atomic_add_fetch(&header()->enable_gen, 1, __ATOMIC_SEQ_CST);
}

bool GuestTarget::enable_acked() const {
  return __atomic_load_n(&header()->enable_ack, __ATOMIC_ACQUIRE) == enable_gen_;
}

bool GuestTarget::wait_enabled(int timeout_ms) {
  const uint64_t end = clock::host_now_ns() + uint64_t(timeout_ms) * 1'000'000;
  while (!enable_acked()) {
    if (clock::host_now_ns() > end) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return true;
}

bool GuestTarget::measure_clock(std::string& error) {
  if (pause_.awaiting() && !pause_.resumed()) {
    error = "VM " + name_ + " is paused";
    return false;
  }
  if (!pause_.awaiting() && attached_ && agent_silent_ns(clock::host_now_ns()) > kAgentQuietNs) {
    error = "the agent of VM " + name_ + " is not running";
    return false;
  }
  std::vector<clock::HandshakeSample> burst;
  if (!ping_burst(burst, error)) return false;
  // A step larger than the watermark check's slack, found by these pings before a watermark
  // showed it: a pause found by its readings, as check_watermark() makes it.
  if (!pause_.awaiting() && clock_.ready() && !burst_fits(burst)) {
    uint64_t latest = 0;
    for (const auto& s : burst) latest = std::max(latest, s.guest);
    found_step(burst, clock::host_now_ns(), latest);
    return true;
  }
  if (pause_.awaiting()) {
    measure_jump(burst);
    // Not settled yet: the model must not see a burst across the jump (it would take it for
    // a step of the guest's clock).
    if (pause_.awaiting()) return true;
  }
  const size_t steps = clock_.steps().size();
  add_to_model(burst);
  // A burst the translation does not bracket: the guest's clock stepped without a pause QEMU
  // announced (or the model drifted). Measured again at once, nothing read meanwhile, until the
  // step is confirmed or a burst fits again, so records read from now on are translated right.
  for (size_t k = 1; clock_.step_pending() && k < clock::GuestClock::kConfirmSteps; ++k) {
    if (!ping_burst(burst, error)) return false;
    add_to_model(burst);
  }
  if (clock_.steps().size() > steps) {
    // What was read since the last burst that fitted was translated with the clock before.
    const clock::GuestClock::Step& st = clock_.steps().back();
    const double ns = std::clamp(static_cast<double>(st.ticks) * host_tsc_.ns_per_tick(), -9.2e18,
                                 9.2e18);  // garbage from a guest stays representable
    unannounced_steps_.push_back({static_cast<int64_t>(ns), translated_since_fit_});
  }
  if (!clock_.step_pending()) {
    translated_since_fit_ = 0;
    verified_by(burst);
  }
  if (kvm_ && !kvm_checked_) try_exact_clock(burst);
  return true;
}

void GuestTarget::add_to_model(std::vector<clock::HandshakeSample>& burst) {
  // The model lives on the timeline without pauses: host readings lose every jump so far.
  const double ticks = static_cast<double>(pause_.total_jump_ns()) / host_tsc_.ns_per_tick();
  const auto shift = static_cast<int64_t>(ticks);
  for (auto& s : burst) {
    s.host_before -= static_cast<uint64_t>(shift);
    s.host_after -= static_cast<uint64_t>(shift);
  }
  clock_.add_burst(burst);
}

bool GuestTarget::ping_burst(std::vector<clock::HandshakeSample>& burst, std::string& error,
                             int pings, uint64_t ping_wait_ns) {
  burst.clear();
  fit_check_asked_ = false;  // this burst answers a check's request too
  vtrace_guest_header* h = header();
  __atomic_store_n(&h->ping_request, 1u, __ATOMIC_SEQ_CST);
  auto until = [](auto pred, uint64_t ns) {
    const uint64_t end = clock::host_now_ns() + ns;
    while (!pred())
      if (clock::host_now_ns() > end) return false;
    return true;
  };
  // While tracing, every other target waits on this thread: a measurement gives up sooner
  // (measured again at the next round) than the first calibration does.
  const uint64_t patience_ns = attached_ ? 100'000'000 : 500'000'000;
  if (!until([&] { return __atomic_load_n(&h->ping_active, __ATOMIC_ACQUIRE) != 0; },
             patience_ns)) {
    __atomic_store_n(&h->ping_request, 0u, __ATOMIC_SEQ_CST);
    error = "the agent of VM " + name_ + " does not answer the clock handshake";
    return false;
  }
  // A loaded host may not schedule the guest's vCPU for milliseconds: each ping waits up to
  // 10 ms, the burst up to its patience.
  const uint64_t burst_end = clock::host_now_ns() + patience_ns;
  for (int i = 0; i < pings && clock::host_now_ns() < burst_end; ++i) {
    const uint64_t seq = ++ping_seq_ | (uint64_t{1} << 63);
    clock::HandshakeSample s;
    s.host_before = __rdtsc();
    __atomic_store_n(&h->ping_seq, seq, __ATOMIC_SEQ_CST);
    bool answered =
        until([&] { return __atomic_load_n(&h->pong_seq, __ATOMIC_ACQUIRE) == seq; }, ping_wait_ns);
    s.host_after = __rdtsc();
    if (!answered) continue;
    s.guest = __atomic_load_n(&h->pong_tsc, __ATOMIC_ACQUIRE);
    burst.push_back(s);
  }
  __atomic_store_n(&h->ping_request, 0u, __ATOMIC_SEQ_CST);
  if (burst.empty()) {
    error = "the agent of VM " + name_ + " answered no ping";
    return false;
  }
  return true;
}

bool GuestTarget::sample_fits(const clock::HandshakeSample& s) const {
  // On the model's timeline (every jump so far taken off), with the jumps' uncertainty and the
  // slack of the watermark check: a step smaller than that is left to the model (measure_clock).
  if (s.host_after < s.host_before) return false;
  const double tick = host_tsc_.ns_per_tick();
  const auto shift = static_cast<int64_t>(static_cast<double>(pause_.total_jump_ns()) / tick);
  const auto slack =
      static_cast<__int128>(static_cast<double>(pause_.max_jump_error_ns() + kFitSlackNs) / tick);
  const __int128 h = clock_.to_host_tsc(s.guest), bound = clock_.bound_ticks(s.guest) + slack;
  const __int128 before = static_cast<__int128>(s.host_before) - shift,
                 after = static_cast<__int128>(s.host_after) - shift;
  return h >= before - bound && h <= after + bound;
}

bool GuestTarget::burst_fits(const std::vector<clock::HandshakeSample>& burst) const {
  for (const clock::HandshakeSample& s : burst)
    if (sample_fits(s)) return true;
  return false;
}

void GuestTarget::verified_by(const std::vector<clock::HandshakeSample>& burst) {
  if (!clock_.ready()) return;
  // Only readings that fit: one garbage answer must not turn the holding off.
  for (const auto& s : burst)
    if (sample_fits(s)) verified_tsc_ = std::max(verified_tsc_, s.guest);
}

GuestTarget::WatermarkFit GuestTarget::check_watermark(uint64_t wm, uint64_t now_ns) {
  if (!clock_.ready()) return WatermarkFit::Fits;          // arrival times: nothing to check
  if (pause_.awaiting()) return WatermarkFit::Unverified;  // a jump is being measured
  // Nothing new to check, unless records have waited for a check too long (a watermark held
  // back by a site preempted mid-record, in_flight in the agent).
  if (wm <= verified_tsc_ && (waiting_.empty() || now_ns - waiting_since_ns_ < kWatermarkLagNs))
    return WatermarkFit::Fits;
  const uint64_t bound =
      static_cast<uint64_t>(static_cast<double>(clock_.bound_ticks()) * host_tsc_.ns_per_tick()) +
      pause_.max_jump_error_ns() + kFitSlackNs;
  const uint64_t w = to_host_ns(wm);
  const bool ahead = w > now_ns + bound;
  const bool behind = now_ns > w + bound + kWatermarkLagNs;
  if (!ahead && !behind) {
    verified_tsc_ = std::max(verified_tsc_, wm);
    return WatermarkFit::Fits;
  }
  vtrace_guest_header* h = header();
  if (!fit_check_asked_) {
    // A silent agent (its VM stopped, its vCPU starved) answers no ping: asked when it beats.
    if (now_ns < next_fit_check_ns_ || agent_silent_ns(now_ns) > kAgentQuietNs)
      return WatermarkFit::Unverified;
    // The agent's ping thread looks every 2 ms: the pings go at a later poll, not waited for.
    __atomic_store_n(&h->ping_request, 1u, __ATOMIC_SEQ_CST);
    fit_check_asked_ = true;
    fit_check_asked_ns_ = now_ns;
    return WatermarkFit::Unverified;
  }
  if (__atomic_load_n(&h->ping_active, __ATOMIC_ACQUIRE) == 0) {
    if (now_ns - fit_check_asked_ns_ > kFitCheckWaitNs) {
      __atomic_store_n(&h->ping_request, 0u, __ATOMIC_SEQ_CST);
      fit_check_asked_ = false;
      next_fit_check_ns_ = now_ns + kFitCheckEveryNs;
    }
    return WatermarkFit::Unverified;
  }
  std::vector<clock::HandshakeSample> burst;
  std::string err;
  next_fit_check_ns_ = now_ns + kFitCheckEveryNs;
  if (!ping_burst(burst, err, kFitCheckPings, kFitCheckPingWaitNs)) return WatermarkFit::Unverified;
  if (burst_fits(burst)) {
    // The agent was behind, not its clock: everything stamped before the pings is right. A
    // watermark in the future with a clock that fits is not believed (the guest's own doing).
    verified_by(burst);
    if (ahead) return WatermarkFit::Unverified;
    verified_tsc_ = std::max(verified_tsc_, wm);
    return WatermarkFit::Fits;
  }
  found_step(burst, now_ns, wm);
  return WatermarkFit::Step;
}

void GuestTarget::found_step(const std::vector<clock::HandshakeSample>& burst, uint64_t now_ns,
                             uint64_t after_tsc) {
  // Held from here until its jump is measured: records stamped after the last check wait.
  pause_.step(now_ns, seen_virtual_ns_, model_ns(after_tsc));
  jump_ = {};
  jump_attempts_ = 0;
  measure_jump(burst);
}

bool GuestTarget::calibrate_clock(int gap_ms, std::string& error) {
  if (!measure_clock(error)) return false;
  std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms));
  return measure_clock(error);
}

void GuestTarget::try_exact_clock(const std::vector<clock::HandshakeSample>& burst) {
  // KVM's per-vCPU offset and scaling make the translation exact, but only where this host's
  // TSC is the hardware's: it is checked against the measured brackets before it is trusted.
  kvm_checked_ = true;
  std::string err;
  std::vector<clock::KvmTscParams> vcpus;
  std::vector<std::string> dirs;
  if (!clock::ensure_debugfs(&err)) {
    clock_note_ = "KVM debugfs unavailable: " + err;
    return;
  }
  dirs = clock::kvm_vm_dirs(qemu_pid_);
  if (dirs.empty() || !clock::read_vm_tsc(dirs.front(), vcpus, &err) || vcpus.empty()) {
    clock_note_ =
        "no KVM TSC offset for pid " + std::to_string(qemu_pid_) + (err.empty() ? "" : ": " + err);
    return;
  }
  for (const auto& v : vcpus)
    if (v.offset != vcpus.front().offset || v.ratio != vcpus.front().ratio) {
      clock_note_ = "vCPUs have different TSC offsets";
      return;
    }
  clock::ExactCheck check = clock::validate_exact(vcpus.front(), burst, host_tsc_.ns_per_tick(),
                                                  clock::cpu_has_hypervisor_bit());
  if (!check.ok) {
    clock_note_ = "KVM translation not valid here: " + check.reason;
    return;
  }
  clock_.set_exact(vcpus.front().offset, vcpus.front().ratio, vcpus.front().frac_bits);
}

uint64_t GuestTarget::model_ns(uint64_t guest_tsc) const {
  return host_tsc_.to_ns(clock_.to_host_tsc(guest_tsc));
}

uint64_t GuestTarget::to_host_ns(uint64_t guest_tsc) const {
  if (!clock_.ready()) return clock::host_now_ns();  // no translation yet: arrival time
  return pause_.to_real(model_ns(guest_tsc));
}

uint64_t GuestTarget::translate(uint64_t guest_tsc, uint64_t& bound_ns) {
  bound_ns = UINT64_MAX;
  if (!clock_.ready()) return clock::host_now_ns();
  const uint64_t v = model_ns(guest_tsc);
  ++translated_since_fit_;
  seen_virtual_ns_ = std::max(seen_virtual_ns_, v);
  // The bound of this reading (it grows away from the anchors the model had then).
  const uint64_t ticks = clock_.bound_ticks(guest_tsc);
  worst_bound_ticks_ = std::max(worst_bound_ticks_, ticks);
  bound_ns = static_cast<uint64_t>(static_cast<double>(ticks) * host_tsc_.ns_per_tick()) +
             pause_.max_jump_error_ns();
  if (const clock::PauseCorrection::Pause* p = pause_.ambiguous(v))
    ++(p->announced ? ambiguous_ : ambiguous_after_step_);
  return pause_.to_real(v);
}

void GuestTarget::measure_jump(const std::vector<clock::HandshakeSample>& burst) {
  if (!clock_.ready()) {  // nothing was translated before the pause: nothing to move
    pause_.measured(0, static_cast<uint64_t>(pause_.total_jump_ns()), 0);
    return;
  }
  const clock::HandshakeSample* best = nullptr;
  for (const auto& s : burst)
    if (s.host_after >= s.host_before &&
        (best == nullptr || s.host_after - s.host_before < best->host_after - best->host_before))
      best = &s;
  if (best == nullptr) return;  // every bracket inverted: measured again at the next round
  const uint64_t mid = best->host_before + (best->host_after - best->host_before) / 2;
  const double half_ns =
      static_cast<double>(best->host_after - best->host_before) / 2 * host_tsc_.ns_per_tick();
  const double bound_ns = static_cast<double>(clock_.bound_ticks()) * host_tsc_.ns_per_tick();
  const auto error = static_cast<uint64_t>(half_ns + bound_ns);
  if (!jump_.valid || error < jump_.error_ns)
    jump_ = {true, model_ns(best->guest), host_tsc_.to_ns(mid), error};
  // A busy guest answers pings slowly: a wide bracket is measured again (its records wait),
  // a few times at most, and the tightest one is kept.
  if (jump_.error_ns > kGoodJumpErrorNs && ++jump_attempts_ < kJumpAttempts) return;
  pause_.measured(jump_.virtual_ns, jump_.real_ns, jump_.error_ns);
  if (pause_.pauses().back().went_back) {
    // Readings start again below those seen: what was seen and checked is of the time before.
    seen_virtual_ns_ = jump_.virtual_ns;
    verified_tsc_ = 0;
  }
  verified_by(burst);
  jump_ = {};
  jump_attempts_ = 0;
}

bool GuestTarget::follow_pauses() {
  event_buf_.clear();
  if (events_.is_open()) events_.poll(event_buf_);
  for (const QmpEvent& e : event_buf_) {
    if (e.name == "STOP" && !pause_.awaiting()) {
      // The agent's last published watermark: what it relayed before the freeze is older.
      const uint64_t wm = __atomic_load_n(&header()->watermark, __ATOMIC_ACQUIRE);
      if (clock_.ready()) seen_virtual_ns_ = std::max(seen_virtual_ns_, model_ns(wm));
      pause_.stop(e.host_ns, seen_virtual_ns_);
    }
    if (e.name == "RESUME") pause_.resume(e.host_ns);
  }
  if (!pause_.awaiting()) return true;
  if (!pause_.resumed()) return false;
  // Resumed (or a step found by its readings, events or not): one burst measures the jump (a
  // busy guest may not answer yet: next round).
  std::string err;
  return measure_clock(err) && !pause_.awaiting();
}

std::string GuestTarget::clock_description(bool over_run) const {
  if (!clock_.ready()) return clock_note_.empty() ? "not measured" : clock_note_;
  // After a pause, readings carry the jump's uncertainty too; over a run, the worst bound of
  // any record translated (an early model extrapolated further than the last one does).
  double extra = static_cast<double>(pause_.max_jump_error_ns());
  if (over_run && worst_bound_ticks_ > clock_.bound_ticks())
    extra +=
        static_cast<double>(worst_bound_ticks_ - clock_.bound_ticks()) * host_tsc_.ns_per_tick();
  std::string d = clock_.describe(host_tsc_.ns_per_tick(), extra);
  return clock_note_.empty() ? d : d + " (" + clock_note_ + ")";
}

size_t GuestTarget::poll(std::vector<GuestPending>& out, size_t max) {
  if (!attached_ || stopped_) return 0;
  // Events first: a record the guest wrote after a resume must not be read before its STOP.
  if (!follow_pauses()) return 0;
  // The watermark is read before the rings: read after, it could already cover a record the
  // agent published after this poll read its ring.
  const uint64_t now_ns = clock::host_now_ns();
  const uint64_t wm = __atomic_load_n(&header()->watermark, __ATOMIC_ACQUIRE);
  const WatermarkFit fit = check_watermark(wm, now_ns);
  if (fit == WatermarkFit::Step) return 0;  // held in the rings until the jump is measured
  if (fit == WatermarkFit::Fits) watermark_ = wm;
  if (clock_.ready() && !pause_.awaiting())  // the guest ran up to here (pauses' window)
    seen_virtual_ns_ = std::max(seen_virtual_ns_, model_ns(watermark_));
  read_limit_ = UINT64_MAX;
  // Async records wait for a check of the translation past their stamp (sync records run in
  // arrival order, their sites waiting).
  const bool hold = !sync_ && clock_.ready();
  size_t n = 0;
  if (!waiting_.empty()) {
    size_t kept = 0;
    for (GuestPending& p : waiting_) {
      if (p.rec.raw_timestamp > verified_tsc_) {
        if (&waiting_[kept] != &p) waiting_[kept] = std::move(p);
        ++kept;
        continue;
      }
      translate_record(p);
      out.push_back(std::move(p));
      ++n;
    }
    waiting_.resize(kept);
  }
  for (uint32_t ring = 0; ring < VTRACE_GUEST_NRINGS; ++ring) {
    vtrace_ring* r = transport::guest_ring(base_, layout_, ring);
    uint64_t last_stamp = 0;
    const size_t got = transport::read_ring<vtrace_guest_record>(
        r, layout_.nslots, tails_[ring], rejects_, max,
        [&](const vtrace_guest_record& g, uint64_t pos) {
          last_stamp = g.timestamp;
          if (!transport::valid_frame(g, pos, rejects_)) return;
          const Entry* e = g.probe < entries_.size() ? &entries_[g.probe] : nullptr;
          if (e == nullptr || e->id == 0) {
            rejects_.add(transport::Reject::BadProbeId);
            return;
          }
          if ((e->flags & VTRACE_DESC_STR0) != 0 && g.tail_len == 0) {
            rejects_.add(transport::Reject::BadStringLength);
            return;
          }
          // Stacks where the probe has them or we asked for them, never with a string; a
          // string argument only the one we asked for.
          const bool stacks =
              (e->flags & VTRACE_GPROBE_STACKS) != 0 || (e->asked & VTRACE_GEN_STACKS) != 0;
          const bool kernel_stack = g.kstack_len != VTRACE_GUEST_NO_KSTACK;
          const size_t kframes = kernel_stack ? g.kstack_len : 0;
          const size_t frames = kframes + g.ustack_len;
          if (frames > (stacks && g.tail_len == 0 ? VTRACE_GUEST_MAX_FRAMES : 0)) {
            rejects_.add(transport::Reject::BadStackLength);
            return;
          }
          if (g.str_arg != 0 && static_cast<int>(g.str_arg) - 1 != VTRACE_GEN_STR_ARG(e->asked)) {
            rejects_.add(transport::Reject::BadStringLength);
            return;
          }
          // Bounded: past kMaxWaiting, a record goes out as the clock is now, and is counted.
          const bool unchecked = hold && g.timestamp > verified_tsc_;
          const bool wait = unchecked && waiting_.size() < kMaxWaiting;
          if (unchecked && !wait) ++unchecked_;
          if (wait && waiting_.empty()) waiting_since_ns_ = now_ns;
          GuestPending& p = wait ? waiting_.emplace_back() : out.emplace_back();
          Record& rec = p.rec;
          rec.probe = e->id;
          rec.target = index_;
          rec.guest = true;
          rec.pid = static_cast<int32_t>(g.pid);
          rec.tid = static_cast<int32_t>(g.tid);
          rec.cpu = g.vcpu;
          rec.raw_timestamp = g.timestamp;
          rec.unread_args = e->unread_args;
          if (!wait) translate_record(p);
          for (uint32_t a = 0; a < g.nargs; ++a) rec.args[a] = static_cast<int64_t>(g.args[a]);
          for (size_t c = 0; c + 1 < sizeof rec.execname && c < sizeof g.comm; ++c) {
            char ch = g.comm[c];
            if (ch == '\0') break;
            rec.execname[c] = (ch >= 0x20 && ch < 0x7f) ? ch : '?';
          }
          rec.tail_len = g.tail_len;
          if (g.tail_len > 0) std::memcpy(p.tail, g.tail, g.tail_len);
          rec.tail_arg = g.str_arg != 0 ? static_cast<uint8_t>(g.str_arg - 1) : 0;
          rec.tail_read = g.str_arg != 0;
          p.stacks = stacks && g.tail_len == 0;  // a string took the tail: stacks not gathered
          p.kframes = static_cast<uint8_t>(kframes);
          p.kstack = kernel_stack;
          p.uframes = g.ustack_len;
          p.image = g.ustack_image;
          if (frames > 0 && g.tail_len == 0) std::memcpy(p.tail, g.tail, frames * 8);
          p.ring = ring;
          p.pos = pos;
        });
    n += got;
    // Stopped at `max` with records left: the watermark covers them, but they are not read
    // yet. Until they are, only what was read (up to its last stamp) is known to be complete.
    if (got == max) {
      watermark_ = std::min(watermark_, last_stamp > 0 ? last_stamp - 1 : 0);
      read_limit_ = std::min(read_limit_, last_stamp);
    }
  }
  return n;
}

void GuestTarget::translate_record(GuestPending& p) {
  p.rec.timestamp = translate(p.rec.raw_timestamp, p.rec.clock_bound_ns);
}

void GuestTarget::flush_waiting(std::vector<GuestPending>& out) {
  for (GuestPending& p : waiting_) {
    translate_record(p);
    out.push_back(std::move(p));
  }
  waiting_.clear();
}

void GuestTarget::mark_done(uint32_t ring, uint64_t pos) {
  if (!sync_ || ring >= VTRACE_GUEST_NRINGS || stopped_) return;
  vtrace_ring* r = transport::guest_ring(base_, layout_, ring);
  __atomic_store_n(&r->done, pos + 1, __ATOMIC_RELEASE);
}

void GuestTarget::heartbeat() {
  if (base_ == nullptr || !attached_) return;
  __atomic_fetch_add(&header()->host_heartbeat, 1, __ATOMIC_RELEASE);
  if (clock::TscClock::usable()) host_tsc_.update();
}

uint64_t GuestTarget::agent_silent_ns(uint64_t now_ns) {
  const uint64_t beat = __atomic_load_n(&header()->agent_heartbeat, __ATOMIC_ACQUIRE);
  if (beat != last_agent_beat_) {
    last_agent_beat_ = beat;
    last_beat_change_ns_ = now_ns;
  }
  return now_ns > last_beat_change_ns_ ? now_ns - last_beat_change_ns_ : 0;
}

bool GuestTarget::check_alive(uint64_t now_ns) {
  if (stopped_) return false;
  if (qemu_pid_ > 0 && !qemu_running(qemu_pid_)) return false;
  if (pause_.awaiting()) {  // paused on purpose: silence counts from the resume
    last_beat_change_ns_ = now_ns;
    return true;
  }
  return agent_silent_ns(now_ns) < kAgentStallNs;
}

uint64_t GuestTarget::watermark_ns() const {
  if (!attached_ || stopped_ || !clock_.ready() || watermark_ == 0) return 0;
  // Less twice the bound: a record read later is translated with a newer measurement, which
  // may place it up to a bound earlier (or the watermark a bound later) than this one does.
  const uint64_t w = to_host_ns(watermark_);
  const uint64_t margin = static_cast<uint64_t>(2.0 * static_cast<double>(clock_.bound_ticks()) *
                                                host_tsc_.ns_per_tick()) +
                          2 * pause_.max_jump_error_ns();
  return w > margin ? w - margin : 0;
}

uint64_t GuestTarget::read_limit_ns() const {
  if (!attached_ || stopped_ || read_limit_ == UINT64_MAX) return UINT64_MAX;
  return to_host_ns(read_limit_);
}

void GuestTarget::detach() {
  if (base_ == nullptr || !attached_) return;
  attached_ = false;
  volatile uint8_t* bytes = transport::guest_enabled(base_, layout_);
  for (uint32_t i = 0; i < layout_.max_probes; ++i) bytes[i] = 0;
  __atomic_fetch_add(&header()->enable_gen, 1, __ATOMIC_SEQ_CST);
  __atomic_store_n(&header()->host_attached, 0u, __ATOMIC_SEQ_CST);
}

void GuestTarget::report(std::FILE* err) const {
  // Only what this run did: a guest another vtrace traces (never attached here) has counters
  // that are that run's, not ours.
  if (base_ == nullptr || !traced_) return;
  auto line = [&](uint64_t n, const char* what) {
    if (n > 0)
      std::fprintf(err, "vtrace: %s: %llu %s\n", name_.c_str(), static_cast<unsigned long long>(n),
                   what);
  };
  const Counters now = read_counters();
  // Guest-written counters, reported as numbers and never used for anything else: a count that went
  // backwards, or grew more than the guest could have counted since the attach, is named as bad and
  // never printed as a number.
  const uint64_t most = targets::TargetCounter::max_growth(clock::host_now_ns() - attach_ns_);
  size_t bad = 0;
  auto since = [&](uint64_t v, uint64_t base) -> uint64_t {
    if (v >= base && v - base <= most) return v - base;
    ++bad;
    return 0;
  };
  uint64_t ring_drops = 0;
  for (uint32_t i = 0; i < VTRACE_GUEST_NRINGS; ++i)
    ring_drops += since(transport::guest_ring(base_, layout_, i)->drops, 0);
  line(since(now.relay_drops, at_attach_.relay_drops) + ring_drops, "drops (guest channel full)");
  line(since(now.process_drops, at_attach_.process_drops),
       "drops in guest processes (their rings full)");
  line(since(now.process_rejects, at_attach_.process_rejects),
       "records of guest processes rejected by the agent");
  line(since(now.kernel_lost, at_attach_.kernel_lost), "guest kernel events lost");
  line(since(now.unsynced, at_attach_.unsynced),
       "firings ran unsynchronised (sync mode gave up: the host did not answer in time)");
  line(bad_entries_, "probe table entries rejected");
  if (bad > 0)
    std::fprintf(err,
                 "vtrace: %s: bad counter (%zu count%s the guest wrote could not be right: not "
                 "reported)\n",
                 name_.c_str(), bad, bad == 1 ? "" : "s");
  std::string rejected = rejects_.summary();
  if (!rejected.empty()) std::fprintf(err, "vtrace: %s: %s\n", name_.c_str(), rejected.c_str());
  // Each pause: its length, and how far the guest clock fell behind (the translation of what
  // came after it moved by that much).
  for (const auto& p : pause_.pauses()) {
    if (!p.announced) {
      if (!p.measured) {
        std::fprintf(err, "vtrace: %s: guest clock stepped at the end of the run (not measured)\n",
                     name_.c_str());
        continue;
      }
      std::fprintf(err,
                   "vtrace: %s: guest clock stepped %.6f s %s the host's (+-%.1f us) with no pause "
                   "QEMU announced; found by its readings, its records were held until the "
                   "clock was measured again\n",
                   name_.c_str(), std::fabs(static_cast<double>(p.jump_ns)) * 1e-9,
                   p.jump_ns >= 0 ? "behind" : "ahead of",
                   static_cast<double>(p.jump_error_ns) * 1e-3);
      continue;
    }
    const double len = p.resume_real_ns > p.stop_real_ns
                           ? static_cast<double>(p.resume_real_ns - p.stop_real_ns) * 1e-9
                           : -1;
    if (!p.measured) {
      std::fprintf(err, "vtrace: %s: paused at the end of the run (%s)\n", name_.c_str(),
                   len < 0 ? "not resumed" : "its clock not measured since");
      continue;
    }
    std::fprintf(err,
                 "vtrace: %s: paused for %.3f s; its clock fell %.6f s behind the host's "
                 "(+-%.1f us), records after the pause translated accordingly\n",
                 name_.c_str(), len, static_cast<double>(p.jump_ns) * 1e-9,
                 static_cast<double>(p.jump_error_ns) * 1e-3);
  }
  for (const auto& p : pause_.pauses())
    if (p.went_back)
      std::fprintf(err,
                   "vtrace: %s: its clock went back past readings already seen: records read "
                   "after that were placed after it whatever their stamps, any it had written "
                   "before and not yet relayed by then too\n",
                   name_.c_str());
  // Steps of the guest clock no QEMU event announced, found by the clock measurements.
  for (const UnannouncedStep& st : unannounced_steps_)
    std::fprintf(err,
                 "vtrace: %s: guest clock stepped by %+.6f s with no pause QEMU announced; the "
                 "%llu record%s read before the next measurement were translated with the clock "
                 "before it (off by up to that much)\n",
                 name_.c_str(), static_cast<double>(st.ns) * 1e-9,
                 static_cast<unsigned long long>(st.records), st.records == 1 ? "" : "s");
  // Where the guest clock froze is known to within the agent's last round before the STOP:
  // records stamped there are placed before the pause, though some may come from just after it.
  if (ambiguous_ > 0)
    std::fprintf(err,
                 "vtrace: %s: %llu record%s stamped in the last agent round before a pause "
                 "placed before it (any from just after the pause would be early by its "
                 "length)\n",
                 name_.c_str(), static_cast<unsigned long long>(ambiguous_),
                 ambiguous_ == 1 ? "" : "s");
  if (unchecked_ > 0)
    std::fprintf(err,
                 "vtrace: %s: %llu record%s translated before a check of its clock covered "
                 "them (more than %zu were waiting)\n",
                 name_.c_str(), static_cast<unsigned long long>(unchecked_),
                 unchecked_ == 1 ? "" : "s", kMaxWaiting);
  if (ambiguous_after_step_ > 0)
    std::fprintf(err,
                 "vtrace: %s: %llu record%s stamped between the last check of its clock and a "
                 "step placed after the step (any from before it are off by its size)\n",
                 name_.c_str(), static_cast<unsigned long long>(ambiguous_after_step_),
                 ambiguous_after_step_ == 1 ? "" : "s");
}

// --- GuestTargets ------------------------------------------------------------------------------

GuestTarget& GuestTargets::add(const std::string& vm_name) {
  guests_.push_back(
      std::make_unique<GuestTarget>(vm_name, kFirstIndex + static_cast<uint32_t>(guests_.size())));
  return *guests_.back();
}

uint32_t GuestTargets::refresh_tables(engine::Catalog& catalog) {
  const uint32_t first = catalog.next_id();
  size_t added = 0;
  for (auto& g : guests_) added += g->refresh_table(catalog);
  return added > 0 ? first : 0;
}

void GuestTargets::detach() {
  for (auto& g : guests_) g->detach();
}

void GuestTargets::report(std::FILE* err) const {
  for (const auto& g : guests_) g->report(err);
}

}  // namespace vtrace::targets::qemu
