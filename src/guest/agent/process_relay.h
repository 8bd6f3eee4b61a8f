// One guest process with probe.h sites, as the agent relays it: its probes become table entries
// (one per distinct provider, function, name), the host's enable bytes turn its sites on and
// off, and its channel's rings (/dev/shm/vtrace.PID, made by the agent as vtrace -p would) are
// read with the validating RingReader and turned into guest records.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "guest/agent/guest_ring.h"
#include "guest/agent/probe_table.h"
#include "sys/elf_probes.h"
#include "transport/channel.h"
#include "transport/ring_reader.h"

namespace vtrace::guest {

// A guest has little RAM: 8 rings (threads) of 8192 slots, 3 MiB each, touched only when a
// thread claims one. A ring holds ~8 ms of a site firing every microsecond while the agent,
// which polls every millisecond, waits for a busy vCPU.
inline constexpr uint32_t kProcessRings = 8;
inline constexpr uint32_t kProcessSlots = 8192;

class NativeProcess {
 public:
  explicit NativeProcess(pid_t pid) : pid_(pid) {}
  ~NativeProcess();
  NativeProcess(const NativeProcess&) = delete;
  NativeProcess& operator=(const NativeProcess&) = delete;

  // Reads the probe sites of the live process. False with `error` set.
  bool discover(std::string& error);
  // Discovery found descriptors but none valid: a process not relocated yet, most likely.
  bool unrelocated() const { return table_.sites.empty() && table_.invalid > 0; }
  // Adds one table entry per distinct (provider, function, name) of its sites (not published).
  void add_entries(GuestProbeTable& table);
  // Creates the channel (before the program maps it: for a held `vm exec` child too).
  bool open_channel(bool sync, std::string& error);
  void set_sync(bool sync);
  // Turns sites (and their VTRACE_ENABLED guards) on or off as enabled[entry] says, opening the
  // channel on the first enabling. `count` bounds the entries read. False with `error` set.
  bool apply(const volatile uint8_t* enabled, uint32_t count, bool sync, std::string& error);
  bool any_enabled() const { return nsites_on_ > 0; }

  // Reads every ring into `out` (validated; rejects counted); sets in_flight when a site was
  // between stamp and publish. Returns the records put into `out`.
  size_t poll(RecordSink& out, bool& in_flight);
  // Sleeps up to `ns`, less when one of its rings reaches half full (the sites ring the
  // channel's doorbell then). No channel: returns at once.
  void wait_doorbell(uint64_t ns);
  // Sync mode: the site that wrote `pos` of `ring` may go on.
  void mark_done(uint32_t ring, uint64_t pos);
  // Sync mode: every position read this round (valid or rejected) is done.
  void finish_round();
  void heartbeat();
  // The client_pid the program wrote once it mapped the channel (0 before).
  uint32_t client_pid() const { return channel_ ? channel_->client_pid() : 0; }
  void open_gate();
  // Disables every site it enabled, opens a held gate, detaches the channel.
  void detach();
  // The process image is gone (exec): detaches without writing to its old site addresses.
  void forget() {
    exited_ = true;
    detach();
  }

  // False once the process has exited (refreshes comm while it lives).
  bool check_alive();
  bool exited() const { return exited_; }
  bool has_channel() const { return channel_ != nullptr; }

  pid_t pid() const { return pid_; }
  const std::string& exe() const { return table_.exe; }
  const std::vector<uint32_t>& entries() const { return entries_; }
  uint64_t drops() const;  // ring full + no free ring, over every channel it had
  uint64_t rejects() const { return rejects_.total(); }

 private:
  void set_site(size_t i, bool on);

  pid_t pid_;
  sys::ProbeTable table_;
  std::string module_;
  char comm_[VTRACE_GUEST_COMM_LEN] = {};
  std::vector<uint32_t> site_entry_;  // site -> table entry (kNoEntry for guards, full table)
  std::vector<uint32_t> entries_;     // this process's table entries
  std::vector<uint8_t> site_on_;      // what the agent wrote into each site's flag
  size_t nsites_on_ = 0;
  transport::ProbeMap probe_map_;  // descriptor offset -> table entry
  std::unique_ptr<transport::Channel> channel_;
  std::vector<transport::RingReader> readers_;
  std::vector<uint64_t> done_upto_;
  transport::RejectCounts rejects_;
  uint64_t old_drops_ = 0;  // from detached channels
  bool sync_ = false;
  bool exited_ = false;
};

}  // namespace vtrace::guest
