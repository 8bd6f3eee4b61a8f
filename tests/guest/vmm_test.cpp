// The hypervisor layer of real QEMU guests (NAME:vmm:::*, vcpustolen): guest A's vCPU thread
// shares a host CPU with a CPU-bound host process, guest B's vCPU thread has the other CPU. The
// host's sched_switch stream must show A's vCPU preempted by that process and never B's, and
// requests measured inside A must split into "ran throughout" and "preempted on the host".
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <regex>
#include <string>
#include <thread>

#include "guest_test_util.h"
#include "targets/host/vmm_vcpus.h"

namespace {

using namespace vtrace::guest_test;
using vtrace::targets::host::query_vcpu_threads;
using vtrace::targets::host::VcpuThread;

const std::string kCache = VTRACE_TEST_CACHE;

// A noisy neighbour on one host CPU until the object goes away: a real-time (SCHED_FIFO)
// process that spins 2 ms, sleeps 3 ms. Each time it wakes it takes the CPU from whatever runs
// there. (A plain CPU-bound process rarely preempts a TCG vCPU thread: the thread sleeps often,
// on QEMU's lock and between guest timer ticks, and the scheduler favours it when it wakes.)
class Hog {
 public:
  explicit Hog(int cpu) {
    pid_ = fork();
    if (pid_ == 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      sched_setaffinity(0, sizeof set, &set);
      sched_param sp{};
      sp.sched_priority = 1;
      sched_setscheduler(0, SCHED_FIFO, &sp);
      for (;;) {
        timespec t0, now;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        do clock_gettime(CLOCK_MONOTONIC, &now);
        while ((now.tv_sec - t0.tv_sec) * 1'000'000'000L + (now.tv_nsec - t0.tv_nsec) < 2'000'000L);
        timespec nap{0, 3'000'000L};
        nanosleep(&nap, nullptr);
      }
    }
  }
  ~Hog() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_;
};

bool pin(pid_t tid, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (cpu < 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) CPU_SET(c, &set);
  } else {
    CPU_SET(cpu, &set);
  }
  return sched_setaffinity(tid, sizeof set, &set) == 0;
}

// The number after `prefix` (a regex) in out, or -1.
long number_after(const std::string& out, const std::string& prefix) {
  std::smatch m;
  return std::regex_search(out, m, std::regex(prefix + "\\s+(\\d+)")) ? std::stol(m[1]) : -1;
}

class VmmTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!guest_vm_missing().empty() || geteuid() != 0) return;
    vms_.start("vmm", kCache);
    // query_vcpu_threads (in this process) finds the VMs there too.
    setenv("VTRACE_RUNTIME_DIR", vms_.run_dir->path.c_str(), 1);
  }
  static void TearDownTestSuite() { vms_.stop(); }
  void SetUp() override {
    if (std::string why = guest_vm_missing(); !why.empty()) GTEST_SKIP() << "skipped: " << why;
    if (geteuid() != 0)
      GTEST_SKIP() << "skipped: needs root (perf_event_open on sched:sched_switch)";
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
      GTEST_SKIP() << "skipped: needs 2 host CPUs (one shared by guest A and a hog)";
    ASSERT_TRUE(vms_.booted) << vms_.boot_output;
    std::string err;
    va_ = query_vcpu_threads(vms_.a, err);
    ASSERT_EQ(va_.size(), 1u) << err;
    vb_ = query_vcpu_threads(vms_.b, err);
    ASSERT_EQ(vb_.size(), 1u) << err;
    // A's vCPU shares CPU 0 with the hog; B's has CPU 1.
    ASSERT_TRUE(pin(va_[0].tid, 0));
    ASSERT_TRUE(pin(vb_[0].tid, 1));
  }
  void TearDown() override {
    if (!va_.empty()) pin(va_[0].tid, -1);
    if (!vb_.empty()) pin(vb_[0].tid, -1);
  }

  static inline TwoGuests vms_;
  std::vector<VcpuThread> va_, vb_;
};

