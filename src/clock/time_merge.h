// One timeline out of many sources (DESIGN.md: one global timeline): every source delivers its
// records stamped in translated host time, plus a watermark, the time before which it will
// deliver nothing more. The merge holds records and releases them in time order once every live
// source's watermark has passed them. A source that stops advancing (a guest whose vCPU is not
// scheduled, an agent that fell behind) holds the others back at most `max_hold` past a record's
// arrival: the record is then released anyway and the source counted as stalled; a record it
// delivers later than records already released is released at once and counted late. Nothing
// is dropped. Equal timestamps come out in arrival order.
#pragma once
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace vtrace::clock {

template <typename Item>
class TimeMerge {
 public:
  explicit TimeMerge(uint64_t max_hold_ns = 500'000'000) : max_hold_ns_(max_hold_ns) {}

  // A new source, live, with watermark 0 (it holds everything back until it reports one).
  uint32_t add_source() {
    sources_.push_back(Source{});
    return static_cast<uint32_t>(sources_.size() - 1);
  }
  size_t sources() const { return sources_.size(); }

  // The source will deliver nothing stamped before `t` any more. A watermark normally moves
  // forward; a source lowers it when it learns it may still deliver older records (a sync guest
  // that ran on past its read limit): its later records then wait, what went out stays out.
  void set_watermark(uint32_t source, uint64_t t) {
    Source& s = sources_.at(source);
    s.watermark = t;
    if (s.stalled && s.watermark >= last_released_) s.stalled = false;
  }
  // A source that is not live (ended, stopped, detached) holds nothing back.
  void set_live(uint32_t source, bool live) { sources_.at(source).live = live; }

  // A record of `source` stamped `ts` (host ns), read at host time `arrival_ns`.
  void push(uint32_t source, uint64_t ts, Item item, uint64_t arrival_ns) {
    uint32_t slot;
    if (free_.empty()) {
      slot = static_cast<uint32_t>(items_.size());
      items_.push_back(std::move(item));
    } else {
      slot = free_.back();
      free_.pop_back();
      items_[slot] = std::move(item);
    }
    held_.push_back(Held{ts, next_seq_++, arrival_ns, source, slot});
    std::push_heap(held_.begin(), held_.end(), later);
  }

  // Whether a record of `source` stamped `ts`, just read, can run at once instead of being held
  // (no copy): nothing held is as early, every other live source has delivered everything
  // before it, and nothing later has run. The caller then runs it and calls passed(ts).
  bool may_pass(uint32_t source, uint64_t ts) const {
    if (ts < last_released_ || (!held_.empty() && held_.front().ts <= ts)) return false;
    for (uint32_t i = 0; i < sources_.size(); ++i)
      if (i != source && sources_[i].live && sources_[i].watermark < ts) return false;
    return true;
  }
  void passed(uint64_t ts) { last_released_ = std::max(last_released_, ts); }

  // The time up to which every live source has delivered everything.
  uint64_t release_point() const {
    uint64_t t = UINT64_MAX;
    for (const Source& s : sources_)
      if (s.live) t = std::min(t, s.watermark);
    return t;
  }

  // Releases, in time order, every held record up to the release point, and those held longer
  // than max_hold (all of them with `flush`): run(item, source, late) for each, where `late`
  // says a record stamped later had been released before it. Returns how many ran.
  template <typename Run>
  size_t release(uint64_t now_ns, Run&& run, bool flush = false) {
    const uint64_t point = flush ? UINT64_MAX : release_point();
    size_t n = 0;
    while (!held_.empty()) {
      const Held& top = held_.front();
      const bool overdue = now_ns >= top.arrival_ns && now_ns - top.arrival_ns >= max_hold_ns_;
      // A record older than one released already cannot be put in order any more: at once.
      const bool too_late = top.ts < last_released_;
      if (top.ts > point && !overdue && !too_late) break;
      if (top.ts > point && !too_late) note_stalls(top.ts);
      std::pop_heap(held_.begin(), held_.end(), later);
      const Held h = held_.back();
      held_.pop_back();
      const bool late = h.ts < last_released_;
      if (late) ++sources_[h.source].late;
      last_released_ = std::max(last_released_, h.ts);
      run(items_[h.slot], h.source, late);
      items_[h.slot] = Item();  // what it owns goes now, not when the slot is reused
      free_.push_back(h.slot);
      ++n;
    }
    return n;
  }

  size_t held() const { return held_.size(); }
  // Records of `source` released after a record stamped later (they came too late to merge).
  uint64_t late(uint32_t source) const { return sources_.at(source).late; }
  // Times `source` held the others back past max_hold (each stall counted once).
  uint64_t stalls(uint32_t source) const { return sources_.at(source).stalls; }
  uint64_t max_hold_ns() const { return max_hold_ns_; }
  // The latest timestamp released so far: a merge that gave up waiting for a stalled source has
  // delivered everything up to here all the same.
  uint64_t last_released() const { return last_released_; }

 private:
  struct Source {
    uint64_t watermark = 0;
    bool live = true;
    bool stalled = false;  // it held the others past max_hold, and has not caught up since
    uint64_t late = 0, stalls = 0;
  };
  // The heap orders small keys; the items stay where they were put (a record is hundreds of
  // bytes: moving it at every heap step cost more than the merge itself).
  struct Held {
    uint64_t ts, seq, arrival_ns;
    uint32_t source, slot;
  };
  // The heap's order: earliest timestamp first, then arrival.
  static bool later(const Held& a, const Held& b) {
    return a.ts != b.ts ? a.ts > b.ts : a.seq > b.seq;
  }
  // A record stamped `ts` goes out before the sources behind it have delivered up to it.
  void note_stalls(uint64_t ts) {
    for (Source& s : sources_)
      if (s.live && s.watermark < ts && !s.stalled) {
        s.stalled = true;
        ++s.stalls;
      }
  }

  uint64_t max_hold_ns_;
  std::vector<Source> sources_;
  std::vector<Held> held_;      // a heap by later()
  std::vector<Item> items_;     // held items by slot
  std::vector<uint32_t> free_;  // slots of items_ released
  uint64_t next_seq_ = 0;
  uint64_t last_released_ = 0;
};

}  // namespace vtrace::clock
