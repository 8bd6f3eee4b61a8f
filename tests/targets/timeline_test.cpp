// The one timeline with synthetic targets (no kernel, no QEMU): records of several targets come
// out in host-time order up to the lowest watermark; a stalled target holds the others back at
// most max_hold and is counted; late records run at once and are counted; equal timestamps keep
// target order; one target, or sync mode, goes straight through; held records own their data.
#include "targets/timeline.h"

#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace vtrace::targets {
namespace {

// A target that delivers, at each poll, the next batch of (timestamp, tag) records and then
// reports the batch's watermark.
class FakeTarget : public Target {
 public:
  struct Batch {
    std::vector<std::pair<uint64_t, std::string>> records;
    uint64_t watermark;
  };
  explicit FakeTarget(const char* name) : name_(name) {}
  void queue(Batch b) { batches_.push_back(std::move(b)); }
  void set_active(bool a) { active_ = a; }

  const char* name() const override { return name_; }
  bool enable(const EnableRequest&, std::string&) override { return true; }
  bool active() const override { return active_; }
  size_t poll(RecordSink& sink, uint64_t) override {
    if (batches_.empty()) return 0;
    Batch b = std::move(batches_.front());
    batches_.pop_front();
    for (auto& [ts, tag] : b.records) {
      // The tag lives in a buffer reused by the next record, as a ring's bytes are.
      std::snprintf(ring_, sizeof ring_, "%s", tag.c_str());
      Record rec;
      rec.timestamp = ts;
      rec.tail = ring_;
      rec.tail_len = static_cast<uint16_t>(tag.size() + 1);
      sink.deliver(rec);
      std::memset(ring_, 'X', sizeof ring_ - 1);
    }
    watermark_ = b.watermark;
    return b.records.size();
  }
  uint64_t watermark() const override { return watermark_; }
  void drain(RecordSink& sink) override {
    while (!batches_.empty()) poll(sink, 0);
    drained_ = true;
  }
  void report(std::FILE*) const override {}
  bool drained_ = false;

