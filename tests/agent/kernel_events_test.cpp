// The agent's guest kernel events, run against the host kernel (Linux with tracefs, as root):
// the same perf_event_open + tracefs path the agent takes inside a guest.
#include "guest/agent/kernel_events.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "guest/agent/guest_tsc.h"
#include "guest/agent/kernel_task_cache.h"
#include "vtrace/channel_abi.h"
#include "vtrace/guest_abi.h"

namespace vtrace::guest {
namespace {

using namespace std::chrono_literals;

uint32_t my_pid() {
  return static_cast<uint32_t>(getpid());
}
uint32_t my_tid() {
  return static_cast<uint32_t>(syscall(SYS_gettid));
}

std::string self_comm() {
  std::ifstream in("/proc/self/comm");
  std::string s;
  std::getline(in, s);
  return s;
}

// Runs /bin/true in a child (fork + exec) and waits for it: the child's pid, or -1 when it did
// not run and exit 0.
pid_t run_true() {
  pid_t child = fork();
  if (child == 0) {
    execl("/bin/true", "true", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child) return -1;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? child : -1;
}

class KernelEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (perf_event_open of tracepoints)";
    std::string err = ke_.init();
    if (!err.empty()) GTEST_SKIP() << "tracefs unavailable: " << err;
  }

  // The index of provider::function:name, or -1.
  int find(const char* provider, const char* function, const char* name) const {
    const auto& ps = ke_.probes();
    for (size_t i = 0; i < ps.size(); ++i)
      if (ps[i].provider == provider && ps[i].function == function && ps[i].name == name)
        return static_cast<int>(i);
    return -1;
  }

  // Enables exactly these probes, asking `wants` (VTRACE_GEN_*) of them.
  void enable(std::initializer_list<int> which, uint8_t wants = 0) {
    std::vector<uint8_t> on(ke_.probes().size(), 0);
    for (int i : which) {
      ASSERT_GE(i, 0);
      on[static_cast<size_t>(i)] = VTRACE_GEN_ON | wants;
    }
    ASSERT_EQ(ke_.apply(on), "");
  }

  // Polls until two polls in a row find nothing (events of the workload are all stamped before
  // the first poll, so they come out of it or the next).
  std::vector<KernelEvent> drain() {
    std::vector<KernelEvent> out;
    for (int quiet = 0, i = 0; quiet < 2 && i < 1000; ++i) {
      size_t n = ke_.poll([&](const KernelEvent& e) { out.push_back(e); });
      quiet = n == 0 ? quiet + 1 : 0;
    }
    return out;
  }

