// Gather programs in the running kernel: what the test process does comes back in the records,
// exactly once, with its credentials, strings and stacks.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <thread>

#include "bpf_kernel.h"

namespace vtrace::bpf {
namespace {

using test::Gatherer;

ExprOp field(uint32_t offset, uint8_t size = 8, bool is_signed = false) {
  return {ExprOp::Field, 0, offset, size, is_signed};
}
ExprOp cnst(int64_t v) {
  return {ExprOp::Const, v};
}
ExprOp op(ExprOp::Kind k) {
  return {k};
}

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string my_comm() {
  std::ifstream in("/proc/self/comm");
  std::string s;
  std::getline(in, s);
  return s;
}

// sys_enter_openat: filename at offset 24 of a 48-byte record.
GatherPlan openat_plan(uint32_t strsize = 256) {
  GatherPlan p;
  p.probe = 7;
  p.data_size = 48;
  p.strsize = strsize;
  p.strings.push_back({{field(24)}, {}});
  return p;
}

std::vector<std::string> test_paths(int n) {
  std::vector<std::string> paths;
  for (int i = 0; i < n; ++i)
    paths.push_back("/tmp/vtrace-bpf-test-" + std::to_string(getpid()) + "-" + std::to_string(i));
  return paths;
}

TEST(GatherKernel, OpenatPathsComeBackOnceWithTheTestsCredentials) {
  SKIP_WITHOUT_BPF();
  GatherPlan plan = openat_plan();
  Gatherer g;
  ASSERT_TRUE(g.start(plan, "syscalls", "sys_enter_openat")) << g.err;
  std::vector<std::string> paths = test_paths(50);
  uint64_t t0 = now_ns();
  for (const std::string& p : paths) EXPECT_LT(open(p.c_str(), O_RDONLY), 0);
  uint64_t t1 = now_ns();
  g.stop();

  std::vector<std::vector<uint8_t>> keep;
  std::map<std::string, int> seen;
  std::string comm = my_comm();
  for (const GatherView& v : g.records(plan, keep)) {
    if (v.header.pid != uint32_t(getpid())) continue;
    ASSERT_EQ(v.strings.size(), 1u);
    std::string s(v.strings[0].str);
    if (s.rfind("/tmp/vtrace-bpf-test-", 0) != 0) continue;  // the C library's own opens
    ++seen[s];
    EXPECT_EQ(v.header.probe, 7u);
    EXPECT_EQ(v.header.tid, uint32_t(gettid()));
    EXPECT_EQ(v.header.uid, getuid());
    EXPECT_EQ(v.header.gid, getgid());
    EXPECT_EQ(v.header.ppid, uint32_t(getppid()));
    EXPECT_EQ(v.comm(), comm);
    EXPECT_GE(v.header.time, t0);
    EXPECT_LE(v.header.time, t1);
    EXPECT_GT(v.header.vtime, 0u);
    EXPECT_LT(v.header.cpu, uint32_t(sysconf(_SC_NPROCESSORS_CONF)));
    EXPECT_EQ(v.data_len, 48u);
    EXPECT_EQ(v.strings[0].len, int32_t(s.size() + 1));
    EXPECT_EQ(v.strings[0].max, 255u);
    // The address field the string was read at is the one in the copied data.
    uint64_t addr;
    memcpy(&addr, v.data + 24, 8);
    EXPECT_EQ(v.strings[0].addr, addr);
    // The kernel's pt_regs pointer over the common fields is not passed on.
    EXPECT_EQ(std::accumulate(v.data, v.data + 8, 0), 0);
    EXPECT_EQ(v.header.kstack_len, 0);
    EXPECT_EQ(v.header.ustack_len, 0);
  }
  for (const std::string& p : paths) EXPECT_EQ(seen[p], 1) << p;
  EXPECT_EQ(seen.size(), paths.size());
}

// sys_enter_write: buf at 24, count at 32 of a 40-byte record. Several strings, each with its
// own address and length expression.
TEST(GatherKernel, CopyinstrLengthExpressionsCutTheString) {
  SKIP_WITHOUT_BPF();
  GatherPlan plan;
  plan.probe = 3;
  plan.data_size = 40;
  plan.strsize = 16;
  plan.strings = {
      {{field(24)}, {field(32)}},                                         // buf, count
      {{field(24)}, {}},                                                  // buf: up to strsize - 1
      {{field(24), cnst(3), op(ExprOp::Add)},                             // buf + 3,
       {field(32), cnst(1), op(ExprOp::Shl), cnst(2), op(ExprOp::Asr)}},  // count * 2 / 4
      {{field(24)}, {field(32), op(ExprOp::Not), op(ExprOp::Neg)}},       // -(~count) = count + 1
      {{field(24)}, {cnst(0)}},                                           // nothing
      {{field(24)}, {field(32), cnst(100), op(ExprOp::Sub)}},             // negative: nothing
      {{cnst(8)}, {}},                                                    // faults in both reads
  };
  Gatherer g;
  ASSERT_TRUE(g.start(plan, "syscalls", "sys_enter_write")) << g.err;
  int fd = open("/dev/null", O_WRONLY);
  ASSERT_GE(fd, 0);
  const char text[] = "abcdefghijklmnopqrstuvwxyz";
  ASSERT_EQ(write(fd, text, 5), 5);
  ASSERT_EQ(write(fd, text, 26), 26);
  close(fd);
  g.stop();

  std::vector<std::vector<uint8_t>> keep;
  std::vector<GatherView> mine;
  for (const GatherView& v : g.records(plan, keep))
    if (v.header.tid == uint32_t(gettid())) mine.push_back(v);
  ASSERT_EQ(mine.size(), 2u);
  const GatherView& a = mine[0];  // count 5
  EXPECT_EQ(a.strings[0].str, "abcde");
  EXPECT_EQ(a.strings[0].max, 5u);
  EXPECT_EQ(a.strings[0].len, 6);
  EXPECT_EQ(a.strings[1].str, "abcdefghijklmno");  // no length: strsize - 1
  EXPECT_EQ(a.strings[1].addr, uint64_t(reinterpret_cast<uintptr_t>(text)));
  EXPECT_EQ(a.strings[2].str, "de");  // from +3, 5*2/4 = 2 bytes
  EXPECT_EQ(a.strings[2].addr, uint64_t(reinterpret_cast<uintptr_t>(text)) + 3);
  EXPECT_EQ(a.strings[3].str, "abcdef");
  EXPECT_EQ(a.strings[4].str, "");
  EXPECT_EQ(a.strings[4].len, 0);
  EXPECT_EQ(a.strings[4].max, 0u);
  EXPECT_EQ(a.strings[5].len, 0);
  EXPECT_EQ(a.strings[5].max, 0u);
  EXPECT_TRUE(a.strings[6].faulted());
  EXPECT_EQ(a.strings[6].addr, 8u);
  const GatherView& b = mine[1];  // count 26: cut at strsize - 1
  EXPECT_EQ(b.strings[0].str, "abcdefghijklmno");
  EXPECT_EQ(b.strings[0].max, 15u);
  EXPECT_EQ(b.strings[2].str, "defghijklmnop");
  EXPECT_EQ(b.strings[3].str, "abcdefghijklmno");
}

// getppid() through an inline syscall instruction, so the user stack starts in this binary.
__attribute__((noinline)) long raw_getppid() {
  long ret;
  asm volatile("syscall" : "=a"(ret) : "0"(long(SYS_getppid)) : "rcx", "r11", "memory");
  return ret;
}

// The executable mapping of this program's own file.
std::pair<uint64_t, uint64_t> own_text() {
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) return {0, 0};
  exe[n] = 0;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    uint64_t lo, hi;
    char perms[5];
    if (sscanf(line.c_str(), "%lx-%lx %4s", &lo, &hi, perms) != 3) continue;
    if (perms[2] == 'x' && line.find(exe) != std::string::npos) return {lo, hi};
  }
  return {0, 0};
}

