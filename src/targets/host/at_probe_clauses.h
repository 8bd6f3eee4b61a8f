// Clauses that run whole where their host tracepoint fires (bpf/clause_program.h): decides which
// clauses of a program may (every probe they are enabled on is a plain tracepoint probe, and
// every clause that updates their aggregations runs there too), loads and attaches their BPF
// programs, keeps their aggregations' maps and merges them into the engine's aggregations when
// it prints. The engine no longer runs those clauses.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bpf/kernel_aggregation.h"
#include "bpf/syscall_routes.h"
#include "sys/perf_ring.h"
#include "sys/unique_fd.h"
#include "targets/host/kernel_probes.h"
#include "targets/host/usdt_target.h"

namespace vtrace::engine {
class Engine;
}

namespace vtrace::targets::host {

class AtProbeClauses {
 public:
  // Decides which of the clauses enabled on `enabled` run at their probes (no BPF yet).
  // Kernel tracepoints (`kernel`) and USDT sites (`usdt`) can run clauses.
  void plan(engine::Engine& eng, KernelProbes& kernel, UsdtTargets& usdt,
            const std::vector<uint32_t>& enabled);
  // Loads and attaches the planned clauses' programs and tells the engine. False with a message
  // on a failure of BPF itself; a clause that cannot run at the probe is not a failure (it runs
  // in the engine). `aggsize` bounds the keys of each aggregation map, `dynvarsize` the
  // self-> variables' maps together (bytes, as the options).
  bool start(engine::Engine& eng, uint64_t aggsize, uint64_t dynvarsize, std::string& err);
  // Why each clause runs where it does, for `vtrace -e -v` ("clause #1 runs at the probe", or
  // the reason it does not).
  const std::vector<std::string>& placement() const { return placement_; }
  // Stops the programs firing.
  void stop() {
    links_.clear();
    uprobes_.clear();
    syscalls_.detach();
  }
  // "vtrace: N aggregation drops on CPU c (a kernel map was full)", and dynamic variable drops.
  void report(std::FILE* out) const;

 private:
  void sync(engine::Engine& eng);

  struct Site {
    uint32_t clause, probe;
    const sys::EventFormat* format;  // a tracepoint's (nullptr for a USDT site)
    bpf::ClauseTarget target;
    size_t usdt_site = 0;  // a USDT site (target.usdt): its index and process in UsdtTargets
    pid_t usdt_pid = 0;
  };
  std::vector<Site> sites_;
  std::vector<bool> at_probe_;                                 // per clause
  std::vector<std::unique_ptr<bpf::KernelAggregation>> maps_;  // per module aggregation
  std::vector<sys::UniqueFd> vars_;                            // per dynamic variable (self->)
  sys::UniqueFd drops_, zeros_;
  bpf::KeyStrings key_strings_;  // long string constants in the maps' keys
  std::vector<sys::UniqueFd> progs_, links_;
  std::vector<std::unique_ptr<sys::PerfRing>> uprobes_;  // USDT sites' uprobe events
  UsdtTargets* usdt_ = nullptr;
  bpf::SyscallRoutes syscalls_;  // clauses on syscall probes: through raw sys_enter/sys_exit
  std::vector<std::string> placement_;
};

}  // namespace vtrace::targets::host
