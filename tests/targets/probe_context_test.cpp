// Probe context read at the moment a host probe fires (BPF gather programs): strings behind
// pointers that the program overwrites at once, the credentials and parent of the firing thread,
// its CPU time, and stacks. End to end through the real vtrace binary; needs root (BPF), skipped
// with the reason otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <set>
#include <sstream>
#include <string>

#include "run_vtrace.h"

namespace {

using ::vtrace::test::quote;
using ::vtrace::test::run_vtrace;
using ::vtrace::test::VtraceRun;

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(ProbeContext, EveryWrittenBufferIsSeenExactlyOnceWithItsLength) {
  REQUIRE_BPF();
  // The program overwrites each buffer right after write() returns: reading it late would print
  // 'Z's, and reading past arg2 would print the "XXXX" that follows it.
  VtraceRun r = run_vtrace(
      "-q -n 'syscall::write:entry /pid == $target/ "
      "{ printf(\"[%s]\\n\", copyinstr(arg1, arg2)); }' -c " +
      quote(std::string(WRITES_PROGRAM) + " 200"));
  ASSERT_EQ(r.status, 0) << r.err;
  std::map<std::string, int> seen;
  for (const std::string& l : lines_of(r.out))
    if (!l.empty()) ++seen[l];
  EXPECT_EQ(seen.size(), 200u) << r.out.substr(0, 2000);
  for (int i = 0; i < 200; ++i)
    EXPECT_EQ(seen["[buffer-" + std::to_string(i) + "]"], 1) << "buffer-" << i;
}

// copyin(): the bytes at the probe, here the buffer and the 4 bytes after it ("XXXX"), which the
// program overwrites right after the write: read late, they would be 'Z's.
TEST(ProbeContext, CopyinReadsTheBytesAtTheProbe) {
  REQUIRE_BPF();
  VtraceRun r = run_vtrace(
      "-q -n 'syscall::write:entry /pid == $target/ "
      "{ this->p = (char *)copyin(arg1, arg2 + 4); printf(\"[%s] %c\\n\", stringof(this->p), "
      "this->p[arg2 + 3]); }' -c " +
      quote(std::string(WRITES_PROGRAM) + " 200"));
  ASSERT_EQ(r.status, 0) << r.err;
  std::map<std::string, int> seen;
  for (const std::string& l : lines_of(r.out))
    if (!l.empty()) ++seen[l];
  EXPECT_EQ(seen.size(), 200u) << r.out.substr(0, 2000) << r.err.substr(0, 2000);
  for (int i = 0; i < 200; ++i)
    EXPECT_EQ(seen["[buffer-" + std::to_string(i) + "XXXX] X"], 1) << "buffer-" << i;
}

TEST(ProbeContext, CredentialsAreTheFiringProcesss) {
  REQUIRE_BPF();
  if (access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "skipped: no setpriv(1)";
  // setpriv drops to nobody and execs the loop in the same process ($target).
  VtraceRun r = run_vtrace(
      "-q -n 'syscall::getppid:entry /pid == $target/ { printf(\"uid=%d gid=%d\\n\", uid, gid); "
      "exit(0); }' -c " +
      quote("/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups " +
            std::string(GETPPID_LOOP) + " 1"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("uid=65534 gid=65534"), std::string::npos) << r.out << r.err;
}

TEST(ProbeContext, PpidIsTheFiringProcesssParent) {
  REQUIRE_BPF();
  // getppid_loop prints what getppid() returned; ppid at its getppid:entry must be the same.
  VtraceRun r = run_vtrace(
      "-q -n 'syscall::getppid:entry /pid == $target/ { printf(\"ppid=%d\\n\", ppid); }' -c " +
      quote(std::string(GETPPID_LOOP) + " 1"));
  ASSERT_EQ(r.status, 0) << r.err;
  std::string own, traced;
  for (const std::string& l : lines_of(r.out)) {
    if (l.rfind("ppid=", 0) == 0)
      traced = l.substr(5);
    else if (!l.empty() && own.empty())
      own = l;
  }
  ASSERT_FALSE(traced.empty()) << r.out;
  EXPECT_EQ(traced, own) << r.out;
  EXPECT_NE(traced, std::to_string(getpid()));
}

TEST(ProbeContext, SchedStatRuntimeSumsTheThreadsCpuTime) {
  REQUIRE_BPF();
  if (access("/sys/kernel/tracing/events/sched/sched_stat_runtime", F_OK) != 0 &&
      access("/sys/kernel/debug/tracing/events/sched/sched_stat_runtime", F_OK) != 0)
    GTEST_SKIP() << "skipped: this kernel has no sched:sched_stat_runtime tracepoint";
  VtraceRun r = run_vtrace(
      "-q -n 'tracepoint:sched::sched_stat_runtime /pid == $target/ "
      "{ @ = sum(args->runtime); } END { printa(\"runtime=%@d\\n\", @); }' -c " +
      quote(std::string(BUSY_PROGRAM) + " 500"));
  ASSERT_EQ(r.status, 0) << r.err;
  long long cpu = -1, runtime = -1;
  for (const std::string& l : lines_of(r.out)) {
    if (l.rfind("cpu_ns=", 0) == 0) cpu = std::stoll(l.substr(7));
    if (l.rfind("runtime=", 0) == 0) runtime = std::stoll(l.substr(8));
  }
  ASSERT_GT(cpu, 0) << r.out;
  ASSERT_GT(runtime, 0) << r.out;
  // Every firing counted once: the sum is the program's CPU time (within 10%), not a multiple.
  EXPECT_NEAR(static_cast<double>(runtime), static_cast<double>(cpu), 0.1 * cpu) << r.out;
}

TEST(ProbeContext, VtimestampIsTheThreadsCpuTime) {
  REQUIRE_BPF();
  VtraceRun r = run_vtrace(
      "-q -n 'syscall::write:entry /pid == $target/ { printf(\"vt=%d\\n\", vtimestamp); }' -c " +
      quote(std::string(BUSY_PROGRAM) + " 200"));
  ASSERT_EQ(r.status, 0) << r.err;
  long long cpu = -1, vt = -1;
  for (const std::string& l : lines_of(r.out)) {
    if (l.rfind("cpu_ns=", 0) == 0) cpu = std::stoll(l.substr(7));
    if (l.rfind("vt=", 0) == 0) vt = std::stoll(l.substr(3));
  }
  ASSERT_GT(cpu, 0) << r.out;
  // The write of "cpu_ns=..." comes after 200 ms on the CPU: vtimestamp is the thread's on-CPU
  // time (as the scheduler last accounted it), not vtrace's own.
  EXPECT_GT(vt, cpu / 2) << r.out;
  EXPECT_LE(vt, cpu + 50000000) << r.out;
}

TEST(ProbeContext, OnCpuHasNoCredentialsOfTheThreadTakingTheCpu) {
  REQUIRE_BPF();
  // sched:::on-cpu runs in the thread leaving the CPU: vtrace says so rather than print its uid.
  VtraceRun r = run_vtrace("-q -n 'sched:::on-cpu { trace(uid); } tick-200ms { exit(0); }'");
  EXPECT_NE(r.err.find("not gathered at the probe"), std::string::npos) << r.err;
}

TEST(ProbeContext, ACopyinstrOfAValueTheProbeCannotComputeFaultsInsteadOfReadingLate) {
  REQUIRE_BPF();
  // The address comes from a global set by another clause: the probe cannot compute it.
  VtraceRun r = run_vtrace(
      "-q -n 'syscall::openat:entry /pid == $target/ { a = arg1; } "
      "syscall::openat:return /pid == $target && a/ { printf(\"%s\\n\", copyinstr(a)); exit(0); }' "
      "-c " +
      quote(std::string(GETPPID_LOOP) + " 1"));
  EXPECT_NE(r.err.find("not gathered at the probe"), std::string::npos) << r.out << r.err;
}

TEST(ProbeContext, KernelStacksShowTheSyscallPathBySymbol) {
  REQUIRE_BPF();
  VtraceRun r =
      run_vtrace("-q -n 'syscall::getppid:entry /pid == $target/ { @[stack()] = count(); }' -c " +
                 quote(std::string(GETPPID_LOOP) + " 100"));
  ASSERT_EQ(r.status, 0) << r.err;
  // dtrace's layout: one frame per line, `module`function+0xoffset`, then the count.
  EXPECT_NE(r.out.find("              vmlinux`do_syscall_64+0x"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n              100\n"), std::string::npos) << r.out;
}

TEST(ProbeContext, ProfileSamplesABusyProgramWithItsOwnFunctionNames) {
  REQUIRE_BPF();
  VtraceRun r = run_vtrace(
      "-q -n 'profile-997 /execname == \"spin\"/ { @spin = count(); @[ustack()] = count(); } "
      "END { printa(\"spin=%@d\\n\", @spin); }' -c " +
      quote(std::string(SPIN_PROGRAM) + " 500"));
  ASSERT_EQ(r.status, 0) << r.err;
  auto number = [&](const std::string& tag) {
    size_t at = r.out.find(tag + "=");
    return at == std::string::npos ? -1L : std::stol(r.out.substr(at + tag.size() + 1));
  };
  // One busy thread for 500 ms: ~500 samples at 997 Hz, far fewer when parallel tests (or a
  // sanitizer build) share the two CPUs: 159 was seen so. profile-N once sampled only vtrace
  // itself: none. Comparisons with other processes' samples depend on what the other tests run
  // at the same time.
  EXPECT_GT(number("spin"), 50) << r.out;
  EXPECT_NE(r.out.find("spin`spin+0x"), std::string::npos) << r.out;
}

}  // namespace
