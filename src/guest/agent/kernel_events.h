// The guest kernel's events the agent forwards: syscall::NAME:entry / :return for every syscall
// tracefs lists, sched:::on-cpu / off-cpu, proc:::exec / exit and, on request, fbt::FUNC:entry /
// :return (kernel_functions.h), opened through
// perf_event_open only while the host enables them (apply()). Each event is stamped with the
// guest TSC (perf's clock converted by the agent), so the host translates it like the records of
// probe.h sites.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "guest/agent/guest_tsc.h"
#include "guest/agent/syscall_kprobes.h"
#include "guest/agent/symbol_server.h"

namespace vtrace::guest {

// One probe this agent offers for the guest kernel (provider:module:function:name as D sees it).
struct KernelProbe {
  std::string provider;  // "syscall", "sched", "proc", "fbt"
  std::string module;    // "" (or "kernel")
  std::string function;  // the syscall's name for syscall probes, "" otherwise
  std::string name;      // "entry", "return", "on-cpu", "off-cpu", "exec", "exit"
  uint16_t nargs = 0;
  uint16_t flags = 0;  // VTRACE_DESC_STR0 when the event carries a string (proc:::exec's path)
};

// One guest kernel event, ready to be written into the kernel ring.
struct KernelEvent {
  uint32_t probe = 0;  // index into probes()
  uint32_t pid = 0, tid = 0, cpu = 0;
  uint64_t tsc = 0;  // guest TSC
  uint16_t nargs = 0;
  int64_t args[10] = {};
  char comm[16] = {};
  std::string str;  // copied string (arg0 of a VTRACE_DESC_STR0 probe), else empty
  // A VTRACE_GPROBE_STACKS probe's (profile) kernel and user return addresses, innermost
  // first (perf's callchain split at its context markers).
  std::vector<uint64_t> kstack, ustack;
  bool no_kstack = false;  // stacks asked of a probe that has no kernel stack (a syscall return)
  uint32_t image = 0;  // the process image ustack was named in (SymbolServer::name_user)
  // The host asked for the string argument str_arg points to (-1: not asked): in `str` when
  // str_read, else the kernel could not read it.
  int str_arg = -1;
  bool str_read = false;
};

class KernelEvents {
 public:
  KernelEvents();
  ~KernelEvents();

  // Finds tracefs and lists the probes (stable order for the life of the agent). "" or an error
  // (then probes() is empty and the agent offers no kernel probes).
  std::string init();
  const std::vector<KernelProbe>& probes() const;

  // The agent's own threads are left out of every tracepoint (a tracepoint filter): its system
  // calls would otherwise be traced, relayed, and make more of themselves.
  void exclude_own_threads(bool on);
  // Where user frames are named as samples are emitted (and the side band is told), if set.
  void set_symbols(SymbolServer* symbols);
  // fbt:MODULE:FUNC:entry and :return probes for the traceable kernel functions matching the
  // globs that have none yet: appended to probes(), their indices returned; none when they
  // need more than `room` probes or VTRACE_REQ_MAX_FUNCTIONS functions. `matched` counts the
  // functions the globs matched, `status` is a VTRACE_REQ_* value.
  std::vector<uint32_t> add_fbt(const std::string& module_glob, const std::string& glob,
                                size_t room, uint32_t& matched, uint32_t& status);
  // pidPID:MODULE:FUNC:entry and :return probes for the functions of guest process `pid`
  // matching the globs (process_functions.h); as add_fbt() (VTRACE_REQ_NO_PROCESS: no such
  // process).
  std::vector<uint32_t> add_pid(uint32_t pid, const std::string& module_glob,
                                const std::string& glob, size_t room, uint32_t& matched,
                                uint32_t& status);
  // profile:::NAME, every CPU's clock sampled every `period_ns` (arg0 the kernel PC, arg1 the
  // user PC), unless it exists; as add_fbt().
  std::vector<uint32_t> add_profile(const std::string& name, uint64_t period_ns, size_t room,
                                    uint32_t& matched, uint32_t& status);
  // Opens perf events for the probes whose enable byte (VTRACE_GEN_*) has VTRACE_GEN_ON, with
  // what else it asks read when they fire (a syscall entry's string argument, stacks), and
  // closes the others. "" or an error.
  std::string apply(const std::vector<uint8_t>& enabled);
  // Reads what the perf rings hold, in time order within each CPU; calls emit for each event.
  size_t poll(const std::function<void(const KernelEvent&)>& emit);
  // Events the kernel lost (perf ring overflow) so far.
  uint64_t lost() const;

  // Guest TSC before which every event has been emitted (poll() holds back events stamped after
  // it began reading, so that successive polls emit one time-ordered stream across CPUs).
  uint64_t watermark() const;
  // Perf records that could not be decoded (an unknown event id, a short sample).
  uint64_t malformed() const;
  // The perf ring of each CPU: data pages, a power of two (default 64: 256 KiB). Takes effect
  // when the rings are next opened (the first apply() enabling something after none was).
  void set_ring_pages(size_t pages);
  // The CLOCK_MONOTONIC -> guest TSC map the events are stamped with (calibrated by init()).
  const GuestTsc& clock() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vtrace::guest
