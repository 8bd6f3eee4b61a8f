// A QEMU guest's vCPU threads, from QMP `query-cpus-fast`: the host thread id running each vCPU
// (one thread per vCPU under KVM and multi-threaded TCG; one shared thread under single-threaded
// TCG).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace vtrace::targets::host {

struct VcpuThread {
  uint32_t index = 0;  // QEMU's cpu-index: the guest's CPU number as Linux numbers it
  int32_t tid = 0;     // host thread id
};

// Parses a query-cpus-fast reply: {"return": [{"cpu-index": 0, "thread-id": 1234, ...}, ...]}.
// Only keys of each element's top level count (x86's "props" holds an SMT "thread-id" too).
// Empty with `err` set for an error reply or a malformed one.
std::vector<VcpuThread> parse_query_cpus_fast(const std::string& reply, std::string& err);

// Asks the running VM `vm` over QMP. Empty with `err` set when it cannot.
std::vector<VcpuThread> query_vcpu_threads(const std::string& vm, std::string& err);

}  // namespace vtrace::targets::host