TEST(GatherKernel, StacksOfTheFiringThread) {
  SKIP_WITHOUT_BPF();
  GatherPlan plan;
  plan.probe = 9;
  plan.data_size = 16;
  plan.kernel_frames = 16;
  plan.user_frames = 8;
  pid_t getppid_before = getppid();
  Gatherer g;
  ASSERT_TRUE(g.start(plan, "syscalls", "sys_enter_getppid")) << g.err;
  // Three raw calls, then three through the C library.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(raw_getppid(), long(getppid_before));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(getppid(), getppid_before);
  g.stop();
  auto [lo, hi] = own_text();
  ASSERT_LT(lo, hi);
  std::vector<std::vector<uint8_t>> keep;
  int n = 0;
  for (const GatherView& v : g.records(plan, keep)) {
    if (v.header.tid != uint32_t(gettid())) continue;
    ++n;
    EXPECT_GT(v.header.kstack_len, 0);
    for (size_t i = 0; i < v.kstack.size(); ++i)
      EXPECT_GE(v.kstack[i], 0xffff800000000000ull) << "frame " << i;
    ASSERT_GT(v.header.ustack_len, 0);
    ASSERT_FALSE(v.ustack.empty());
    if (n <= 3) {  // the raw ones (getppid() of the C library follows)
      EXPECT_GE(v.ustack[0], lo);
      EXPECT_LT(v.ustack[0], hi);
    }
  }
  EXPECT_EQ(n, 6);
}

