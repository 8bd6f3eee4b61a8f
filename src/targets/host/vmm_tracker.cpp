#include "targets/host/vmm_tracker.h"

#include <algorithm>

namespace vtrace::targets::host {

namespace {

// Closed intervals kept per vCPU when no guest record comes to consume them (a vCPU whose
// guest fires no probe): older ones are folded into the dropped sum.
constexpr size_t kMaxIntervals = 4096;

}  // namespace

uint32_t VmmTracker::add_vcpu(uint32_t target, uint32_t index, int32_t tid) {
  const auto slot = static_cast<uint32_t>(vcpus_.size());
  Vcpu& v = vcpus_.emplace_back();
  v.target = target;
  v.index = index;
  v.tid = tid;
  by_tid_.emplace(tid, slot);
  by_vcpu_.emplace(key(target, index), slot);
  return slot;
}

void VmmTracker::on_switch(const Switch& s, std::vector<Transition>& out) {
  if (s.prev_tid == s.next_tid) return;
  auto [pb, pe] = by_tid_.equal_range(s.prev_tid);
  for (auto it = pb; it != pe; ++it) {
    Vcpu& v = vcpus_[it->second];
    const bool preempted = runnable(s.prev_state);
    v.state = preempted ? State::Preempted : State::Halted;
    v.off_since = s.time;
    ++(preempted ? v.preempts : v.halts);
    out.push_back({preempted ? Event::Preempt : Event::Halt, it->second, 0, 0});
  }
  auto [nb, ne] = by_tid_.equal_range(s.next_tid);
  for (auto it = nb; it != ne; ++it) {
    Vcpu& v = vcpus_[it->second];
    Transition t{Event::Resume, it->second, 0, 0};
    if (v.state == State::Preempted || v.state == State::Halted) {
      t.off_ns = s.time > v.off_since ? s.time - v.off_since : 0;
      if (v.state == State::Preempted) {
        t.stolen = t.off_ns;
        v.stolen_total += t.stolen;
        v.intervals.emplace_back(v.off_since, std::max(s.time, v.off_since));
        if (v.intervals.size() > kMaxIntervals) {
          v.dropped += v.intervals.front().second - v.intervals.front().first;
          v.intervals.pop_front();
        }
      }
    }
    v.state = State::Running;
    out.push_back(t);
  }
}

uint64_t VmmTracker::stolen_upto(const Vcpu& v, uint64_t t) const {
  uint64_t sum = v.dropped;
  for (const auto& [start, end] : v.intervals) {
    if (start >= t) break;
    sum += std::min(end, t) - start;
  }
  if (v.state == State::Preempted && v.off_since < t) sum += t - v.off_since;
  return sum;
}

uint64_t VmmTracker::stolen_since_last(uint32_t target, uint32_t index, uint64_t t) {
  auto it = by_vcpu_.find(key(target, index));
  if (it == by_vcpu_.end()) return 0;
  Vcpu& v = vcpus_[it->second];
  if (v.probed && t < v.last_probe) return 0;  // a late record: its time was already passed
  const uint64_t cum = stolen_upto(v, t);
  const uint64_t delta = v.probed && cum > v.last_cum ? cum - v.last_cum : 0;
  v.probed = true;
  v.last_probe = t;
  v.last_cum = cum;
  // Intervals wholly before t are in cum now: fold them into the dropped sum.
  while (!v.intervals.empty() && v.intervals.front().second <= t) {
    v.dropped += v.intervals.front().second - v.intervals.front().first;
    v.intervals.pop_front();
  }
  return delta;
}

}  // namespace vtrace::targets::host