 private:
  const char* name_;
  bool active_ = true;
  std::deque<Batch> batches_;
  uint64_t watermark_ = 0;
  char ring_[32] = {};
};

// What the engine would see: each record's tag, in the order run.
class Collect : public RecordSink {
 public:
  void deliver(const Record& rec) override { seen.emplace_back(rec.tail); }
  bool closed() const override { return seen.size() >= limit; }
  std::vector<std::string> seen;
  size_t limit = SIZE_MAX;
};

using Tags = std::vector<std::string>;

// What the timeline reports at the end.
std::string report_of(const Timeline& tl) {
  char buf[512] = {};
  std::FILE* f = fmemopen(buf, sizeof buf, "w");
  tl.report(f);
  std::fclose(f);
  return buf;
}

TEST(Timeline, InterleavesTargetsByTimeUpToTheLowestWatermark) {
  FakeTarget host("host"), guest("guest");
  Timeline tl;
  tl.add(host);
  tl.add(guest);
  host.queue({{{10, "h10"}, {30, "h30"}, {50, "h50"}}, 60});
  guest.queue({{{20, "g20"}, {40, "g40"}}, 45});
  Collect out;
  EXPECT_EQ(tl.round(100, out), 5u);
  // h50 waits: the guest has not said it has nothing before 50.
  EXPECT_EQ(out.seen, (Tags{"h10", "g20", "h30", "g40"}));
  EXPECT_EQ(tl.held(), 1u);
  guest.queue({{{65, "g65"}}, 70});
  tl.round(101, out);
  EXPECT_EQ(out.seen, (Tags{"h10", "g20", "h30", "g40", "h50"}));
  host.queue({{}, 80});
  tl.round(102, out);
  EXPECT_EQ(out.seen.back(), "g65");
  EXPECT_EQ(tl.held(), 0u);
}

TEST(Timeline, EqualTimestampsRunInTargetOrder) {
  FakeTarget a("a"), b("b");
  Timeline tl;
  tl.add(a);
  tl.add(b);
  a.queue({{{5, "a5"}, {5, "a5'"}}, 10});
  b.queue({{{5, "b5"}}, 10});
  Collect out;
  tl.round(0, out);
  EXPECT_EQ(out.seen, (Tags{"a5", "a5'", "b5"}));
}

TEST(Timeline, AStalledTargetHoldsTheOthersAtMostMaxHold) {
  FakeTarget host("host"), guest("guest");
  Timeline tl(1000);
  tl.add(host);
  tl.add(guest);
  host.queue({{{10, "h10"}}, 20});
  guest.queue({{}, 5});  // stuck before 10
  Collect out;
  tl.round(100, out);
  EXPECT_TRUE(out.seen.empty());
  host.queue({{}, 30});
  tl.round(1099, out);
  EXPECT_TRUE(out.seen.empty());  // not yet held max_hold
  host.queue({{}, 40});
  tl.round(1100, out);
  EXPECT_EQ(out.seen, (Tags{"h10"}));
  // The guest's record older than what ran comes late: run at once, counted.
  guest.queue({{{7, "g7"}}, 50});
  tl.round(1200, out);
  EXPECT_EQ(out.seen, (Tags{"h10", "g7"}));
  const std::string buf = report_of(tl);
  EXPECT_NE(buf.find("guest: stalled 1 time"), std::string::npos) << buf;
  EXPECT_NE(buf.find("guest: 1 record came too late"), std::string::npos) << buf;
  EXPECT_EQ(buf.find("host:"), std::string::npos) << buf;
}

TEST(Timeline, AnInactiveTargetHoldsNothingBack) {
  FakeTarget host("host"), guest("guest");
  Timeline tl;
  tl.add(host);
  tl.add(guest);
  guest.set_active(false);
  host.queue({{{10, "h10"}}, 0});  // a lone target goes straight through, watermark or not
  Collect out;
  tl.round(0, out);
  EXPECT_EQ(out.seen, (Tags{"h10"}));
}

TEST(Timeline, OneTargetOrSyncModeRunsInArrivalOrder) {
  FakeTarget a("a"), b("b");
  Timeline tl;
  tl.add(a);
  tl.add(b);
  tl.set_sync(true);
  a.queue({{{30, "a30"}}, 0});
  b.queue({{{10, "b10"}}, 0});
  Collect out;
  tl.round(0, out);
  EXPECT_EQ(out.seen, (Tags{"a30", "b10"}));  // the sites are waiting: no holding back
}

TEST(Timeline, HeldRecordsKeepTheirBytesAfterTheRingMovesOn) {
  FakeTarget a("a"), b("b");
  Timeline tl;
  tl.add(a);
  tl.add(b);
  a.queue({{{1, "first"}, {2, "second"}}, 10});
  b.queue({{}, 0});
  Collect out;
  tl.round(0, out);
  EXPECT_TRUE(out.seen.empty());
  b.queue({{}, 10});
  tl.round(1, out);
  EXPECT_EQ(out.seen, (Tags{"first", "second"}));
}

TEST(Timeline, DrainRunsEverythingHeldInOrder) {
  FakeTarget a("a"), b("b");
  Timeline tl;
  tl.add(a);
  tl.add(b);
  a.queue({{{40, "a40"}}, 0});
  b.queue({{{20, "b20"}}, 0});
  Collect out;
  tl.round(0, out);
  EXPECT_TRUE(out.seen.empty());
  a.queue({{{30, "a30"}}, 0});
  b.queue({{{35, "b35"}}, 0});
  tl.drain(1, out);
  EXPECT_TRUE(a.drained_ && b.drained_);
  EXPECT_EQ(out.seen, (Tags{"b20", "a30", "b35", "a40"}));
}

TEST(Timeline, AClosedSinkStopsTheRound) {
  FakeTarget a("a"), b("b");
  Timeline tl;
  tl.add(a);
  tl.add(b);
  a.queue({{{1, "a1"}, {2, "a2"}, {3, "a3"}}, 10});
  b.queue({{{1, "b1"}}, 10});
  Collect out;
  out.limit = 2;  // exit() ran after the second record
  tl.round(0, out);
  EXPECT_EQ(out.seen, (Tags{"a1", "b1"}));
}

// A record every other target has passed runs during the poll, without a copy; one that another
// target may still precede, or that a held record precedes, waits.
TEST(Timeline, ARecordTheOthersHavePassedRunsAtOnceInOrder) {
  FakeTarget a("a"), b("b");
  Timeline tl;
  tl.add(a);
  tl.add(b);
  a.queue({{}, 0});
  b.queue({{{3, "b3"}}, 100});  // b is far ahead, but a has said nothing yet: b3 waits
  Collect out;
  tl.round(0, out);
  EXPECT_TRUE(out.seen.empty());
  a.queue({{{1, "a1"}, {4, "a4"}}, 2});  // a1 precedes everything: at once; a4 after b3: waits
  tl.round(1, out);
  EXPECT_EQ(out.seen, (Tags{"a1"}));
  a.queue({{}, 10});
  tl.round(2, out);
  EXPECT_EQ(out.seen, (Tags{"a1", "b3", "a4"}));
}

}  // namespace
}  // namespace vtrace::targets

