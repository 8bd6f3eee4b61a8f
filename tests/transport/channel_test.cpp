#include "transport/channel.h"
#include "clock/tsc_clock.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace vtrace::transport {
namespace {

std::string test_path(const char* what) {
  return "/dev/shm/vtrace-test." + std::string(what) + "." + std::to_string(getpid());
}

bool exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

TEST(ChannelTest, SlotsForBufsize) {
  EXPECT_EQ(slots_for_bufsize(0), 16u);
  EXPECT_EQ(slots_for_bufsize(384 * 16), 16u);
  EXPECT_EQ(slots_for_bufsize(384 * 1000), 512u);
  EXPECT_EQ(slots_for_bufsize(384 * 1024), 1024u);
  EXPECT_EQ(slots_for_bufsize(4 << 20), 8192u);
}

TEST(ChannelTest, LayoutIsAligned) {
  ChannelLayout l = channel_layout(64, 1024);
  EXPECT_EQ(l.ring_offset % 64, 0u);
  EXPECT_GE(l.ring_offset, sizeof(vtrace_channel));
  EXPECT_EQ(l.ring_stride % 64, 0u);
  EXPECT_GE(l.ring_stride, sizeof(vtrace_ring) + 1024u * VTRACE_RECORD_SIZE);
  EXPECT_EQ(l.total_size, l.ring_offset + 64 * l.ring_stride);
}

TEST(ChannelTest, CreateFillsHeaderAndDetachUnlinks) {
  std::string path = test_path("create");
  std::string err;
  ChannelConfig cfg;
  cfg.nrings = 4;
  cfg.nslots = 32;
  auto ch = Channel::create(getpid(), cfg, err, path);
  ASSERT_TRUE(ch) << err;
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  vtrace_channel* h = ch->header();
  EXPECT_EQ(h->magic, VTRACE_CHANNEL_MAGIC);
  EXPECT_EQ(h->version, VTRACE_ABI_VERSION);
  EXPECT_EQ(h->nrings, 4u);
  EXPECT_EQ(h->nslots, 32u);
  EXPECT_EQ(h->record_size, VTRACE_RECORD_SIZE);
  EXPECT_EQ(h->attached, 1u);
  EXPECT_EQ(h->flags, 0u);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), h->total_size);
  ch->set_sync(true);
  EXPECT_EQ(h->flags, VTRACE_CHAN_SYNC);
  uint64_t beat = h->heartbeat;
  ch->heartbeat();
  EXPECT_EQ(h->heartbeat, beat + 1);
  ch->open_gate();
  EXPECT_EQ(h->go, 1u);
  // Rings are where a site computes them.
  EXPECT_EQ(ch->ring(2), ring_at(h, 2));
  ch->mark_done(1, 41);
  EXPECT_EQ(ch->ring(1)->done, 42u);
  EXPECT_EQ(ch->ring(1)->done_futex, 42u);
  ch->detach();
  EXPECT_FALSE(exists(path));
  ch->detach();  // idempotent
}

TEST(ChannelTest, SecondLiveTracerIsRefused) {
  std::string path = test_path("busy");
  std::string err;
  auto a = Channel::create(getpid(), ChannelConfig{2, 16, false}, err, path);
  ASSERT_TRUE(a) << err;
  auto b = Channel::create(getpid(), ChannelConfig{2, 16, false}, err, path);
  EXPECT_FALSE(b);
  EXPECT_NE(err.find("already traced"), std::string::npos) << err;
  a.reset();
  EXPECT_FALSE(exists(path));
}

TEST(ChannelTest, StaleChannelIsReplaced) {
  std::string path = test_path("stale");
  // A dead tracer's file: exists, nobody holds its lock.
  {
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("junk", f);
    std::fclose(f);
  }
  std::string err;
  auto ch = Channel::create(getpid(), ChannelConfig{2, 16, false}, err, path);
  ASSERT_TRUE(ch) << err;
  EXPECT_EQ(ch->header()->magic, VTRACE_CHANNEL_MAGIC);
}

TEST(ChannelTest, RejectsBadGeometry) {
  std::string err;
  EXPECT_FALSE(Channel::create(getpid(), ChannelConfig{0, 16, false}, err, test_path("g0")));
  EXPECT_FALSE(Channel::create(getpid(), ChannelConfig{2, 24, false}, err, test_path("g1")));
}

}  // namespace
}  // namespace vtrace::transport

TEST(TscClockTest, TranslatesAroundTheAnchorAndClampsGarbage) {
  vtrace::clock::TscClock c;
  c.start(2'000'000);
  uint64_t tsc, ns;
  vtrace::clock::TscClock::read_pair(tsc, ns);
  const int64_t err = static_cast<int64_t>(c.to_ns(tsc) - ns);
  EXPECT_LT(err < 0 ? -err : err, 100'000) << "translation off by " << err << " ns";
  // Before the anchor, and values no clock produces (a process may write anything): defined.
  EXPECT_LT(c.to_ns(tsc - 1'000'000), c.to_ns(tsc));
  (void)c.to_ns(0);
  (void)c.to_ns(UINT64_MAX);
  (void)c.to_ns(UINT64_MAX / 2);
}
