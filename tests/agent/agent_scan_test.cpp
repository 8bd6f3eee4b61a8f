// Finding instrumented guest processes: the /proc scanner (new pids, exec, bounded retries) and
// a process found before its dynamic loader relocated its probe descriptors.
#include <sys/stat.h>

#include "agent_host.h"
#include "guest/agent/proc_scanner.h"
#include "vtrace/probe.h"

extern "C" {
extern struct vtrace_probe_desc __stop_vtrace_probes[] __attribute__((weak, visibility("hidden")));
}

namespace agent_test {

// This test program's own probe: the agent started by a test finds it like any other process.
// External, so that the compiler keeps it (and its descriptor) although nothing calls it.
void scan_target(uint64_t i) {
  VTRACE_PROBE(agentscan, tick, i);
}

namespace {

using vtrace::guest::kScanRetries;
using vtrace::guest::ProcScanner;

TEST(ProcScanner, ReportsNewPidsExecsAndBoundedRetries) {
  char dir[] = "/tmp/vtrace-proc.XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  auto pid = [&](int n, const std::string& exe) {
    std::string d = std::string(dir) + "/" + std::to_string(n);
    mkdir(d.c_str(), 0755);
    unlink((d + "/exe").c_str());
    EXPECT_EQ(symlink(exe.c_str(), (d + "/exe").c_str()), 0);
  };
  pid(100, SAMPLE_BINARY);
  pid(200, "/bin/sh");      // no probes
  pid(300, SAMPLE_BINARY);  // the scanner itself: skipped
  mkdir((std::string(dir) + "/self").c_str(), 0755);
  ProcScanner s(dir);
  EXPECT_EQ(s.scan(300), std::vector<pid_t>{100});
  EXPECT_TRUE(s.scan(300).empty()) << "an unchanged pid is not reported again";
  EXPECT_FALSE(s.retry(999)) << "a pid it has not seen";
  EXPECT_FALSE(s.retry(300));
  for (uint32_t k = 0; k < kScanRetries; ++k) {
    ASSERT_TRUE(s.retry(100)) << "retry " << k;
    EXPECT_EQ(s.scan(300), std::vector<pid_t>{100});
    EXPECT_TRUE(s.scan(300).empty()) << "one retry, one report";
  }
  EXPECT_FALSE(s.retry(100)) << "retries are bounded";
  EXPECT_TRUE(s.scan(300).empty());
  pid(100, REQLOOP_BINARY);  // exec: reported, and the retry count starts over
  EXPECT_EQ(s.scan(300), std::vector<pid_t>{100});
  EXPECT_TRUE(s.retry(100));
  EXPECT_EQ(system(("rm -rf " + std::string(dir)).c_str()), 0);
  EXPECT_EQ(s.scan(300), std::vector<pid_t>{}) << "a gone pid is not reported";
}

// The agent finds this process while its descriptors' strings point nowhere, as a PIE's do
// between exec and the dynamic loader's relocations: it looks again at later scans and
// publishes the probe once the descriptors are readable.
TEST(Agent, RetriesAProcessFoundBeforeRelocation) {
  std::vector<vtrace_probe_desc> saved(__start_vtrace_probes, __stop_vtrace_probes);
  ASSERT_FALSE(saved.empty());
  for (vtrace_probe_desc* d = __start_vtrace_probes; d != __stop_vtrace_probes; ++d) {
    // Link-time-like values: below mmap_min_addr, never mapped.
    d->provider = reinterpret_cast<const char*>(0x1000);
    d->name = reinterpret_cast<const char*>(0x1010);
    d->function = reinterpret_cast<const char*>(0x1020);
    d->file = reinterpret_cast<const char*>(0x1030);
  }
  FakeHost host(true, {"--no-kernel"});
  ASSERT_TRUE(host.wait_ready());
  host.attach();  // scans every 250 ms
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(host.find(getpid(), "agentscan", "tick"), -1);
  std::copy(saved.begin(), saved.end(), __start_vtrace_probes);  // "relocated"
  EXPECT_GE(host.wait_probe(getpid(), "agentscan", "tick"), 0)
      << "the agent did not look at the process again";
  host.detach();
}

}  // namespace
}  // namespace agent_test