  KernelEvents ke_;
};

TEST_F(KernelEventsTest, ListsSyscallSchedAndProcProbes) {
  int read_entry = find("syscall", "read", "entry");
  ASSERT_GE(read_entry, 0);
  EXPECT_EQ(ke_.probes()[static_cast<size_t>(read_entry)].nargs, 3);  // fd, buf, count
  EXPECT_GE(find("syscall", "read", "return"), 0);
  EXPECT_GE(find("sched", "", "on-cpu"), 0);
  EXPECT_GE(find("sched", "", "off-cpu"), 0);
  int exec = find("proc", "", "exec");
  ASSERT_GE(exec, 0);
  EXPECT_EQ(ke_.probes()[static_cast<size_t>(exec)].flags, VTRACE_DESC_STR0);
  EXPECT_GE(find("proc", "", "exit"), 0);
  EXPECT_TRUE(ke_.clock().calibrated());
}

TEST_F(KernelEventsTest, PollWithNothingEnabledEmitsNothing) {
  size_t n = ke_.poll([](const KernelEvent&) { ADD_FAILURE() << "unexpected event"; });
  EXPECT_EQ(n, 0u);
}

TEST_F(KernelEventsTest, SyscallEntryOnceForEachCallInTimeOrder) {
  const int probe = find("syscall", "getppid", "entry");
  enable({probe});
  drain();
  constexpr int kCalls = 1000;
  const uint64_t before = GuestTsc::read_tsc();
  std::this_thread::sleep_for(1ms);  // a margin larger than the map's error
  for (int i = 0; i < kCalls; ++i) syscall(SYS_getppid);
  std::this_thread::sleep_for(1ms);
  const uint64_t after = GuestTsc::read_tsc();
  const auto events = drain();

  const std::string comm = self_comm();
  size_t mine = 0;
  uint64_t last = 0;
  for (const KernelEvent& e : events) {
    EXPECT_EQ(e.probe, static_cast<uint32_t>(probe));  // only what is enabled comes out
    EXPECT_GE(e.tsc, last) << "events out of time order";
    last = e.tsc;
    if (e.pid != my_pid()) continue;  // other processes call getppid too
    ++mine;
    EXPECT_EQ(e.tid, my_tid());
    EXPECT_EQ(ke_.probes()[e.probe].function, "getppid");
    EXPECT_EQ(e.nargs, 0);
    EXPECT_STREQ(e.comm, comm.c_str());
    EXPECT_LT(e.cpu, static_cast<uint32_t>(std::thread::hardware_concurrency()));
    EXPECT_GT(e.tsc, before);
    EXPECT_LT(e.tsc, after);
  }
  EXPECT_EQ(mine, static_cast<size_t>(kCalls));
  EXPECT_EQ(ke_.lost(), 0u);
  EXPECT_GE(ke_.watermark(), last);
}

TEST_F(KernelEventsTest, SyscallArgumentsAndReturnValue) {
  const int entry = find("syscall", "lseek", "entry");
  const int ret = find("syscall", "lseek", "return");
  const int ppid_ret = find("syscall", "getppid", "return");
  enable({entry, ret, ppid_ret});
  drain();
  const long r = syscall(SYS_lseek, -1L, 1234L, 2L);  // EBADF
  ASSERT_EQ(r, -1);
  const long ppid = syscall(SYS_getppid);
  const auto events = drain();

  int entries = 0, returns = 0, ppid_returns = 0;
  for (const KernelEvent& e : events) {
    if (e.pid != my_pid()) continue;
    if (e.probe == static_cast<uint32_t>(entry)) {
      ++entries;
      EXPECT_EQ(e.nargs, 3);
      EXPECT_EQ(e.args[0], -1);
      EXPECT_EQ(e.args[1], 1234);
      EXPECT_EQ(e.args[2], 2);
    } else if (e.probe == static_cast<uint32_t>(ret)) {
      ++returns;
      EXPECT_EQ(e.nargs, 2);
      EXPECT_EQ(e.args[0], -EBADF);
      EXPECT_EQ(e.args[1], -EBADF);
    } else if (e.probe == static_cast<uint32_t>(ppid_ret)) {
      ++ppid_returns;
      EXPECT_EQ(ke_.probes()[e.probe].name, "return");
      EXPECT_EQ(e.args[0], ppid);
      EXPECT_EQ(e.args[1], ppid);
    }
  }
  EXPECT_EQ(entries, 1);
  EXPECT_EQ(returns, 1);
  EXPECT_EQ(ppid_returns, 1);
}

// copyinstr() of a syscall's argument, asked by the host: the kernel reads the string when the
// syscall enters (a kprobe on its function), so a buffer rewritten right after the call does
// not change it; an address that cannot be read says so instead of giving a string.
TEST_F(KernelEventsTest, StringArgumentIsReadWhenTheSyscallEnters) {
  const int entry = find("syscall", "openat", "entry");
  std::vector<uint8_t> on(ke_.probes().size(), 0);
  on[static_cast<size_t>(entry)] = VTRACE_GEN_ON | VTRACE_GEN_STR(1);
  if (const std::string err = ke_.apply(on); err.find("no kprobe events") != std::string::npos)
    GTEST_SKIP() << "this kernel has no kprobe events (the guest test covers them): " << err;
  else
    ASSERT_EQ(err, "");
  drain();
  char path[64] = "/proc/self/status";
  const long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY);
  std::strcpy(path, "/rewritten/after/the/call");
  const long bad = syscall(SYS_openat, AT_FDCWD, reinterpret_cast<char*>(8), O_RDONLY);
  ASSERT_GE(fd, 0);
  close(static_cast<int>(fd));
  ASSERT_EQ(bad, -1);
  int read = 0, faulted = 0;
  for (const KernelEvent& e : drain()) {
    if (e.pid != my_pid() || e.probe != static_cast<uint32_t>(entry)) continue;
    EXPECT_EQ(e.str_arg, 1);
    EXPECT_EQ(e.nargs, 4);  // dfd, filename, flags, mode: the tracepoint's, as without a string
    if (e.args[1] == reinterpret_cast<int64_t>(path)) {
      ++read;
      EXPECT_TRUE(e.str_read);
      EXPECT_EQ(e.str, "/proc/self/status");
    } else if (e.args[1] == 8) {
      ++faulted;
      EXPECT_FALSE(e.str_read);
    }
  }
  EXPECT_EQ(read, 1);
  EXPECT_EQ(faulted, 1);
}

