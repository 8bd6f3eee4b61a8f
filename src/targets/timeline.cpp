#include "targets/timeline.h"

#include <algorithm>

namespace vtrace::targets {

// What a target delivers into while the merge is on. A record every other target has already
// passed (and nothing held precedes) runs at once; any other is copied (its ring moves on) and
// held, stamped with the time it arrived.
class Timeline::Intake : public RecordSink {
 public:
  Intake(clock::TimeMerge<HeldRecord>& merge, const Target& target,
         const std::vector<uint32_t>& sources, bool ordered, uint64_t now_ns, RecordSink& out)
      : merge_(merge),
        target_(target),
        sources_(sources),
        ordered_(ordered),
        now_ns_(now_ns),
        out_(out) {}
  void deliver(const Record& rec) override {
    const size_t lane = sources_.size() == 1 ? 0 : target_.lane_of(rec);
    // A lane the timeline has not seen yet (added during this poll): the first one's source.
    const uint32_t source = sources_[lane < sources_.size() ? lane : 0];
    if (ordered_ && merge_.may_pass(source, rec.timestamp)) {
      merge_.passed(rec.timestamp);
      out_.deliver(rec);
      return;
    }
    merge_.push(source, rec.timestamp, HeldRecord(rec), now_ns_);
  }
  bool closed() const override { return out_.closed(); }

 private:
  clock::TimeMerge<HeldRecord>& merge_;
  const Target& target_;
  const std::vector<uint32_t>& sources_;
  bool ordered_;  // the target delivers in time order (else a later record could come earlier)
  uint64_t now_ns_;
  RecordSink& out_;
};

void Timeline::add(Target& target) {
  targets_.push_back(&target);
  lane_sources_.emplace_back();  // its lanes' sources: the first round adds them
}

bool Timeline::sync_lanes() {
  size_t live = 0;
  bool any_unordered = false;
  for (uint32_t i = 0; i < targets_.size(); ++i) {
    const Target& t = *targets_[i];
    std::vector<uint32_t>& sources = lane_sources_[i];
    while (sources.size() < std::max<size_t>(t.lanes(), 1)) {
      sources.push_back(merge_.add_source());
      source_lane_.emplace_back(i, static_cast<uint32_t>(sources.size() - 1));
    }
    for (uint32_t k = 0; k < sources.size(); ++k) {
      const bool lane_live = t.active() && t.lane_live(k);
      merge_.set_live(sources[k], lane_live);
      live += lane_live ? 1 : 0;
    }
    any_unordered = any_unordered || (t.active() && !t.ordered());
  }
  return direct(live, any_unordered);
}

void Timeline::release(uint64_t now_ns, RecordSink& out, bool flush) {
  merge_.release(
      now_ns,
      [&](HeldRecord& h, uint32_t, bool) {
        if (!out.closed()) out.deliver(h.record());
      },
      flush);
}

size_t Timeline::round(uint64_t now_ns, RecordSink& out) {
  const bool direct_now = sync_lanes();
  // Held records go first when the merge turns off (a target went inactive).
  if (direct_now && merge_.held() > 0) release(now_ns, out, true);
  size_t n = 0;
  for (uint32_t i = 0; i < targets_.size() && !out.closed(); ++i) {
    Target& t = *targets_[i];
    if (!t.active()) continue;
    if (direct_now) {
      n += t.poll(out, now_ns);
    } else {
      Intake in(merge_, t, lane_sources_[i], t.ordered(), now_ns, out);
      n += t.poll(in, now_ns);
    }
    const std::vector<uint32_t>& sources = lane_sources_[i];
    for (uint32_t k = 0; k < sources.size(); ++k)
      merge_.set_watermark(sources[k], t.lane_watermark(k));
  }
  if (!direct_now) release(now_ns, out, false);
  return n;
}

void Timeline::drain(uint64_t now_ns, RecordSink& out) {
  const bool direct_now = sync_lanes();
  if (direct_now && merge_.held() > 0) release(now_ns, out, true);
  for (uint32_t i = 0; i < targets_.size(); ++i) {
    Target& t = *targets_[i];
    if (!t.active()) continue;
    if (direct_now) {
      t.drain(out);
    } else {
      // Drained records all wait for the end.
      Intake in(merge_, t, lane_sources_[i], false, now_ns, out);
      t.drain(in);
    }
  }
  release(now_ns, out, true);
}

void Timeline::report(std::FILE* err) const {
  for (uint32_t i = 0; i < source_lane_.size(); ++i) {
    const auto [target, lane] = source_lane_[i];
    const uint64_t late = merge_.late(i), stalls = merge_.stalls(i);
    if (late == 0 && stalls == 0) continue;
    const std::string name = targets_[target]->lane_name(lane);
    if (late > 0)
      std::fprintf(err,
                   "vtrace: %s: %llu record%s came too late to be merged by time (run after "
                   "later records of other targets)\n",
                   name.c_str(), static_cast<unsigned long long>(late), late == 1 ? "" : "s");
    if (stalls > 0)
      std::fprintf(err,
                   "vtrace: %s: stalled %llu time%s (the others' records ran after waiting "
                   "%llu ms for it)\n",
                   name.c_str(), static_cast<unsigned long long>(stalls), stalls == 1 ? "" : "s",
                   static_cast<unsigned long long>(merge_.max_hold_ns() / 1'000'000));
  }
}

}  // namespace vtrace::targets
