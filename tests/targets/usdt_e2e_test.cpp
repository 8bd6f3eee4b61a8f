// End to end: USDT probes of unmodified programs through the real vtrace binary — the sdt test
// program (-c, -p, the usdt:PATH spelling), libstdc++'s own probes, a file without notes. Needs
// root (uprobes through perf_event_open); skipped with the reason otherwise.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "run_vtrace.h"

namespace {

using VRun = ::vtrace::test::VtraceRun;
using ::vtrace::test::quote;

VRun vtrace(const std::string& args) {
  return ::vtrace::test::run_vtrace(args);
}

#define REQUIRE_ROOT()                                                                       \
  do {                                                                                       \
    if (geteuid() != 0) GTEST_SKIP() << "skipped: needs root (uprobes via perf_event_open)"; \
  } while (0)

// "key value" lines (printa("%s %@d\n", ...)) into a map.
std::map<std::string, long> pairs(const std::string& out) {
  std::map<std::string, long> m;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string k;
    long v;
    if (l >> k >> v) m[k] = v;
  }
  return m;
}

const char* kSampleScript = R"(
sample:::ints { @n["ints"] = count(); @s["ints0"] = sum(arg0); @s["ints1"] = sum(arg1); }
sample:::str { @n["str"] = count(); @s["str0"] = sum(arg0); @w[copyinstr(arg1)] = count(); }
sample:::consts /arg0 == 42 && arg1 == -7 && arg2 == 1/ { @n["consts"] = count(); }
sample:::regs /arg1 == -arg0 && arg2 == arg0/ { @n["regs"] = count(); @s["regs0"] = sum(arg0); }
sample:::global /(arg0 & 1) == 0 && arg0 >= 0 && arg0 < 2 * $1/ { @n["global"] = count(); }
sample:::guarded { @n["guarded"] = count(); @s["guarded0"] = sum(arg0); }
sample:::loop-done { @n["done"] = count(); @s["done0"] = sum(arg0); }
END { printa("%s %@d\n", @n); printa("%s %@d\n", @s); printa("%s %@d\n", @w); }
)";

void check_sample(const VRun& r, long n) {
  auto m = pairs(r.out);
  for (const char* k : {"ints", "str", "consts", "regs", "global", "guarded"})
    EXPECT_EQ(m[k], n) << k << "\n" << r.out << r.err;
  EXPECT_EQ(m["done"], 1);
  EXPECT_EQ(m["done0"], n);
  EXPECT_EQ(m["ints0"], n * (n - 1) / 2);   // arg0 = i (a stack operand, -4@-36(%rbp))
  EXPECT_EQ(m["ints1"], -n * (n + 1) / 2);  // arg1 = -i-1 (negative int)
  EXPECT_EQ(m["str0"], n * (n - 1) / 2);
  EXPECT_EQ(m["regs0"], n * (n - 1) / 2);             // registers (-8@%rdi, -8@%rax, -2@%di)
  EXPECT_EQ(m["guarded0"], n * (n - 1) / 2);          // semaphore-guarded
  EXPECT_EQ(m["alpha"] + m["beta"] + m["gamma"], n);  // copyinstr of a char* argument
  EXPECT_EQ(m["alpha"], (n + 2) / 3);
  EXPECT_NE(r.out.find("guarded=" + std::to_string(n) + "\n"), std::string::npos)
      << "the program saw its semaphore raised for every iteration";
}

std::string script_file(const std::string& text) {
  char path[] = "/tmp/vtrace-usdt-d-XXXXXX";
  int fd = mkstemp(path);
  if (fd >= 0) {
    if (write(fd, text.data(), text.size()) < 0) {
    }
    close(fd);
  }
  return path;
}

TEST(UsdtEndToEnd, SampleProgramUnderC) {
  if (!USDT_SAMPLE_BY_GCC)
    GTEST_SKIP() << "skipped: the sample's USDT operand checks assume gcc's code generation";
  REQUIRE_ROOT();
  const long n = 300;
  std::string d = script_file(kSampleScript);
  // The program sleeps 300 ms before exiting: copyinstr reads its memory after the fact.
  VRun r =
      vtrace("-q -c " + quote(std::string(USDT_SAMPLE) + " " + std::to_string(n) + " 0 0 300") +
             " -s " + d + " " + std::to_string(n));
  unlink(d.c_str());
  ASSERT_EQ(r.status, 0) << r.err;
  check_sample(r, n);
}

