#include "transport/channel.h"
#include "clock/tsc_clock.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
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
  // The site aggregation area follows the rings: the ops table, then 64 rings' slots.
  EXPECT_EQ(l.agg_offset % 64, 0u);
  EXPECT_GE(l.agg_offset, l.ring_offset + 64 * l.ring_stride);
  EXPECT_EQ(l.total_size, l.agg_offset + kSiteOpsEntries * sizeof(vtrace_site_ops) +
                              64 * kAggSlotsPerRing * sizeof(uint64_t));
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

// Runs `body` in a child process with its own mount namespace and a 4 MiB tmpfs at `dir`; the
// child's exit status (0: passed, 77: mounting is not permitted here, else the failed check).
int in_small_tmpfs(const std::function<int(const std::string& dir)>& body) {
  char dir[] = "/tmp/vtrace-small-shm.XXXXXX";
  if (mkdtemp(dir) == nullptr) return 99;
  pid_t pid = fork();
  if (pid == 0) {
    if (unshare(CLONE_NEWNS) != 0 ||
        mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount("tmpfs", dir, "tmpfs", 0, "size=4m,mode=1777") != 0)
      _exit(77);
    _exit(body(dir));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  rmdir(dir);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(ChannelTest, ChannelIsCutToFitASmallFileSystem) {
  int rc = in_small_tmpfs([](const std::string& dir) {
    std::string err;
    auto ch = Channel::create(getpid(), ChannelConfig{}, err, dir + "/vtrace.1");  // 384 MiB asked
    if (!ch) return 1;
    if (ch->nrings() != 8 || ch->nslots() >= kDefaultSlots) return 2;
    if (channel_layout(ch->nrings(), ch->nslots()).total_size > (2u << 20)) return 3;
    if (ch->size_note().find("channel cut to 8 rings of ") != 0) return 4;
    // Every ring can be backed and written to the end: nothing here can SIGBUS.
    for (uint32_t i = 0; i < ch->nrings(); ++i) {
      if (!ch->back_ring(i)) return 5;
      std::memset(reinterpret_cast<char*>(ch->ring(i)) + sizeof(vtrace_ring), 0xab,
                  uint64_t{ch->nslots()} * VTRACE_RECORD_SIZE);
    }
    return 0;
  });
  if (rc == 77) GTEST_SKIP() << "cannot mount a tmpfs in a mount namespace here";
  EXPECT_EQ(rc, 0);
}

TEST(ChannelTest, AFullFileSystemIsAClearErrorAndNeverABusError) {
  int rc = in_small_tmpfs([](const std::string& dir) {
    std::string err;
    auto ch = Channel::create(getpid(), ChannelConfig{8, 256, false}, err, dir + "/vtrace.1");
    if (!ch) return 1;
    // Someone else fills the file system: the rings can no longer be backed, and say so.
    int fd = open((dir + "/filler").c_str(), O_RDWR | O_CREAT, 0600);
    for (off_t n = 4 << 20; n >= 4096; n /= 2)
      while (fallocate(fd, 0, lseek(fd, 0, SEEK_END), n) == 0) {
      }
    close(fd);
    if (ch->back_ring(0)) return 2;
    // And a new channel is refused with a message.
    auto none = Channel::create(getpid(), ChannelConfig{8, 256, false}, err, dir + "/vtrace.2");
    if (none || err.find("no room for a channel in " + dir + "/vtrace.2") != 0) return 3;
    struct stat st;
    if (stat((dir + "/vtrace.2").c_str(), &st) == 0) return 4;  // nothing left behind
    return 0;
  });
  if (rc == 77) GTEST_SKIP() << "cannot mount a tmpfs in a mount namespace here";
  EXPECT_EQ(rc, 0);
}

// A file in `dir`: `text` as its content, `age` seconds old.
void plant(const std::string& path, const std::string& text, time_t age = 0) {
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
  if (age > 0) {
    timespec t[2] = {{time(nullptr) - age, 0}, {time(nullptr) - age, 0}};
    utimensat(AT_FDCWD, path.c_str(), t, 0);
  }
}

TEST(ChannelTest, StaleChannelsAreRemovedAndLiveOnesKept) {
  char tmpl[] = "/tmp/vtrace-stale.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::string err;
  auto live = Channel::create(getpid(), ChannelConfig{2, 16, false}, err, dir + "/vtrace.100");
  ASSERT_TRUE(live) << err;
  {  // a dead tracer's channel: a complete header, nobody holds its lock
    auto dead = Channel::create(getpid(), ChannelConfig{2, 16, false}, err, dir + "/vtrace.101");
    ASSERT_TRUE(dead) << err;
    ASSERT_EQ(link((dir + "/vtrace.101").c_str(), (dir + "/keep").c_str()), 0);
  }  // detach unlinked vtrace.101: bring the file back under its name, lock free
  ASSERT_EQ(rename((dir + "/keep").c_str(), (dir + "/vtrace.101").c_str()), 0);
  plant(dir + "/vtrace.102", "");            // being created: young, no header yet
  plant(dir + "/vtrace.103", "junk", 3600);  // an old file with no header
  plant(dir + "/vtrace-vm-x", "not a channel", 3600);
  plant(dir + "/vtrace.1x", "not a channel", 3600);
  ASSERT_EQ(symlink("/etc/passwd", (dir + "/vtrace.104").c_str()), 0);

  EXPECT_EQ(remove_stale_channels(dir), 3u);
  auto exists = [&](const char* name) {
    struct stat st;
    return lstat((dir + "/" + name).c_str(), &st) == 0;
  };
  EXPECT_TRUE(exists("vtrace.100"));
  EXPECT_FALSE(exists("vtrace.101"));
  EXPECT_TRUE(exists("vtrace.102"));
  EXPECT_FALSE(exists("vtrace.103"));
  EXPECT_FALSE(exists("vtrace.104"));
  EXPECT_TRUE(exists("vtrace-vm-x"));
  EXPECT_TRUE(exists("vtrace.1x"));
  EXPECT_EQ(live->header()->attached, 1u);
  live.reset();
  for (const char* name : {"vtrace.102", "vtrace-vm-x", "vtrace.1x"})
    unlink((dir + "/" + name).c_str());
  EXPECT_EQ(rmdir(dir.c_str()), 0);
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
