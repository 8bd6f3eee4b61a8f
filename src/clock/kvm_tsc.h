// The exact guest clock under KVM, as trace-cmd's "kvm" tsync protocol gets it: KVM publishes
// each vCPU's TSC offset and scaling in debugfs (/sys/kernel/debug/kvm/PID-FD/vcpuN/), and the
// guest's TSC is ((host TSC * ratio) >> frac_bits) + offset. That holds only where the host's
// TSC is the hardware's: under nested virtualization the outer hypervisor offsets the host's own
// TSC, so the translation must be checked against measured brackets before it is trusted.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "clock/guest_clock.h"

namespace vtrace::clock {

inline constexpr const char* kDebugfsRoot = "/sys/kernel/debug";

// One vCPU's parameters (scaling files absent: ratio 1, no fraction bits).
struct KvmTscParams {
  int vcpu = 0;
  int64_t offset = 0;
  uint64_t ratio = 1;
  uint32_t frac_bits = 0;
};

// Mounts debugfs at /sys/kernel/debug when it is not mounted and checks that KVM's directory is
// there. False with the reason in *error.
bool ensure_debugfs(std::string* error);

// The debugfs directories (ROOT/kvm/PID-FD) of every VM process `pid` created.
std::vector<std::string> kvm_vm_dirs(int pid, const std::string& root = kDebugfsRoot);

// One vcpuN directory.
bool read_vcpu_tsc(const std::string& vcpu_dir, KvmTscParams& out, std::string* error);
// Every vcpuN of a VM directory, ordered by N; false when there is none or one is unreadable.
bool read_vm_tsc(const std::string& vm_dir, std::vector<KvmTscParams>& out, std::string* error);

// CPUID leaf 1, ECX bit 31: this kernel runs under a hypervisor (KVM here is nested).
bool cpu_has_hypervisor_bit();

// The check of an exact translation against bracket samples.
struct ExactCheck {
  bool ok = false;
  size_t samples = 0;       // brackets checked
  size_t violations = 0;    // readings that translate outside their bracket
  int64_t worst_ticks = 0;  // the farthest outside: < 0 before the bracket, > 0 after it
  std::string reason;       // why not ok, e.g. "nested virtualization: guest TSC - tsc-offset is
                            // 99.8 s before the bracket (200 of 200 readings)"
};

// Every guest reading translated back to host TSC must fall inside its bracket. ns_per_tick
// (TscClock's) puts distances in the reason in time units (ticks when 0); `nested` says the
// hypervisor bit is set, which is the likely cause named in the reason.
ExactCheck validate_exact(const KvmTscParams& p, const std::vector<HandshakeSample>& samples,
                          double ns_per_tick, bool nested);

}  // namespace vtrace::clock
