// What probe.h accepts as its channel (issue 9, item 2): a program with a probe on opens
// /dev/shm/vtrace.PID only if it is a regular file, not a symlink, owned by the program's euid,
// private to it, with a geometry that fits the file. Anything else leaves its probes off: no
// crash, no write. A detached channel is not looked for again on every firing, and a forked
// child's firings are not counted as its parent's.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "transport/channel.h"

namespace {

using vtrace::transport::Channel;
using vtrace::transport::ChannelConfig;

// channel_victim running with pipes on its stdin and stdout.
class Victim {
 public:
  explicit Victim(const char* mode) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) std::abort();
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[1]);
      close(out[0]);
      execl(CHANNEL_VICTIM, CHANNEL_VICTIM, mode, nullptr);
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = in[1];
    from_ = out[0];
  }
  ~Victim() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(to_);
    close(from_);
  }
  pid_t pid() const { return pid_; }
  std::string path() const { return vtrace::transport::channel_path(pid_); }
  void say() { (void)!write(to_, "go\n", 3); }
  // One line of its output ("" after 10 s or at its end).
  std::string line() {
    std::string s;
    char c;
    pollfd p{from_, POLLIN, 0};
    while (poll(&p, 1, 10000) == 1 && read(from_, &c, 1) == 1 && c != '\n') s += c;
    return s;
  }
  // Its exit status, or 128 + the signal that killed it.
  int wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
};

uint64_t head(Channel& c, uint32_t ring) {
  return __atomic_load_n(&c.ring(ring)->head, __ATOMIC_ACQUIRE);
}

// Plants a channel for the victim, lets `spoil` change it, lets the victim fire, and returns how
// many records it wrote into ring 0. The victim must exit 0 whatever it found.
uint64_t fire_at(const std::function<void(Channel&, const std::string&)>& spoil) {
  Victim v("wait");
  std::string err;
  auto c = Channel::create(v.pid(), ChannelConfig{2, 16, false}, err);
  EXPECT_TRUE(c) << err;
  if (!c) return 0;
  spoil(*c, v.path());
  v.say();
  EXPECT_EQ(v.line().rfind("opens=", 0), 0u);
  EXPECT_EQ(v.wait(), 0) << "the program died";
  return head(*c, 0);
}

TEST(ProbeTrust, AValidChannelIsUsed) {
  EXPECT_EQ(fire_at([](Channel&, const std::string&) {}), 16u);  // 16 slots, the rest dropped
}

TEST(ProbeTrust, AnotherUsersFileIsRefused) {
  EXPECT_EQ(
      fire_at([](Channel&, const std::string& p) { ASSERT_EQ(chown(p.c_str(), 65534, 65534), 0); }),
      0u);
}

TEST(ProbeTrust, AFileOthersCanReadIsRefused) {
  EXPECT_EQ(fire_at([](Channel&, const std::string& p) { ASSERT_EQ(chmod(p.c_str(), 0644), 0); }),
            0u);
  EXPECT_EQ(fire_at([](Channel&, const std::string& p) { ASSERT_EQ(chmod(p.c_str(), 0620), 0); }),
            0u);
}

TEST(ProbeTrust, ASymlinkIsNotFollowed) {
  // The victim's path is a symlink to a good channel of its own: it must not be followed.
  Victim v("wait");
  std::string err, target = "/dev/shm/vtrace-test.symlink." + std::to_string(getpid());
  auto c = Channel::create(v.pid(), ChannelConfig{2, 16, false}, err, target);
  ASSERT_TRUE(c) << err;
  const std::string link = v.path();
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  v.say();
  v.line();
  EXPECT_EQ(v.wait(), 0);
  EXPECT_EQ(head(*c, 0), 0u);
  unlink(link.c_str());
}

