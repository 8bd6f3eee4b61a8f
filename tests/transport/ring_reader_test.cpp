#include "transport/ring_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

namespace vtrace::transport {
namespace {

constexpr uint32_t kSlots = 16;

// A ring in ordinary memory, written the way a site (or a hostile process) would.
class FakeRing {
 public:
  FakeRing() : mem_(sizeof(vtrace_ring) + kSlots * VTRACE_RECORD_SIZE + 64) {
    ring_ = reinterpret_cast<vtrace_ring*>(mem_.data());
  }
  vtrace_ring* ring() { return ring_; }
  vtrace_record& slot(uint64_t pos) {
    return *reinterpret_cast<vtrace_record*>(mem_.data() + sizeof(vtrace_ring) +
                                             (pos % kSlots) * VTRACE_RECORD_SIZE);
  }
  // Publishes a valid record of probe offset `probe` with `nargs` args.
  vtrace_record& push(uint32_t probe, uint16_t nargs = 2, const char* str = nullptr) {
    uint64_t pos = ring_->head;
    vtrace_record& r = slot(pos);
    std::memset(&r, 0, sizeof r);
    r.probe = probe;
    r.tid = 77;
    r.cpu = 1;
    r.nargs = nargs;
    r.timestamp = 1000 + pos;
    r.seq = pos;
    for (int i = 0; i < nargs; ++i) r.args[i] = 100 + i;
    if (str != nullptr) {
      std::strcpy(r.tail, str);
      r.tail_len = static_cast<uint16_t>(std::strlen(str) + 1);
    }
    ring_->head = pos + 1;
    return r;
  }

 private:
  alignas(64) std::vector<char> mem_;
  vtrace_ring* ring_;
};

ProbeMap probes() {
  ProbeMap m;
  m[0] = {5, 0, 2};
  m[48] = {6, VTRACE_DESC_STR0, 1};
  return m;
}

TEST(RingReaderTest, ReadsValidRecordsAndAdvancesTail) {
  FakeRing fr;
  ProbeMap m = probes();
  RejectCounts counts;
  RingReader reader(fr.ring(), kSlots, &m, &counts);
  fr.push(0);
  fr.push(48, 1, "hello");
  std::vector<RingRecord> out;
  EXPECT_EQ(reader.poll(out, 100), 2u);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].probe.probe, 5u);
  EXPECT_EQ(out[0].rec.args[1], 101u);
  EXPECT_EQ(out[0].rec.args[2], 0u);  // beyond nargs: zeroed
  EXPECT_EQ(out[1].probe.probe, 6u);
  EXPECT_STREQ(out[1].rec.tail, "hello");
  EXPECT_EQ(fr.ring()->tail, 2u);
  EXPECT_EQ(counts.total(), 0u);
  out.clear();
  EXPECT_EQ(reader.poll(out, 100), 0u);
}

TEST(RingReaderTest, RespectsMax) {
  FakeRing fr;
  ProbeMap m = probes();
  RejectCounts counts;
  RingReader reader(fr.ring(), kSlots, &m, &counts);
  for (int i = 0; i < 5; ++i) fr.push(0);
  std::vector<RingRecord> out;
  EXPECT_EQ(reader.poll(out, 3), 3u);
  EXPECT_EQ(reader.poll(out, 3), 2u);
  EXPECT_EQ(out.size(), 5u);
}

