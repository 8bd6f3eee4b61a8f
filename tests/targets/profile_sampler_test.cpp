// profile:::profile-N on the host: samples of every CPU in the context they interrupt. The
// decoding of a sample (arg0 kernel PC, arg1 user PC), then end to end through the real vtrace
// binary with a busy program (needs root: perf events on every CPU; skipped otherwise), and the
// error a user without perf events gets.
#include "targets/host/profile_sampler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "run_vtrace.h"

namespace vtrace::targets::host {
namespace {

using ::vtrace::test::quote;
using ::vtrace::test::run_bash;
using ::vtrace::test::VtraceRun;

constexpr uint64_t kKernelPc = 0xffffffff81234567ull;
constexpr uint64_t kUserPc = 0x55555555a123ull;

TEST(ProfileSampler, UserModeSampleHasOnlyTheUserPc) {
  sys::SampleView s;
  s.ip = kUserPc;
  s.pid = 10;
  s.tid = 11;
  s.cpu = 1;
  s.time = 99;
  ProfileSampler::Sample out = ProfileSampler::decode(s, 7);
  EXPECT_EQ(out.probe, 7u);
  EXPECT_EQ(out.kernel_pc, 0u);
  EXPECT_EQ(out.user_pc, kUserPc);
  EXPECT_EQ(out.pid, 10);
  EXPECT_EQ(out.tid, 11);
  EXPECT_EQ(out.cpu, 1u);
  EXPECT_EQ(out.time, 99u);
}

TEST(ProfileSampler, KernelModeSampleHasOnlyTheKernelPc) {
  sys::SampleView s;
  s.ip = kKernelPc;
  ProfileSampler::Sample out = ProfileSampler::decode(s, 7);
  EXPECT_EQ(out.kernel_pc, kKernelPc);
  EXPECT_EQ(out.user_pc, 0u);  // DTrace: arg1 is 0 when the CPU was in the kernel
}

TEST(ProfileSampler, AttrSamplesEveryPeriodOnTheHostClock) {
  perf_event_attr a = ProfileSampler::attr(1000000000ull / 997);
  EXPECT_EQ(a.type, uint32_t{PERF_TYPE_SOFTWARE});
  EXPECT_EQ(a.config, uint64_t{PERF_COUNT_SW_CPU_CLOCK});
  EXPECT_EQ(a.sample_period, 1000000000ull / 997);
  EXPECT_EQ(a.freq, 0u);
  EXPECT_TRUE(a.use_clockid);
  EXPECT_EQ(a.clockid, CLOCK_MONOTONIC);
  EXPECT_TRUE(a.disabled);
  const uint64_t need = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID |
                        PERF_SAMPLE_TIME | PERF_SAMPLE_CPU;
  EXPECT_EQ(a.sample_type & need, need);
  EXPECT_EQ(a.sample_type & ~sys::kSupportedSampleType, 0u);  // parse_sample() can walk it
}

// ---- end to end -------------------------------------------------------------------------

std::string skip_reason() {
  if (geteuid() != 0) return "needs root (perf events sampling every CPU)";
  return "";
}

#define REQUIRE_ROOT()                                    \
  do {                                                    \
    std::string why = skip_reason();                      \
    if (!why.empty()) GTEST_SKIP() << "skipped: " << why; \
  } while (0)

std::string spin(int ms, int threads = 1) {
  return quote(std::string(SPIN_PROGRAM) + " " + std::to_string(ms) + " " +
               std::to_string(threads));
}

// "KEY VALUE" lines of the output whose first word is `tag`: key -> value.
std::map<std::string, long> tagged(const std::string& out, const std::string& tag) {
  std::map<std::string, long> m;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string t, key;
    long v = -1;
    if (l >> t >> key >> v && t == tag) m[key] = v;
  }
  return m;
}

TEST(ProfileSampler, BusyProgramGetsTheSamplesInItsOwnContext) {
  REQUIRE_ROOT();
  VtraceRun r = ::vtrace::test::run_vtrace(
      "-q -n 'profile-997 /pid == $target/ { @n = count(); @e[execname] = count(); "
      "user += arg0 == 0 && arg1 != 0; none += arg0 == 0 && arg1 == 0; "
      "both += arg0 != 0 && arg1 != 0; } "
      "END { printa(\"n total %@d\\n\", @n); printa(\"e %s %@d\\n\", @e); "
      "printf(\"m user %d\\nm none %d\\nm both %d\\n\", user, none, both); }' -c " +
      spin(1000));
  ASSERT_EQ(r.status, 0) << r.err;
  // 997 Hz for ~1 s of a program that never sleeps: loose bounds (a shared 2-CPU machine).
  auto n = tagged(r.out, "n");
  EXPECT_GT(n["total"], 100) << r.out << r.err;
  EXPECT_LT(n["total"], 3000) << r.out;
  // execname is the interrupted program's, not vtrace's.
  auto e = tagged(r.out, "e");
  EXPECT_EQ(e.size(), 1u) << r.out;
  EXPECT_GT(e["spin"], 100) << r.out;
  // It spins in user mode: most samples have arg0 == 0 (no kernel PC) and arg1 its user PC;
  // exactly one of them is set, as in DTrace.
  auto m = tagged(r.out, "m");
  EXPECT_GT(m["user"], 50) << r.out;
  EXPECT_EQ(m["none"], 0) << r.out;
  EXPECT_EQ(m["both"], 0) << r.out;
}

TEST(ProfileSampler, FiresOnEveryCpu) {
  REQUIRE_ROOT();
  const long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  if (ncpu > 4) GTEST_SKIP() << "skipped: " << ncpu << " CPUs (the check keeps each one busy)";
  // One busy thread per CPU, so the program is sampled (where the scheduler puts its threads:
  // other tests may hold a CPU), and every CPU fires, idle or not.
  VtraceRun r = ::vtrace::test::run_vtrace(
      "-q -n 'profile-997 /pid == $target/ { @p[cpu] = count(); } profile-997 { @a[cpu] = "
      "count(); } END { printa(\"p %d %@d\\n\", @p); printa(\"a %d %@d\\n\", @a); }' -c " +
      spin(1000, static_cast<int>(ncpu)));
  ASSERT_EQ(r.status, 0) << r.err;
  auto p = tagged(r.out, "p");
  auto a = tagged(r.out, "a");
  long program = 0;
  for (const auto& [cpu, n] : p) program += n;
  EXPECT_GT(program, 100) << r.out;
  for (long c = 0; c < ncpu; ++c)
    EXPECT_GT(a[std::to_string(c)], 100) << "cpu " << c << "\n" << r.out;
}

TEST(ProfileSampler, WithoutPerfEventsItIsAnError) {
  int paranoid = 2;
  std::ifstream("/proc/sys/kernel/perf_event_paranoid") >> paranoid;
  if (paranoid <= 0)
    GTEST_SKIP() << "skipped: perf_event_paranoid is " << paranoid
                 << ": unprivileged users may sample every CPU";
  // Root runs vtrace as nobody; anyone else runs it as themselves.
  const std::string as = geteuid() == 0 ? "runuser -u nobody -- " : "";
  if (geteuid() == 0 && run_bash("runuser -u nobody -- true").status != 0)
    GTEST_SKIP() << "skipped: runuser -u nobody does not work here";
  VtraceRun r = run_bash("cd / && " + as + VTRACE_BINARY +
                         " -q -n 'profile-997 { @ = count(); } tick-100ms { exit(0); }' 2>@ERR@");
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_EQ(r.out, "");  // no silent fallback to a timer in vtrace
  EXPECT_NE(r.err.find("profile-997"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("perf events"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("root"), std::string::npos) << r.err;
  // tick-N needs nothing.
  VtraceRun t = run_bash("cd / && " + as + VTRACE_BINARY +
                         " -q -n 'tick-10ms { printf(\"tick\\n\"); exit(0); }' 2>@ERR@");
  EXPECT_EQ(t.status, 0) << t.err;
  EXPECT_EQ(t.out.rfind("tick\n", 0), 0u) << t.out << t.err;
}

}  // namespace
}  // namespace vtrace::targets::host
