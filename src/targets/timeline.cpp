#include "targets/timeline.h"

namespace vtrace::targets {

// What a target delivers into while the merge is on. A record every other target has already
// passed (and nothing held precedes) runs at once; any other is copied (its ring moves on) and
// held, stamped with the time it arrived.
class Timeline::Intake : public RecordSink {
 public:
  Intake(clock::TimeMerge<HeldRecord>& merge, uint32_t source, bool ordered, uint64_t now_ns,
         RecordSink& out)
      : merge_(merge), source_(source), ordered_(ordered), now_ns_(now_ns), out_(out) {}
  void deliver(const Record& rec) override {
    if (ordered_ && merge_.may_pass(source_, rec.timestamp)) {
      merge_.passed(rec.timestamp);
      out_.deliver(rec);
      return;
    }
    merge_.push(source_, rec.timestamp, HeldRecord(rec), now_ns_);
  }
  bool closed() const override { return out_.closed(); }

 private:
  clock::TimeMerge<HeldRecord>& merge_;
  uint32_t source_;
  bool ordered_;  // the target delivers in time order (else a later record could come earlier)
  uint64_t now_ns_;
  RecordSink& out_;
};

void Timeline::add(Target& target) {
  targets_.push_back(&target);
  merge_.add_source();
}

bool Timeline::direct() const {
  if (sync_) return true;
  size_t active = 0;
  for (const Target* t : targets_) active += t->active() ? 1 : 0;
  return active <= 1;
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
  const bool direct_now = direct();
  // Held records go first when the merge turns off (a target went inactive).
  if (direct_now && merge_.held() > 0) release(now_ns, out, true);
  size_t n = 0;
  for (uint32_t i = 0; i < targets_.size() && !out.closed(); ++i) {
    Target& t = *targets_[i];
    merge_.set_live(i, t.active());
    if (!t.active()) continue;
    if (direct_now) {
      n += t.poll(out, now_ns);
    } else {
      Intake in(merge_, i, t.ordered(), now_ns, out);
      n += t.poll(in, now_ns);
    }
    merge_.set_watermark(i, t.watermark());
  }
  if (!direct_now) release(now_ns, out, false);
  return n;
}

void Timeline::drain(uint64_t now_ns, RecordSink& out) {
  const bool direct_now = direct();
  if (direct_now && merge_.held() > 0) release(now_ns, out, true);
  for (uint32_t i = 0; i < targets_.size(); ++i) {
    Target& t = *targets_[i];
    if (!t.active()) continue;
    if (direct_now) {
      t.drain(out);
    } else {
      Intake in(merge_, i, false, now_ns, out);  // drained records all wait for the end
      t.drain(in);
    }
  }
  release(now_ns, out, true);
}

void Timeline::report(std::FILE* err) const {
  for (uint32_t i = 0; i < targets_.size(); ++i) {
    if (uint64_t late = merge_.late(i); late > 0)
      std::fprintf(err,
                   "vtrace: %s: %llu record%s came too late to be merged by time (run after "
                   "later records of other targets)\n",
                   targets_[i]->name(), static_cast<unsigned long long>(late),
                   late == 1 ? "" : "s");
    if (uint64_t stalls = merge_.stalls(i); stalls > 0)
      std::fprintf(err,
                   "vtrace: %s: stalled %llu time%s (the others' records ran after waiting "
                   "%llu ms for it)\n",
                   targets_[i]->name(), static_cast<unsigned long long>(stalls),
                   stalls == 1 ? "" : "s",
                   static_cast<unsigned long long>(merge_.max_hold_ns() / 1'000'000));
  }
}

}  // namespace vtrace::targets