TEST(UsdtEndToEnd, SampleProgramUnderP) {
  REQUIRE_ROOT();
  const long n = 200;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Starts firing after 1.5 s, when vtrace has attached.
    std::string a = std::to_string(n);
    execl(USDT_SAMPLE, USDT_SAMPLE, a.c_str(), "1500", "0", "300", nullptr);
    _exit(127);
  }
  usleep(100000);
  // -l -p lists the process's USDT probes under its pid.
  VRun l = vtrace("-l -p " + std::to_string(pid));
  EXPECT_EQ(l.status, 0) << l.err;
  EXPECT_NE(l.out.find("pid" + std::to_string(pid) + ":sample"), std::string::npos) << l.out;
  EXPECT_NE(l.out.find("loop-done"), std::string::npos) << l.out;
  // DTrace's spelling PROVIDER$target; vtrace stops when the process exits.
  VRun r = vtrace(
      "-q -n 'sample$target:::ints { @n[\"ints\"] = count(); @s[\"s\"] = sum(arg0); }"
      " END { printa(\"%s %@d\\n\", @n); printa(\"%s %@d\\n\", @s); }' -p " +
      std::to_string(pid));
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_EQ(r.status, 0) << r.err;
  auto m = pairs(r.out);
  EXPECT_EQ(m["ints"], n) << r.out << r.err;
  EXPECT_EQ(m["s"], n * (n - 1) / 2);
}

// Clauses on USDT probes that touch only arguments and aggregations run at the probe, in the
// uprobe's BPF program (registers, stack operands, a semaphore-guarded site): the same numbers as
// when vtrace runs them.
TEST(UsdtEndToEnd, ClausesRunAtTheProbe) {
  if (!USDT_SAMPLE_BY_GCC)
    GTEST_SKIP() << "skipped: the sample's USDT operand checks assume gcc's code generation";
  REQUIRE_ROOT();
  const long n = 300;
  const std::string script =
      "sample:::ints { @ints = count(); @ints0 = sum(arg0); @ints1 = min(arg1); %s }"
      "sample:::consts /arg0 == 42 && arg1 == -7 && arg2 == 1/ { @consts = count(); %s }"
      "sample:::regs /arg1 == -arg0 && arg2 == arg0/ { @regs = quantize(arg0); %s }"
      "sample:::guarded { @guarded = sum(arg0); %s }"
      "END { printa(\"ints %@d\\n\", @ints); printa(\"ints0 %@d\\n\", @ints0); "
      "printa(\"ints1 %@d\\n\", @ints1); "
      "printa(\"consts %@d\\n\", @consts); printa(\"guarded %@d\\n\", @guarded); "
      "printa(@regs); }";
  char at[2048], host[2048];
  std::snprintf(at, sizeof at, script.c_str(), "", "", "", "");
  const char* h = "g = 1;";  // a global keeps a clause in vtrace
  std::snprintf(host, sizeof host, script.c_str(), h, h, h, h);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl(USDT_SAMPLE, USDT_SAMPLE, "1", "5000", "0", "0", nullptr);
    _exit(127);
  }
  usleep(100000);
  VRun v = vtrace("-e -v -p " + std::to_string(pid) + " -n " + quote(at));
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  for (int c = 1; c <= 4; ++c)
    EXPECT_NE(v.err.find("clause #" + std::to_string(c) + " (<command line>:1) runs at the probe"),
              std::string::npos)
        << v.err;
  const std::string cmd = " -c " + quote(std::string(USDT_SAMPLE) + " " + std::to_string(n));
  VRun a = vtrace("-q -n " + quote(at) + cmd);
  VRun e = vtrace("-q -n " + quote(host) + cmd);
  ASSERT_EQ(a.status, 0) << a.err;
  ASSERT_EQ(e.status, 0) << e.err;
  EXPECT_EQ(a.out, e.out);
  EXPECT_NE(a.out.find("ints 300\nints0 44850\nints1 -300\n"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("consts 300\n"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("guarded 44850\n"), std::string::npos) << a.out;
  // Their sites send no record to vtrace: a ring of 4 KiB loses none of 100,000 firings.
  VRun burst = vtrace("-q -x bufsize=4k -n 'sample:::ints { @ = count(); }' -c " +
                      quote(std::string(USDT_SAMPLE) + " 100000"));
  ASSERT_EQ(burst.status, 0) << burst.err;
  EXPECT_NE(burst.out.find("100000"), std::string::npos) << burst.out;
  EXPECT_EQ(burst.err.find("lost"), std::string::npos) << burst.err;
}

// copyinstr() of a USDT argument is read at the probe, while the thread is stopped there: each
// of 200 stack buffers, overwritten right after its probe, comes back exactly once. (Arguments
// read from a sample afterwards saw "ZZZ...".)
TEST(UsdtEndToEnd, StringsAreReadAtTheProbe) {
  REQUIRE_ROOT();
  const int n = 200;
  VRun r = vtrace("-q -n 'sample:::buffer { printf(\"%d %s\\n\", arg1, copyinstr(arg0)); }' -c " +
                  quote(std::string(USDT_BUFFERS) + " " + std::to_string(n)));
  ASSERT_EQ(r.status, 0) << r.err;
  std::map<std::string, int> seen;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) ++seen[line];
  for (int i = 0; i < n; ++i) {
    const std::string want = std::to_string(i) + " buffer-" + std::to_string(i);
    EXPECT_EQ(seen[want], 1) << want;
    seen.erase(want);
  }
  EXPECT_TRUE(seen.empty()) << seen.size() << " other lines, first: " << seen.begin()->first;
}

