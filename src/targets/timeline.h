// The one timeline (DESIGN.md section 2): every target's records, released to the engine in
// host-time order. Each round polls every active target; a record waits in the merge until every
// other active target's watermark has passed it, or until it has waited max_hold (a stalled
// target: counted, and the others go on). A record that comes after later ones already ran is
// run at once and counted late. Nothing is dropped.
//
// A target with several clocks (the guests) has a lane per clock: each lane is a source of the
// merge of its own (target.h).
//
// Shortcuts that keep the order exact: one live lane of a target that delivers in time order
// goes straight to the engine (its own order is the timeline), and so does sync mode (every site
// waits at its probe until its record has run, so arrival order is the order of events).
#pragma once
#include <cstdint>
#include <cstdio>
#include <vector>

#include "clock/time_merge.h"
#include "targets/target.h"
#include "transport/held_record.h"

namespace vtrace::targets {

class Timeline {
 public:
  // A stalled guest (its vCPU not scheduled) holds the others back this long at most.
  static constexpr uint64_t kMaxHoldNs = 500'000'000;

  explicit Timeline(uint64_t max_hold_ns = kMaxHoldNs) : merge_(max_hold_ns) {}

  // Targets are polled in the order added; records with equal timestamps run in that order.
  void add(Target& target);
  const std::vector<Target*>& targets() const { return targets_; }
  void set_sync(bool sync) { sync_ = sync; }

  // Polls every active target once and runs, in time order, what every watermark has passed.
  // Returns the number of records read (not necessarily run yet).
  size_t round(uint64_t now_ns, RecordSink& out);
  // Tracing ends: every target drains (its probes off, its buffers read) and everything held
  // runs, in time order.
  void drain(uint64_t now_ns, RecordSink& out);
  size_t held() const { return merge_.held(); }
  // Records that came too late to be merged, and stalls, per target (when there were any).
  void report(std::FILE* err) const;

 private:
  class Intake;
  // Whether records go straight to the engine this round: in sync mode, or when one live lane
  // of a target that delivers in time order is all there is.
  bool direct(size_t live_lanes, bool any_unordered) const {
    return sync_ || (live_lanes <= 1 && !any_unordered);
  }
  void release(uint64_t now_ns, RecordSink& out, bool flush);

  // Adds merge sources for lanes a target gained and marks which are live. Returns whether this
  // round goes straight through (direct()).
  bool sync_lanes();

  std::vector<Target*> targets_;
  std::vector<std::vector<uint32_t>> lane_sources_;  // target i's lane k: merge source [i][k]
  std::vector<std::pair<uint32_t, uint32_t>> source_lane_;  // source -> (target, lane)
  clock::TimeMerge<HeldRecord> merge_;
  bool sync_ = false;
};

}  // namespace vtrace::targets