// Stacks of a syscall's return, asked by the host: the user's callchain; the tracepoint gives
// perf the user's registers, so there is no kernel stack, and the event says so. (An entry's
// come from a kprobe on the syscall's function: the guest test checks those.)
TEST_F(KernelEventsTest, StacksOfASyscallReturnWhenAsked) {
  const int entry = find("syscall", "getppid", "return");
  enable({entry}, VTRACE_GEN_STACKS);
  drain();
  syscall(SYS_getppid);
  int n = 0;
  for (const KernelEvent& e : drain()) {
    if (e.pid != my_pid() || e.probe != static_cast<uint32_t>(entry)) continue;
    ++n;
    ASSERT_FALSE(e.ustack.empty());
    EXPECT_TRUE(e.no_kstack);
    EXPECT_TRUE(e.kstack.empty());
    EXPECT_LT(e.ustack[0], 0x800000000000ull);  // the user PC (frames past it are a frame
                                                // pointer walk's, whatever the stack held)
  }
  EXPECT_EQ(n, 1);
}

TEST_F(KernelEventsTest, SchedOnAndOffCpuForASleepingThread) {
  const int off = find("sched", "", "off-cpu");
  const int on = find("sched", "", "on-cpu");
  enable({off, on});
  drain();
  // Spinners keep every CPU busy, so each wakeup of the sleeper switches from a task, not from
  // the idle loop (some kernels, as this workplace's host, do not trace switches out of idle).
  std::atomic<bool> stop{false};
  std::vector<std::thread> spinners;
  for (unsigned i = 0; i < std::max(1u, std::thread::hardware_concurrency()); ++i)
    spinners.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
      }
    });
  constexpr int kSleeps = 5;
  uint32_t tid = 0;
  uint64_t named = 0;  // events after this TSC carry the new name
  std::thread t([&] {
    pthread_setname_np(pthread_self(), "vt-sleeper");
    tid = my_tid();
    named = GuestTsc::read_tsc();
    for (int i = 0; i < kSleeps; ++i) std::this_thread::sleep_for(2ms);
  });
  t.join();
  stop = true;
  for (auto& s : spinners) s.join();
  const auto events = drain();

  int offs = 0, ons = 0;
  for (const KernelEvent& e : events) {
    if (e.tid != tid || e.tsc < named) continue;
    EXPECT_EQ(e.pid, my_pid());
    EXPECT_STREQ(e.comm, "vt-sleeper");
    if (e.probe == static_cast<uint32_t>(off)) ++offs;
    if (e.probe == static_cast<uint32_t>(on)) ++ons;
  }
  EXPECT_GE(offs, kSleeps);
  EXPECT_GE(ons, kSleeps);
}

TEST_F(KernelEventsTest, ProcExecAndExitOfAChild) {
  const int exec = find("proc", "", "exec");
  const int exit = find("proc", "", "exit");
  enable({exec, exit});
  drain();
  const pid_t child = run_true();
  ASSERT_GT(child, 0) << "/bin/true did not run";
  const auto events = drain();

  int execs = 0, exits = 0;
  for (const KernelEvent& e : events) {
    if (e.pid != static_cast<uint32_t>(child)) continue;
    if (e.probe == static_cast<uint32_t>(exec)) {
      ++execs;
      EXPECT_EQ(e.str, "/bin/true");
      EXPECT_STREQ(e.comm, "true");
    } else if (e.probe == static_cast<uint32_t>(exit)) {
      ++exits;
      EXPECT_STREQ(e.comm, "true");
      EXPECT_EQ(e.args[0], 0);
    }
  }
  EXPECT_EQ(execs, 1);
  EXPECT_EQ(exits, 1);
}

TEST_F(KernelEventsTest, SyscallCommFollowsExec) {
  // The child's syscalls after exec carry the new name (from perf's COMM side-band), not the
  // test's, though the task is gone before the events are read.
  const int probe = find("syscall", "exit_group", "entry");
  enable({probe});
  drain();
  const pid_t child = run_true();
  ASSERT_GT(child, 0) << "/bin/true did not run";
  int seen = 0;
  for (const KernelEvent& e : drain()) {
    if (e.pid != static_cast<uint32_t>(child)) continue;
    ++seen;
    EXPECT_STREQ(e.comm, "true");
    EXPECT_EQ(e.args[0], 0);  // the exit status
  }
  EXPECT_EQ(seen, 1);
}

