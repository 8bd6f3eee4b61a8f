// Clauses placed at the probe (bpf/clause_program.h): which clauses run in the kernel and why the
// others do not (vtrace -e -v), and that their aggregations give exactly what the engine gives
// for the same events. End to end through the real vtrace binary; needs root (BPF).
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "run_vtrace.h"

namespace {

using ::vtrace::test::quote;
using ::vtrace::test::run_vtrace;
using ::vtrace::test::VtraceRun;

std::string loop(long n) {
  return quote(std::string(GETPPID_LOOP) + " " + std::to_string(n));
}

TEST(AtProbe, PlacementIsShownWithItsReason) {
  VtraceRun r = run_vtrace(
      "-e -v -n 'syscall::write:entry /pid == 1/ { @c = count(); @s[tid, cpu] = sum(arg2); }' "
      "-n 'syscall::write:return { @r[probefunc] = count(); }' "
      "-n 'syscall::write:return { @m = max(arg0); } tick-1s { clear(@m); }'");
  if (r.status != 0 && r.err.find("tracefs") != std::string::npos)
    GTEST_SKIP() << "skipped: no tracefs: " << r.err;
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("clause #1 (<command line>:1) runs at the probe (BPF)"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("clause #2 (<command line>:2) runs in vtrace: it reads a built-in variable "
                       "only the host has"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("clause #3 (<command line>:3) runs in vtrace: @m is also used on the host"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("clause #4 (<command line>:3) runs in vtrace: it is enabled on "
                       "profile:::tick-1s, which is not a kernel tracepoint or USDT probe"),
            std::string::npos)
      << r.err;
}

TEST(AtProbe, ThreeMillionEventsAreCountedExactly) {
  REQUIRE_BPF();
  VtraceRun r = run_vtrace(
      "-q -n 'syscall::getppid:entry /pid == $target/ { @ = count(); }' "
      "-n 'END { printa(\"count=%@d\\n\", @); }' -c " +
      loop(3000000));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("count=3000000\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("drops"), std::string::npos) << r.err;
}

TEST(AtProbe, AggregationsEqualThoseTheEngineComputes) {
  REQUIRE_BPF();
  const std::string clause =
      "syscall::write:entry, syscall::write:return /pid == $target/ "
      "{ @c[id] = count(); @s = sum(arg2 * 2 - 1); @mn[tid == pid] = min(arg0); "
      "@mx = max(arg2 & 0xff); @a = avg(arg0 + 3); @k[uid, gid, arg0 > 1] = count(); "
      "@n[(int8_t)(arg2 << 4)] = sum(-1); @q = quantize(arg2 * 1000 - 6000); "
      "@l[id] = lquantize(arg2 - 8, -3, 6, 2); @z = quantize(0); "
      "@e[arg0 > 1, execname] = count(); @f[execname] = sum(arg2); %s }";
  // The same clause with a global store stays in the engine.
  char at[2048], host[2048];
  std::snprintf(at, sizeof at, clause.c_str(), "");
  std::snprintf(host, sizeof host, clause.c_str(), "g = 1;");
  VtraceRun v = run_vtrace("-e -v -n " + quote(at));
  EXPECT_NE(v.err.find("runs at the probe (BPF)"), std::string::npos) << v.err;
  const std::string writes = quote(std::string(WRITES_PROGRAM) + " 2000");
  VtraceRun a = run_vtrace("-q -n " + quote(at) + " -c " + writes);
  VtraceRun h = run_vtrace("-q -n " + quote(host) + " -c " + writes);
  ASSERT_EQ(a.status, 0) << a.err;
  ASSERT_EQ(h.status, 0) << h.err;
  EXPECT_EQ(a.out, h.out);
  EXPECT_NE(a.out.find("2000"), std::string::npos) << a.out;
}

TEST(AtProbe, ExecnameComparisonsEqualTheEngines) {
  REQUIRE_BPF();
  const std::string script =
      "syscall::write:entry /pid == $target && execname == \"writes\"/ { @a[execname] = count(); "
      "%s } "
      "syscall::write:entry /pid == $target && execname != \"wri\" && \"writer\" > execname/ "
      "{ @b = count(); %s } "
      "syscall::write:entry /pid == $target && execname >= \"writes\" && execname < \"writesa\"/ "
      "{ @c = count(); %s } "
      "syscall::write:entry /pid == $target && \"writer\" < execname && "
      "execname < \"writesaaaaaaaaaaaaaaaaaaaaaaaaaaa\"/ { @d = count(); %s }";
  char at[2048], host[2048];
  std::snprintf(at, sizeof at, script.c_str(), "", "", "", "");
  const char* h = "g = 1;";
  std::snprintf(host, sizeof host, script.c_str(), h, h, h, h);
  VtraceRun v = run_vtrace("-e -v -n " + quote(at));
  EXPECT_EQ(v.err.find("runs in vtrace"), std::string::npos) << v.err;
  const std::string writes = quote(std::string(WRITES_PROGRAM) + " 300");
  VtraceRun a = run_vtrace("-q -n " + quote(at) + " -c " + writes);
  VtraceRun e = run_vtrace("-q -n " + quote(host) + " -c " + writes);
  ASSERT_EQ(a.status, 0) << a.err;
  EXPECT_EQ(a.out, e.out);
  EXPECT_NE(a.out.find("writes                                                          300"),
            std::string::npos)
      << a.out;
}

// self-> scalars at the probe: a hash map per variable keyed by thread id; reads of a missing
// key give 0, storing 0 frees it, stores narrow to the variable's type, as in the engine.
TEST(AtProbe, SelfVariablesEqualTheEngines) {
  REQUIRE_BPF();
  const std::string script =
      "self int8_t small; "
      "syscall::write:entry /pid == $target/ "
      "{ self->fd = arg0; self->len = arg2; self->small = arg2 * 16; %s } "
      "syscall::write:return /self->len/ { @w[self->fd] = sum(self->len); "
      "@ok = sum(arg0 == self->len); @s = sum(self->small); self->len = 0; %s } "
      "syscall::write:return /pid == $target && self->len == 0/ { @cleared = count(); %s }";
  char at[2048], host[2048];
  std::snprintf(at, sizeof at, script.c_str(), "", "", "");
  const char* h = "g = 1;";  // a global keeps the clauses, and so their self-> variables, in vtrace
  std::snprintf(host, sizeof host, script.c_str(), h, h, h);
  VtraceRun v = run_vtrace("-e -v -n " + quote(at));
  EXPECT_EQ(v.err.find("runs in vtrace"), std::string::npos) << v.err;
  VtraceRun hv = run_vtrace("-e -v -n " + quote(host));
  EXPECT_NE(hv.err.find("clause #2 (<command line>:1) runs in vtrace: self->len is also used on "
                        "the host"),
            std::string::npos)
      << hv.err;
  const std::string writes = quote(std::string(WRITES_PROGRAM) + " 2000");
  VtraceRun a = run_vtrace("-q -n " + quote(at) + " -c " + writes);
  VtraceRun e = run_vtrace("-q -n " + quote(host) + " -c " + writes);
  ASSERT_EQ(a.status, 0) << a.err;
  ASSERT_EQ(e.status, 0) << e.err;
  EXPECT_EQ(a.out, e.out);
  // 2000 writes of "buffer-I" (8 to 11 bytes), all complete; (int8_t)(len * 16) sums negative.
  EXPECT_NE(a.out.find("             2000\n          -177760\n             2000"),
            std::string::npos)
      << a.out;
  EXPECT_EQ(a.err, "");
}

// this-> at the probe: a slot of the clause's own program, so only where the clause writes it on
// every path before reading it (another clause's value is not in its program).
TEST(AtProbe, ThisVariablesEqualTheEngines) {
  REQUIRE_BPF();
  const std::string script =
      "syscall::write:entry /pid == $target/ { this->n = arg2 * 2; "
      "this->b = (uint8_t)(arg2 + 250); if (arg2 > 9) { this->n = 0; } @s = sum(this->n); "
      "@b = max(this->b); %s } "
      "syscall::write:entry /pid == $target/ { this->n = arg2; @t = sum(this->n); %s }";
  char at[2048], host[2048];
  std::snprintf(at, sizeof at, script.c_str(), "", "");
  std::snprintf(host, sizeof host, script.c_str(), "g = 1;", "g = 1;");
  VtraceRun v = run_vtrace("-e -v -n " + quote(at));
  EXPECT_EQ(v.err.find("runs in vtrace"), std::string::npos) << v.err;
  const std::string writes = quote(std::string(WRITES_PROGRAM) + " 300");
  VtraceRun a = run_vtrace("-q -n " + quote(at) + " -c " + writes);
  VtraceRun e = run_vtrace("-q -n " + quote(host) + " -c " + writes);
  ASSERT_EQ(a.status, 0) << a.err;
  EXPECT_EQ(a.out, e.out);
  // "buffer-I": 10 of 8 bytes and 90 of 9 doubled, 200 of 10 zeroed; (uint8_t)(10 + 250) = 4.
  EXPECT_EQ(a.out, "\n             1780\n                4\n             2890\n");
  VtraceRun r = run_vtrace(
      "-e -v -n 'syscall::write:entry { this->x = 1; @a = count(); } "
      "syscall::write:entry /this->x/ { @b = count(); }' "
      "-n 'syscall::write:entry { if (arg0 > 1) { this->y = 1; } @c[this->y] = count(); }'");
  EXPECT_NE(r.err.find("clause #2 (<command line>:1) runs in vtrace: it reads this->x before it "
                       "surely wrote it"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("clause #1 (<command line>:1) runs in vtrace: this->x is also used on the "
                       "host"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("clause #3 (<command line>:2) runs in vtrace: it reads this->y before it "
                       "surely wrote it"),
            std::string::npos)
      << r.err;
}

TEST(AtProbe, ErrnoOfASyscallReturnEqualsTheEngines) {
  REQUIRE_BPF();
  const std::string clause =
      "syscall::openat:return /pid == $target/ { @[errno, arg0 < 0] = count(); %s }";
  char at[512], host[512];
  std::snprintf(at, sizeof at, clause.c_str(), "");
  std::snprintf(host, sizeof host, clause.c_str(), "g = 1;");
  VtraceRun v = run_vtrace("-e -v -n " + quote(at));
  EXPECT_NE(v.err.find("runs at the probe (BPF)"), std::string::npos) << v.err;
  const std::string cat = quote("cat /nonexistent/a /nonexistent/b /etc/hostname");
  VtraceRun a = run_vtrace("-q -n " + quote(at) + " -c " + cat);
  VtraceRun e = run_vtrace("-q -n " + quote(host) + " -c " + cat);
  EXPECT_EQ(a.out, e.out);
  EXPECT_NE(a.out.find("        2        1 "), std::string::npos) << a.out;  // ENOENT, failed
}

TEST(AtProbe, FullSelfVariableMapsCountDrops) {
  REQUIRE_BPF();
  // dynvarsize=1024 (its least) leaves a map of 16 threads; 40 threads each keep a variable set.
  VtraceRun r = run_vtrace(
      "-q -x dynvarsize=1024 -n 'syscall::clock_nanosleep:entry /pid == $target/ "
      "{ self->t = 1; @n = count(); }' -c " +
      quote(std::string(SAMPLE_BINARY) + " 20 1000 40"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("800"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("dynamic variable drops on CPU"), std::string::npos) << r.err;
}

}  // namespace