TEST(ProbeTrust, GeometryThatDoesNotFitTheFileIsRefused) {
  auto lie = [](std::function<void(vtrace_channel*)> f) {
    return fire_at([&](Channel& c, const std::string&) { f(c.header()); });
  };
  EXPECT_EQ(lie([](vtrace_channel* h) { h->ring_offset = 1u << 30; }), 0u);
  EXPECT_EQ(lie([](vtrace_channel* h) { h->ring_offset = 8; }), 0u);  // inside the header
  EXPECT_EQ(lie([](vtrace_channel* h) { h->ring_stride = 1ull << 40; }), 0u);
  EXPECT_EQ(lie([](vtrace_channel* h) { h->ring_stride = 64; }), 0u);  // rings overlap
  EXPECT_EQ(lie([](vtrace_channel* h) { h->nrings = 4096; }), 0u);
  EXPECT_EQ(lie([](vtrace_channel* h) { h->nrings = 0x80000000u; }), 0u);
  EXPECT_EQ(lie([](vtrace_channel* h) { h->nslots = 1u << 20; }), 0u);
  EXPECT_EQ(lie([](vtrace_channel* h) { h->nslots = 24; }), 0u);
  EXPECT_EQ(lie([](vtrace_channel* h) { h->total_size = 1ull << 62; }), 0u);
  EXPECT_EQ(lie([](vtrace_channel* h) { h->record_size = 64; }), 0u);
  EXPECT_EQ(lie([](vtrace_channel* h) { h->version = 99; }), 0u);
  // The site aggregation area: after the rings, within the file, of bounded size.
  EXPECT_EQ(lie([](vtrace_channel* h) { h->agg_offset = h->ring_offset; }), 0u);
  EXPECT_EQ(lie([](vtrace_channel* h) { h->agg_offset = h->total_size; }), 0u);
  EXPECT_EQ(lie([](vtrace_channel* h) { h->agg_offset += 8; }), 0u);  // not aligned
  EXPECT_EQ(lie([](vtrace_channel* h) { h->agg_offset = ~0ull - 63; }), 0u);
  EXPECT_EQ(lie([](vtrace_channel* h) { h->nsite_ops = 1u << 20; }), 0u);
  EXPECT_EQ(lie([](vtrace_channel* h) { h->agg_slots = 1u << 20; }), 0u);
  EXPECT_EQ(lie([](vtrace_channel* h) { h->agg_slots = 4096; }), 0u);  // past the file's end
}

TEST(ProbeTrust, ADetachedChannelIsNotLookedForOnEveryFiring) {
  Victim v("detach");
  std::string err;
  auto c = Channel::create(v.pid(), ChannelConfig{2, 64, false}, err);
  ASSERT_TRUE(c) << err;
  v.say();
  EXPECT_EQ(v.line(), "fired");
  EXPECT_EQ(head(*c, 0), 10u);
  c->detach();  // attached = 0, unlinked: the probes stay on in the process
  v.say();
  std::string opens = v.line();
  EXPECT_EQ(v.wait(), 0);
  ASSERT_EQ(opens.rfind("opens=", 0), 0u) << opens;
  // 100000 firings in a few milliseconds: a handful of looks, not one per firing.
  EXPECT_LT(std::atol(opens.c_str() + 6), 100) << opens;
}

TEST(ProbeTrust, ARingTheFileSystemCannotHoldIsNotUsed) {
  // In a mount namespace whose /dev/shm is a 4 MiB tmpfs, the channel's rings are left unbacked
  // and the rest of the file system is filled: the site must not write (SIGBUS), but drop and
  // count. The child reports: 0 passed, 77 cannot mount here, else the failed check.
  pid_t pid = fork();
  if (pid == 0) {
    if (unshare(CLONE_NEWNS) != 0 ||
        mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount("tmpfs", "/dev/shm", "tmpfs", 0, "size=4m,mode=1777") != 0)
      _exit(77);
    Victim v("wait");
    std::string err;
    auto c = Channel::create(v.pid(), ChannelConfig{2, 2048, false}, err);
    if (!c) _exit(1);
    int fd = open("/dev/shm/filler", O_RDWR | O_CREAT, 0600);
    for (off_t n = 4 << 20; n >= 4096; n /= 2)
      while (fallocate(fd, 0, lseek(fd, 0, SEEK_END), n) == 0) {
      }
    v.say();
    v.line();
    int status = v.wait();
    if (status != 0) _exit(status == 128 + SIGBUS ? 2 : 3);
    if (head(*c, 0) != 0 || head(*c, 1) != 0) _exit(4);
    if (c->no_ring_drops() == 0) _exit(5);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "cannot mount a tmpfs in a mount namespace here";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: the program died of SIGBUS";
}

}  // namespace
