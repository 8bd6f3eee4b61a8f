#include "guest/agent/process_relay.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <map>

#include "sys/probe_name.h"
#include "sys/process_facts.h"

namespace vtrace::guest {

NativeProcess::~NativeProcess() {
  detach();
}

bool NativeProcess::discover(std::string& error) {
  if (!sys::discover_probes(pid_, table_, error)) return false;
  module_ = sys::exe_basename(table_.exe);
  sys::read_proc_comm(pid_, comm_, sizeof comm_);
  site_entry_.assign(table_.sites.size(), kNoEntry);
  site_on_.assign(table_.sites.size(), 0);
  return true;
}

void NativeProcess::add_entries(GuestProbeTable& table) {
  std::map<std::string, uint32_t> by_key;  // provider, function, name -> entry
  for (size_t i = 0; i < table_.sites.size(); ++i) {
    const sys::ProbeSite& s = table_.sites[i];
    if (s.flags & VTRACE_DESC_GUARD) continue;
    std::string key = s.provider + '\0' + s.function + '\0' + s.name;
    auto it = by_key.find(key);
    if (it == by_key.end()) {
      uint32_t e = table.add(VTRACE_GPROBE_NATIVE, pid_, s.nargs, s.flags & VTRACE_DESC_STR0,
                             s.provider, module_, s.function, sys::d_probe_name(s.name));
      if (e == kNoEntry) continue;
      entries_.push_back(e);
      it = by_key.emplace(key, e).first;
    }
    site_entry_[i] = it->second;
    probe_map_[s.offset] = {it->second, s.flags, s.nargs};
  }
}

bool NativeProcess::open_channel(bool sync, std::string& error) {
  if (channel_) return true;
  transport::ChannelConfig cfg;
  cfg.nrings = kProcessRings;
  cfg.nslots = kProcessSlots;
  cfg.sync = sync;
  cfg.no_spin = true;   // a waiting site spinning would keep the agent off a busy vCPU
  cfg.inflight = true;  // the watermark must not pass a record a preempted site is writing
  cfg.tsc = true;       // the host translates guest TSC, for native and kernel records alike
  channel_ = transport::Channel::create(pid_, cfg, error);
  if (!channel_) return false;
  sync_ = sync;
  readers_.clear();
  for (uint32_t i = 0; i < channel_->nrings(); ++i)
    readers_.emplace_back(channel_->ring(i), channel_->nslots(), &probe_map_, &rejects_);
  done_upto_.assign(channel_->nrings(), 0);
  return true;
}

void NativeProcess::set_sync(bool sync) {
  sync_ = sync;
  if (channel_) channel_->set_sync(sync);
}

void NativeProcess::set_site(size_t i, bool on) {
  if (site_on_[i] == on) return;
  // A failed write (the process exited) leaves the flag as it was.
  if (!sys::set_site_word(pid_, table_.sites[i], on ? VTRACE_EN_RECORD : 0u)) return;
  site_on_[i] = on;
  if (table_.sites[i].flags & VTRACE_DESC_GUARD) return;
  if (on)
    ++nsites_on_;
  else
    --nsites_on_;
}

bool NativeProcess::apply(const volatile uint8_t* enabled, uint32_t count, bool sync,
                          std::string& error) {
  if (exited_) return true;
  std::vector<uint8_t> want(table_.sites.size(), 0);
  bool any = false;
  for (size_t i = 0; i < table_.sites.size(); ++i) {
    uint32_t e = site_entry_[i];
    if (e == kNoEntry || e >= count || enabled[e] == 0) continue;
    want[i] = 1;
    any = true;
  }
  sys::want_guards(table_.sites, want);
  // The channel exists before the first site can fire (a site without one drops its record).
  if (any && !channel_ && !open_channel(sync, error)) return false;
  for (size_t i = 0; i < want.size(); ++i) set_site(i, want[i] != 0);
  return true;
}

size_t NativeProcess::poll(RecordSink& out, bool& in_flight) {
  size_t n = 0;
  for (uint32_t i = 0; i < readers_.size(); ++i) {
    // Read before the ring: a site that set `writing` may have stamped before this round began
    // (it was preempted mid-probe: on one vCPU the agent runs only then). Process-written: it
    // can only hold the watermark back.
    if (__atomic_load_n(&channel_->ring(i)->writing, __ATOMIC_ACQUIRE) != 0) in_flight = true;
    // A ring the guest's /dev/shm cannot back is never touched (it would SIGBUS the agent).
    if (transport::Channel::RingState s = channel_->ready_ring(i);
        s != transport::Channel::RingState::kReadable) {
      if (s == transport::Channel::RingState::kCorrupt)
        rejects_.add(transport::Reject::CorruptRing);
      continue;
    }
    // Each validated copy goes straight into its guest record (a BAR slot in async mode): the
    // fields are set one by one, nothing is cleared first.
    readers_[i].poll_each(
        kProcessSlots, [&](const vtrace_record& r, uint64_t pos, const transport::ProbeRef& ref) {
          vtrace_guest_record* g = out.next();
          if (g == nullptr) return;  // no room: counted by `out`
          g->probe = ref.probe;
          g->pid = static_cast<uint32_t>(pid_);
          g->tid = r.tid;
          g->vcpu = static_cast<uint16_t>(r.cpu);
          g->nargs = static_cast<uint8_t>(r.nargs);  // validated: <= VTRACE_MAX_ARGS
          g->str_arg = 0;
          g->timestamp = r.timestamp;
          g->seq = 0;
          g->tail_len = 0;
          g->kstack_len = 0;
          g->ustack_len = 0;
          g->ustack_image = 0;
          const size_t used = size_t{r.nargs} * sizeof(uint64_t);  // validated: <= VTRACE_MAX_ARGS
          std::memcpy(g->args, r.args, used);
          std::memset(reinterpret_cast<char*>(g->args) + used, 0, sizeof g->args - used);
          std::memcpy(g->comm, comm_, sizeof g->comm);
          if (r.tail_len > 0) set_tail(*g, r.tail, r.tail_len);
          out.commit(this, i, pos);
          ++n;
        });
  }
  return n;
}

void NativeProcess::wait_doorbell(uint64_t ns) {
  if (channel_) channel_->wait_doorbell(ns);
}

void NativeProcess::mark_done(uint32_t ring, uint64_t pos) {
  if (!channel_ || ring >= done_upto_.size()) return;
  channel_->mark_done(ring, pos);
  done_upto_[ring] = std::max(done_upto_[ring], pos + 1);
}

void NativeProcess::finish_round() {
  if (!sync_ || !channel_) return;
  for (uint32_t i = 0; i < readers_.size(); ++i)
    if (readers_[i].tail() > done_upto_[i]) mark_done(i, readers_[i].tail() - 1);
}

void NativeProcess::heartbeat() {
  if (channel_) channel_->heartbeat();
}

void NativeProcess::open_gate() {
  if (channel_) channel_->open_gate();
}

void NativeProcess::detach() {
  for (size_t i = 0; i < site_on_.size(); ++i)
    if (!exited_) set_site(i, false);
  std::fill(site_on_.begin(), site_on_.end(), 0);
  nsites_on_ = 0;
  if (channel_) {
    old_drops_ = drops();
    channel_->open_gate();  // a held program must not wait for a gate nobody opens
    channel_->detach();
    channel_.reset();
  }
  readers_.clear();
  done_upto_.clear();
}

uint64_t NativeProcess::drops() const {
  uint64_t n = old_drops_;
  if (channel_) {
    for (const auto& r : readers_) n += r.drops();
    n += channel_->no_ring_drops();
  }
  return n;
}

bool NativeProcess::check_alive() {
  if (exited_) return false;
  if (!sys::process_alive(pid_)) return !(exited_ = true);
  sys::read_proc_comm(pid_, comm_, sizeof comm_);
  return true;
}

}  // namespace vtrace::guest
