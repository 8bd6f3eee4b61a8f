// End to end: the vtrace binary tracing the instrumented sample (tests/targets/
// instrumented_sample.cpp) through the channel, with -c, -p, -l -p, sync mode and copyinstr.
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sys/elf_probes.h"
#include "sys/process_memory.h"

namespace {

struct Result {
  int status = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs vtrace with `args` (no shell), under a 30 s timeout.
Result vtrace(const std::vector<std::string>& args) {
  char out_path[] = "/tmp/vtrace-e2e-out.XXXXXX";
  char err_path[] = "/tmp/vtrace-e2e-err.XXXXXX";
  int out_fd = mkstemp(out_path), err_fd = mkstemp(err_path);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    std::vector<char*> argv{const_cast<char*>(VTRACE_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(VTRACE_BINARY, argv.data());
    _exit(127);
  }
  close(out_fd);
  close(err_fd);
  Result r;
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  unlink(out_path);
  unlink(err_path);
  return r;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
}

std::string sample(const std::string& args) {
  return std::string(SAMPLE_BINARY) + " " + args;
}

// The sample running in the background (for -p).
class Running {
 public:
  explicit Running(const char* n, const char* delay_us) {
    pid_ = fork();
    if (pid_ == 0) {
      execl(SAMPLE_BINARY, SAMPLE_BINARY, n, delay_us, nullptr);
      _exit(127);
    }
    for (int i = 0; i < 200 && !vtrace::sys::has_probe_section(exe()); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~Running() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  std::string exe() const { return "/proc/" + std::to_string(pid_) + "/exe"; }
  pid_t pid() const { return pid_; }
  std::string spid() const { return std::to_string(pid_); }

 private:
  pid_t pid_;
};

bool no_channel_left_now();

// Tests run in parallel: a channel another test's vtrace is about to remove (its process just
// died) is not a leak, so look again for a while before calling one left behind.
bool no_channel_left() {
  for (int i = 0; i < 40; ++i) {
    if (no_channel_left_now()) return true;
    usleep(50 * 1000);
  }
  return false;
}

bool no_channel_left_now() {
  DIR* d = opendir("/dev/shm");
  if (d == nullptr) return true;
  bool none = true;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind("vtrace.", 0) != 0) continue;
    pid_t owner = std::atoi(name.c_str() + 7);
    if (owner > 0 && kill(owner, 0) != 0) none = false;  // left for a dead process
  }
  closedir(d);
  return none;
}

TEST(ProcessE2E, CountsEveryFiringUnderC) {
  Result r = vtrace(
      {"-q", "-x", "bufsize=8m", "-n", "sample:::tick { @ = count(); }", "-c", sample("5000")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(trim(r.out), "5000");
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(no_channel_left());
}

// uid, gid and ppid of a probe.h site's record are the traced process's (from /proc while it
// runs: a site does not record them), not vtrace's; its vtimestamp was not read where it fired
// and says so instead of giving vtrace's.
TEST(ProcessE2E, CredentialsAreTheProcesssAndVtimestampIsNotGuessed) {
  Running p("-1", "1000");
  Result r =
      vtrace({"-q", "-n", "sample:::tick /i++ == 0/ { printf(\"%d %d %d\\n\", uid, gid, ppid); }",
              "-n", "sample:::tick /i == 2/ { trace(vtimestamp); }", "-n",
              "sample:::tick /i == 3/ { exit(0); }", "-p", p.spid()});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(
      r.out.substr(0, r.out.find('\n')),
      std::to_string(getuid()) + " " + std::to_string(getgid()) + " " + std::to_string(getpid()))
      << r.out;
  EXPECT_NE(r.err.find("not gathered at the probe"), std::string::npos) << r.err;
}

TEST(ProcessE2E, StartProbeBeforeMainIsNotMissed) {
  Result r = vtrace(
      {"-q", "-n", "sample:::start { printf(\"start %s\\n\", probefunc); }", "-c", sample("1")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "start main\n\n");  // dtrace ends every run with a newline
}

TEST(ProcessE2E, FourThreadsCountExactly) {
  Result r = vtrace({"-q", "-x", "bufsize=8m", "-n", "sample:::tick { @[tid != pid] = count(); }",
                     "-c", sample("3000 0 4")});
  EXPECT_EQ(r.status, 0) << r.err;
  std::istringstream in(r.out);
  long key, value, total = 0;
  while (in >> key >> value) total += value;
  EXPECT_EQ(total, 12000) << r.out;
}

TEST(ProcessE2E, SyncModeCountsExactly) {
  Result r = vtrace(
      {"-q", "-x", "mode=sync", "-n", "sample:::tick { @ = count(); }", "-c", sample("3000 0 2")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(trim(r.out), "6000");
  EXPECT_EQ(r.err, "");  // sync mode never drops
}

TEST(ProcessE2E, DropsAreReportedAndAccountForEveryFiring) {
  // 200000 firings in a tight loop into 16-slot rings: most are dropped, and said so.
  // (A predicate on a built-in keeps the clause in vtrace: else the site would aggregate.)
  Result r = vtrace({"-q", "-x", "bufsize=6k", "-n", "sample:::tick /pid != 0/ { @ = count(); }",
                     "-c", sample("200000")});
  EXPECT_EQ(r.status, 0) << r.err;
  long counted = std::atol(trim(r.out).c_str());
  size_t at = r.err.rfind(": ", r.err.find(" drops"));  // "vtrace: pidN: 199872 drops (...)"
  ASSERT_NE(at, std::string::npos) << r.err;
  long drops = std::atol(r.err.c_str() + at + 2);
  EXPECT_NE(r.err.find(" drops (ring full)"), std::string::npos) << r.err;
  EXPECT_EQ(counted + drops, 200000) << r.out << r.err;
}

// A burst into 16-record rings: the clause aggregates at the site, in the process's memory, so
// nothing is dropped (before, ~70% of such a burst was lost to full rings).
TEST(ProcessE2E, BurstAggregatesAtTheSiteWithoutDrops) {
  Result r = vtrace({"-q", "-x", "bufsize=6k", "-n",
                     "sample:::tick { @c = count(); @s = sum(arg0); }", "-c", sample("100000")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "\n           100000\n       4999950000\n");
  EXPECT_EQ(r.err, "");
}

TEST(ProcessE2E, SiteAggregationsMatchTheEngineAcrossThreads) {
  // The same clause at the site and in vtrace (a predicate on a built-in keeps it there).
  const std::string body =
      "{ @c = count(); @s = sum(arg0); @a = avg(arg1); @lo = min(arg0); "
      "@hi = max(arg1); }";
  Result site =
      vtrace({"-q", "-x", "bufsize=8m", "-n", "sample:::tick " + body, "-c", sample("3000 0 4")});
  Result engine = vtrace({"-q", "-x", "bufsize=8m", "-n", "sample:::tick /pid != 0/ " + body, "-c",
                          sample("3000 0 4")});
  EXPECT_EQ(site.status, 0) << site.err;
  EXPECT_EQ(engine.status, 0) << engine.err;
  EXPECT_EQ(site.out, engine.out);
  EXPECT_NE(site.out.find(" 12000\n"), std::string::npos) << site.out;
  EXPECT_EQ(site.err, "");
}

// A predicate that compares arguments with constants runs at the site too (VTRACE_AGG_TEST): a
// burst into 16-record rings still loses nothing, and each form of test (signed, unsigned,
// swapped, bare, negated) selects what the engine selects.
TEST(ProcessE2E, BurstWithAPredicateOfTestsAggregatesAtTheSite) {
  Result r =
      vtrace({"-q", "-x", "bufsize=6k", "-n",
              "sample:::tick /arg0 >= 50000 && arg0 < 90000/ { @c = count(); @s = sum(arg0); }",
              "-c", sample("100000")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "\n            40000\n       2799980000\n");
  EXPECT_EQ(r.err, "");
  const std::string tests[] = {"/arg0 == 7/",
                               "/arg0 != 7 && arg1 > 100/",
                               "/10 < arg0 && 20 >= arg0/",
                               "/arg1 <= -1/",
                               "/arg0 < 0xffffffffffffffff && arg0 > 5ULL/",
                               "/arg0/",
                               "/!arg0/",
                               "/arg1 >= -5 && arg1 < ~0x7/",
                               "/0 == arg0 && arg1 == 0/"};
  Running p("-1", "1000");  // for vtrace -e -v -p
  for (const std::string& t : tests) {
    const std::string body = "{ @c = count(); @s = sum(arg0); @m = max(arg1); }";
    Result site = vtrace({"-q", "-x", "bufsize=8m", "-n", "sample:::tick " + t + " " + body, "-c",
                          sample("1000 0 2")});
    Result engine = vtrace({"-q", "-x", "bufsize=8m", "-n",
                            "sample:::tick " + t.substr(0, t.size() - 1) + " && pid != 0/ " + body,
                            "-c", sample("1000 0 2")});
    EXPECT_EQ(site.status, 0) << t << site.err;
    EXPECT_EQ(site.out, engine.out) << t;
    Result placed = vtrace({"-e", "-v", "-p", p.spid(), "-n", "sample:::tick " + t + " " + body});
    EXPECT_NE(placed.err.find("runs at the probe (aggregates in the process's memory)"),
              std::string::npos)
        << t << placed.err;
  }
}

TEST(ProcessE2E, SiteAggregationAndRecordsOnOneProbe) {
  // One clause aggregates at the site, another needs the record: the site does both.
  Result r = vtrace({"-q", "-x", "bufsize=8m", "-n", "sample:::tick { @c = count(); }", "-n",
                     "sample:::tick /arg0 == 7/ { printf(\"seven %d\\n\", arg1); }", "-n",
                     "END { printa(\"%@d\\n\", @c); }", "-c", sample("2000")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "seven 14\n2000\n\n");
}

TEST(ProcessE2E, PlacementIsShownWithV) {
  Running p("-1", "1000");
  Result r = vtrace({"-e", "-v", "-p", p.spid(), "-n", "sample:::tick { @c = count(); }", "-n",
                     "sample:::tick /arg0 > 5/ { @x = count(); }", "-n",
                     "sample:::tick /arg0 > arg1/ { @y = count(); }", "-n",
                     "sample:::query { @q[arg1] = sum(arg1); }"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("clause #1 (<command line>:1) runs at the probe (aggregates in the "
                       "process's memory)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("clause #2 (<command line>:2) runs at the probe (aggregates in the "
                       "process's memory)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("clause #3 (<command line>:3) runs in vtrace: its predicate does more than "
                       "compare arguments with constants (joined by &&)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("clause #4 (<command line>:4) runs in vtrace: its aggregations have keys"),
            std::string::npos)
      << r.err;
  Result sync = vtrace(
      {"-e", "-v", "-x", "mode=sync", "-p", p.spid(), "-n", "sample:::tick { @c = count(); }"});
  EXPECT_NE(sync.err.find("runs in vtrace: sync mode"), std::string::npos) << sync.err;
}

TEST(ProcessE2E, BuiltinsAndArgs) {
  Result r = vtrace(
      {"-q", "-n",
       "sample:::request-start /arg0 == 3/ { printf(\"%d %d %d %s %s %s %s %s %s %d %d\\n\", "
       "arg0, arg1, arg9, execname, vmname, probeprov, probemod, probefunc, probename, "
       "pid == $target, timestamp > 0); }",
       "-c", sample("5")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "3 1 9 instrumented_sa host sample instrumented_sample work request-start 1 1\n\n");
}

TEST(ProcessE2E, ProbesInTemplatesAndInlineFunctionsFire) {
  // GCC ignores the section attribute of a static in a template's instance: the descriptors
  // are written by probe.h's assembly instead, and every instance's site is found.
  Result r = vtrace({"-q", "-n",
                     "sample:::twice, sample:::thrice { @[probename, arg0 < 7] = count(); } "
                     "END { printa(\"%s %d %@d\\n\", @); }",
                     "-c", sample("7")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "thrice 1 7\ntwice 1 14\n\n");
}

TEST(ProcessE2E, CopyinstrOfACopiedString) {
  Result r =
      vtrace({"-q", "-n", "sample:::query { @[copyinstr(arg0), copyinstr(arg0, 3)] = count(); }",
              "-c", sample("5")});
  EXPECT_EQ(r.status, 0) << r.err;
  std::istringstream in(r.out);
  std::string line, words;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    for (std::string w; ls >> w;) words += w + " ";
    words += "| ";
  }
  EXPECT_NE(words.find("update t upd 2 |"), std::string::npos) << r.out;
  EXPECT_NE(words.find("select 1 sel 3 |"), std::string::npos) << r.out;
}

// copyin() and copyinto(): bytes of the traced process, from the string the site copied (async)
// or from the process stopped at the probe (sync), into scratch memory D pointers reach.
TEST(ProcessE2E, CopyinOfAnArgument) {
  const std::string script =
      "sample:::query { this->p = (char *)copyin(arg0, 3); this->q = (char *)alloca(4);"
      " copyinto(arg0 + 1, 2, this->q); @[stringof(this->p), stringof(this->q)] = count(); }";
  for (const char* mode : {"mode=async", "mode=sync"}) {
    Result r = vtrace({"-q", "-x", mode, "-n", script, "-c", sample("5")});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.err.find("error"), std::string::npos) << mode << ": " << r.err;
    std::istringstream in(r.out);
    std::string words;
    for (std::string w; in >> w;) words += w + " ";
    EXPECT_EQ(words, "upd pd 2 sel el 3 ") << mode;
  }
}

TEST(ProcessE2E, CopyinstrOfABadAddressFiresError) {
  Result r = vtrace({"-q", "-n",
                     "BEGIN { trace(copyinstr(8)); } ERROR { printf(\"fault %d\\n\", arg4); "
                     "exit(0); }"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "fault 1\n\n");
  EXPECT_NE(r.err.find("invalid address"), std::string::npos) << r.err;
}

TEST(ProcessE2E, AttachWithP) {
  Running p("-1", "1000");
  Result r = vtrace({"-q", "-p", p.spid(), "-n",
                     "pid" + p.spid() +
                         ":sample::work:tick, instrumented_sample:sample:::query"
                         " { @[probename] = count(); } tick-300ms { exit(0); }"});
  EXPECT_EQ(r.status, 0) << r.err;
  std::istringstream in(r.out);
  std::string name;
  long n;
  int seen = 0;
  while (in >> name >> n) {
    EXPECT_GT(n, 10) << r.out;
    ++seen;
  }
  EXPECT_EQ(seen, 2) << r.out;
  // vtrace left every enable flag off and no channel behind.
  vtrace::sys::ProbeTable t;
  std::string err;
  ASSERT_TRUE(vtrace::sys::discover_probes(p.pid(), t, err)) << err;
  for (const auto& site : t.sites) {
    uint32_t on = 7;
    vtrace::sys::read_process_memory(p.pid(), site.address + 4, &on, 4);
    EXPECT_EQ(on, 0u) << site.name;
  }
  EXPECT_TRUE(no_channel_left());
  // And a second vtrace attaches again (the process reconnects to the new channel).
  r = vtrace(
      {"-q", "-p", p.spid(), "-n", "sample:::tick { @ = count(); } tick-200ms { exit(0); }"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_GT(std::atol(trim(r.out).c_str()), 10) << r.out;
}

TEST(ProcessE2E, ProcessExitIsReported) {
  Running p("30", "10000");
  Result r = vtrace({"-p", p.spid(), "-n", "sample:::tick { @ = count(); }"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("vtrace: pid " + p.spid() + " has exited"), std::string::npos) << r.err;
}

TEST(ProcessE2E, ListProbesOfP) {
  Running p("-1", "10000");
  Result r = vtrace({"-l", "-p", p.spid()});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("pid" + p.spid() + ":sample"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("request-start"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("BEGIN"), std::string::npos) << r.out;
}

TEST(ProcessE2E, GarbageIsCountedAndReported) {
  Result r = vtrace({"-q", "-n", "garbage::: { @[probename] = count(); }", "-c",
                     std::string(GARBAGE_WRITER) + " --pause-ms 20"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("step"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("records rejected ("), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad probe id"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad string length"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("corrupt ring"), std::string::npos) << r.err;
}

TEST(ProcessE2E, DyingMidRecordLeavesVtraceRunning) {
  Result r = vtrace({"-q", "-n", "garbage::: { @[probename] = count(); }", "-c",
                     std::string(GARBAGE_WRITER) + " --die-mid-record"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("hello"), std::string::npos) << r.out;
  EXPECT_TRUE(no_channel_left());
}

// A process built without probe.h is still a target: the pid provider's function probes and its
// USDT probes reach it through uprobes (pid_provider_test.cpp); a pid that does not exist is an
// error.
TEST(ProcessE2E, NotInstrumentedIsTracedAndNoSuchProcessIsAnError) {
  pid_t p = fork();
  if (p == 0) {
    execl("/bin/sleep", "sleep", "10", nullptr);
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Result r = vtrace({"-p", std::to_string(p), "-n", "BEGIN { exit(0); }"});
  kill(p, SIGKILL);
  waitpid(p, nullptr, 0);
  EXPECT_EQ(r.status, 0) << r.err;
  r = vtrace({"-p", "1073741000", "-n", "BEGIN { exit(0); }"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("no such process"), std::string::npos) << r.err;
}

// The examples users run first: examples/reqloop.cpp under its D scripts.
std::string example(const char* name) {
  return std::string(EXAMPLES_DIR) + "/" + name;
}
std::string reqloop(const std::string& args) {
  return std::string(REQLOOP_BINARY) + " " + args;
}

TEST(ProcessE2E, ExampleLatencyDistributionCountsEveryRequest) {
  for (const char* mode : {"mode=async", "mode=sync"}) {
    Result r =
        vtrace({"-x", mode, "-s", example("reqloop_latency.d"), "-c", reqloop("500 --threads 2")});
    EXPECT_EQ(r.status, 0) << mode << "\n" << r.err;
    EXPECT_NE(r.out.find("requests: 500\n"), std::string::npos) << mode << "\n" << r.out;
    EXPECT_NE(r.out.find("request latency (ns)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("------------- Distribution ------------- count"), std::string::npos)
        << r.out;
    // The distribution's counts add up to the requests.
    long total = 0;
    std::istringstream in(r.out.substr(r.out.find("Distribution")));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      if (line.find('|') == std::string::npos) continue;
      std::istringstream words(line);
      std::string word, last;
      while (words >> word) last = word;  // the count is the row's last column
      total += std::atol(last.c_str());
    }
    EXPECT_EQ(total, 500) << r.out;
  }
}

TEST(ProcessE2E, ExampleCountsEachProbe) {
  Result r = vtrace({"-s", example("reqloop_count.d"), "-c", reqloop("300")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("request-start    300\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("request-done     300\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("request-path     300\n"), std::string::npos) << r.out;
}

TEST(ProcessE2E, ProcessTimestampsAreInTheHostTimebase) {
  // Sites may stamp raw TSC values; the host translates them: every record falls between
  // BEGIN and END, which the host stamps with CLOCK_MONOTONIC itself.
  Result r = vtrace({"-q", "-n",
                     "BEGIN { b = timestamp; } sample:::tick { early += timestamp < b; last = "
                     "timestamp; n++; } END { printf(\"%d %d %d\\n\", n, early, last <= "
                     "timestamp && last > b); }",
                     "-c", sample("2000")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(trim(r.out), "2000 0 1") << r.out;
}

TEST(ProcessE2E, SyncSitesStopWaitingWhenTheTracerDies) {
  // Sync mode: every firing waits for the host. Kill vtrace (no detach, no goodbye): the sites
  // must give up after a bounded wait and the program must run to its end.
  Running p("400", "2000");  // about a second of work untraced
  pid_t tracer = fork();
  if (tracer == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execl(VTRACE_BINARY, VTRACE_BINARY, "-q", "-x", "mode=sync", "-p", p.spid().c_str(), "-n",
          "sample:::tick { @ = count(); }", nullptr);
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  kill(tracer, SIGKILL);
  waitpid(tracer, nullptr, 0);
  const auto start = std::chrono::steady_clock::now();
  int status = -1;
  pid_t got = 0;
  while (got == 0 && std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
    got = waitpid(p.pid(), &status, WNOHANG);
    if (got == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(got, p.pid()) << "the program still waits for a dead tracer";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // The killed tracer could not remove its channel; the program removed it as it exited (the
  // tracer's lock on it was free).
  struct stat st;
  EXPECT_NE(stat(("/dev/shm/vtrace." + p.spid()).c_str(), &st), 0) << "stale channel left";
}

TEST(ProcessE2E, StaleChannelOfAKilledTracerIsRemovedByTheNextRun) {
  Running p("-1", "1000");
  const std::string path = "/dev/shm/vtrace." + p.spid();
  pid_t tracer = fork();
  if (tracer == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execl(VTRACE_BINARY, VTRACE_BINARY, "-q", "-p", p.spid().c_str(), "-n",
          "sample:::tick { @ = count(); }", nullptr);
    _exit(127);
  }
  struct stat st;
  for (int i = 0; i < 500 && stat(path.c_str(), &st) != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  kill(tracer, SIGKILL);
  waitpid(tracer, nullptr, 0);
  ASSERT_EQ(stat(path.c_str(), &st), 0) << "the tracer made no channel";
  // Any next run cleans what a dead tracer left, though the process still runs.
  Result r = vtrace({"-q", "-n", "BEGIN { exit(0); }"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(stat(path.c_str(), &st), 0) << "stale channel left";
  // And the process, whose probes the dead tracer left on, connects to the next tracer.
  r = vtrace(
      {"-q", "-p", p.spid(), "-n", "sample:::tick { @ = count(); } tick-300ms { exit(0); }"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_GT(std::atol(trim(r.out).c_str()), 10) << r.out;
}

TEST(ProcessE2E, ForkedChildIsNotCountedAsItsParent) {
  // The parent fires 1000 times before and after a fork; the child 1000 times in between. The
  // child is not traced (its probes are off after the fork), so only the parent's 2000 count.
  Result r = vtrace({"-q", "-x", "bufsize=8m", "-n", "victim:::tick { @ = count(); }", "-c",
                     std::string(CHANNEL_VICTIM) + " fork 1000"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(trim(r.out), "2000") << r.err;
  EXPECT_EQ(r.err, "");
}

TEST(ProcessE2E, BadDropCountersAreNotPrinted) {
  Result r = vtrace({"-q", "-n", "garbage::: { @[probename] = count(); }", "-c",
                     std::string(GARBAGE_WRITER) + " --pause-ms 200 --bad-drops"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("bad counter from pid "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("1967016172124798215"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(" drops ("), std::string::npos) << r.err;
}

TEST(ProcessE2E, SmallDevShmNeverSigbus) {
  // 12 threads firing into a channel on a 4 MiB /dev/shm: the channel is cut to fit, what does
  // not fit is dropped and counted, and neither vtrace nor the program dies of SIGBUS.
  char out_path[] = "/tmp/vtrace-e2e-shm.XXXXXX";
  int fd = mkstemp(out_path);
  ASSERT_GE(fd, 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fd, 1);
    dup2(fd, 2);
    if (unshare(CLONE_NEWNS) != 0 ||
        mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount("tmpfs", "/dev/shm", "tmpfs", 0, "size=4m,mode=1777") != 0) {
      std::printf("cannot mount a small tmpfs on /dev/shm: %s\n", strerror(errno));
      std::fflush(stdout);
      _exit(77);
    }
    Result r = vtrace({"-q", "-n", "sample:::tick { @ = count(); }", "-c", sample("2000 0 12")});
    std::printf("status %d\nout %s\nerr %s", r.status, trim(r.out).c_str(), r.err.c_str());
    std::fflush(stdout);
    _exit(0);
  }
  close(fd);
  int status = 0;
  waitpid(pid, &status, 0);
  std::string text = slurp(out_path);
  unlink(out_path);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77) GTEST_SKIP() << text;
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << text;
  EXPECT_NE(text.find("status 0\n"), std::string::npos) << text;
  long counted = std::atol(text.c_str() + text.find("out ") + 4);
  long drops = 0;
  size_t d = text.find(" drops (");
  if (d != std::string::npos) drops = std::atol(text.c_str() + text.rfind(": ", d) + 2);
  EXPECT_EQ(counted + drops, 24000) << text;
  EXPECT_EQ(text.find("SIGBUS"), std::string::npos) << text;
}

}  // namespace

TEST(ProcessE2E, SyncGiveUpsAreReportedWithTheirCount) {
  // Sync mode with the tracer stopped (SIGSTOP) for 2.5 s: the sites stop waiting after about a
  // second and run on; every firing is still counted, and the run says how many did not wait.
  char out_path[] = "/tmp/vtrace-sync-stall.XXXXXX";
  int out_fd = mkstemp(out_path);
  ASSERT_GE(out_fd, 0);
  const std::string err_path = std::string(out_path) + ".err";
  pid_t tracer = fork();
  if (tracer == 0) {
    int err_fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execl(VTRACE_BINARY, VTRACE_BINARY, "-q", "-x", "mode=sync", "-n",
          "sample:::tick { @ = count(); }", "-c", sample("3000 1000").c_str(), nullptr);
    _exit(127);
  }
  close(out_fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  kill(tracer, SIGSTOP);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  kill(tracer, SIGCONT);
  int status = -1;
  ASSERT_EQ(waitpid(tracer, &status, 0), tracer);
  std::ifstream out_in(out_path), err_in(err_path);
  const std::string out((std::istreambuf_iterator<char>(out_in)), {});
  const std::string err((std::istreambuf_iterator<char>(err_in)), {});
  unlink(out_path);
  unlink(err_path.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << err;
  EXPECT_EQ(trim(out), "3000") << err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      err, m, std::regex("(\\d+) firings ran unsynchronised \\(sync mode gave up")))
      << err;
  EXPECT_GT(std::stol(m[1]), 0);
  EXPECT_LT(std::stol(m[1]), 3000);  // it waited again once the tracer came back
}
