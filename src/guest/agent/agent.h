// vtrace-agent: the guest side of a VM target. It maps the guest channel (the ivshmem BAR),
// publishes a probe table (guest kernel events, then the probe.h sites of guest processes),
// turns probes on and off as the host's enable bytes say, and relays records from guest
// processes' channels and the kernel into the channel's rings, sorted by guest TSC within a
// round, with a watermark. Ping (time handshake) and exec requests run on threads of their own.
#pragma once
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "guest/agent/bar_mapping.h"
#include "guest/agent/exec_server.h"
#include "guest/agent/guest_ring.h"
#include "guest/agent/kernel_events.h"
#include "guest/agent/probe_table.h"
#include "guest/agent/proc_scanner.h"
#include "guest/agent/process_relay.h"

namespace vtrace::guest {

struct AgentOptions {
  std::string bar;          // "" finds the ivshmem device
  uint32_t poll_us = 1000;  // async mode: sleep after an empty round
  bool kernel = true;       // offer guest kernel events
};

class Agent : public TraceHooks {
 public:
  explicit Agent(AgentOptions opts) : opts_(std::move(opts)) {}
  ~Agent() override;

  // Maps the channel (retrying every second), publishes, then relays until `stop` is set.
  // Returns the process exit code.
  int run(const std::atomic<bool>& stop);

  // TraceHooks, for held `vm exec` children.
  bool host_attached() override;
  bool begin_traced(pid_t pid) override;
  uint32_t traced_client(pid_t pid) override;
  uint32_t register_traced(pid_t pid) override;
  void enable_traced(pid_t pid) override;
  void open_gate(pid_t pid) override;

 private:
  using Clock = std::chrono::steady_clock;

  bool map_channel(const std::atomic<bool>& stop);
  void publish_identity();
  void init_kernel_probes();
  // Finds new instrumented processes and publishes their probes. Caller holds mu_.
  void scan_locked();
  void check_processes_locked();
  void begin_session(uint64_t session);
  void end_session();
  void detach_all_locked();
  void apply_enablings_locked();
  // A host's probe request (vtrace_guest_header::request): adds the probes, acknowledges.
  void serve_request();
  void set_sync(bool sync);
  // One relay round; returns the records written.
  size_t relay_round();
  // Async mode, after an empty round: sleeps --poll-us, less when a ring fills.
  void idle_wait();
  void heartbeat_processes();
  void write_counters();
  NativeProcess* find_locked(pid_t pid);

  AgentOptions opts_;
  BarMapping bar_;
  vtrace_guest_header* h_ = nullptr;
  volatile uint8_t* enabled_ = nullptr;

  std::mutex mu_;  // the table, the processes and their enablings (main and exec threads)
  GuestProbeTable table_;
  SymbolServer symbols_;  // names guest frames (kernel_ tells it), answers the host's requests
  KernelEvents kernel_;
  // Kernel probe i (KernelEvents::probes()) is table entry kernel_entries_[i]: the fixed ones
  // first, fbt probes where a request added them.
  std::vector<uint32_t> kernel_entries_;
  uint32_t request_gen_seen_ = 0;
  std::vector<uint8_t> kernel_on_;  // their enable bytes as last applied (VTRACE_GEN_*)
  bool kernel_any_on_ = false;
  std::vector<std::unique_ptr<NativeProcess>> procs_;  // never shrinks: records point at them
  std::unordered_map<pid_t, NativeProcess*> by_pid_;   // the newest object for a pid
  ProcScanner scanner_;

  GuestRingWriter native_ring_, kernel_ring_;
  std::vector<RelayRecord> native_staged_;  // sync mode
  SortScratch sort_scratch_;
  bool in_session_ = false;
  uint64_t session_ = 0;
  uint32_t enable_gen_seen_ = 0;
  bool enable_dirty_ = false;
  bool sync_ = false;
  bool any_enabled_ = false;
  uint64_t relay_drops_ = 0;
  uint64_t watermark_ = 0;  // the last one published this session
  bool stalled_ = false;    // sync: the host stopped answering at heartbeat stalled_beat_
  uint64_t stalled_beat_ = 0;
};

}  // namespace vtrace::guest