TEST(GatherKernel, AFullRingCountsDrops) {
  SKIP_WITHOUT_BPF();
  // One record of ~2 KiB fits a one-page ring; the rest of 50 opens are dropped.
  GatherPlan plan = openat_plan(2048);
  Gatherer g;
  ASSERT_TRUE(g.start(plan, "syscalls", "sys_enter_openat", 4096)) << g.err;
  EXPECT_EQ(g.ring->size(), 4096u);
  for (const std::string& p : test_paths(50)) EXPECT_LT(open(p.c_str(), O_RDONLY), 0);
  g.stop();
  std::string err;
  std::vector<uint64_t> drops = g.ring->drops(err);
  ASSERT_EQ(err, "");
  ASSERT_EQ(drops.size(), size_t(libbpf_num_possible_cpus()));
  uint64_t total = std::accumulate(drops.begin(), drops.end(), uint64_t{0});
  std::vector<std::vector<uint8_t>> keep;
  size_t got = g.records(plan, keep).size();
  EXPECT_LE(got, 1u);
  EXPECT_GE(total + got, 50u);
}

// Ids of a program and the maps it uses.
std::pair<uint32_t, std::vector<uint32_t>> ids_of(int prog_fd) {
  uint32_t map_ids[8] = {};
  bpf_prog_info info{};
  info.nr_map_ids = 8;
  info.map_ids = reinterpret_cast<uint64_t>(map_ids);
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0) return {};
  return {info.id, std::vector<uint32_t>(map_ids, map_ids + std::min(info.nr_map_ids, 8u))};
}

TEST(GatherKernel, ClosingEverythingLeavesNothingLoaded) {
  SKIP_WITHOUT_BPF();
  GatherPlan plan = openat_plan();
  uint32_t prog_id;
  std::vector<uint32_t> map_ids;
  {
    Gatherer g;
    ASSERT_TRUE(g.start(plan, "syscalls", "sys_enter_openat")) << g.err;
    std::tie(prog_id, map_ids) = ids_of(g.prog.get());
    ASSERT_NE(prog_id, 0u);
    EXPECT_EQ(map_ids.size(), 2u);  // the ring and the drop counter
  }
  // The kernel frees programs and maps after an RCU grace period: wait for it.
  auto gone = [](int fd) {
    if (fd >= 0) close(fd);
    return fd < 0 && errno == ENOENT;
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool all_gone = false;
  while (!all_gone && std::chrono::steady_clock::now() < deadline) {
    all_gone = gone(bpf_prog_get_fd_by_id(prog_id));
    for (uint32_t id : map_ids) all_gone = gone(bpf_map_get_fd_by_id(id)) && all_gone;
    if (!all_gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(all_gone);
}

TEST(GatherKernel, TheBiggestPlansPassTheVerifier) {
  SKIP_WITHOUT_BPF();
  GatherPlan plan;
  plan.data_size = 40;
  plan.data_extra = 256;
  plan.strsize = 4096;
  plan.kernel_frames = 127;
  plan.user_frames = 127;
  for (int i = 0; i < 8; ++i) {
    Expr len = {field(32), cnst(i), op(ExprOp::Add), cnst(0x7fffffffff), op(ExprOp::And)};
    plan.strings.push_back({{field(24), cnst(i), op(ExprOp::Add)}, i % 2 ? len : Expr{}});
  }
  Gatherer g;
  ASSERT_TRUE(g.start(plan, "syscalls", "sys_enter_write")) << g.err;
  int fd = open("/dev/null", O_WRONLY);
  ASSERT_EQ(write(fd, "0123456789", 10), 10);
  close(fd);
  g.stop();
  std::vector<std::vector<uint8_t>> keep;
  int n = 0;
  for (const GatherView& v : g.records(plan, keep)) {
    if (v.header.tid != uint32_t(gettid())) continue;
    ++n;
    // Past a syscall record (on the kernel stack) the 296-byte read may fault: then 40 bytes.
    EXPECT_TRUE(v.data_len == 296 || v.data_len == 40) << v.data_len;
    EXPECT_EQ(v.strings[0].str.substr(0, 10), "0123456789");
    EXPECT_EQ(v.strings[1].str, "123456789");
    EXPECT_EQ(v.strings[7].str, "789");
  }
  EXPECT_EQ(n, 1);
}

}  // namespace
}  // namespace vtrace::bpf