namespace vtrace::targets {
namespace {

// A target with a lane per clock (as the guests have one per VM): each record's lane is in its
// Record::target; each lane has its own watermark.
class LanedTarget : public Target {
 public:
  struct Rec {
    uint32_t lane;
    uint64_t ts;
    std::string tag;
  };
  const char* name() const override { return "guests"; }
  bool enable(const EnableRequest&, std::string&) override { return true; }
  bool active() const override { return true; }
  size_t poll(RecordSink& sink, uint64_t) override {
    for (const Rec& r : pending) {
      std::snprintf(ring_, sizeof ring_, "%s", r.tag.c_str());
      Record rec;
      rec.target = r.lane;
      rec.timestamp = r.ts;
      rec.tail = ring_;
      rec.tail_len = static_cast<uint16_t>(r.tag.size() + 1);
      sink.deliver(rec);
    }
    const size_t n = pending.size();
    pending.clear();
    return n;
  }
  uint64_t watermark() const override { return std::min(marks[0], marks[1]); }
  bool ordered() const override { return false; }
  size_t lanes() const override { return 2; }
  size_t lane_of(const Record& rec) const override { return rec.target; }
  uint64_t lane_watermark(size_t lane) const override { return marks[lane]; }
  std::string lane_name(size_t lane) const override { return lane == 0 ? "vm0" : "vm1"; }
  void drain(RecordSink& sink) override { poll(sink, 0); }
  void report(std::FILE*) const override {}

  std::vector<Rec> pending;
  uint64_t marks[2] = {0, 0};

 private:
  char ring_[32] = {};
};

TEST(Timeline, EachLaneOfATargetIsMergedAndHeldBackAlone) {
  LanedTarget guests;
  Timeline tl(1000);
  tl.add(guests);
  Collect out;
  // One target, two live lanes: merged (not delivered straight through), in time order.
  guests.pending = {{1, 20, "b20"}, {0, 10, "a10"}, {0, 30, "a30"}};
  guests.marks[0] = 40;
  guests.marks[1] = 25;
  tl.round(100, out);
  EXPECT_EQ(out.seen, (Tags{"a10", "b20"}));  // a30 waits for vm1's watermark
  // vm1 stalls: vm0 goes on after max_hold, and the stall is vm1's alone.
  tl.round(1100, out);
  EXPECT_EQ(out.seen, (Tags{"a10", "b20", "a30"}));
  guests.pending = {{1, 26, "b26"}};
  guests.marks[1] = 50;
  tl.round(1200, out);
  const std::string buf = report_of(tl);
  EXPECT_NE(buf.find("vm1: stalled 1 time"), std::string::npos) << buf;
  EXPECT_NE(buf.find("vm1: 1 record came too late"), std::string::npos) << buf;
  EXPECT_EQ(buf.find("vm0:"), std::string::npos) << buf;
}

}  // namespace
}  // namespace vtrace::targets

namespace vtrace::targets {
namespace {

// A target whose poll does not deliver in time order (a ring per CPU).
class UnorderedTarget : public FakeTarget {
 public:
  using FakeTarget::FakeTarget;
  bool ordered() const override { return false; }
};

TEST(Timeline, ATargetThatDeliversOutOfOrderIsSortedEvenWhenAlone) {
  UnorderedTarget guests("guests");
  Timeline tl;
  tl.add(guests);
  guests.queue({{{20, "r20"}, {10, "r10"}, {30, "r30"}}, 25});
  Collect out;
  tl.round(100, out);
  EXPECT_EQ(out.seen, (Tags{"r10", "r20"}));  // r30 waits for the watermark
  tl.drain(200, out);
  EXPECT_EQ(out.seen, (Tags{"r10", "r20", "r30"}));
}

}  // namespace
}  // namespace vtrace::targets
