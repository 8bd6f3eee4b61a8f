// The hypervisor layer's bookkeeping on synthetic sched_switch streams: how vCPU thread switches
// are classified (preempt, halt, resume) and the vcpustolen deltas between guest records.
#include "targets/host/vmm_tracker.h"

#include <gtest/gtest.h>

#include <vector>

#include "targets/host/vmm_vcpus.h"

namespace vtrace::targets::host {
namespace {

using Event = VmmTracker::Event;

constexpr uint32_t kA = 0x10000, kB = 0x10001;  // two guests' Record::target
constexpr int64_t kRunning = 0, kRunningPreempted = 0x100, kSleeping = 1, kDisk = 2;

struct Fixture {
  VmmTracker t;
  std::vector<VmmTracker::Transition> out;
  Fixture() {
    t.add_vcpu(kA, 0, 1001);  // slot 0
    t.add_vcpu(kA, 1, 1002);  // slot 1
    t.add_vcpu(kB, 0, 2001);  // slot 2
  }
  std::vector<VmmTracker::Transition> sw(uint64_t time, int32_t prev, int64_t state, int32_t next) {
    out.clear();
    t.on_switch({time, prev, state, next}, out);
    return out;
  }
};

TEST(VmmTracker, RunnableSwitchOffIsAPreempt) {
  EXPECT_TRUE(VmmTracker::runnable(kRunning));
  EXPECT_TRUE(VmmTracker::runnable(kRunningPreempted));  // "R+"
  EXPECT_FALSE(VmmTracker::runnable(kSleeping));
  EXPECT_FALSE(VmmTracker::runnable(kDisk));
  EXPECT_FALSE(VmmTracker::runnable(0x80));  // "I" (idle kernel thread)

  Fixture f;
  auto tr = f.sw(100, 1001, kRunningPreempted, 5000);
  ASSERT_EQ(tr.size(), 1u);
  EXPECT_EQ(tr[0].event, Event::Preempt);
  EXPECT_EQ(tr[0].slot, 0u);
  EXPECT_EQ(f.t.vcpu(0).state, VmmTracker::State::Preempted);
  tr = f.sw(100 + 700, 5000, kSleeping, 1001);
  ASSERT_EQ(tr.size(), 1u);
  EXPECT_EQ(tr[0].event, Event::Resume);
  EXPECT_EQ(tr[0].off_ns, 700u);
  EXPECT_EQ(tr[0].stolen, 700u);
  EXPECT_EQ(f.t.vcpu(0).stolen_total, 700u);
  EXPECT_EQ(f.t.vcpu(0).preempts, 1u);
}

TEST(VmmTracker, SleepingSwitchOffIsAHaltAndStealsNothing) {
  Fixture f;
  auto tr = f.sw(100, 2001, kSleeping, 0);
  ASSERT_EQ(tr.size(), 1u);
  EXPECT_EQ(tr[0].event, Event::Halt);
  EXPECT_EQ(tr[0].slot, 2u);
  tr = f.sw(5100, 0, kRunning, 2001);
  ASSERT_EQ(tr.size(), 1u);
  EXPECT_EQ(tr[0].event, Event::Resume);
  EXPECT_EQ(tr[0].off_ns, 5000u);
  EXPECT_EQ(tr[0].stolen, 0u);
  EXPECT_EQ(f.t.vcpu(2).stolen_total, 0u);
  EXPECT_EQ(f.t.vcpu(2).halts, 1u);
}

TEST(VmmTracker, OtherTasksAndUnseenSwitchOffs) {
  Fixture f;
  EXPECT_TRUE(f.sw(100, 7, kRunning, 8).empty());  // neither is a vCPU thread
  // The first event of a vCPU is a switch-in: how long it was off is unknown.
  auto tr = f.sw(200, 7, kRunning, 1002);
  ASSERT_EQ(tr.size(), 1u);
  EXPECT_EQ(tr[0].event, Event::Resume);
  EXPECT_EQ(tr[0].off_ns, 0u);
  EXPECT_EQ(tr[0].stolen, 0u);
  // One guest's vCPU preempted by the other's: a transition for each.
  f.sw(300, 8, kSleeping, 2001);
  tr = f.sw(400, 2001, kRunningPreempted, 1001);
  ASSERT_EQ(tr.size(), 2u);
  EXPECT_EQ(tr[0].event, Event::Preempt);
  EXPECT_EQ(tr[0].slot, 2u);
  EXPECT_EQ(tr[1].event, Event::Resume);
  EXPECT_EQ(tr[1].slot, 0u);
}

TEST(VmmTracker, StolenIsTheDeltaBetweenGuestRecords) {
  Fixture f;
  EXPECT_EQ(f.t.stolen_since_last(kA, 0, 1000), 0u);  // the first record
  f.sw(1100, 1001, kRunning, 9);                      // preempted 1100..1400
  f.sw(1400, 9, kSleeping, 1001);
  f.sw(1500, 1001, kSleeping, 0);  // halted 1500..1900: not stolen
  f.sw(1900, 0, kRunning, 1001);
  f.sw(2000, 1001, kRunningPreempted, 9);  // preempted 2000..2050
  f.sw(2050, 9, kRunning, 1001);
  EXPECT_EQ(f.t.stolen_since_last(kA, 0, 3000), 350u);
  EXPECT_EQ(f.t.stolen_since_last(kA, 0, 3100), 0u);  // nothing in between
  // The other vCPU of the same guest and the other guest saw none of it.
  EXPECT_EQ(f.t.stolen_since_last(kA, 1, 3100), 0u);
  EXPECT_EQ(f.t.stolen_since_last(kB, 0, 3100), 0u);
  EXPECT_EQ(f.t.stolen_since_last(kB, 7, 3100), 0u);  // an unknown vCPU
}

TEST(VmmTracker, StolenIsClippedAtTheRecordsTime) {
  Fixture f;
  EXPECT_EQ(f.t.stolen_since_last(kA, 0, 1000), 0u);
  // The sched stream ran ahead of the guest's: an interval 1100..1600 is known when records at
  // 1300 and 2000 are processed. Each gets the part before its own time.
  f.sw(1100, 1001, kRunning, 9);
  f.sw(1600, 9, kRunning, 1001);
  EXPECT_EQ(f.t.stolen_since_last(kA, 0, 1300), 200u);
  EXPECT_EQ(f.t.stolen_since_last(kA, 0, 2000), 300u);
  // A record older than the previous one gets nothing (it ran late).
  EXPECT_EQ(f.t.stolen_since_last(kA, 0, 1900), 0u);
  // An interval still open at the record's time counts up to it.
  f.sw(2100, 1001, kRunning, 9);
  EXPECT_EQ(f.t.stolen_since_last(kA, 0, 2500), 400u);
  f.sw(2600, 9, kRunning, 1001);
  EXPECT_EQ(f.t.stolen_since_last(kA, 0, 3000), 100u);
}

TEST(VmmTracker, ManyIntervalsWithoutGuestRecordsStayBounded) {
  Fixture f;
  EXPECT_EQ(f.t.stolen_since_last(kA, 0, 0), 0u);
  uint64_t t = 10;
  for (int i = 0; i < 10000; ++i, t += 100) {
    f.sw(t, 1001, kRunning, 9);
    f.sw(t + 30, 9, kRunning, 1001);
  }
  EXPECT_LE(f.t.vcpu(0).intervals.size(), 4096u);
  EXPECT_EQ(f.t.stolen_since_last(kA, 0, t), 10000u * 30);
}

TEST(VmmTracker, SharedThreadAppliesToEachVcpu) {
  VmmTracker t;  // single-threaded TCG: one thread runs both vCPUs
  t.add_vcpu(kA, 0, 1001);
  t.add_vcpu(kA, 1, 1001);
  std::vector<VmmTracker::Transition> out;
  EXPECT_EQ(t.stolen_since_last(kA, 1, 0), 0u);
  t.on_switch({10, 1001, kRunning, 9}, out);
  t.on_switch({60, 9, kRunning, 1001}, out);
  EXPECT_EQ(out.size(), 4u);
  EXPECT_EQ(t.stolen_since_last(kA, 1, 100), 50u);
}

TEST(VmmVcpus, ParsesQueryCpusFast) {
  // As QEMU 7 answers for x86 (props has an SMT "thread-id" of its own).
  const std::string reply =
      R"({"return": [{"thread-id": 24689, "props": {"core-id": 0, "thread-id": 0, )"
      R"("node-id": 0, "socket-id": 0}, "qom-path": "/machine/unattached/device[0]", )"
      R"("cpu-index": 0, "target": "x86_64"}, {"thread-id": 24690, "props": {"core-id": 0, )"
      R"("thread-id": 1, "socket-id": 0}, "qom-path": "/machine/unattached/device[1]", )"
      R"("cpu-index": 1, "target": "x86_64"}]})";
  std::string err;
  std::vector<VcpuThread> v = parse_query_cpus_fast(reply, err);
  ASSERT_EQ(v.size(), 2u) << err;
  EXPECT_EQ(v[0].index, 0u);
  EXPECT_EQ(v[0].tid, 24689);
  EXPECT_EQ(v[1].index, 1u);
  EXPECT_EQ(v[1].tid, 24690);
}

TEST(VmmVcpus, RejectsErrorsAndMalformedReplies) {
  std::string err;
  EXPECT_TRUE(parse_query_cpus_fast(
                  R"({"error": {"class": "CommandNotFound", "desc": "no such command"}})", err)
                  .empty());
  EXPECT_NE(err.find("CommandNotFound"), std::string::npos) << err;
  for (const char* bad : {"", "{}", R"({"return": []})", R"({"return": [{"cpu-index": 0}]})",
                          R"({"return": [{"cpu-index": 0, "thread-id": -5}]})",
                          R"({"return": [{"cpu-index": "x", "thread-id": 1})"}) {
    err.clear();
    EXPECT_TRUE(parse_query_cpus_fast(bad, err).empty()) << bad;
    EXPECT_FALSE(err.empty()) << bad;
  }
}

}  // namespace
}  // namespace vtrace::targets::host
