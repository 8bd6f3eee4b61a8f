#include "clock/kvm_tsc.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <x86intrin.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "clock/tsc_clock.h"

namespace vtrace::clock {
namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("kvm_tsc_test." + std::to_string(getpid()));
  ~TempDir() { fs::remove_all(path); }
};

TEST(KvmTsc, ReadsDebugfsLayout) {
  TempDir t;
  const fs::path vm = t.path / "kvm" / "4242-11";
  write_file(vm / "vcpu0" / "tsc-offset", "-260000000000\n");
  write_file(vm / "vcpu1" / "tsc-offset", "17\n");
  write_file(vm / "vcpu1" / "tsc-scaling-ratio", std::to_string(3ull << 47) + "\n");
  write_file(vm / "vcpu1" / "tsc-scaling-ratio-frac-bits", "48\n");
  write_file(vm / "exits", "0\n");
  fs::create_directories(t.path / "kvm" / "42420-3");  // another process, not a prefix match
  fs::create_directories(t.path / "kvm" / "4242-x");

  const auto dirs = kvm_vm_dirs(4242, t.path.string());
  ASSERT_EQ(dirs.size(), 1u);
  EXPECT_EQ(dirs[0], vm.string());

  std::vector<KvmTscParams> v;
  std::string err;
  ASSERT_TRUE(read_vm_tsc(dirs[0], v, &err)) << err;
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].vcpu, 0);
  EXPECT_EQ(v[0].offset, -260000000000);
  EXPECT_EQ(v[0].ratio, 1u);  // no scaling files: ratio 1
  EXPECT_EQ(v[0].frac_bits, 0u);
  EXPECT_EQ(v[1].vcpu, 1);
  EXPECT_EQ(v[1].offset, 17);
  EXPECT_EQ(v[1].ratio, 3ull << 47);
  EXPECT_EQ(v[1].frac_bits, 48u);

  write_file(vm / "vcpu1" / "tsc-scaling-ratio", "1.5\n");
  EXPECT_FALSE(read_vm_tsc(dirs[0], v, &err));
  EXPECT_NE(err.find("vcpu1"), std::string::npos) << err;
  EXPECT_FALSE(read_vm_tsc((t.path / "kvm" / "4242-x").string(), v, &err));
  EXPECT_TRUE(kvm_vm_dirs(1, t.path.string()).empty());
}

TEST(KvmTsc, HypervisorBitMatchesCpuinfo) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    EXPECT_EQ(cpu_has_hypervisor_bit(), (line + " ").find(" hypervisor ") != std::string::npos);
    return;
  }
  GTEST_SKIP() << "no flags line in /proc/cpuinfo";
}

// Brackets around a guest whose TSC is host + offset, 30000 ticks wide, read mid-way.
std::vector<HandshakeSample> synthetic(int64_t offset) {
  std::vector<HandshakeSample> v;
  for (uint64_t h = 1'000'000'000'000ull; v.size() < 50; h += 1'000'000)
    v.push_back({h, h + 15'000 + static_cast<uint64_t>(offset), h + 30'000});
  return v;
}

TEST(KvmTsc, ValidateExactAcceptsTheRightOffset) {
  const auto r =
      validate_exact({0, -260'000'000'000, 1, 0}, synthetic(-260'000'000'000), 0.4, false);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.samples, 50u);
  EXPECT_EQ(r.violations, 0u);
}