TEST(UsdtEndToEnd, BpftraceSpellingOfAPath) {
  REQUIRE_ROOT();
  VRun r = vtrace(std::string("-q -n 'usdt:") + USDT_SAMPLE +
                  ":sample:loop__done { @[arg0] = count(); } END { printa(\"done %@d %d\\n\", @); "
                  "}' -c " +
                  quote(std::string(USDT_SAMPLE) + " 77"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("done 1 77"), std::string::npos) << r.out << r.err;
}

TEST(UsdtEndToEnd, LibstdcxxThrowAndCatch) {
  REQUIRE_ROOT();
  const long n = 1000;
  VRun r = vtrace(
      "-q -n 'libstdcxx:::throw { @n[\"throw\"] = count(); } libstdcxx:::catch "
      "{ @n[\"catch\"] = count(); } END { printa(\"%s %@d\\n\", @n); }' -c " +
      quote(std::string(USDT_THROW) + " " + std::to_string(n)));
  ASSERT_EQ(r.status, 0) << r.err;
  auto m = pairs(r.out);
  EXPECT_EQ(m["throw"], n) << r.out << r.err;
  EXPECT_EQ(m["catch"], n);
  EXPECT_NE(r.out.find("caught=1000"), std::string::npos);
}

// A stripped copy of the sample has no symbol table: the operand of sample:::global
// ("-4@g_counter(%rip)") names a symbol vtrace cannot resolve. The probe still fires and counts,
// but a clause reading that argument faults ("not gathered at the probe"), never sums zeros.
TEST(UsdtEndToEnd, AnArgumentTheProbeCannotReadFaultsInsteadOfReadingZero) {
  if (!USDT_SAMPLE_BY_GCC)
    GTEST_SKIP() << "skipped: the sample's USDT operand checks assume gcc's code generation";
  REQUIRE_ROOT();
  char dir[] = "/tmp/vtrace-usdt-strip-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string stripped = std::string(dir) + "/usdt_sample";
  ASSERT_EQ(
      std::system(("objcopy --strip-all " + quote(USDT_SAMPLE) + " " + quote(stripped)).c_str()),
      0);
  VRun r = vtrace(
      "-q -n 'sample:::global { @n = count(); } sample:::global { @s = sum(arg0); } "
      "END { printa(\"n=%@d\\n\", @n); printa(\"s=%@d\\n\", @s); }' -c " +
      quote(stripped + " 20 0 0 0"));
  unlink(stripped.c_str());
  rmdir(dir);
  EXPECT_NE(r.out.find("n=20\n"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(r.out.find("s="), std::string::npos) << r.out << r.err;  // no sum of zeros
  EXPECT_NE(r.err.find("not gathered at the probe"), std::string::npos) << r.err;
}

TEST(UsdtEndToEnd, FileWithoutNotesIsAClearError) {
  REQUIRE_ROOT();
  VRun r = vtrace("-n 'usdt:/bin/true:a:b { }'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("/bin/true has no USDT probes (.note.stapsdt)"), std::string::npos) << r.err;
}

// A vtrace killed with SIGKILL cannot remove the uprobe events it created in tracefs; the next
// vtrace that creates its own removes those of a vtrace that is gone, so none pile up.
TEST(UsdtE2E, UprobeEventsOfAKilledVtraceAreRemoved) {
  REQUIRE_ROOT();
  const std::string events = "/sys/kernel/tracing/uprobe_events";
  if (access(events.c_str(), W_OK) != 0) GTEST_SKIP() << "skipped: no writable " << events;
  pid_t gone = fork();
  if (gone == 0) _exit(0);
  waitpid(gone, nullptr, 0);  // a pid no process has now
  const std::string group = "vtrace_usdt_" + std::to_string(gone);
  const std::string def = "p:" + group + "/s0 " + USDT_SAMPLE + ":0x1000\n";
  int fd = open(events.c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0) << events << ": " << strerror(errno);
  ASSERT_EQ(write(fd, def.data(), def.size()), static_cast<ssize_t>(def.size()))
      << def << strerror(errno);
  close(fd);
  auto listed = [&] {
    std::ifstream in(events);
    std::stringstream text;
    text << in.rdbuf();
    return text.str().find(group + "/s0") != std::string::npos;
  };
  ASSERT_TRUE(listed()) << "could not plant the stale event";
  VRun r = vtrace("-q -n 'sample$target:::* { @ = count(); }' -c " +
                  quote(std::string(USDT_SAMPLE) + " 1 0 0 0"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(listed()) << "the dead vtrace's uprobe event is still in " << events;
}

}  // namespace
