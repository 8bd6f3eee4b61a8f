// A host process as a vtrace target: its probe sites (found by elf_probes) become catalog
// probes "pidPID:provider:module:function:name" (the process's name works as the target too);
// its channel's rings are polled into vtrace::Records for the engine. ProcessTargets is the set
// of traced processes: one poll round over every ring of every process, merged by timestamp.
#pragma once
#include <sys/types.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "clock/tsc_clock.h"
#include "engine/catalog.h"
#include "sys/elf_probes.h"
#include "targets/process/target_counter.h"
#include "targets/target.h"
#include "transport/channel.h"
#include "transport/record.h"
#include "transport/ring_reader.h"

namespace vtrace::targets {

// A probe's entry of a channel's site ops table (site_aggregation.h): `nops` ops, then the
// constants its tests (VTRACE_AGG_TEST) compare with, one 8-byte word each.
struct SiteOpsEntry {
  uint32_t nops = 0;
  std::vector<vtrace_agg_op> words;
};

class ProcessTarget;

// One record of a poll round, before the engine runs it.
struct PendingRecord {
  Record rec;
  ProcessTarget* target = nullptr;
  uint32_t ring = 0;
  uint64_t pos = 0;
  char tail[VTRACE_TAIL_SIZE];  // the validated copy rec.tail points to (set after the round)
};

class ProcessTarget {
 public:
  // `index` is the Record::target value of this process's records (0 is the host).
  ProcessTarget(pid_t pid, uint32_t index) : pid_(pid), index_(index) {}
  ~ProcessTarget();

  // Reads the probe table and adds its probes to the catalog. False with `error` set.
  bool discover(engine::Catalog& catalog, std::string& error);
  // Creates the channel (for -c: before the program runs, so it can connect at start-up).
  bool open_channel(const transport::ChannelConfig& cfg, std::string& error);
  bool has_channel() const { return channel_ != nullptr; }
  // Sleeps up to `ns`, or until the process's doorbell rings (one of its rings half full).
  void wait_doorbell(uint64_t ns) {
    if (channel_) channel_->wait_doorbell(ns);
  }
  // Waits (bounded) until the program has mapped the channel; false on timeout.
  bool wait_client(int timeout_ms);
  // What the sites of a probe do when they fire: run site ops into the process's aggregation
  // slots (site_aggregation.h), write a record for the engine, or both.
  struct SiteWork {
    const SiteOpsEntry* ops = nullptr;
    bool record = true;
  };
  using SiteWorkOf = std::function<SiteWork(uint32_t probe)>;
  // Turns on the sites of the catalog probes in `enabled` (and their VTRACE_ENABLED guards),
  // each with the work `work_of` gives its probe (a record when none). Returns how many sites
  // were enabled.
  size_t enable(const std::vector<uint32_t>& enabled, const SiteWorkOf& work_of = {});
  // True when `probe` is one of this process's and every site of it has the descriptor flags
  // `flags` (VTRACE_DESC_AGG: it runs site ops; VTRACE_DESC_TEST: tests among them).
  bool sites_have(uint32_t probe, uint32_t flags) const;
  // Re-reads the aggregation slots of every ring while the channel is attached; the copy stays
  // for site_slot() after the process is gone.
  void read_site_slots();
  // Slot `slot` of ring `ring` as last read (0 when never read).
  uint64_t site_slot(uint32_t ring, uint32_t slot) const;
  uint32_t slot_rings() const { return slot_rings_; }
  void set_sync(bool sync);
  void open_gate();

  // Reads up to `max_per_ring` records from each ring into `out`.
  // Appends what its rings hold (at most max_per_ring each) to `out`. `complete_to` drops to the
  // last timestamp of a ring it left unread past the cap.
  size_t poll(std::vector<PendingRecord>& out, size_t max_per_ring, uint64_t& complete_to);
  // Sync mode: the engine is done with the record at `pos` of ring `ring`.
  void mark_done(uint32_t ring, uint64_t pos);
  // Sync mode: after a round, every position read (valid or rejected) is done.
  void finish_round();
  void heartbeat();
  // False once the process has exited (checked with kill(pid, 0) and /proc/PID/stat).
  bool check_alive();
  // Writes enabled = 0 into every site it enabled.
  void disable();
  // disable(), then detaches the channel.
  void shutdown();
  // Drops, bad counters, a cut channel and rejected records, as lines for stderr
  // ("vtrace: pid1234: ...").
  void report(std::FILE* err) const;

