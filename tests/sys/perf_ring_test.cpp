// The perf ring reader on synthetic rings in memory (wrap-around, truncated and corrupt records,
// PERF_RECORD_LOST) and the sample parser; one real tracepoint ring when perf is available.
#include "sys/perf_ring.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

namespace vtrace::sys {
namespace {

// A ring the test writes as the kernel would.
struct FakeRing {
  explicit FakeRing(size_t size) : data(size) { std::memset(&header, 0, sizeof(header)); }

  void put(const void* bytes, size_t len) {
    const auto* b = static_cast<const uint8_t*>(bytes);
    for (size_t i = 0; i < len; ++i) data[(head + i) & (data.size() - 1)] = b[i];
    head += len;
  }
  void record(uint32_t type, const std::vector<uint8_t>& body, int size_override = -1) {
    perf_event_header eh{};
    eh.type = type;
    eh.size = size_override >= 0 ? static_cast<uint16_t>(size_override)
                                 : static_cast<uint16_t>(sizeof(eh) + body.size());
    put(&eh, sizeof(eh));
    put(body.data(), body.size());
  }
  void publish() { __atomic_store_n(&header.data_head, head, __ATOMIC_RELEASE); }

  perf_event_mmap_page header;
  std::vector<uint8_t> data;
  uint64_t head = 0;
};

std::vector<uint8_t> sample_body(uint32_t pid, uint32_t tid, uint64_t time, uint32_t cpu,
                                 const std::string& raw) {
  std::vector<uint8_t> b;
  auto add = [&](const void* p, size_t n) {
    const auto* c = static_cast<const uint8_t*>(p);
    b.insert(b.end(), c, c + n);
  };
  add(&pid, 4);
  add(&tid, 4);
  add(&time, 8);
  uint32_t res = 0;
  add(&cpu, 4);
  add(&res, 4);
  uint32_t padded = static_cast<uint32_t>(raw.size());
  while ((4 + padded) % 8) ++padded;
  add(&padded, 4);
  add(raw.data(), raw.size());
  b.resize(b.size() + (padded - raw.size()), 0);
  return b;
}

const SampleLayout kLayout{PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_RAW,
                           0};

TEST(PerfRing, ReadsSamplesAndWrapsAround) {
  FakeRing fr(256);
  PerfRing ring;
  ASSERT_TRUE(ring.attach(&fr.header, fr.data.data(), fr.data.size()));
  std::vector<uint64_t> times;
  std::vector<std::string> raws;
  auto collect = [&](const uint8_t* body, size_t len) {
    SampleView s;
    ASSERT_TRUE(parse_sample(body, len, kLayout, s));
    times.push_back(s.time);
    raws.emplace_back(reinterpret_cast<const char*>(s.raw), 5);
  };
  // Records of 48 bytes: after five (240 bytes) the sixth wraps past the end of the buffer.
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 3; ++i) {
      uint64_t t = static_cast<uint64_t>(round * 10 + i);
      fr.record(PERF_RECORD_SAMPLE, sample_body(7, 8, t, 1, "abcd" + std::to_string(i)));
    }
    fr.publish();
    EXPECT_EQ(ring.read(collect), 3u);
    EXPECT_EQ(fr.header.data_tail, fr.head);
  }
  ASSERT_EQ(times.size(), 12u);
  for (int round = 0; round < 4; ++round)
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(times[round * 3 + i], static_cast<uint64_t>(round * 10 + i));
      EXPECT_EQ(raws[round * 3 + i], "abcd" + std::to_string(i));
    }
  EXPECT_EQ(ring.stats().samples, 12u);
  EXPECT_EQ(ring.stats().malformed, 0u);
}

TEST(PerfRing, CountsLostRecordsAndSkipsOthers) {
  FakeRing fr(128);
  PerfRing ring;
  ASSERT_TRUE(ring.attach(&fr.header, fr.data.data(), fr.data.size()));
  std::vector<uint8_t> lost(16, 0);
  uint64_t n = 12;
  std::memcpy(lost.data() + 8, &n, 8);
  fr.record(PERF_RECORD_LOST, lost);
  fr.record(PERF_RECORD_COMM, std::vector<uint8_t>(16, 'x'));
  fr.record(PERF_RECORD_LOST, lost);
  fr.publish();
  int samples = 0;
  EXPECT_EQ(ring.read([&](const uint8_t*, size_t) { ++samples; }), 3u);
  EXPECT_EQ(samples, 0);
  EXPECT_EQ(ring.stats().lost, 24u);
  EXPECT_EQ(ring.stats().other, 1u);
}

TEST(PerfRing, RejectsTruncatedAndOversizedRecords) {
  for (uint16_t bad_size : {uint16_t{0}, uint16_t{4}, uint16_t{200}, uint16_t{0xffff}}) {
    FakeRing fr(128);
    PerfRing ring;
    ASSERT_TRUE(ring.attach(&fr.header, fr.data.data(), fr.data.size()));
    fr.record(PERF_RECORD_SAMPLE, std::vector<uint8_t>(16, 1));
    fr.record(PERF_RECORD_SAMPLE, std::vector<uint8_t>(16, 2), bad_size);
    fr.publish();
    int samples = 0;
    ring.read([&](const uint8_t*, size_t len) {
      EXPECT_EQ(len, 16u);
      ++samples;
    });
    EXPECT_EQ(samples, 1) << bad_size;
    EXPECT_EQ(ring.stats().malformed, 1u) << bad_size;
    EXPECT_EQ(fr.header.data_tail, fr.head) << "the reader resynchronizes at data_head";
  }
}