TEST_F(VmmTest, PreemptionsAreAttributedToTheVmWhoseVcpuLostTheCpu) {
  Hog hog(0);
  // Guest A busy (a shell loop of ~10 s, longer while it shares its CPU), B idle.
  TempDir tmp("vmm-busy");
  Background busy(
      vms_.env,
      "vm exec " + vms_.a + " -- sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done'",
      tmp.path + "/busy");
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  const std::string hog_pid = std::to_string(hog.pid());
  Result r = run_vtrace(
      vms_.env,
      "-q -n 'vmm:::preempt { @p[vmname, args->next_pid == " + hog_pid +
          " ? \"hog\" : \"other\"] = count(); }' "
          "-n 'vmm:::halt { @h[vmname] = count(); }' "
          "-n 'vmm:::resume /arg5 > 0/ { @s[vmname] = sum(arg5); }' "
          "-n 'tick-3s { exit(0); }' "
          "-n 'END { printa(\"preempt %s %s %@d\\n\", @p); printa(\"halt %s %@d\\n\", @h); "
          "printa(\"stolen %s %@d\\n\", @s); }'");
  ASSERT_EQ(r.status, 0) << r.output;
  std::cout << "[ vmm ] A = " << vms_.a << ", B = " << vms_.b << ", 3 s:\n" << r.output;
  const long a_hog = number_after(r.output, "preempt " + vms_.a + " hog");
  const long a_other = std::max(0L, number_after(r.output, "preempt " + vms_.a + " other"));
  const long b_hog = number_after(r.output, "preempt " + vms_.b + " hog");
  const long b_halt = number_after(r.output, "halt " + vms_.b);
  const long a_stolen = number_after(r.output, "stolen " + vms_.a);
  const long b_stolen = std::max(0L, number_after(r.output, "stolen " + vms_.b));
  // The hog wakes 200 times a second and takes A's CPU whenever A's vCPU is running then (A's
  // vCPU also sleeps now and then: QEMU's lock, console I/O). Other tasks took it too (QEMU's
  // own main loop thread wakes on CPU 0).
  EXPECT_GE(a_hog, 50) << r.output;
  EXPECT_GE(a_hog + a_other, 50) << r.output;
  EXPECT_EQ(b_hog, -1) << r.output;  // no line at all: the hog never took B's vCPU's CPU
  EXPECT_GT(b_halt, 0) << r.output;  // B idles: its vCPU thread sleeps between timer ticks
  // The hog held CPU 0 for up to 40% of the 3 s while A's vCPU waited; B (idle, runnable only
  // briefly after each wakeup) lost less.
  EXPECT_GT(a_stolen, 100 * 2'000'000L) << r.output;
  EXPECT_GT(a_stolen, b_stolen) << r.output;
}

TEST_F(VmmTest, LatencySplitsByHostPreemption) {
  Hog hog(0);
  TempDir tmp("vmm-lat");
  Background tracer(vms_.env, "-Z -s " + std::string(EXAMPLES_DIR) + "/vmm_latency.d",
                    tmp.path + "/out");
  ASSERT_TRUE(wait_attached(vms_.run_dir->path, {vms_.a, vms_.b}, 60)) << tracer.output();
  Background rb(vms_.env, "vm exec " + vms_.b + " -- /bin/reqloop 2000", tmp.path + "/b");
  Result ra = run_vtrace(vms_.env, "vm exec " + vms_.a + " -- /bin/reqloop 2000");
  EXPECT_EQ(ra.status, 0) << ra.output;
  EXPECT_EQ(rb.wait(120), 0) << rb.output();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  tracer.interrupt();
  ASSERT_EQ(tracer.wait(30), 0) << tracer.output();
  const std::string out = tracer.output();
  std::cout << "[ vmm_latency.d ]\n" << out.substr(0, out.find("value")) << "\n";
  const size_t avg_at = out.find("AVG LAT");
  ASSERT_NE(avg_at, std::string::npos) << out;
  const size_t stolen_at = out.find("host time stolen");
  ASSERT_NE(stolen_at, std::string::npos) << out;
  const std::string counts = out.substr(0, avg_at), avgs = out.substr(avg_at, stolen_at - avg_at);
  const long a_pre = number_after(counts, vms_.a + "\\s+vCPU preempted on the host");
  const long a_ran = number_after(counts, vms_.a + "\\s+vCPU ran throughout");
  const long b_pre = std::max(0L, number_after(counts, vms_.b + "\\s+vCPU preempted on the host"));
  const long b_ran = std::max(0L, number_after(counts, vms_.b + "\\s+vCPU ran throughout"));
  EXPECT_EQ(a_pre + a_ran, 2000) << out;
  EXPECT_EQ(b_pre + b_ran, 2000) << out;
  // (B's vCPU is preempted too, by the rest of the host's load, which the scheduler moves to
  // CPU 1 while the hog holds CPU 0: A and B are not compared.)
  // Requests of 0.05..1 ms, a 2 ms burst every 5 ms: some of A's requests are hit, most not.
  EXPECT_GE(a_pre, 20) << out;
  EXPECT_GT(a_ran, 0) << out;
  // A preempted request waited for the hog's slice: longer on average than one that ran.
  EXPECT_GT(number_after(avgs, vms_.a + "\\s+vCPU preempted on the host"),
            number_after(avgs, vms_.a + "\\s+vCPU ran throughout"))
      << out;
  EXPECT_GT(number_after(out.substr(stolen_at), vms_.a), 0) << out;  // the stolen sum
}

}  // namespace