TEST(KvmTsc, ValidateExactSaysWhyNot) {
  // debugfs says offset 0 but the guest runs 100 s (at 0.4 ns per tick) behind: nested KVM.
  const auto r = validate_exact({0, 0, 1, 0}, synthetic(-250'000'000'000), 0.4, true);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.violations, 50u);
  EXPECT_EQ(r.worst_ticks, -250'000'000'000 + 15'000);
  EXPECT_EQ(r.reason,
            "nested virtualization: guest TSC - tsc-offset is 100.0 s before the bracket "
            "(50 of 50 readings)");

  const auto after = validate_exact({0, 0, 1, 0}, synthetic(40'000), 0, false);
  EXPECT_FALSE(after.ok);
  EXPECT_EQ(after.reason,
            "guest TSC - tsc-offset is 25000 ticks after the bracket (50 of 50 "
            "readings)");

  const auto none = validate_exact({0, 0, 1, 0}, {}, 0.4, false);
  EXPECT_FALSE(none.ok);
  EXPECT_FALSE(none.reason.empty());
}

// A one-vCPU VM whose real-mode code loops: rdtsc; mov [0x500], edx; out 0x10, eax. Each KVM_RUN
// returns at the out with one guest TSC reading (low half in the exit, high half in memory).
class TinyVm {
 public:
  ~TinyVm() {
    if (run_) munmap(run_, run_size_);
    if (mem_) munmap(mem_, kMemSize);
    for (int fd : {vcpu_, vm_, kvm_})
      if (fd >= 0) close(fd);
  }

  // False with the reason when this machine cannot run it.
  bool create(std::string& why) {
    kvm_ = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm_ < 0) return fail(why, "cannot open /dev/kvm");
    if (ioctl(kvm_, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) return fail(why, "KVM API");
    vm_ = ioctl(kvm_, KVM_CREATE_VM, 0);
    if (vm_ < 0) return fail(why, "KVM_CREATE_VM");
    if (ioctl(kvm_, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0)
      ioctl(vm_, KVM_SET_TSS_ADDR, 0xfffbd000ul);  // real mode on VMX without unrestricted guest
    void* m = mmap(nullptr, kMemSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return fail(why, "mmap guest memory");
    mem_ = static_cast<uint8_t*>(m);
    kvm_userspace_memory_region region{};
    region.memory_size = kMemSize;
    region.userspace_addr = reinterpret_cast<uint64_t>(mem_);
    if (ioctl(vm_, KVM_SET_USER_MEMORY_REGION, &region) < 0)
      return fail(why, "KVM_SET_USER_MEMORY_REGION");
    static const uint8_t code[] = {
        0x0f, 0x31,                    // rdtsc
        0x66, 0x89, 0x16, 0x00, 0x05,  // mov [0x500], edx
        0x66, 0xe7, 0x10,              // out 0x10, eax
        0xeb, 0xf4,                    // jmp to rdtsc
    };
    std::memcpy(mem_ + 0x1000, code, sizeof code);
    vcpu_ = ioctl(vm_, KVM_CREATE_VCPU, 0);
    if (vcpu_ < 0) return fail(why, "KVM_CREATE_VCPU");
    const int size = ioctl(kvm_, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (size <= 0) return fail(why, "KVM_GET_VCPU_MMAP_SIZE");
    run_size_ = static_cast<size_t>(size);
    m = mmap(nullptr, run_size_, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_, 0);
    if (m == MAP_FAILED) return fail(why, "mmap kvm_run");
    run_ = static_cast<kvm_run*>(m);
    kvm_sregs sregs;
    if (ioctl(vcpu_, KVM_GET_SREGS, &sregs) < 0) return fail(why, "KVM_GET_SREGS");
    sregs.cs.base = sregs.cs.selector = 0;
    sregs.ds.base = sregs.ds.selector = 0;
    if (ioctl(vcpu_, KVM_SET_SREGS, &sregs) < 0) return fail(why, "KVM_SET_SREGS");
    kvm_regs regs{};
    regs.rip = 0x1000;
    regs.rflags = 2;
    if (ioctl(vcpu_, KVM_SET_REGS, &regs) < 0) return fail(why, "KVM_SET_REGS");
    return true;
  }

  int vm_fd() const { return vm_; }

  // KVM_VCPU_TSC_OFFSET: false when unsupported; else sets it and returns what KVM reports back.
  bool set_tsc_offset(int64_t offset, int64_t& reported) {
    kvm_device_attr attr{};
    attr.group = KVM_VCPU_TSC_CTRL;
    attr.attr = KVM_VCPU_TSC_OFFSET;
    if (ioctl(vcpu_, KVM_HAS_DEVICE_ATTR, &attr) != 0) return false;
    attr.addr = reinterpret_cast<uint64_t>(&offset);
    if (ioctl(vcpu_, KVM_SET_DEVICE_ATTR, &attr) != 0) return false;
    attr.addr = reinterpret_cast<uint64_t>(&reported);
    return ioctl(vcpu_, KVM_GET_DEVICE_ATTR, &attr) == 0;
  }

  // One guest TSC reading bracketed by host rdtsc around KVM_RUN.
  bool read(HandshakeSample& s, std::string& why) {
    s.host_before = __rdtsc();
    const int rc = ioctl(vcpu_, KVM_RUN, 0);
    s.host_after = __rdtsc();
    if (rc < 0) return fail(why, "KVM_RUN");
    if (run_->exit_reason != KVM_EXIT_IO || run_->io.port != 0x10 || run_->io.size != 4) {
      why = "unexpected exit " + std::to_string(run_->exit_reason);
      return false;
    }
    uint32_t lo, hi;
    std::memcpy(&lo, reinterpret_cast<uint8_t*>(run_) + run_->io.data_offset, 4);
    std::memcpy(&hi, mem_ + 0x500, 4);
    s.guest = (static_cast<uint64_t>(hi) << 32) | lo;
    return true;
  }

 private:
  static constexpr size_t kMemSize = 0x10000;
  static bool fail(std::string& why, const char* what) {
    why = std::string(what) + ": " + std::strerror(errno);
    return false;
  }
  int kvm_ = -1, vm_ = -1, vcpu_ = -1;
  uint8_t* mem_ = nullptr;
  kvm_run* run_ = nullptr;
  size_t run_size_ = 0;
};

TEST(KvmTsc, RealVcpuExactOrMeasured) {
  if (!TscClock::usable()) GTEST_SKIP() << "no constant, non-stop TSC";
  if (access("/dev/kvm", R_OK | W_OK) != 0) GTEST_SKIP() << "/dev/kvm absent or not accessible";
  TinyVm vm;
  std::string why;
  if (!vm.create(why)) GTEST_SKIP() << "cannot create a KVM VM: " << why;
  std::string debugfs_error;
  if (!ensure_debugfs(&debugfs_error)) GTEST_SKIP() << debugfs_error;
  TscClock tsc;
  tsc.start(2'000'000);
  const double npt = tsc.ns_per_tick();

  // A non-zero offset (about -400 s), so reading debugfs is not trivially 0 == 0.
  int64_t reported = 0;
  const bool offset_ctrl = vm.set_tsc_offset(-(int64_t{1} << 40), reported);
  if (!offset_ctrl)
    std::printf("[ INFO ] KVM_VCPU_TSC_OFFSET unsupported: the guest keeps KVM's default offset\n");
  else if (reported != -(int64_t{1} << 40))
    std::printf("[ INFO ] KVM accepted TSC offset %lld but reports %lld (this KVM ignores it)\n",
                static_cast<long long>(-(int64_t{1} << 40)), static_cast<long long>(reported));

  const std::string dir = std::string(kDebugfsRoot) + "/kvm/" + std::to_string(getpid()) + "-" +
                          std::to_string(vm.vm_fd());
  std::vector<KvmTscParams> params;
  if (!read_vm_tsc(dir, params, &why)) GTEST_SKIP() << "KVM debugfs: " << why;
  ASSERT_EQ(params.size(), 1u);
  if (offset_ctrl) {
    EXPECT_EQ(params[0].offset, reported) << "debugfs and KVM_GET_DEVICE_ATTR";
  }

  // 16 bursts of 16 readings, 3 ms apart; the first KVM_RUN (vCPU setup) is not a sample.
  HandshakeSample s;
  ASSERT_TRUE(vm.read(s, why)) << why;
  std::vector<std::vector<HandshakeSample>> bursts(16);
  std::vector<HandshakeSample> all;
  for (auto& b : bursts) {
    for (int i = 0; i < 16; ++i) {
      ASSERT_TRUE(vm.read(s, why)) << why;
      ASSERT_TRUE(all.empty() || s.guest > all.back().guest) << "guest TSC went backwards";
      b.push_back(s);
      all.push_back(s);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }

  // The exact path: trustworthy on bare metal; nested, the check must say when it is not.
  const bool nested = cpu_has_hypervisor_bit();
  const ExactCheck exact = validate_exact(params[0], all, npt, nested);
  std::printf("[ INFO ] debugfs tsc-offset %lld, ratio %llu/2^%u, hypervisor bit %d: %s\n",
              static_cast<long long>(params[0].offset),
              static_cast<unsigned long long>(params[0].ratio), params[0].frac_bits, nested,
              exact.ok ? "exact translation holds" : exact.reason.c_str());
  EXPECT_EQ(exact.samples, all.size());
  if (!nested) {
    EXPECT_TRUE(exact.ok) << exact.reason;
  }
  if (!exact.ok) {
    EXPECT_TRUE(nested) << "exact translation fails on bare metal: " << exact.reason;
    EXPECT_NE(exact.reason.find("nested virtualization: guest TSC - tsc-offset is"),
              std::string::npos)
        << exact.reason;
  }
  // Whatever this KVM does, a wrong offset (1 s off) is caught on these real brackets.
  KvmTscParams wrong = params[0];
  wrong.offset -= static_cast<int64_t>(1e9 / npt);
  const ExactCheck bad = validate_exact(wrong, all, npt, nested);
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.violations, all.size());
  EXPECT_NE(bad.reason.find("after the bracket"), std::string::npos) << bad.reason;

  // The measured path: calibrated on the first half, it brackets every later reading.
  GuestClock clock;
  for (size_t i = 0; i < bursts.size() / 2; ++i) clock.add_burst(bursts[i]);
  ASSERT_TRUE(clock.ready());
  size_t checked = 0;
  for (size_t i = bursts.size() / 2; i < bursts.size(); ++i) {
    for (const auto& r : bursts[i]) {
      EXPECT_TRUE(clock.consistent(r))
          << "reading " << checked << " off by "
          << static_cast<int64_t>(clock.to_host_tsc(r.guest) - r.host_before) << " ticks, bound "
          << clock.bound_ticks(r.guest);
      ++checked;
    }
  }
  const uint64_t widest = [&] {
    uint64_t w = 0;
    for (const auto& r : all) w = std::max(w, r.host_after - r.host_before);
    return w;
  }();
  std::printf(
      "[ INFO ] %s (scale %.9f) from %zu bursts; %zu later readings checked; brackets up to "
      "%.1f us; guest - host %.3f s\n",
      clock.describe(npt).c_str(), clock.scale(), bursts.size() / 2, checked,
      static_cast<double>(widest) * npt / 1000,
      static_cast<double>(static_cast<int64_t>(all.back().guest - all.back().host_before)) * npt /
          1e9);
}

}  // namespace
}  // namespace vtrace::clock
