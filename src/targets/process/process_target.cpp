#include "targets/process/process_target.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "sys/probe_name.h"
#include "sys/process_facts.h"

namespace vtrace::targets {

namespace {

uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

ProcessTarget::~ProcessTarget() {
  shutdown();
}

bool ProcessTarget::discover(engine::Catalog& catalog, std::string& error) {
  if (!sys::discover_probes(pid_, table_, error)) return false;
  target_ = "pid" + std::to_string(pid_);
  module_ = sys::exe_basename(table_.exe);
  sys::read_proc_comm(pid_, comm_, sizeof comm_);
  std::map<std::string, uint32_t> by_key;  // provider, function, name -> catalog id
  site_probe_.assign(table_.sites.size(), 0);
  for (size_t i = 0; i < table_.sites.size(); ++i) {
    const sys::ProbeSite& s = table_.sites[i];
    if (s.flags & VTRACE_DESC_GUARD) continue;
    std::string key = s.provider + '\0' + s.function + '\0' + s.name;
    auto it = by_key.find(key);
    if (it == by_key.end()) {
      uint32_t id = catalog.add(target_, s.provider, module_, s.function, sys::d_probe_name(s.name),
                                module_, "host");
      // dtrace names a process's USDT provider PROVIDERPID: "sample$target:::tick" works too.
      catalog.set_provider_alias(id, s.provider + std::to_string(pid_));
      it = by_key.emplace(key, id).first;
      probe_ids_.push_back(id);
    }
    site_probe_[i] = it->second;
    probe_map_[s.offset] = {it->second, s.flags, s.nargs};
  }
  return true;
}

bool ProcessTarget::open_channel(const transport::ChannelConfig& cfg, std::string& error) {
  transport::ChannelConfig with_clock = cfg;
  with_clock.tsc = clock::TscClock::usable();
  if (with_clock.tsc) tsc_clock_.start();
  channel_ = transport::Channel::create(pid_, with_clock, error);
  if (!channel_) return false;
  size_note_ = channel_->size_note();
  ring_drops_.assign(channel_->nrings(), TargetCounter(now_ns()));
  no_ring_drops_ = TargetCounter(now_ns());
  unsynced_ = TargetCounter(now_ns());
  sync_ = cfg.sync;
  tsc_ = with_clock.tsc;
  readers_.clear();
  for (uint32_t i = 0; i < channel_->nrings(); ++i)
    readers_.emplace_back(channel_->ring(i), channel_->nslots(), &probe_map_, &rejects_);
  done_upto_.assign(channel_->nrings(), 0);
  return true;
}

bool ProcessTarget::wait_client(int timeout_ms) {
  if (!channel_) return false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (channel_->client_pid() == 0) {
    if (std::chrono::steady_clock::now() >= deadline || !check_alive()) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

size_t ProcessTarget::enable(const std::vector<uint32_t>& enabled, const SiteWorkOf& work_of) {
  std::set<uint32_t> on(enabled.begin(), enabled.end());
  std::vector<uint8_t> want(table_.sites.size(), 0);
  for (size_t i = 0; i < table_.sites.size(); ++i)
    want[i] = site_probe_[i] != 0 && on.count(site_probe_[i]);
  sys::want_guards(table_.sites, want);
  std::map<uint32_t, uint32_t> entry_of;  // probe -> its entry of the site ops table
  auto word_of = [&](size_t i) -> uint32_t {
    const sys::ProbeSite& s = table_.sites[i];
    if ((s.flags & VTRACE_DESC_GUARD) || !work_of) return VTRACE_EN_RECORD;
    const SiteWork w = work_of(site_probe_[i]);
    uint32_t word = w.record ? VTRACE_EN_RECORD : 0u;
    if (w.ops == nullptr || w.ops->nops == 0 || !(s.flags & VTRACE_DESC_AGG) || !channel_)
      return VTRACE_EN_RECORD;  // SiteAggregation placed nothing here: the engine runs it
    auto [it, added] = entry_of.emplace(site_probe_[i], static_cast<uint32_t>(entry_of.size()));
    vtrace_site_ops* t = channel_->site_ops(it->second);
    if (t == nullptr || w.ops->words.size() > VTRACE_MAX_SITE_OPS) return VTRACE_EN_RECORD;
    if (added) {
      t->nops = w.ops->nops;
      std::copy(w.ops->words.begin(), w.ops->words.end(), t->ops);
    }
    site_ops_on_ = true;
    return word | ((it->second + 1) << VTRACE_EN_OPS_SHIFT);
  };
  auto enable_where = [&](bool guard) {
    for (size_t i = 0; i < table_.sites.size(); ++i) {
      const sys::ProbeSite& s = table_.sites[i];
      if (want[i] && ((s.flags & VTRACE_DESC_GUARD) != 0) == guard &&
          sys::set_site_word(pid_, s, word_of(i)))
        enabled_sites_.push_back(i);
    }
  };
  enable_where(false);  // probe sites (their count is returned), then their guards
  size_t n = enabled_sites_.size();
  enable_where(true);
  return n;
}

bool ProcessTarget::sites_have(uint32_t probe, uint32_t flags) const {
  bool any = false;
  for (size_t i = 0; i < table_.sites.size(); ++i)
    if (site_probe_[i] == probe) {
      if ((table_.sites[i].flags & flags) != flags) return false;
      any = true;
    }
  return any;
}

void ProcessTarget::read_site_slots() {
  if (!channel_ || !site_ops_on_) return;
  slot_rings_ = channel_->nrings();
  site_slots_.resize(uint64_t{slot_rings_} * transport::kAggSlotsPerRing);
  for (uint32_t r = 0; r < slot_rings_; ++r)
    for (uint32_t k = 0; k < transport::kAggSlotsPerRing; ++k)
      site_slots_[uint64_t{r} * transport::kAggSlotsPerRing + k] = channel_->agg_slot(r, k);
}

uint64_t ProcessTarget::site_slot(uint32_t ring, uint32_t slot) const {
  const uint64_t i = uint64_t{ring} * transport::kAggSlotsPerRing + slot;
  return ring < slot_rings_ && slot < transport::kAggSlotsPerRing && i < site_slots_.size()
             ? site_slots_[i]
             : 0;
}

void ProcessTarget::set_sync(bool sync) {
  sync_ = sync;
  if (channel_) channel_->set_sync(sync);
}

void ProcessTarget::open_gate() {
  if (channel_) channel_->open_gate();
}

size_t ProcessTarget::poll(std::vector<PendingRecord>& out, size_t max_per_ring,
                           uint64_t& complete_to) {
  size_t n = 0;
  for (uint32_t i = 0; i < readers_.size(); ++i) {
    if (transport::Channel::RingState s = channel_->ready_ring(i);
        s != transport::Channel::RingState::kReadable) {
      if (s == transport::Channel::RingState::kCorrupt)
        rejects_.add(transport::Reject::CorruptRing);
      continue;
    }
    scratch_.clear();
    const size_t got = readers_[i].poll(scratch_, max_per_ring);
    if (got == 0) continue;
    for (const auto& r : scratch_) {
      PendingRecord& p = out.emplace_back();
      Record& rec = p.rec;
      rec.probe = r.probe.probe;
      rec.target = index_;
      rec.pid = pid_;
      rec.tid = static_cast<int32_t>(r.rec.tid);
      rec.cpu = static_cast<int32_t>(r.rec.cpu);
      rec.raw_timestamp = r.rec.timestamp;
      rec.timestamp = tsc_ ? tsc_clock_.to_ns(r.rec.timestamp) : r.rec.timestamp;
      for (int a = 0; a < kRecordArgs; ++a) rec.args[a] = static_cast<int64_t>(r.rec.args[a]);
      std::memcpy(rec.execname, comm_, sizeof rec.execname);
      rec.tail_len = r.rec.tail_len;
      if (r.rec.tail_len > 0) std::memcpy(p.tail, r.rec.tail, r.rec.tail_len);
      p.target = this;
      p.ring = i;
      p.pos = r.pos;
      ++n;
    }
    // A ring left unread past the cap: only what it delivered is surely complete.
    if (got >= max_per_ring && !scratch_.empty())
      complete_to = std::min(complete_to, out.back().rec.timestamp);
  }
  return n;
}

void ProcessTarget::mark_done(uint32_t ring, uint64_t pos) {
  if (!sync_ || !channel_ || ring >= done_upto_.size()) return;
  channel_->mark_done(ring, pos);
  done_upto_[ring] = std::max(done_upto_[ring], pos + 1);
}

void ProcessTarget::finish_round() {
  if (!sync_ || !channel_) return;
  for (uint32_t i = 0; i < readers_.size(); ++i)
    if (readers_[i].tail() > done_upto_[i]) mark_done(i, readers_[i].tail() - 1);
}

void ProcessTarget::heartbeat() {
  if (channel_) channel_->heartbeat();
  if (tsc_) tsc_clock_.update();
  sample_counters();
}

void ProcessTarget::sample_counters() {
  if (!channel_) return;
  const uint64_t now = now_ns();
  for (size_t i = 0; i < readers_.size() && i < ring_drops_.size(); ++i)
    ring_drops_[i].update(readers_[i].drops(), now);
  no_ring_drops_.update(channel_->no_ring_drops(), now);
  unsynced_.update(channel_->unsynced(), now);
}

bool ProcessTarget::check_alive() {
  if (exited_ || !sys::process_alive(pid_)) return false;
  sys::read_proc_comm(pid_, comm_, sizeof comm_);
  return true;
}

void ProcessTarget::shutdown() {
  sample_counters();
  disable();
  read_site_slots();  // the last word of the sites' aggregations, kept after detach
  if (channel_) channel_->detach();
  channel_.reset();
  readers_.clear();
}

void ProcessTarget::disable() {
  if (!exited_)
    for (size_t i : enabled_sites_) sys::set_site_word(pid_, table_.sites[i], 0);
  enabled_sites_.clear();
}

void ProcessTarget::report(std::FILE* err) const {
  if (!size_note_.empty())
    std::fprintf(err, "vtrace: %s: %s\n", target_.c_str(), size_note_.c_str());
  // Only counts that passed their checks are printed; a bad one is named, never printed.
  uint64_t ring_full = 0, no_ring = 0;
  size_t bad = 0;
  for (const auto& c : ring_drops_) {
    if (c.bad())
      ++bad;
    else
      ring_full += c.value();
  }
  if (no_ring_drops_.bad())
    ++bad;
  else
    no_ring = no_ring_drops_.value();
  if (unsynced_.bad())
    ++bad;
  else if (unsynced_.value() > 0)
    std::fprintf(err,
                 "vtrace: %s: %llu firings ran unsynchronised (sync mode gave up: vtrace did not "
                 "answer in time)\n",
                 target_.c_str(), static_cast<unsigned long long>(unsynced_.value()));
  if (bad > 0)
    std::fprintf(err,
                 "vtrace: %s: bad counter from pid %d (%zu count%s it wrote could not be "
                 "right: not reported)\n",
                 target_.c_str(), static_cast<int>(pid_), bad, bad == 1 ? "" : "s");
  if (ring_full + no_ring > 0) {
    unsigned long long total = ring_full + no_ring;
    std::string why;
    if (no_ring == 0) {
      why = "ring full";
    } else if (ring_full == 0) {
      why = "no free ring";
    } else {
      why = std::to_string(ring_full) + " ring full, " + std::to_string(no_ring) + " no free ring";
    }
    std::fprintf(err, "vtrace: %s: %llu drop%s (%s)\n", target_.c_str(), total,
                 total == 1 ? "" : "s", why.c_str());
  }
  std::string rejected = rejects_.summary();
  if (!rejected.empty()) std::fprintf(err, "vtrace: %s: %s\n", target_.c_str(), rejected.c_str());
  if (table_.invalid > 0)
    std::fprintf(err, "vtrace: %s: %zu invalid probe descriptor%s skipped\n", target_.c_str(),
                 table_.invalid, table_.invalid == 1 ? "" : "s");
}

// --- ProcessTargets ---------------------------------------------------------------------------

ProcessTargets::ProcessTargets() {
  transport::remove_stale_channels();
}

ProcessTarget& ProcessTargets::add(pid_t pid) {
  targets_.push_back(
      std::make_unique<ProcessTarget>(pid, static_cast<uint32_t>(targets_.size() + 1)));
  return *targets_.back();
}

ProcessTarget* ProcessTargets::find(pid_t pid) {
  for (auto& t : targets_)
    if (t->pid() == pid) return t.get();
  return nullptr;
}

size_t ProcessTargets::collect(uint64_t now_ns) {
  // A thread may have stamped a record just before the poll and publish it just after.
  uint64_t complete_to = settled_before(now_ns);
  pending_.clear();
  for (auto& t : targets_)
    if (t->has_channel()) t->poll(pending_, 4096, complete_to);
  watermark_ = std::max(watermark_, complete_to);
  order_.clear();
  bool one_run = true;  // every record from one ring: already in timestamp order
  for (auto& p : pending_) {
    p.rec.tail = p.rec.tail_len > 0 ? p.tail : nullptr;
    if (!order_.empty() && (p.target != order_.front()->target || p.ring != order_.front()->ring))
      one_run = false;
    order_.push_back(&p);
  }
  // Sort what this round read: exact across rings for records already published when the round
  // started; the timeline's watermark holds other targets' records until they are in order.
  if (!one_run)
    std::stable_sort(order_.begin(), order_.end(), [](const auto* a, const auto* b) {
      return a->rec.timestamp < b->rec.timestamp;
    });
  return order_.size();
}

size_t ProcessTargets::poll(RecordSink& sink, uint64_t now_ns) {
  const size_t n = collect(now_ns);
  for (size_t i = 0; i < n; ++i) {
    PendingRecord& p = *order_[i];
    sink.deliver(p.rec);
    p.target->mark_done(p.ring, p.pos);
  }
  for (auto& t : targets_) t->finish_round();
  return n;
}

bool ProcessTargets::enable(const EnableRequest& req, std::string& error) {
  auto work = [&](uint32_t probe) {
    return ProcessTarget::SiteWork{
        site_ops_ ? site_ops_(probe) : nullptr,
        std::binary_search(req.gathered.begin(), req.gathered.end(), probe)};
  };
  for (auto& t : targets_) {
    std::string err;
    if (!t->has_channel() && !t->open_channel(req.channel, err)) {
      error = "pid " + std::to_string(t->pid()) + ": " + err;
      return false;
    }
    t->set_sync(req.channel.sync);
    t->enable(req.enabled, work);
  }
  return true;
}

void ProcessTargets::tick(uint64_t, engine::Engine&) {
  heartbeat();
}

void ProcessTargets::drain(RecordSink& sink) {
  for (auto& t : targets_) t->disable();
  // Records published before the probes went off still count.
  for (int i = 0; i < 1000 && poll(sink, UINT64_MAX) > 0; ++i) {
  }
  shutdown();
}

bool ProcessTargets::wait(uint64_t ns) {
  ProcessTarget* first = nullptr;
  for (auto& t : targets_)
    if (t->has_channel() && !t->exited()) {
      if (first != nullptr) {
        ns = std::min<uint64_t>(ns, 1'000'000);
        break;
      }
      first = t.get();
    }
  if (first == nullptr) return false;
  first->wait_doorbell(ns);
  return true;
}

void ProcessTargets::heartbeat() {
  for (auto& t : targets_) t->heartbeat();
}

void ProcessTargets::shutdown() {
  for (auto& t : targets_) t->shutdown();
}

void ProcessTargets::report(std::FILE* err) const {
  for (const auto& t : targets_) t->report(err);
}

bool ProcessTargets::any_alive() const {
  for (const auto& t : targets_)
    if (!t->exited()) return true;
  return false;
}

}  // namespace vtrace::targets
