// Host tracepoints through BPF: one gather program per tracepoint in use (bpf/gather_program.h),
// all writing into one BPF ring, so what a clause must read at the moment of firing (strings
// behind pointers, credentials, the stacks) is read there, in the firing thread, not later from
// a copy. One perf event per tracepoint, not per CPU: its program runs on every CPU.
// Syscall tracepoints instead go through the raw sys_enter/sys_exit tracepoints
// (bpf/syscall_program.h): two attachments for any number of syscalls, and one program per
// distinct plan.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bpf/gather_parse.h"
#include "bpf/gather_plan.h"
#include "bpf/gather_ring.h"
#include "bpf/syscall_program.h"
#include "sys/tracefs.h"
#include "sys/unique_fd.h"

namespace vtrace::targets::host {

class TracepointGatherer {
 public:
  struct Source {
    const sys::EventFormat* format;
    bpf::GatherPlan plan;  // plan.probe is set to the source's index
    // A syscalls:sys_enter_NAME / sys_exit_NAME tracepoint read through the raw syscall
    // tracepoints: its side and syscall number. Its format's record is what the program rebuilds.
    std::optional<bpf::SyscallSide> syscall;
    uint32_t nr = 0;
  };

  // Loads and attaches one program per source into a ring of `bufsize` bytes. False with a
  // message (cause and fix) when BPF cannot be used.
  bool open(std::vector<Source> sources, uint64_t bufsize, std::string& err);
  bool active() const { return ring_ != nullptr; }

  // Calls fn(source, bytes, len) for at most `max` records waiting now (never blocks). The bytes
  // are valid during the call only; parse() reads them.
  using RecordFn = std::function<void(uint32_t source, const uint8_t* bytes, size_t len)>;
  size_t read(const RecordFn& fn);
  // A record read() delivered (or a copy of it), checked against its source's plan.
  bool parse(uint32_t source, const uint8_t* bytes, size_t len, bpf::GatherView& out) const;

  // Stops the programs firing (they stay loaded until the gatherer goes).
  void detach();
  // Records the ring refused, per CPU; records that did not parse.
  std::vector<uint64_t> drops() const;
  uint64_t malformed() const { return malformed_; }
  void count_malformed() { ++malformed_; }

 private:
  std::vector<Source> sources_;
  std::unique_ptr<bpf::GatherRing> ring_;
  bool open_syscalls(const bpf::KernelLayout& layout, std::string& err);

  std::vector<sys::UniqueFd> progs_, links_;
  std::unique_ptr<bpf::SyscallDispatch> dispatch_[2];  // Enter, Exit
  uint64_t malformed_ = 0;
};

}  // namespace vtrace::targets::host