TEST(PerfRing, RejectsHeadBeyondRingSize) {
  FakeRing fr(64);
  PerfRing ring;
  ASSERT_TRUE(ring.attach(&fr.header, fr.data.data(), fr.data.size()));
  fr.header.data_head = 1000;  // more than the ring holds
  int samples = 0;
  ring.read([&](const uint8_t*, size_t) { ++samples; });
  EXPECT_EQ(samples, 0);
  EXPECT_EQ(ring.stats().malformed, 1u);
  EXPECT_EQ(fr.header.data_tail, 1000u);
}

TEST(PerfRing, MaxRecordsLeavesTheRest) {
  FakeRing fr(256);
  PerfRing ring;
  ASSERT_TRUE(ring.attach(&fr.header, fr.data.data(), fr.data.size()));
  for (int i = 0; i < 4; ++i) fr.record(PERF_RECORD_SAMPLE, std::vector<uint8_t>(8, 0));
  fr.publish();
  EXPECT_EQ(ring.read([](const uint8_t*, size_t) {}, 3), 3u);
  EXPECT_EQ(ring.pending(), 16u);
  EXPECT_EQ(ring.read([](const uint8_t*, size_t) {}), 1u);
  EXPECT_EQ(ring.pending(), 0u);
}

TEST(PerfRing, AttachRejectsNonPowerOfTwo) {
  FakeRing fr(100);
  PerfRing ring;
  EXPECT_FALSE(ring.attach(&fr.header, fr.data.data(), fr.data.size()));
  EXPECT_EQ(ring.read([](const uint8_t*, size_t) {}), 0u);
}

TEST(ParseSample, ChecksEveryLength) {
  auto body = sample_body(1, 2, 3, 4, "hello");
  SampleView s;
  ASSERT_TRUE(parse_sample(body.data(), body.size(), kLayout, s));
  EXPECT_EQ(s.pid, 1u);
  EXPECT_EQ(s.tid, 2u);
  EXPECT_EQ(s.time, 3u);
  EXPECT_EQ(s.cpu, 4u);
  EXPECT_EQ(s.raw_size, 12u);  // 5 bytes padded so that size + data is 8-aligned
  for (size_t len = 0; len < body.size(); ++len)
    EXPECT_FALSE(parse_sample(body.data(), len, kLayout, s)) << len;
  // A raw size larger than what follows.
  uint32_t huge = 0xfffffff0;
  std::memcpy(body.data() + 24, &huge, 4);
  EXPECT_FALSE(parse_sample(body.data(), body.size(), kLayout, s));
  // Unknown sample_type bits.
  EXPECT_FALSE(parse_sample(body.data(), body.size(), {PERF_SAMPLE_READ, 0}, s));
}

TEST(ParseSample, RegsAndUserStack) {
  SampleLayout layout{PERF_SAMPLE_TID | PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER, 0b1011};
  std::vector<uint64_t> words = {(uint64_t{9} << 32) | 8,  // pid 8, tid 9
                                 PERF_SAMPLE_REGS_ABI_64,
                                 100,
                                 101,
                                 102,
                                 16,  // stack size
                                 0x1111,
                                 0x2222,
                                 8};  // dyn size
  SampleView s;
  auto* b = reinterpret_cast<const uint8_t*>(words.data());
  ASSERT_TRUE(parse_sample(b, words.size() * 8, layout, s));
  EXPECT_EQ(s.regs_nr, 3u);
  EXPECT_EQ(s.reg(0), 100u);
  EXPECT_EQ(s.reg(2), 102u);
  EXPECT_EQ(s.reg(3), 0u);
  EXPECT_EQ(s.stack_size, 16u);
  EXPECT_EQ(s.stack_dyn_size, 8u);
  EXPECT_FALSE(parse_sample(b, words.size() * 8 - 8, layout, s));  // no dyn_size
  // ABI_NONE (kernel thread): no registers follow.
  std::vector<uint64_t> none = {1, PERF_SAMPLE_REGS_ABI_NONE, 0};
  ASSERT_TRUE(parse_sample(reinterpret_cast<const uint8_t*>(none.data()), 24, layout, s));
  EXPECT_EQ(s.regs_nr, 0u);
  EXPECT_EQ(s.stack_size, 0u);
}

TEST(PerfRing, RealTracepointWhenAvailable) {
  if (geteuid() != 0) GTEST_SKIP() << "skipped: needs root for perf_event_open on tracepoints";
  FILE* f = std::fopen("/sys/kernel/tracing/events/syscalls/sys_enter_getppid/id", "r");
  if (!f) GTEST_SKIP() << "skipped: tracefs not mounted at /sys/kernel/tracing";
  unsigned long long id = 0;
  ASSERT_EQ(std::fscanf(f, "%llu", &id), 1);
  std::fclose(f);
  perf_event_attr attr = tracepoint_attr(id);
  PerfRing ring;
  int err = ring.open(attr, static_cast<int>(getpid()), -1, 8);
  ASSERT_EQ(err, 0) << perf_error_message(err, "perf_event_open");
  ASSERT_EQ(ring.enable(), 0);
  for (int i = 0; i < 100; ++i) getppid();
  ASSERT_EQ(ring.disable(), 0);
  int n = 0;
  ring.read([&](const uint8_t* body, size_t len) {
    SampleView s;
    ASSERT_TRUE(parse_sample(body, len, SampleLayout::of(attr), s));
    EXPECT_EQ(s.pid, static_cast<uint32_t>(getpid()));
    EXPECT_GE(s.raw_size, 12u);
    ++n;
  });
  EXPECT_EQ(n, 100);
}

}  // namespace
}  // namespace vtrace::sys
