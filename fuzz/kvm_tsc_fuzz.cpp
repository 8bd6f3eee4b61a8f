// libFuzzer target: arbitrary bytes as KVM's debugfs files of a VM (src/clock/kvm_tsc.h): each
// vCPU's tsc-offset, tsc-scaling-ratio and tsc-scaling-ratio-frac-bits, read by read_vm_tsc
// from a directory laid out as /sys/kernel/debug/kvm/PID-FD/ (a temporary one in /dev/shm here),
// then the exact translation they give checked by validate_exact against bracket samples.
//
// Input: one byte (vCPU count - 1, low 2 bits: 1..4 vCPUs), then for each vCPU its three files,
// each as a length byte and that many bytes of content (a length of 0xff: the file is absent;
// cut short: the rest empty), then the brackets, 24 bytes each (host_before, host_after, guest).
//
// Invariants: no crash, hang or sanitizer report; parameters are accepted only as KVM can write
// them (a non-zero ratio, at most 63 fraction bits; ratio 1 and no fraction without the scaling
// files), in vCPU order; validate_exact counts no more samples than it was given and no more
// violations than samples, and says ok only with samples and no violation.
//
// Seeds: fuzz/corpus/kvm_tsc/ (fuzz/make_seeds.py). Run: see fuzz/CMakeLists.txt.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "clock/kvm_tsc.h"
#include "fuzz_check.h"

namespace {

namespace clk = vtrace::clock;

constexpr int kMaxVcpus = 4;
constexpr const char* kFiles[] = {"tsc-offset", "tsc-scaling-ratio", "tsc-scaling-ratio-frac-bits"};

// A VM directory with vcpu0..vcpu3, removed at exit.
struct VmDir {
  std::string root, vm;
  VmDir() {
    char tmpl[] = "/dev/shm/vtrace-kvm-fuzz.XXXXXX";
    CHECK(mkdtemp(tmpl) != nullptr);
    root = tmpl;
    vm = root + "/4242-13";
    CHECK(mkdir(vm.c_str(), 0700) == 0);
    for (int i = 0; i < kMaxVcpus; ++i) CHECK(mkdir(vcpu(i).c_str(), 0700) == 0);
  }
  ~VmDir() {
    for (int i = 0; i < kMaxVcpus; ++i) {
      for (const char* f : kFiles) unlink((vcpu(i) + "/" + f).c_str());
      rmdir(vcpu(i).c_str());
    }
    rmdir(vm.c_str());
    rmdir(root.c_str());
  }
  std::string vcpu(int i) const { return vm + "/vcpu" + std::to_string(i); }
};

VmDir& dir() {
  static VmDir d;
  return d;
}

void put(const std::string& path, const uint8_t* data, size_t len, bool present) {
  if (!present) {
    unlink(path.c_str());
    return;
  }
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  CHECK(fd >= 0);
  CHECK(write(fd, data, len) == static_cast<ssize_t>(len));
  close(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  VmDir& d = dir();
  const int nvcpus = size > 0 ? 1 + (data[0] & 3) : 1;
  size_t at = size > 0 ? 1 : 0;
  for (int i = 0; i < kMaxVcpus; ++i) {
    for (const char* f : kFiles) {
      const std::string path = d.vcpu(i) + "/" + f;
      if (i >= nvcpus) {
        put(path, nullptr, 0, false);
        continue;
      }
      const uint8_t len = at < size ? data[at++] : 0;
      const size_t n = len == 0xff ? 0 : std::min<size_t>(len, size - at);
      put(path, data + at, n, len != 0xff);
      at += n;
    }
  }
  // vcpu directories beyond nvcpus stay, empty: unreadable, so only the first ones can pass.
  std::vector<clk::HandshakeSample> samples;
  for (; at + 24 <= size && samples.size() < 256; at += 24) {
    clk::HandshakeSample s;
    std::memcpy(&s.host_before, data + at, 8);
    std::memcpy(&s.host_after, data + at + 8, 8);
    std::memcpy(&s.guest, data + at + 16, 8);
    samples.push_back(s);
  }

  std::vector<clk::KvmTscParams> vcpus;
  std::string err;
  const bool ok = clk::read_vm_tsc(d.vm, vcpus, &err);
  if (!ok) {
    CHECK(!err.empty());
  } else {
    CHECK(!vcpus.empty() && static_cast<int>(vcpus.size()) <= nvcpus);
    for (size_t i = 1; i < vcpus.size(); ++i) CHECK(vcpus[i - 1].vcpu < vcpus[i].vcpu);
  }
  // Each vCPU on its own (read_vm_tsc stops at the first bad one).
  for (int i = 0; i < nvcpus; ++i) {
    clk::KvmTscParams p;
    p.vcpu = i;
    if (!clk::read_vcpu_tsc(d.vcpu(i), p, &err)) continue;
    vcpus.push_back(p);
  }
  for (size_t i = 0; i < vcpus.size(); ++i) {
    const clk::KvmTscParams& p = vcpus[i];
    CHECK(p.ratio != 0 && p.frac_bits <= 63);
    if (p.frac_bits == 0) CHECK(p.ratio >= 1);
    const clk::ExactCheck c = clk::validate_exact(p, samples, i % 2 == 0 ? 0.4 : 0.0, i % 2 == 1);
    CHECK(c.samples <= samples.size() && c.violations <= c.samples);
    CHECK(!c.ok || (c.samples > 0 && c.violations == 0));
    if (!c.ok) CHECK(!c.reason.empty());
    clk::GuestClock g;
    CHECK(g.set_exact(p.offset, p.ratio, p.frac_bits));
    for (const auto& s : samples) {
      (void)g.to_host_tsc(s.guest);
      (void)g.consistent(s);
    }
    (void)g.describe(0.4);
  }
  return 0;
}
