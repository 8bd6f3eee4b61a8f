// The scheduling state of each guest vCPU thread, from the host's sched_switch stream, and the
// time each vCPU lost to host preemption (the vcpustolen built-in).
//
// A vCPU thread switched off a host CPU while still runnable (prev_state has no sleep bit: "R" or
// "R+") was preempted: the guest wanted to run and the host ran something else. Switched off
// while not runnable ("S", "D", ...) it halted: the guest idles (HLT), or the vCPU waits for QEMU
// itself (its big lock, I/O). Preempted intervals accumulate per vCPU as stolen time.
//
// vcpustolen of a guest record at host time t is the stolen time of its vCPU in
// (t_prev, t], t_prev the time of that vCPU's previous guest record (0 for the first one). The
// intervals are kept with their times, so the sum is clipped at t, not at the moment the record
// is processed; what is exact is bounded by (a) the guest clock's translation bound and (b)
// sched_switch events not read yet when the guest record runs (an interval still open at t is
// counted up to t). Time a halted vCPU waits for a CPU after its wakeup is not counted.
#pragma once
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

namespace vtrace::targets::host {

class VmmTracker {
 public:
  enum class State : uint8_t { Unknown, Running, Preempted, Halted };

  struct Vcpu {
    uint32_t target = 0;  // the VM's Record::target
    uint32_t index = 0;   // vCPU index
    int32_t tid = 0;      // its host thread
    State state = State::Unknown;
    uint64_t off_since = 0;  // when it left the CPU (Preempted, Halted)
    // vcpustolen bookkeeping: closed preempted intervals after the last guest record, the sum of
    // those dropped before it, and that record's time and cumulative stolen time.
    std::deque<std::pair<uint64_t, uint64_t>> intervals;
    uint64_t dropped = 0;
    bool probed = false;
    uint64_t last_probe = 0, last_cum = 0;
    uint64_t preempts = 0, halts = 0, stolen_total = 0;
  };

  enum class Event : uint8_t { Preempt, Resume, Halt };
  struct Transition {
    Event event;
    uint32_t slot;    // vcpu(slot)
    uint64_t off_ns;  // Resume: how long it was off the CPU (0 when unknown)
    uint64_t stolen;  // Resume: the part of off_ns it was runnable (preempted)
  };

  // One sched_switch as the tracker needs it.
  struct Switch {
    uint64_t time;
    int32_t prev_tid;
    int64_t prev_state;
    int32_t next_tid;
  };

  // Registers a vCPU thread; returns its slot. A thread running several vCPUs (single-threaded
  // TCG) is registered once per vCPU: its switches apply to each.
  uint32_t add_vcpu(uint32_t target, uint32_t index, int32_t tid);
  const Vcpu& vcpu(uint32_t slot) const { return vcpus_[slot]; }
  size_t size() const { return vcpus_.size(); }
  bool tracks(int32_t tid) const { return by_tid_.count(tid) != 0; }
  // Calls f(slot) for each vCPU the thread runs.
  template <typename F>
  void for_each_slot(int32_t tid, F&& f) const {
    auto [b, e] = by_tid_.equal_range(tid);
    for (auto it = b; it != e; ++it) f(it->second);
  }

  // Whether a sched_switch prev_state means the task was still runnable (TASK_RUNNING; the
  // kernel adds a "preempted" bit above the state bits).
  static bool runnable(int64_t prev_state) { return (prev_state & 0xff) == 0; }

  // Applies one sched_switch (in time order); appends what happened to vCPU threads: a
  // Preempt or Halt for prev, a Resume for next.
  void on_switch(const Switch& s, std::vector<Transition>& out);

  // vcpustolen of a guest record of (target, vcpu index) at host time t; advances that vCPU's
  // mark to t. 0 for the first record, an unknown vCPU, or a record older than the previous one.
  uint64_t stolen_since_last(uint32_t target, uint32_t index, uint64_t t);

  // Cumulative preempted time of a vCPU up to t (an interval open at t counts up to t).
  uint64_t stolen_upto(const Vcpu& v, uint64_t t) const;

 private:
  static uint64_t key(uint32_t target, uint32_t index) { return uint64_t{target} << 32 | index; }

  std::vector<Vcpu> vcpus_;
  std::unordered_multimap<int32_t, uint32_t> by_tid_;
  std::unordered_map<uint64_t, uint32_t> by_vcpu_;
};

}  // namespace vtrace::targets::host
