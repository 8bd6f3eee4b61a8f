// The pid provider (function_probes.h): entry and return probes on the functions of a program
// built without vtrace probes and of its shared libraries, with -c and -p; exact counts,
// arguments from registers and the stack, return values. End to end through the real vtrace
// binary; needs root (uprobes and BPF).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "run_vtrace.h"

namespace {

using ::vtrace::test::quote;
using ::vtrace::test::run_vtrace;
using ::vtrace::test::VtraceRun;

std::string functions(long n) {
  return quote(std::string(FUNCTIONS_PROGRAM) + " " + std::to_string(n));
}

// add3(i, 2 i, -3) for i < 1000: each call returns 3 i - 3.
constexpr long kCalls = 1000;
constexpr long kSum = 3 * kCalls * (kCalls - 1) / 2 - 3 * kCalls;

TEST(PidProvider, EntryAndReturnCountExactlyWithArgumentsAndReturnValues) {
  REQUIRE_BPF();
  VtraceRun r = run_vtrace(
      "-q -n 'pid$target:a.out:add3:entry { @e = count(); @a = sum(arg0 + arg1 + arg2); }' "
      "-n 'pid$target:functions:add3:return { @r = count(); @v = sum(arg1); }' "
      "-n 'END { printa(\"entry %@d %@d\\n\", @e, @a); printa(\"return %@d %@d\\n\", @r, @v); }' "
      "-c " +
      functions(kCalls));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("entry " + std::to_string(kCalls) + " " + std::to_string(kSum) + "\n"),
            std::string::npos)
      << r.out << r.err;
  EXPECT_NE(r.out.find("return " + std::to_string(kCalls) + " " + std::to_string(kSum) + "\n"),
            std::string::npos)
      << r.out << r.err;
  EXPECT_EQ(r.err.find("lost"), std::string::npos) << r.err;
}

// Arguments past the sixth are on the stack, above the return address.
TEST(PidProvider, StackArgumentsAtEntry) {
  REQUIRE_BPF();
  VtraceRun r = run_vtrace(
      "-q -n 'pid$target::many:entry { printf(\"%d %d %d %d %d\\n\", arg0, arg5, arg6, arg7, "
      "arg9); }' -c " +
      functions(1));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("1 6 7 8 10\n"), std::string::npos) << r.out << r.err;
}

// A function of a shared library, named by the library's file name and by its prefixes.
TEST(PidProvider, MallocOfLibcCountsEveryAllocation) {
  REQUIRE_BPF();
  for (const char* module : {"libc.so.6", "libc", ""}) {
    VtraceRun r = run_vtrace(std::string("-q -n 'pid$target:") + module +
                             ":malloc:entry /arg0 == 4321/ { @ = count(); }' "
                             "-n 'END { printa(\"malloc %@d\\n\", @); }' -c " +
                             functions(400));
    ASSERT_EQ(r.status, 0) << module << r.err;
    EXPECT_NE(r.out.find("malloc 100\n"), std::string::npos) << module << r.out << r.err;
  }
}

// A return probe's arg0 (DTrace's offset of the returning instruction) is not something a
// uretprobe sees: reading it faults, never a guess; a clause that does not read it runs at the
// probe.
TEST(PidProvider, ReturnArg0IsNotGuessed) {
  REQUIRE_BPF();
  VtraceRun r =
      run_vtrace("-q -n 'pid$target::add3:return /arg1 == 0/ { trace(arg0); }' -c " + functions(2));
  EXPECT_EQ(r.out.find("0\n"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("pid"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("add3:return"), std::string::npos) << r.err;
}

// -p on a process built without vtrace probes: its functions are probes; globs and -l work.
TEST(PidProvider, RunningProcessWithoutProbesUnderP) {
  REQUIRE_BPF();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl(FUNCTIONS_PROGRAM, FUNCTIONS_PROGRAM, "-1", nullptr);
    _exit(127);
  }
  usleep(200000);
  const std::string p = std::to_string(pid);
  VtraceRun listed = run_vtrace("-l -n 'pid$target:a.out:add*:' -p " + p);
  VtraceRun placed = run_vtrace("-e -v -n 'pid$target::add3:entry { @ = count(); }' -p " + p);
  VtraceRun counted = run_vtrace(
      "-q -n 'pid$target::add3:entry { @ = count(); }' "
      "-n 'tick-300ms { printa(\"calls %@d\\n\", @); exit(0); }' -p " +
      p);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  ASSERT_EQ(listed.status, 0) << listed.err;
  EXPECT_NE(
      listed.out.find("pid" + p + "         functions                              add3 entry\n"),
      std::string::npos)
      << listed.out;
  EXPECT_NE(listed.out.find("add3 return"), std::string::npos) << listed.out;
  EXPECT_NE(placed.err.find("runs at the probe (BPF)"), std::string::npos) << placed.err;
  ASSERT_EQ(counted.status, 0) << counted.err;
  const size_t at = counted.out.find("calls ");
  ASSERT_NE(at, std::string::npos) << counted.out << counted.err;
  EXPECT_GT(std::atol(counted.out.c_str() + at + 6), 10) << counted.out;
}

// pidN:MOD:FUNC:OFFSET: the instruction at a hexadecimal offset, checked to be one (objdump
// decodes the function); it has no arguments.
TEST(PidProvider, OffsetProbesAreInstructions) {
  REQUIRE_BPF();
  VtraceRun r = run_vtrace(
      "-q -n 'pid$target:a.out:add3:0 { @ = count(); }' "
      "-n 'END { printa(\"offset0 %@d\\n\", @); }' -c " +
      functions(kCalls));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("offset0 " + std::to_string(kCalls) + "\n"), std::string::npos)
      << r.out << r.err;
  VtraceRun outside = run_vtrace("-n 'pid$target:a.out:add3:fff0 { }' -c " + functions(1));
  EXPECT_NE(outside.status, 0);
  EXPECT_NE(outside.err.find("offset 0xfff0 is not the start of an instruction of add3"),
            std::string::npos)
      << outside.err;
  VtraceRun args = run_vtrace("-q -n 'pid$target::add3:0 { trace(arg0); }' -c " + functions(1));
  EXPECT_NE(args.err.find("add3:0"), std::string::npos) << args.err;
  EXPECT_EQ(args.out.find("0\n"), std::string::npos) << args.out;
}

TEST(PidProvider, NoSuchFunctionIsAnError) {
  REQUIRE_BPF();
  VtraceRun r = run_vtrace("-n 'pid$target::no_such_function_here:entry { }' -c " + functions(1));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("does not match any probes"), std::string::npos) << r.err;
}

}  // namespace