TEST_F(KernelEventsTest, DisablingEverythingStopsEvents) {
  const int probe = find("syscall", "getppid", "entry");
  enable({probe});
  for (int i = 0; i < 10; ++i) syscall(SYS_getppid);
  size_t mine = 0;
  for (const KernelEvent& e : drain()) mine += e.pid == my_pid();
  EXPECT_EQ(mine, 10u);

  enable({});
  for (int i = 0; i < 100; ++i) syscall(SYS_getppid);
  size_t n = ke_.poll([](const KernelEvent&) { ADD_FAILURE() << "event after disabling"; });
  EXPECT_EQ(n, 0u);

  // And enabling again works.
  enable({probe});
  for (int i = 0; i < 10; ++i) syscall(SYS_getppid);
  mine = 0;
  for (const KernelEvent& e : drain()) mine += e.pid == my_pid();
  EXPECT_EQ(mine, 10u);
}

TEST_F(KernelEventsTest, SwitchingProbesKeepsTheOthersFlowing) {
  // getppid stays on while getpid comes and goes: none of getppid's events are lost.
  const int ppid = find("syscall", "getppid", "entry");
  const int pid = find("syscall", "getpid", "entry");
  enable({ppid, pid});
  for (int i = 0; i < 10; ++i) {
    syscall(SYS_getppid);
    syscall(SYS_getpid);
  }
  enable({ppid});
  for (int i = 0; i < 10; ++i) {
    syscall(SYS_getppid);
    syscall(SYS_getpid);
  }
  size_t ppids = 0, pids = 0;
  for (const KernelEvent& e : drain()) {
    if (e.pid != my_pid()) continue;
    ppids += e.probe == static_cast<uint32_t>(ppid);
    pids += e.probe == static_cast<uint32_t>(pid);
  }
  EXPECT_EQ(ppids, 20u);
  EXPECT_EQ(pids, 10u);  // those fired while enabled are still delivered
}

TEST(GuestTscTest, MapsMonotonicTimeOntoTheTsc) {
  GuestTsc tsc;
  EXPECT_FALSE(tsc.calibrated());
  tsc.calibrate();
  ASSERT_TRUE(tsc.calibrated());
  EXPECT_GT(tsc.ticks_per_ns(), 0.0);
  for (int round = 0; round < 2; ++round) {
    // A clock_gettime bracketed by two rdtsc maps inside the bracket, give or take the map's
    // error (which is far below a 1 ms sleep, measured in the same units).
    const uint64_t t0 = GuestTsc::read_tsc();
    std::this_thread::sleep_for(1ms);
    const uint64_t ms = GuestTsc::read_tsc() - t0;
    const uint64_t t1 = GuestTsc::read_tsc();
    const uint64_t ns = GuestTsc::mono_ns();
    const uint64_t t2 = GuestTsc::read_tsc();
    const uint64_t mapped = tsc.to_tsc(ns);
    EXPECT_GT(mapped + ms / 10, t1);
    EXPECT_LT(mapped, t2 + ms / 10);
    EXPECT_LT(tsc.to_tsc(ns), tsc.to_tsc(ns + 1000));
    EXPECT_GT(tsc.to_tsc(ns), tsc.to_tsc(ns - 1000));  // before the anchor too
    tsc.refresh(0);
  }
}

TEST(KernelTaskCacheTest, ReadsProcOnceAndFollowsSideBand) {
  KernelTaskCache cache;
  const KernelTask& me = cache.get(my_tid(), 0);
  EXPECT_EQ(me.pid, my_pid());
  EXPECT_EQ(std::string(me.comm), self_comm());
  cache.on_comm(my_pid(), my_tid(), "renamed");
  EXPECT_STREQ(cache.get(my_tid(), my_pid()).comm, "renamed");
  cache.on_fork(4242, 4243, my_tid());
  EXPECT_EQ(cache.get(4243, 0).pid, 4242u);
  EXPECT_STREQ(cache.get(4243, 0).comm, "renamed");
  cache.on_exit(4243);
  cache.on_comm(1, 2, "a-name-longer-than-fifteen");
  EXPECT_STREQ(cache.get(2, 1).comm, "a-name-longer-t");
  EXPECT_STREQ(cache.get(0, 0).comm, "swapper");
}

}  // namespace
}  // namespace vtrace::guest
