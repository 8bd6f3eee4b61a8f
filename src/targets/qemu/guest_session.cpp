#include "targets/qemu/guest_session.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <set>
#include <thread>

#include "clock/host_clock.h"
#include "engine/engine.h"
#include "engine/glob.h"
#include "engine/profile_provider.h"
#include "guest/image_builder.h"
#include "targets/qemu/vm_manager.h"

namespace vtrace::targets::qemu {

namespace {

constexpr uint64_t kClockPeriodNs = 1'000'000'000;
constexpr uint64_t kFirstClockPeriodNs = 20'000'000;
constexpr int kAgentReadyMs = 15'000;
// An agent beats every ~50 ms; one silent this long (frozen, its vCPU starved, its guest hung)
// is left out at the start instead of holding every other target up.
constexpr uint64_t kAgentSilentNs = 2'000'000'000;

// Asks settled(item) of every item, every `ms` milliseconds, until each has said true once:
// guests are waited for at once, each on its own terms, never one after the other.
template <class T, class Settled>
void settle_all(std::vector<T> items, Settled settled, int ms) {
  while (!items.empty()) {
    items.erase(std::remove_if(items.begin(), items.end(), settled), items.end());
    if (!items.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }
}

}  // namespace

GuestSession::~GuestSession() {
  finish();
}

bool GuestSession::open(const std::vector<std::string>& start, engine::Catalog& catalog, bool quiet,
                        std::string& error) {
  std::vector<VmConfig> configs;
  for (const auto& name : start) {
    if (std::string bad = check_vm_name(name); !bad.empty()) {
      error = "bad VM name '" + name + "': " + bad;
      return false;
    }
    VmInfo info;
    try {
      if (find_vm(name, &info) && info.running) continue;
    } catch (const std::exception& e) {
      error = e.what();
      return false;
    }
    VmConfig c;
    c.name = name;
    configs.push_back(c);
  }
  if (!configs.empty()) {
    try {
      guest::ImageOptions o;
      if (!quiet)
        o.log = [](const std::string& s) { std::fprintf(stderr, "vtrace: %s\n", s.c_str()); };
      guest::GuestImage img = guest::build_image(o);
      for (auto& c : configs) {
        c.kernel = img.kernel;
        c.initrd = img.initrd;
      }
      for (const VmInfo& v : start_vms(configs)) {
        started_.push_back(v.name);
        if (!quiet)
          std::fprintf(stderr, "vtrace: started VM %s (booted in %.1f s)\n", v.name.c_str(),
                       v.boot_seconds);
      }
    } catch (const std::exception& e) {
      error = e.what();
      return false;
    }
  }
  std::vector<VmInfo> vms;
  try {
    vms = list_vms();
  } catch (const std::exception& e) {
    // Guests are optional for a script that does not start any: it runs, and says why they
    // are left out.
    if (!start.empty()) {
      error = e.what();
      return false;
    }
    std::fprintf(stderr, "vtrace: not tracing guests: %s\n", e.what());
    return true;
  }
  // Every guest's agent is waited for at once, each up to its own deadline: a guest that was
  // just started may still be bringing its agent up, one that was running has no excuse.
  struct Opening {
    GuestTarget* g;
    uint64_t deadline;
  };
  std::vector<Opening> opening;
  const uint64_t now = clock::host_now_ns();
  for (const VmInfo& v : vms) {
    if (!v.running) continue;
    GuestTarget& g = guests_.add(v.name);
    bool ours = std::find(started_.begin(), started_.end(), v.name) != started_.end();
    std::string err;
    g.set_kvm(v.accel == "kvm");
    symbolizer_.add(g.index(), exec_target(v));
    g.set_events_socket(v.events);
    if (!g.open(v.ivshmem, v.pid, -1, err)) {
      if (!quiet)
        std::fprintf(stderr, "vtrace: %s: not a target: %s\n", v.name.c_str(), err.c_str());
      g.set_stopped();
      continue;
    }
    opening.push_back({&g, now + uint64_t(ours ? kAgentReadyMs : 2000) * 1'000'000});
  }
  settle_all(
      opening,
      [&](const Opening& o) {
        if (o.g->agent_ready()) {
          o.g->refresh_table(catalog);
          return true;
        }
        if (clock::host_now_ns() < o.deadline) return false;
        if (!quiet)
          std::fprintf(stderr, "vtrace: %s: not a target: its vtrace-agent is not running\n",
                       o.g->name().c_str());
        o.g->set_stopped();
        return true;
      },
      5);
  catalog.add_on_demand(
      [this](const bytecode::ProbeSpec& spec, engine::Catalog& cat) { on_demand(spec, cat); });
  return true;
}

void GuestSession::on_demand(const bytecode::ProbeSpec& spec, engine::Catalog& catalog) {
  // Only descriptions that name the provider (not a glob): fbt for every guest they reach,
  // profile-N and pidPID only for a guest they name (a bare profile-N is the host's, as it
  // always was; a pid is one guest's).
  std::string request;
  auto or_all = [](const std::string& s) { return s.empty() ? std::string("*") : s; };
  const bool pid = spec.provider.size() > 3 && spec.provider.compare(0, 3, "pid") == 0 &&
                   spec.provider.size() <= 13 &&
                   spec.provider.find_first_not_of("0123456789", 3) == std::string::npos;
  if (spec.provider == "fbt") {
    request = "fbt:" + or_all(spec.module) + ":" + or_all(spec.function);
  } else if (pid && !spec.target.empty()) {
    request = "pid:" + spec.provider.substr(3) + ":" + or_all(spec.module) + ":" +
              or_all(spec.function);
  } else if (spec.provider == "profile" && !spec.target.empty() &&
             spec.name.rfind("profile-", 0) == 0 && spec.module.empty() && spec.function.empty()) {
    const std::optional<uint64_t> period = engine::ProfileProvider::parse_period(spec.name);
    if (!period) return;
    request = "profile:" + spec.name + ":" + std::to_string(*period);
  } else {
    return;
  }
  for (auto& g : guests_.all()) {
    if (g->stopped() || !g->agent_ready()) continue;
    if (!spec.target.empty() && !engine::glob_match(spec.target, g->name())) continue;
    if (!requested_.insert(g->name() + "\n" + request).second) continue;
    // Another vtrace tracing the guest owns its request slot: left to start(), which says so
    // when the script names the guest.
    std::string why;
    if (!g->lock(why)) continue;
    uint32_t matched = 0;
    if (!g->request_probes(request, 5000, matched, why)) {
      // Said once per guest and request: the description may still match other targets.
      std::fprintf(stderr, "vtrace: %s: no %s probes: %s\n", g->name().c_str(),
                   spec.provider.c_str(), why.c_str());
      continue;
    }
    g->refresh_table(catalog);
  }
}

bool GuestSession::start(const bytecode::Module& module, const std::vector<uint32_t>& enabled,
                         bool sync, std::string& error) {
  std::set<uint32_t> on(enabled.begin(), enabled.end());
  sync_ = sync;
  for (auto& g : guests_.all()) {
    if (g->stopped()) continue;
    bool reached = false, named = false;  // named: a description names this VM
    for (uint32_t id : g->probe_ids()) reached = reached || on.count(id) > 0;
    // A description that names the VM, or names no target (four fields: every target), reaches
    // it even before its probes exist (a program started in the guest later). The host's own
    // providers (dtrace, profile) do not.
    for (const auto& c : module.clauses)
      for (const auto& spec : c.probes) {
        // The hypervisor layer's probes (vmm) come from the host, not from the guest's agent.
        if (spec.provider == "vmm") continue;
        if (spec.target.empty())
          reached = reached || (spec.provider != "dtrace" && spec.provider != "profile");
        else
          named = named || engine::glob_match(spec.target, g->name());
      }
    if (!reached && !named) continue;
    std::string err;
    // The tracer's lock: one tracing session per guest. A guest another vtrace traces is an
    // error when the script names it, and left out (with a warning) when it was only matched
    // by descriptions without a target.
    if (!g->lock(err)) {
      if (named) {
        error = err;
        return false;
      }
      std::fprintf(stderr, "vtrace: %s; not tracing it\n", err.c_str());
      g->set_stopped();
      continue;
    }
    g->attach(sync);
    g->enable(enabled, wants_);
    attached_.push_back(g.get());
  }
  wait_ready();
  for (auto* g : attached_) {
    // A guest too busy to answer now is measured again soon (tick()); until then its records
    // carry the time they arrived, and the run says so.
    std::string err;
    if (!g->stopped() && !g->calibrate_clock(20, err))
      std::fprintf(stderr, "vtrace: %s: %s; its timestamps are arrival times until it does\n",
                   g->name().c_str(), err.c_str());
  }
  clock_period_ns_ = kFirstClockPeriodNs;
  next_clock_ns_ = clock::host_now_ns() + clock_period_ns_;
  return true;
}

// BEGIN fires once every guest's probes are live, as on the host. All guests are waited for at
// once, each on its own terms: one whose agent is silent is left out after kAgentSilentNs, one
// that beats but has not applied its enablings after kAgentReadyMs. Either is reported and the
// others trace normally.
void GuestSession::wait_ready() {
  const uint64_t start = clock::host_now_ns();
  const uint64_t deadline = start + uint64_t{kAgentReadyMs} * 1'000'000;
  for (auto* g : attached_) g->agent_silent_ns(start);
  settle_all(
      attached_,
      [&](GuestTarget* g) {
        if (g->enable_acked()) return true;
        const uint64_t now = clock::host_now_ns();
        std::string why;
        if (const uint64_t silent = g->agent_silent_ns(now); silent >= kAgentSilentNs)
          why = "its agent has not run for " + std::to_string(silent / 1'000'000) + " ms";
        else if (now >= deadline)
          why = "its agent has not enabled the probes in " + std::to_string(kAgentReadyMs / 1000) +
                " s";
        else
          return false;
        // Printed even when quiet, like a guest that stops mid-run: its probes are missing.
        std::fprintf(stderr, "vtrace: VM %s does not answer (%s); tracing goes on without it\n",
                     g->name().c_str(), why.c_str());
        g->detach();
        g->set_stopped();
        return true;
      },
      1);
}

void GuestSession::enable(const std::vector<uint32_t>& enabled) {
  for (auto* g : attached_) g->enable(enabled, wants_);
}

void GuestSession::heartbeats(uint64_t now_ns) {
  for (auto* g : attached_) {
    if (g->stopped()) continue;
    if (!g->check_alive(now_ns)) {
      g->set_stopped();
      // Printed even when quiet: the guest's probes went away under the script.
      std::fprintf(stderr, "vtrace: VM %s has stopped; tracing goes on without it\n",
                   g->name().c_str());
      continue;
    }
    g->heartbeat();
  }
  if (now_ns < next_clock_ns_) return;
  // Measured often while the baseline is short (the scale's error shrinks with it), then every
  // second: 20 ms, 40 ms, 80 ms ... 1 s after the start.
  clock_period_ns_ = std::min(clock_period_ns_ * 2, kClockPeriodNs);
  next_clock_ns_ = now_ns + clock_period_ns_;
  for (auto* g : attached_) {
    std::string err;
    if (!g->stopped()) g->measure_clock(err);
  }
}

bool GuestSession::enable(const EnableRequest& req, std::string& error) {
  if (req.needs) {
    // What a guest kernel probe's clauses read at the probe: its stacks, and the string one
    // argument points to (the first copyinstr()/copyin() of a bare argument; others are not
    // gathered and say so).
    wants_ = [needs = req.needs](uint32_t id) {
      const bpf::ClauseNeeds n = needs(id);
      uint8_t w = n.kernel_frames > 0 || n.user_frames > 0 ? VTRACE_GEN_STACKS : 0;
      for (const bpf::StringCopy& s : n.strings) {
        if (s.addr.size() == 1 && s.addr[0].kind == bpf::ExprOp::Arg && s.addr[0].value >= 0 &&
            s.addr[0].value < VTRACE_MAX_ARGS) {
          w |= VTRACE_GEN_STR(static_cast<uint32_t>(s.addr[0].value));
          break;
        }
      }
      return w;
    };
  }
  return start(req.engine->module(), req.enabled, req.channel.sync, error);
}

size_t GuestSession::poll_guest(GuestTarget& g, RecordSink& sink) {
  polled_.clear();
  const size_t n = g.poll(polled_, 4096);
  for (GuestPending& p : polled_) {
    if (sink.closed()) break;
    deliver(p, g, sink);
  }
  return n;
}

void GuestSession::deliver(GuestPending& p, GuestTarget& g, RecordSink& sink) {
  p.rec.tail = p.rec.tail_len > 0 ? p.tail : nullptr;
  if (p.stacks) {  // (pointers set here: p moved on its way)
    const auto* frames = reinterpret_cast<const uint64_t*>(p.tail);
    if (p.kstack) p.rec.kstack = {frames, p.kframes};  // else stack() is not gathered
    p.rec.ustack = {frames + p.kframes, p.uframes, p.image};
  }
  if (annotate_) annotate_(p.rec);
  if (!sink.closed()) sink.deliver(p.rec);
  g.mark_done(p.ring, p.pos);
}

size_t GuestSession::poll(RecordSink& sink, uint64_t now_ns) {
  if (sync_) return poll_sync(sink, now_ns);
  size_t n = 0;
  for (GuestTarget* g : attached_) n += poll_guest(*g, sink);
  return n;
}

size_t GuestSession::poll_sync(RecordSink& sink, uint64_t now_ns) {
  auto& guests = guests_.all();
  while (sync_merge_.sources() < guests.size()) sync_merge_.add_source();
  size_t n = 0;
  for (uint32_t k = 0; k < guests.size(); ++k) {
    GuestTarget& g = *guests[k];
    polled_.clear();
    n += g.poll(polled_, 4096);
    for (GuestPending& p : polled_) sync_merge_.push(k, p.rec.timestamp, std::move(p), now_ns);
    // A guest stopped at its probe has written everything before it, so arrival order is
    // global order, except past a poll's batch limit: a sync wait that gave up (the host
    // stalled) let the guest run on, and what it wrote beyond the limit may be older than other
    // guests' records (or this guest's own kernel events) already read.
    sync_merge_.set_live(k, lane_live(k));
    sync_merge_.set_watermark(k, g.read_limit_ns());
  }
  // Marked done after it has run: its vCPU waited until then.
  sync_merge_.release(now_ns,
                      [&](GuestPending& p, uint32_t k, bool) { deliver(p, *guests[k], sink); });
  return n;
}

bool GuestSession::lane_live(size_t lane) const {
  if (lane >= lanes()) return false;
  const GuestTarget& g = *guests_.all()[lane];
  return g.attached() && !g.stopped();
}

uint64_t GuestSession::lane_watermark(size_t lane) const {
  return lane < lanes() ? guests_.all()[lane]->watermark_ns() : UINT64_MAX;
}

uint64_t GuestSession::watermark() const {
  uint64_t w = UINT64_MAX;
  for (size_t k = 0; k < lanes(); ++k)
    if (lane_live(k)) w = std::min(w, lane_watermark(k));
  return w;
}

bool GuestSession::caught_up(uint64_t t) const {
  for (const GuestTarget* g : attached_)
    if (!g->stopped() && g->watermark_ns() < t) return false;
  return true;
}

void GuestSession::tick(uint64_t now_ns, engine::Engine& eng) {
  heartbeats(now_ns);
  const uint32_t first = guests_.refresh_tables(eng.catalog());
  if (first == 0) return;
  eng.enable_new(first);
  // Always re-written: it also tells the agent the host has seen its table (table_seen).
  enable(eng.enabled_probes());
}

void GuestSession::drain(RecordSink& sink) {
  const uint64_t stop = clock::host_now_ns();
  enable({});
  // Records the guests wrote before the end still count, in order (after exit() nothing runs:
  // no need to wait for them). The timeline holds what is delivered here until the end.
  if (!sink.closed()) {
    for (auto* g : attached_)
      if (!g->stopped()) g->wait_enabled(1000);
    const uint64_t deadline = clock::host_now_ns() + 1'000'000'000;
    while (clock::host_now_ns() < deadline) {
      poll(sink, clock::host_now_ns());
      if (caught_up(stop)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    for (int i = 0; i < 1000 && poll(sink, clock::host_now_ns()) > 0; ++i) {
    }
    // What still waits for a check of its guest's clock goes as the clock is translated now.
    for (auto* g : attached_) {
      polled_.clear();
      g->flush_waiting(polled_);
      for (GuestPending& p : polled_) deliver(p, *g, sink);
    }
  }
  // What a sync round still holds (rings read to their batch limit) goes too, in order.
  sync_merge_.release(
      clock::host_now_ns(),
      [&](GuestPending& p, uint32_t k, bool) { deliver(p, *guests_.all()[k], sink); }, true);
  guests_.detach();
}

void GuestSession::finish() {
  guests_.detach();
  attached_.clear();
  for (const auto& name : started_) {
    try {
      stop_vm(name);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "vtrace: %s\n", e.what());
    }
  }
  started_.clear();
}

void GuestSession::report(std::FILE* err) const {
  guests_.report(err);
  // Translated time is only as good as its bound: say what it was over the run (even when
  // quiet: it says how far timestamps of different guests can be trusted, like drops say what
  // is missing).
  for (const auto* g : attached_)
    std::fprintf(err, "vtrace: %s: guest clock %s\n", g->name().c_str(),
                 g->clock_description(true).c_str());
  // Async, the timeline reports each guest's late records; sync, they are merged here.
  for (uint32_t k = 0; k < sync_merge_.sources(); ++k)
    if (const uint64_t late = sync_merge_.late(k); late > 0)
      std::fprintf(err, "vtrace: %s: %llu records ran after later ones (out of time order)\n",
                   guests_.all()[k]->name().c_str(), static_cast<unsigned long long>(late));
}

}  // namespace vtrace::targets::qemu
