// vtrace-agent run on the host against a channel file (agent_host.h plays the host): start-up,
// the probe table, async relay of probe.h records, detach, and sync mode.
#include <sys/utsname.h>

#include <map>
#include <set>

#include "agent_host.h"
#include "sys/elf_probes.h"

namespace agent_test {
namespace {

// Reads the enable flags of pid's sites named provider:name (raw name, "__" form).
std::vector<uint32_t> site_flags(pid_t pid, const std::string& provider, const std::string& name) {
  vtrace::sys::ProbeTable t;
  std::string err;
  std::vector<uint32_t> flags;
  if (!vtrace::sys::discover_probes(pid, t, err)) return flags;
  for (const auto& s : t.sites) {
    if (s.provider != provider || s.name != name || (s.flags & VTRACE_DESC_GUARD)) continue;
    uint32_t v = 0;
    pid_t p = pid;
    vtrace::sys::process_reader(&p, s.address + offsetof(vtrace_probe_desc, enabled), &v, sizeof v);
    flags.push_back(v);
  }
  return flags;
}

TEST(Agent, PublishesIdentityAndKernelProbes) {
  FakeHost host;
  ASSERT_TRUE(host.wait_ready()) << "agent_ready never set";
  auto* h = host.h();
  EXPECT_EQ(h->agent_pid, static_cast<uint32_t>(host.agent()));
  EXPECT_GE(h->ncpus, 1u);
  utsname u{};
  uname(&u);
  EXPECT_STREQ(h->kernel_release, u.release);
  EXPECT_GE(h->table_gen, 1u);
  // Kernel probes come first, with pid 0; every entry is NUL-terminated.
  bool native_seen = false;
  for (uint32_t i = 0; i < host.probe_count(); ++i) {
    const auto& e = host.entry(i);
    ASSERT_TRUE(e.kind == VTRACE_GPROBE_KERNEL || e.kind == VTRACE_GPROBE_NATIVE);
    if (e.kind == VTRACE_GPROBE_NATIVE) native_seen = true;
    if (e.kind == VTRACE_GPROBE_KERNEL) {
      EXPECT_FALSE(native_seen) << "kernel entry " << i << " after a native one";
      EXPECT_EQ(e.pid, 0);
    }
    EXPECT_NE(std::memchr(e.name, 0, sizeof e.name), nullptr);
  }
  const uint64_t beat = h->agent_heartbeat;
  EXPECT_TRUE(wait_for([&] { return h->agent_heartbeat > beat + 2; }, 2000ms));
}

// Probes on request (guest_abi.h): the agent answers each request once, adds what it can make
// to its table (a profile probe here), refuses what it does not understand, and says when its
// kernel cannot make them (this host has no kprobe events: no fbt probes).
TEST(Agent, AnswersProbeRequests) {
  FakeHost host;
  ASSERT_TRUE(host.wait_ready()) << "agent_ready never set";
  auto* h = host.h();
  auto ask = [&](const std::string& req) -> uint32_t {
    std::memset(h->request, 0, sizeof h->request);
    std::memcpy(h->request, req.data(), req.size());
    const uint32_t gen = __atomic_add_fetch(&h->request_gen, 1, __ATOMIC_SEQ_CST);
    EXPECT_TRUE(wait_for(
        [&] { return __atomic_load_n(&h->request_ack_gen, __ATOMIC_ACQUIRE) == gen; }, 5000ms))
        << req;
    return h->request_status;
  };
  const uint32_t before = host.probe_count();
  EXPECT_EQ(ask("profile:profile-997:1003009"), VTRACE_REQ_OK);
  ASSERT_EQ(host.probe_count(), before + 1);
  const auto& e = host.entry(before);
  EXPECT_EQ(e.kind, VTRACE_GPROBE_KERNEL);
  EXPECT_STREQ(e.provider, "profile");
  EXPECT_STREQ(e.name, "profile-997");
  EXPECT_EQ(e.nargs, 2);
  EXPECT_EQ(ask("profile:profile-997:1003009"), VTRACE_REQ_OK);  // once
  EXPECT_EQ(host.probe_count(), before + 1);
  EXPECT_EQ(ask("profile:profile-99999:10"), VTRACE_REQ_BAD);  // faster than 10 kHz
  EXPECT_EQ(ask("profile:tick-1:1000000000"), VTRACE_REQ_BAD);
  EXPECT_EQ(ask("profile:profile-9"), VTRACE_REQ_BAD);
  EXPECT_EQ(ask("nonsense"), VTRACE_REQ_BAD);
  if (access("/sys/kernel/tracing/kprobe_events", F_OK) != 0) {
    EXPECT_EQ(ask("fbt:vfs_read"), VTRACE_REQ_UNSUPPORTED);
  }
  EXPECT_EQ(host.probe_count(), before + 1);
}

TEST(Agent, WaitsForTheHostToFormat) {
  FakeHost host(/*format=*/false, {"--no-kernel"});
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(host.h()->agent_ready, 0u);
  host.format();
  EXPECT_TRUE(host.wait_ready(4000ms)) << "the agent did not retry the mapping";
}

TEST(Agent, RelaysRecordsOfAProcessAndDisablesAtDetach) {
  FakeHost host(true, {"--no-kernel"});
  ASSERT_TRUE(host.wait_ready());
  host.attach();  // scans every 250 ms while attached
  pid_t sample = spawn({SAMPLE_BINARY, "-1", "1000"});
  const int tick = host.wait_probe(sample, "sample", "tick");
  const int query = host.find(sample, "sample", "query");
  const int start = host.wait_probe(sample, "sample", "request-start");  // D spelling
  ASSERT_GE(tick, 0);
  ASSERT_GE(query, 0);
  ASSERT_GE(start, 0);
  const auto& e = host.entry(tick);
  EXPECT_STREQ(e.module, "instrumented_sample");
  EXPECT_STREQ(e.function, "work");
  EXPECT_EQ(e.nargs, 2);
  EXPECT_EQ(host.entry(query).flags & VTRACE_DESC_STR0, VTRACE_DESC_STR0);
  EXPECT_EQ(host.find(sample, "sample", "expensive"), host.find(sample, "sample", "expensive"));

  host.enable({tick, query});
  std::vector<vtrace_guest_record> recs;
  wait_for(
      [&] {
        for (auto& r : host.read()) recs.push_back(r);
        return recs.size() >= 40;
      },
      5000ms);
  ASSERT_GE(recs.size(), 40u);
  EXPECT_EQ(site_flags(sample, "sample", "tick"), std::vector<uint32_t>{1});
  std::map<int, int> per_probe;
  uint64_t last_ts = 0;
  for (size_t i = 0; i < recs.size(); ++i) {
    const auto& r = recs[i];
    EXPECT_EQ(r.seq, i);
    EXPECT_EQ(r.pid, static_cast<uint32_t>(sample));
    EXPECT_EQ(r.tid, static_cast<uint32_t>(sample));
    EXPECT_STREQ(r.comm, "instrumented_sa");  // comm is 15 characters
    EXPECT_GE(r.timestamp, last_ts) << "one thread's records are in TSC order";
    last_ts = r.timestamp;
    ++per_probe[static_cast<int>(r.probe)];
    if (static_cast<int>(r.probe) == tick) {
      EXPECT_EQ(r.nargs, 2);
      EXPECT_EQ(r.args[1], r.args[0] * 2);
      EXPECT_EQ(r.tail_len, 0);
    } else {
      ASSERT_EQ(static_cast<int>(r.probe), query);
      EXPECT_EQ(r.nargs, 2);
      EXPECT_STREQ(r.tail, r.args[1] % 2 == 0 ? "select 1" : "update t");
      EXPECT_EQ(r.tail_len, 9);
    }
  }
  EXPECT_NEAR(per_probe[tick], per_probe[query], 1);
  EXPECT_LE(host.h()->watermark, __builtin_ia32_rdtsc());
  EXPECT_GE(host.h()->watermark, last_ts);

  // Disabling one probe stops its records.
  host.enable({query}, 0);
  std::this_thread::sleep_for(100ms);
  host.read();
  std::this_thread::sleep_for(100ms);
  for (auto& r : host.read()) EXPECT_EQ(static_cast<int>(r.probe), tick);

  // Detach: every site is off again and the channel file is gone.
  host.detach();
  EXPECT_TRUE(wait_for(
      [&] { return site_flags(sample, "sample", "tick") == std::vector<uint32_t>{0}; }, 2000ms));
  EXPECT_TRUE(wait_for(
      [&] { return access(("/dev/shm/vtrace." + std::to_string(sample)).c_str(), F_OK) != 0; },
      2000ms));
  host.read();
  const uint64_t head = host.ring(VTRACE_GUEST_RING_NATIVE)->head;
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(host.ring(VTRACE_GUEST_RING_NATIVE)->head, head);
  EXPECT_EQ(host.h()->process_rejects, 0u);
  kill(sample, SIGKILL);
  reap(sample);
}

TEST(Agent, RelaysEveryRecordOfReqloopWithStrings) {
  FakeHost host(true, {"--no-kernel"});
  ASSERT_TRUE(host.wait_ready());
  host.attach();
  pid_t reqloop = spawn({REQLOOP_BINARY, "300", "--sleep-before-ms", "1500"});
  const int start = host.wait_probe(reqloop, "reqloop", "request-start");
  const int path = host.find(reqloop, "reqloop", "request-path");
  const int done = host.find(reqloop, "reqloop", "request-done");
  ASSERT_GE(start, 0);
  ASSERT_GE(path, 0);
  ASSERT_GE(done, 0);
  host.enable({start, path, done});
  std::vector<vtrace_guest_record> recs;
  wait_for(
      [&] {
        for (auto& r : host.read()) recs.push_back(r);
        return recs.size() >= 900;
      },
      8000ms);
  EXPECT_EQ(reap(reqloop), 0);
  std::this_thread::sleep_for(100ms);
  for (auto& r : host.read()) recs.push_back(r);
  ASSERT_EQ(recs.size(), 900u) << "relay drops " << host.h()->relay_drops << ", process drops "
                               << host.h()->process_drops;
  std::set<uint64_t> started, finished;
  for (const auto& r : recs) {
    EXPECT_STREQ(r.comm, "reqloop");
    if (static_cast<int>(r.probe) == start) started.insert(r.args[0]);
    if (static_cast<int>(r.probe) == done) {
      finished.insert(r.args[0]);
      EXPECT_EQ(r.args[1], r.args[0] % 17 == 0 ? 500u : r.args[0] % 5 == 0 ? 404u : 200u);
    }
    if (static_cast<int>(r.probe) == path) {
      std::string p(r.tail);
      EXPECT_EQ(r.tail_len, p.size() + 1);
      EXPECT_EQ(p, r.args[1] % 4 == 3 ? "/health" : p) << p;
      EXPECT_EQ(p.rfind("/", 0), 0u);
    }
  }
  EXPECT_EQ(started.size(), 300u);
  EXPECT_EQ(finished.size(), 300u);
  EXPECT_EQ(host.h()->relay_drops, 0u);
  EXPECT_EQ(host.h()->process_drops, 0u);
}

TEST(Agent, SyncModeHoldsTheSiteUntilTheHostIsDone) {
  FakeHost host(true, {"--no-kernel"});
  ASSERT_TRUE(host.wait_ready());
  host.attach(/*sync=*/true);
  pid_t sample = spawn({SAMPLE_BINARY, "-1", "0"});  // fires as fast as it can
  const int tick = host.wait_probe(sample, "sample", "tick");
  ASSERT_GE(tick, 0);
  host.enable({tick});
  std::vector<uint64_t> ids;
  for (int k = 0; k < 20; ++k) {
    std::vector<vtrace_guest_record> got;
    ASSERT_TRUE(wait_for(
        [&] {
          for (auto& r : host.read()) got.push_back(r);
          return !got.empty();
        },
        3000ms))
        << "record " << k;
    // While the host holds the record, the program cannot fire again.
    std::this_thread::sleep_for(k < 3 ? 100ms : 2ms);
    for (auto& r : host.read()) got.push_back(r);
    ASSERT_EQ(got.size(), 1u) << "a second record arrived before the first was done";
    ids.push_back(got[0].args[0]);
    host.mark_done();
  }
  for (size_t i = 1; i < ids.size(); ++i) EXPECT_EQ(ids[i], ids[i - 1] + 1);
  // Detach releases the site: the program runs free again, untraced.
  host.detach();
  EXPECT_TRUE(wait_for(
      [&] { return site_flags(sample, "sample", "tick") == std::vector<uint32_t>{0}; }, 3000ms));
  kill(sample, SIGKILL);
  reap(sample);
}

// A new session (a host that attaches again without having detached) forgets old enablings
// and starts the rings over.
TEST(Agent, NewSessionForgetsOldEnablings) {
  FakeHost host(true, {"--no-kernel"});
  ASSERT_TRUE(host.wait_ready());
  host.attach();
  pid_t sample = spawn({SAMPLE_BINARY, "-1", "1000"});
  const int tick = host.wait_probe(sample, "sample", "tick");
  ASSERT_GE(tick, 0);
  host.enable({tick});
  size_t before = 0;
  ASSERT_TRUE(wait_for([&] { return (before += host.read().size()) > 3; }, 3000ms));
  host.attach();  // zeroes ring headers and enable bytes, bumps host_session
  EXPECT_TRUE(wait_for(
      [&] { return site_flags(sample, "sample", "tick") == std::vector<uint32_t>{0}; }, 2000ms));
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(host.read().empty());
  host.enable({tick});
  std::vector<vtrace_guest_record> recs;
  ASSERT_TRUE(wait_for(
      [&] {
        for (auto& r : host.read()) recs.push_back(r);
        return recs.size() > 3;
      },
      3000ms));
  EXPECT_EQ(recs[0].seq, 0u) << "positions start over in a new session";
  kill(sample, SIGKILL);
  reap(sample);
}

// Sync mode with a host that answers at once: records per second through the full round trip
// (site -> agent -> host -> agent -> site).
TEST(Agent, SyncRoundTripRate) {
  FakeHost host(true, {"--no-kernel"});
  ASSERT_TRUE(host.wait_ready());
  host.attach(/*sync=*/true);
  pid_t sample = spawn({SAMPLE_BINARY, "-1", "0"});
  const int tick = host.wait_probe(sample, "sample", "tick");
  ASSERT_GE(tick, 0);
  host.enable({tick});
  size_t n = 0;
  uint64_t last = 0;
  const auto t0 = Clock::now();
  while (Clock::now() - t0 < 1000ms) {
    for (auto& r : host.read()) {
      if (n > 0) {
        EXPECT_EQ(r.args[0], last + 1) << "sync mode drops nothing";
      }
      last = r.args[0];
      ++n;
    }
    host.mark_done();
  }
  std::printf("sync relay: %zu round trips in 1 s\n", n);
  EXPECT_GT(n, 10u);
  EXPECT_EQ(host.h()->process_drops + host.h()->relay_drops, 0u);
  kill(sample, SIGKILL);
  reap(sample);
}

}  // namespace
}  // namespace agent_test
