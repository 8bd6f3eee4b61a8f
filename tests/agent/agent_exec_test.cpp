// vtrace-agent's side threads, run on the host against a channel file: `vm exec` (plain and
// traced, i.e. held until its probes are on), the ping handshake, and the kernel event relay.
#include <sys/syscall.h>

#include "agent_host.h"

namespace agent_test {
namespace {

struct Exec {
  int status = -1;
  std::string output;
  bool truncated = false;
};

// Writes an exec request and waits for the answer; `during` runs while it waits (the host's
// other duties).
Exec run(FakeHost& host, const std::vector<std::string>& argv, uint32_t cap = 4096,
         bool traced = false, const std::function<void()>& during = {}) {
  auto* ex = vtrace::transport::guest_exec(host.h(), host.layout());
  std::string packed;
  for (const auto& a : argv) packed.append(a).push_back('\0');
  std::memcpy(ex->argv, packed.data(), packed.size());
  ex->argc = static_cast<uint32_t>(argv.size());
  ex->argv_len = static_cast<uint32_t>(packed.size());
  ex->output_cap = cap;
  ex->traced = traced ? 1 : 0;
  const uint32_t seq = ex->request_seq + 1;
  __atomic_store_n(&ex->request_seq, seq, __ATOMIC_RELEASE);
  Exec r;
  if (!wait_for(
          [&] {
            if (during) during();
            return __atomic_load_n(&ex->response_seq, __ATOMIC_ACQUIRE) == seq;
          },
          8000ms))
    return r;
  EXPECT_EQ(ex->state, VTRACE_GEXEC_DONE);
  r.status = ex->exit_status;
  r.output.assign(reinterpret_cast<const char*>(ex + 1), ex->output_len);
  r.truncated = ex->output_truncated != 0;
  return r;
}

// Enables the "tick" probes the table gained past entry count0; false while it has none.
bool enable_new_ticks(FakeHost& host, uint32_t count0) {
  bool enabled = false;
  for (uint32_t i = count0; i < host.probe_count(); ++i)
    if (std::string(host.entry(i).name) == "tick") {
      host.enable({static_cast<int>(i)});
      enabled = true;
    }
  return enabled;
}

TEST(AgentExec, RunsCommandsAndReportsStatusAndOutput) {
  FakeHost host(true, {"--no-kernel"});
  ASSERT_TRUE(host.wait_ready());
  Exec e = run(host, {"echo", "hello"});
  EXPECT_EQ(e.status, 0);
  EXPECT_EQ(e.output, "hello\n");
  EXPECT_FALSE(e.truncated);
  e = run(host, {"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(e.status, 3);
  EXPECT_EQ(e.output, "out\nerr\n");
  e = run(host, {"no-such-command-vtrace"});
  EXPECT_EQ(e.status, 127);
  EXPECT_NE(e.output.find("not found"), std::string::npos) << e.output;
  e = run(host, {"sh", "-c", "kill -9 $$"});
  EXPECT_EQ(e.status, 128 + 9);
  // `traced` without a host session, or for a program without probes: it just runs.
  EXPECT_EQ(run(host, {"echo", "plain"}, 4096, /*traced=*/true).output, "plain\n");
  host.attach();
  EXPECT_EQ(run(host, {"echo", "plain"}, 4096, /*traced=*/true).output, "plain\n");
  e = run(host, {"cat"});  // stdin is /dev/null: it ends at once
  EXPECT_EQ(e.status, 0);
  EXPECT_EQ(e.output, "");
}

TEST(AgentExec, CutsLargeOutputAtTheCap) {
  FakeHost host(true, {"--no-kernel"});
  ASSERT_TRUE(host.wait_ready());
  Exec e = run(host, {"sh", "-c", "yes abcdefgh | head -c 300000; exit 0"}, 1000);
  EXPECT_EQ(e.status, 0);
  ASSERT_EQ(e.output.size(), 1000u);
  EXPECT_TRUE(e.truncated);
  EXPECT_EQ(e.output.substr(0, 18), "abcdefgh\nabcdefgh\n");
  // A cap beyond the exec area is bounded by the area.
  const size_t room = host.layout().exec_size - sizeof(vtrace_guest_exec);
  e = run(host, {"sh", "-c", "yes abcdefgh | head -c 300000"}, 0xffffffffu);
  EXPECT_EQ(e.output.size(), room);
  EXPECT_TRUE(e.truncated);
}

TEST(AgentExec, RejectsMalformedRequests) {
  FakeHost host(true, {"--no-kernel"});
  ASSERT_TRUE(host.wait_ready());
  auto* ex = vtrace::transport::guest_exec(host.h(), host.layout());
  std::memcpy(ex->argv, "echo\0hi", 7);  // the second string is not terminated
  ex->argc = 2;
  ex->argv_len = 7;
  ex->output_cap = 4096;
  __atomic_store_n(&ex->request_seq, ex->request_seq + 1, __ATOMIC_RELEASE);
  ASSERT_TRUE(wait_for([&] { return ex->response_seq == ex->request_seq; }, 3000ms));
  EXPECT_EQ(ex->exit_status, 127);
  ex->argv_len = 100000;
  __atomic_store_n(&ex->request_seq, ex->request_seq + 1, __ATOMIC_RELEASE);
  ASSERT_TRUE(wait_for([&] { return ex->response_seq == ex->request_seq; }, 3000ms));
  EXPECT_EQ(ex->exit_status, 127);
  // The server still works.
  EXPECT_EQ(run(host, {"echo", "ok"}).output, "ok\n");
}

TEST(AgentExec, TracedCommandMissesNoFiring) {
  FakeHost host(true, {"--no-kernel"});
  ASSERT_TRUE(host.wait_ready());
  host.attach();
  const uint32_t count0 = host.probe_count();
  std::vector<vtrace_guest_record> recs;
  bool enabled = false;
  // The host: once the held program's probes are in the table, enable sample:::tick and
  // acknowledge the table (the program fires 5 ticks at once when released).
  auto host_duty = [&] {
    if (!enabled) enabled = enable_new_ticks(host, count0);
    for (auto& r : host.read()) recs.push_back(r);
  };
  Exec e = run(host, {SAMPLE_BINARY, "5", "0"}, 4096, /*traced=*/true, host_duty);
  EXPECT_EQ(e.status, 0) << e.output;
  EXPECT_TRUE(enabled);
  wait_for(
      [&] {
        host_duty();
        return recs.size() >= 5;
      },
      2000ms);
  ASSERT_EQ(recs.size(), 5u);
  for (uint64_t i = 0; i < 5; ++i) {
    EXPECT_EQ(recs[i].args[0], i);
    EXPECT_STREQ(host.entry(recs[i].probe).name, "tick");
  }
}

// Every firing of a traced command is either relayed or counted as a drop: a held program that
// fires 1,000,000 ticks as fast as it can, far faster than the relay.
TEST(AgentExec, AccountsForEveryFiringUnderLoad) {
  FakeHost host(true, {"--no-kernel"});
  ASSERT_TRUE(host.wait_ready());
  host.attach();
  const uint32_t count0 = host.probe_count();
  uint64_t records = 0, last = 0;
  bool enabled = false, ordered = true;
  auto host_duty = [&] {
    if (!enabled) enabled = enable_new_ticks(host, count0);
    for (auto& r : host.read()) {
      if (records > 0 && r.args[0] <= last) ordered = false;
      last = r.args[0];
      ++records;
    }
  };
  const auto t0 = Clock::now();
  Exec e = run(host, {SAMPLE_BINARY, "1000000", "0"}, 4096, /*traced=*/true, host_duty);
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_EQ(e.status, 0);
  wait_for(
      [&] {
        host_duty();
        return records + host.h()->process_drops + host.h()->relay_drops >= 1000000;
      },
      2000ms);
  std::printf(
      "1000000 firings in %.2f s: %llu relayed, %llu dropped in the process, %llu by the relay\n",
      secs, static_cast<unsigned long long>(records),
      static_cast<unsigned long long>(host.h()->process_drops),
      static_cast<unsigned long long>(host.h()->relay_drops));
  EXPECT_TRUE(ordered);
  EXPECT_EQ(records + host.h()->process_drops + host.h()->relay_drops, 1000000u);
  EXPECT_EQ(host.h()->process_rejects, 0u);
}

TEST(AgentExec, StopsPromptlyDuringALongCommand) {
  auto host = std::make_unique<FakeHost>(true, std::vector<std::string>{"--no-kernel"});
  ASSERT_TRUE(host->wait_ready());
  auto* ex = vtrace::transport::guest_exec(host->h(), host->layout());
  std::memcpy(ex->argv,
              "sleep\0"
              "30",
              9);
  ex->argc = 2;
  ex->argv_len = 9;
  ex->output_cap = 4096;
  __atomic_store_n(&ex->request_seq, ex->request_seq + 1, __ATOMIC_RELEASE);
  ASSERT_TRUE(wait_for([&] { return ex->state == VTRACE_GEXEC_RUNNING; }, 3000ms));
  const auto t0 = Clock::now();
  host.reset();  // SIGTERM; the destructor expects exit status 0 within 5 s
  EXPECT_LT(Clock::now() - t0, 2000ms);
}

TEST(AgentPing, AnswersEachPingWithTheTscInBetween) {
  FakeHost host(true, {"--no-kernel"});
  ASSERT_TRUE(host.wait_ready());
  auto* h = host.h();
  __atomic_store_n(&h->ping_request, 1u, __ATOMIC_RELEASE);
  ASSERT_TRUE(wait_for([&] { return h->ping_active == 1; }, 1000ms));
  uint64_t best = UINT64_MAX;
  for (uint64_t k = 1; k <= 200; ++k) {
    __builtin_ia32_lfence();  // rdtsc in order with the loads and stores around it
    const uint64_t t0 = __builtin_ia32_rdtsc();
    __builtin_ia32_lfence();
    __atomic_store_n(&h->ping_seq, k, __ATOMIC_RELEASE);
    // Spin, as the host does: the round trip bounds the clock offset. The agent may wait for a
    // CPU a long time when the machine is loaded (1 s was once not enough under ASan).
    const auto deadline = Clock::now() + 10s;
    while (__atomic_load_n(&h->pong_seq, __ATOMIC_ACQUIRE) != k && Clock::now() < deadline) {
    }
    ASSERT_EQ(h->pong_seq, k) << "ping " << k << " unanswered";
    __builtin_ia32_lfence();
    const uint64_t t1 = __builtin_ia32_rdtsc();
    EXPECT_LE(t0, h->pong_tsc);
    EXPECT_GE(t1, h->pong_tsc);
    best = std::min(best, t1 - t0);
  }
  std::printf("best ping round trip: %llu TSC ticks\n", static_cast<unsigned long long>(best));
  EXPECT_LT(best, 10'000'000u) << "answers should come from a spinning thread";
  __atomic_store_n(&h->ping_request, 0u, __ATOMIC_RELEASE);
  EXPECT_TRUE(wait_for([&] { return h->ping_active == 0; }, 1000ms));
}

TEST(AgentKernel, RelaysKernelEventsIntoTheKernelRing) {
  FakeHost host;
  ASSERT_TRUE(host.wait_ready());
  int probe = -1;
  for (uint32_t i = 0; i < host.probe_count() && probe < 0; ++i) {
    const auto& e = host.entry(i);
    if (e.kind == VTRACE_GPROBE_KERNEL && std::string(e.provider) == "syscall" &&
        std::string(e.function) == "getppid" && std::string(e.name) == "entry")
      probe = static_cast<int>(i);
  }
  if (probe < 0)
    GTEST_SKIP() << "no syscall::getppid:entry here (tracefs: " << host.h()->agent_error << ")";
  host.attach();
  host.enable({probe});
  std::this_thread::sleep_for(200ms);
  const pid_t self = getpid();
  std::vector<vtrace_guest_record> mine;
  wait_for(
      [&] {
        syscall(SYS_getppid);
        for (auto& r : host.read(VTRACE_GUEST_RING_KERNEL))
          if (r.pid == static_cast<uint32_t>(self)) mine.push_back(r);
        return mine.size() >= 10;
      },
      5000ms);
  ASSERT_GE(mine.size(), 10u) << host.h()->agent_error;
  for (const auto& r : mine) {
    EXPECT_EQ(static_cast<int>(r.probe), probe);
    EXPECT_STREQ(r.comm, "agent_test");
  }
  EXPECT_EQ(host.h()->relay_drops, 0u);
}

}  // namespace
}  // namespace agent_test