  pid_t pid() const { return pid_; }
  uint32_t index() const { return index_; }
  const std::string& target_name() const { return target_; }
  const std::string& module() const { return module_; }
  const sys::ProbeTable& table() const { return table_; }
  const std::vector<uint32_t>& probe_ids() const { return probe_ids_; }
  bool exited() const { return exited_; }
  void set_exited() { exited_ = true; }
  const transport::RejectCounts& rejects() const { return rejects_; }

 private:
  pid_t pid_;
  uint32_t index_;
  std::string target_;  // "pid1234"
  std::string module_;  // basename of the executable
  char comm_[kExecnameLen] = {};
  sys::ProbeTable table_;
  std::vector<uint32_t> site_probe_;  // site index -> catalog id (0 for guards)
  std::vector<uint32_t> probe_ids_;   // every catalog probe of this process
  std::vector<size_t> enabled_sites_;
  std::vector<uint64_t> site_slots_;  // every ring's aggregation slots, as last read
  uint32_t slot_rings_ = 0;
  bool site_ops_on_ = false;  // some site runs ops: its slots are worth reading
  transport::ProbeMap probe_map_;
  std::unique_ptr<transport::Channel> channel_;
  std::vector<transport::RingReader> readers_;
  std::vector<transport::RingRecord> scratch_;
  std::vector<uint64_t> done_upto_;  // per ring: positions below are marked done
  transport::RejectCounts rejects_;
  // Reads the drop counters the process writes (each heartbeat and at shutdown), checked.
  void sample_counters();
  std::vector<TargetCounter> ring_drops_;  // per ring: records dropped, ring full
  TargetCounter no_ring_drops_;            // records dropped, every ring taken
  TargetCounter unsynced_;                 // sync mode: firings that did not wait for us
  std::string size_note_;                  // the channel was cut to fit /dev/shm
  bool sync_ = false;
  bool tsc_ = false;  // records carry the raw TSC, translated by tsc_clock_
  clock::TscClock tsc_clock_;
  bool exited_ = false;
};

// Every traced process, polled together: one target of the timeline.
class ProcessTargets : public Target {
 public:
  // Removes the channels dead tracers left in /dev/shm first (a killed vtrace could not).
  ProcessTargets();
  ProcessTarget& add(pid_t pid);
  std::vector<std::unique_ptr<ProcessTarget>>& all() { return targets_; }
  bool empty() const { return targets_.empty(); }
  ProcessTarget* find(pid_t pid);

  const char* name() const override { return "processes"; }
  // Site operations of each probe (site_aggregation.h), for enable(); none when unset.
  using SiteOpsOf = std::function<const SiteOpsEntry*(uint32_t probe)>;
  void set_site_ops(SiteOpsOf ops) { site_ops_ = std::move(ops); }
  // Every process gets its channel (a -p process: now), the mode, and its sites on: records
  // for probes in req.gathered, site operations where set_site_ops() gave some.
  bool enable(const EnableRequest& req, std::string& error) override;
  bool active() const override { return !targets_.empty(); }
  // One poll round: reads every ring of every live process and hands the records to `sink` in
  // timestamp order; in sync mode each record is marked done right after (its site waits).
  size_t poll(RecordSink& sink, uint64_t now_ns) override;
  // Everything published before the last poll began was read (but for a ring left past its cap);
  // a thread between stamping a record and publishing it is covered (settled_before()).
  uint64_t watermark() const override { return watermark_; }
  // Bumps the heartbeat of every channel (sync sites stop waiting without one).
  void tick(uint64_t now_ns, engine::Engine& eng) override;
  // Sync sites wait at the probe for vtrace: the loop does not sleep.
  uint64_t sync_poll_ns() const override { return targets_.empty() ? UINT64_MAX : 0; }
  // Sleeps up to `ns`; a traced process whose ring fills up wakes it early. With several
  // processes only the first one's doorbell is watched, so the sleep is capped at 1 ms.
  bool wait(uint64_t ns) override;
  // Turns every process's probes off and reads what they published before, then detaches.
  void drain(RecordSink& sink) override;
  void report(std::FILE* err) const override;
  bool any_alive() const;

 private:
  size_t collect(uint64_t now_ns);
  void heartbeat();
  void shutdown();

  std::vector<std::unique_ptr<ProcessTarget>> targets_;
  uint64_t watermark_ = 0;
  SiteOpsOf site_ops_;
  std::vector<PendingRecord> pending_;
  std::vector<PendingRecord*> order_;
};

}  // namespace vtrace::targets
