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

// A script run both ways: each %s empty (its clauses run at the probe) and holding a global
// store (which keeps a clause, and so its aggregations and variables, in vtrace), on `command`;
// and `vtrace -e -v` of the first, which says where each clause runs.
struct BothWays {
  std::string at_script, host_script;
  VtraceRun placement, at, host;
};

std::string fill(const std::string& script, const std::string& with) {
  std::string out;
  for (size_t i = 0; i < script.size(); ++i) {
    if (script.compare(i, 2, "%s") == 0) {
      out += with;
      ++i;
    } else {
      out += script[i];
    }
  }
  return out;
}

BothWays run_both_ways(const std::string& script, const std::string& command) {
  BothWays b;
  b.at_script = fill(script, "");
  b.host_script = fill(script, "g = 1;");
  b.placement = run_vtrace("-e -v -n " + quote(b.at_script));
  b.at = run_vtrace("-q -n " + quote(b.at_script) + " -c " + quote(command));
  b.host = run_vtrace("-q -n " + quote(b.host_script) + " -c " + quote(command));
  return b;
}

TEST(AtProbe, PlacementIsShownWithItsReason) {
  VtraceRun r = run_vtrace(
      "-e -v -n 'syscall::write:entry /pid == 1/ { @c = count(); @s[tid, cpu] = sum(arg2); }' "
      "-n 'syscall::write:return { @r[ppid] = count(); }' "
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

// A probe whose every clause runs in the kernel sends no record to vtrace: a ring of 4 KiB, which
// would lose most of 200,000 records, loses nothing.
TEST(AtProbe, ProbesWhoseClausesAllRunThereSendNothing) {
  REQUIRE_BPF();
  VtraceRun r = run_vtrace(
      "-q -x bufsize=4k -n 'syscall::getppid:entry /pid == $target/ { @ = count(); }' "
      "-n 'END { printa(\"count=%@d\\n\", @); }' -c " +
      loop(200000));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("count=200000\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("lost"), std::string::npos) << r.err;
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
  BothWays b = run_both_ways(clause, std::string(WRITES_PROGRAM) + " 2000");
  EXPECT_NE(b.placement.err.find("runs at the probe (BPF)"), std::string::npos) << b.placement.err;
  ASSERT_EQ(b.at.status, 0) << b.at.err;
  ASSERT_EQ(b.host.status, 0) << b.host.err;
  EXPECT_EQ(b.at.out, b.host.out);
  EXPECT_NE(b.at.out.find("2000"), std::string::npos) << b.at.out;
}

// stddev's sum of squares is 128 bits wide (these squares pass 2^64 and carry into the high
// word); llquantize's bins follow the orders of magnitude, below the first and past the last.
TEST(AtProbe, StddevAndLlquantizeEqualTheEngines) {
  REQUIRE_BPF();
  const std::string clause =
      "syscall::write:entry /pid == $target/ { self->i = self->i + 1; "
      "@sd = stddev(self->i * 0x10000000000 - 7); @sn[arg0] = stddev(-self->i * 12345678901); "
      "@s0 = stddev(arg2); @ll = llquantize(self->i * 13, 10, 0, 6, 20); "
      "@l2 = llquantize(self->i * self->i, 2, 2, 30, 4); "
      "@l3[arg2] = llquantize(1000 - self->i, 10, 1, 2, 10); %s }";
  BothWays b = run_both_ways(clause, std::string(WRITES_PROGRAM) + " 1500");
  EXPECT_NE(b.placement.err.find("runs at the probe (BPF)"), std::string::npos) << b.placement.err;
  ASSERT_EQ(b.at.status, 0) << b.at.err;
  ASSERT_EQ(b.host.status, 0) << b.host.err;
  EXPECT_EQ(b.at.out, b.host.out);
  // i * 13 from 10000 to 14999 (i = 770 .. 1153) in the bin of 10000, whose steps are 5000
  EXPECT_NE(b.at.out.find("10000 |@@@@@@@@@@                               384"), std::string::npos)
      << b.at.out;
}

// probeprov/probemod/probefunc/probename are constants of each probe's program; string keys are
// execname's bytes, a short constant's, or the number of a longer constant, and one string from
// two sources (execname and the constant "writes") is one key, as in the engine.
TEST(AtProbe, ProbeNamesAndStringConstantsEqualTheEngines) {
  REQUIRE_BPF();
  const std::string clause =
      "syscall::write:entry, syscall::write:return, syscall::close:entry "
      "/pid == $target && probefunc != \"close\" && probename >= \"entry\"/ "
      "{ @p[probeprov, probemod, probefunc, probename] = count(); "
      "@l[\"a constant longer than sixteen bytes\", probefunc] = sum(arg2); "
      "@e[execname] = count(); %s } "
      "syscall::write:entry /pid == $target/ { @e[\"writes\"] = count(); %s }";
  BothWays b = run_both_ways(clause, std::string(WRITES_PROGRAM) + " 700");
  EXPECT_EQ(b.placement.err.find("runs in vtrace"), std::string::npos) << b.placement.err;
  ASSERT_EQ(b.at.status, 0) << b.at.err;
  ASSERT_EQ(b.host.status, 0) << b.host.err;
  EXPECT_EQ(b.at.out, b.host.out);
  std::string words;  // the output with each run of spaces as one
  for (char ch : b.at.out)
    if (ch != ' ' || words.empty() || words.back() != ' ') words += ch;
  EXPECT_NE(words.find(" syscall write entry 700\n"), std::string::npos) << b.at.out;
  EXPECT_NE(words.find(" a constant longer than sixteen bytes write 6890\n"), std::string::npos)
      << b.at.out;
  EXPECT_NE(words.find(" writes 2100\n"), std::string::npos) << b.at.out;
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
  BothWays b = run_both_ways(script, std::string(WRITES_PROGRAM) + " 300");
  EXPECT_EQ(b.placement.err.find("runs in vtrace"), std::string::npos) << b.placement.err;
  ASSERT_EQ(b.at.status, 0) << b.at.err;
  EXPECT_EQ(b.at.out, b.host.out);
  EXPECT_NE(b.at.out.find("writes                                                          300"),
            std::string::npos)
      << b.at.out;
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
  BothWays b = run_both_ways(script, std::string(WRITES_PROGRAM) + " 2000");
  EXPECT_EQ(b.placement.err.find("runs in vtrace"), std::string::npos) << b.placement.err;
  VtraceRun hv = run_vtrace("-e -v -n " + quote(b.host_script));
  EXPECT_NE(hv.err.find("clause #2 (<command line>:1) runs in vtrace: self->len is also used on "
                        "the host"),
            std::string::npos)
      << hv.err;
  ASSERT_EQ(b.at.status, 0) << b.at.err;
  ASSERT_EQ(b.host.status, 0) << b.host.err;
  EXPECT_EQ(b.at.out, b.host.out);
  // 2000 writes of "buffer-I" (8 to 11 bytes), all complete; (int8_t)(len * 16) sums negative.
  EXPECT_NE(b.at.out.find("             2000\n          -177760\n             2000"),
            std::string::npos)
      << b.at.out;
  EXPECT_EQ(b.at.err, "");
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
  BothWays b = run_both_ways(script, std::string(WRITES_PROGRAM) + " 300");
  EXPECT_EQ(b.placement.err.find("runs in vtrace"), std::string::npos) << b.placement.err;
  ASSERT_EQ(b.at.status, 0) << b.at.err;
  EXPECT_EQ(b.at.out, b.host.out);
  // "buffer-I": 10 of 8 bytes and 90 of 9 doubled, 200 of 10 zeroed; (uint8_t)(10 + 250) = 4.
  EXPECT_EQ(b.at.out, "\n             1780\n                4\n             2890\n");
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
  BothWays b = run_both_ways(clause, "cat /nonexistent/a /nonexistent/b /etc/hostname");
  EXPECT_NE(b.placement.err.find("runs at the probe (BPF)"), std::string::npos) << b.placement.err;
  EXPECT_EQ(b.at.out, b.host.out);
  EXPECT_NE(b.at.out.find("        2        1 "), std::string::npos) << b.at.out;  // ENOENT
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