TEST(RingReaderTest, CountsEveryRejectReason) {
  FakeRing fr;
  ProbeMap m = probes();
  RejectCounts counts;
  RingReader reader(fr.ring(), kSlots, &m, &counts);
  fr.push(12345);                                       // bad probe id
  fr.push(4);                                           // inside a descriptor: bad probe id
  fr.push(0).nargs = 11;                                // bad argument count
  fr.push(48, 1, "x").tail_len = VTRACE_TAIL_SIZE + 1;  // bad string length
  {
    vtrace_record& r = fr.push(48, 1, "y");  // no NUL within tail_len
    std::memset(r.tail, 'A', VTRACE_TAIL_SIZE);
    r.tail_len = VTRACE_TAIL_SIZE;
  }
  fr.push(48, 1);        // a string probe without its string
  fr.push(0).seq = 999;  // bad sequence
  fr.push(0);            // valid
  std::vector<RingRecord> out;
  EXPECT_EQ(reader.poll(out, 100), 8u);
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(counts.get(Reject::BadProbeId), 2u);
  EXPECT_EQ(counts.get(Reject::BadArgCount), 1u);
  EXPECT_EQ(counts.get(Reject::BadStringLength), 3u);
  EXPECT_EQ(counts.get(Reject::BadSequence), 1u);
  EXPECT_EQ(counts.summary(),
            "7 records rejected (2 bad probe id, 1 bad argument count, 3 bad string length, 1 bad "
            "sequence number)");
}

TEST(RingReaderTest, HeadTooFarAheadResyncs) {
  FakeRing fr;
  ProbeMap m = probes();
  RejectCounts counts;
  RingReader reader(fr.ring(), kSlots, &m, &counts);
  fr.ring()->head = 10 * kSlots;
  std::vector<RingRecord> out;
  EXPECT_EQ(reader.poll(out, 100), 0u);
  EXPECT_EQ(counts.get(Reject::CorruptRing), 1u);
  EXPECT_EQ(fr.ring()->tail, 10u * kSlots);
  // The ring works again from there.
  fr.push(0);
  EXPECT_EQ(reader.poll(out, 100), 1u);
  EXPECT_EQ(out.size(), 1u);
}

TEST(RingReaderTest, HeadBackwardsResyncs) {
  FakeRing fr;
  ProbeMap m = probes();
  RejectCounts counts;
  RingReader reader(fr.ring(), kSlots, &m, &counts);
  for (int i = 0; i < 4; ++i) fr.push(0);
  std::vector<RingRecord> out;
  EXPECT_EQ(reader.poll(out, 100), 4u);
  fr.ring()->head = 1;
  EXPECT_EQ(reader.poll(out, 100), 0u);
  EXPECT_EQ(counts.get(Reject::CorruptRing), 1u);
  EXPECT_EQ(reader.tail(), 1u);
}

TEST(RingReaderTest, ProducerWritingTailIsIgnored) {
  FakeRing fr;
  ProbeMap m = probes();
  RejectCounts counts;
  RingReader reader(fr.ring(), kSlots, &m, &counts);
  fr.push(0);
  fr.ring()->tail = 123456;  // the host keeps its own copy
  std::vector<RingRecord> out;
  EXPECT_EQ(reader.poll(out, 100), 1u);
  EXPECT_EQ(fr.ring()->tail, 1u);
}

TEST(RingReaderTest, RandomGarbageNeverCrashes) {
  FakeRing fr;
  ProbeMap m = probes();
  RejectCounts counts;
  RingReader reader(fr.ring(), kSlots, &m, &counts);
  std::mt19937_64 rng(42);
  std::vector<RingRecord> out;
  for (int round = 0; round < 2000; ++round) {
    for (uint32_t s = 0; s < kSlots; ++s) {
      auto* bytes = reinterpret_cast<unsigned char*>(&fr.slot(s));
      for (size_t b = 0; b < sizeof(vtrace_record); ++b)
        bytes[b] = static_cast<unsigned char>(rng());
    }
    fr.ring()->head = (round % 3 == 0) ? rng() : reader.tail() + rng() % (2 * kSlots);
    out.clear();
    reader.poll(out, 1000);
    for (const auto& r : out) {
      EXPECT_LE(r.rec.nargs, VTRACE_MAX_ARGS);
      EXPECT_TRUE(m.count(r.rec.probe));
    }
  }
  EXPECT_GT(counts.total(), 0u);
}

}  // namespace
}  // namespace vtrace::transport
