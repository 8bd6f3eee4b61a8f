#include "clock/kvm_tsc.h"

#include <dirent.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <type_traits>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace vtrace::clock {

namespace {

constexpr long kDebugfsMagic = 0x64626720;

bool is_dir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The whole file as one decimal number; kAbsent when the file does not exist.
enum class Read { kOk, kAbsent, kBad };
template <typename T>
Read read_number(const std::string& path, T& out) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return errno == ENOENT ? Read::kAbsent : Read::kBad;
  std::ifstream in(path);
  if (!in) return Read::kBad;
  std::string s;
  std::getline(in, s);
  if (s.empty()) return Read::kBad;
  errno = 0;
  char* end = nullptr;
  if constexpr (std::is_signed_v<T>) {
    out = std::strtoll(s.c_str(), &end, 10);
  } else {
    if (s[0] == '-') return Read::kBad;
    out = std::strtoull(s.c_str(), &end, 10);
  }
  return errno == 0 && end != s.c_str() && *end == '\0' ? Read::kOk : Read::kBad;
}

__int128 abs128(__int128 v) {
  return v < 0 ? -v : v;
}

// "99.8 s", "12.0 us", or ticks without a tick length.
std::string distance(uint64_t ticks, double ns_per_tick) {
  char buf[48];
  if (ns_per_tick <= 0) {
    std::snprintf(buf, sizeof buf, "%llu ticks", static_cast<unsigned long long>(ticks));
    return buf;
  }
  const double ns = static_cast<double>(ticks) * ns_per_tick;
  if (ns >= 1e9)
    std::snprintf(buf, sizeof buf, "%.1f s", ns / 1e9);
  else if (ns >= 1e6)
    std::snprintf(buf, sizeof buf, "%.1f ms", ns / 1e6);
  else if (ns >= 1e3)
    std::snprintf(buf, sizeof buf, "%.1f us", ns / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.0f ns", ns);
  return buf;
}

}  // namespace

bool ensure_debugfs(std::string* error) {
  struct statfs fs;
  const bool mounted = statfs(kDebugfsRoot, &fs) == 0 && fs.f_type == kDebugfsMagic;
  if (!mounted && mount("debugfs", kDebugfsRoot, "debugfs", 0, nullptr) != 0) {
    if (error)
      *error = std::string("debugfs is not mounted and mounting it at ") + kDebugfsRoot +
               " failed: " + std::strerror(errno);
    return false;
  }
  if (!is_dir(std::string(kDebugfsRoot) + "/kvm")) {
    if (error) *error = std::string(kDebugfsRoot) + "/kvm is absent (KVM not loaded?)";
    return false;
  }
  return true;
}

std::vector<std::string> kvm_vm_dirs(int pid, const std::string& root) {
  std::vector<std::string> out;
  const std::string dir = root + "/kvm";
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  const std::string prefix = std::to_string(pid) + "-";
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind(prefix, 0) != 0 || name.size() == prefix.size()) continue;
    if (name.find_first_not_of("0123456789", prefix.size()) != std::string::npos) continue;
    out.push_back(dir + "/" + name);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

bool read_vcpu_tsc(const std::string& vcpu_dir, KvmTscParams& out, std::string* error) {
  auto fail = [&](const std::string& why) {
    if (error) *error = vcpu_dir + ": " + why;
    return false;
  };
  KvmTscParams p;
  p.vcpu = out.vcpu;
  if (read_number(vcpu_dir + "/tsc-offset", p.offset) != Read::kOk)
    return fail("cannot read tsc-offset");
  // Both scaling files exist only where KVM supports TSC scaling; without them the ratio is 1.
  uint64_t ratio = 0, frac = 0;
  const Read r = read_number(vcpu_dir + "/tsc-scaling-ratio", ratio);
  const Read f = read_number(vcpu_dir + "/tsc-scaling-ratio-frac-bits", frac);
  if (r == Read::kBad || f == Read::kBad) return fail("unreadable tsc-scaling-ratio(-frac-bits)");
  if (r == Read::kOk && f == Read::kOk) {
    if (ratio == 0 || frac > 63) return fail("invalid TSC scaling ratio");
    p.ratio = ratio;
    p.frac_bits = static_cast<uint32_t>(frac);
  }
  out = p;
  return true;
}

bool read_vm_tsc(const std::string& vm_dir, std::vector<KvmTscParams>& out, std::string* error) {
  out.clear();
  DIR* d = opendir(vm_dir.c_str());
  if (!d) {
    if (error) *error = vm_dir + ": " + std::strerror(errno);
    return false;
  }
  std::vector<int> ids;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind("vcpu", 0) != 0 || name.size() == 4 || name.size() > 10 ||
        name.find_first_not_of("0123456789", 4) != std::string::npos)
      continue;
    ids.push_back(std::atoi(name.c_str() + 4));
  }
  closedir(d);
  std::sort(ids.begin(), ids.end());
  for (int id : ids) {
    KvmTscParams p;
    p.vcpu = id;
    if (!read_vcpu_tsc(vm_dir + "/vcpu" + std::to_string(id), p, error)) return false;
    out.push_back(p);
  }
  if (out.empty() && error) *error = vm_dir + ": no vcpu directories";
  return !out.empty();
}

bool cpu_has_hypervisor_bit() {
#if defined(__x86_64__)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  return (c >> 31) & 1;
#else
  return false;
#endif
}

ExactCheck validate_exact(const KvmTscParams& p, const std::vector<HandshakeSample>& samples,
                          double ns_per_tick, bool nested) {
  ExactCheck r;
  GuestClock clock;
  if (!clock.set_exact(p.offset, p.ratio, p.frac_bits)) {
    r.reason = "invalid TSC scaling ratio";
    return r;
  }
  const __int128 slack = clock.bound_ticks();
  for (const auto& s : samples) {
    if (s.host_after < s.host_before) continue;
    ++r.samples;
    const __int128 h = clock.to_host_tsc(s.guest);
    __int128 out = 0;
    if (h < static_cast<__int128>(s.host_before) - slack) out = h - s.host_before;
    if (h > static_cast<__int128>(s.host_after) + slack) out = h - s.host_after;
    if (out == 0) continue;
    ++r.violations;
    out = std::clamp<__int128>(out, -INT64_MAX, INT64_MAX);
    if (r.violations == 1 || abs128(out) > abs128(r.worst_ticks))
      r.worst_ticks = static_cast<int64_t>(out);
  }
  if (r.samples == 0) {
    r.reason = "no bracket samples to check against";
    return r;
  }
  if (r.violations == 0) {
    r.ok = true;
    return r;
  }
  const bool scaled = p.ratio != (1ull << p.frac_bits);
  r.reason = std::string(nested ? "nested virtualization: " : "") +
             (scaled ? "guest TSC translated with tsc-offset and tsc-scaling-ratio"
                     : "guest TSC - tsc-offset") +
             " is " + distance(static_cast<uint64_t>(abs128(r.worst_ticks)), ns_per_tick) +
             (r.worst_ticks < 0 ? " before" : " after") + " the bracket (" +
             std::to_string(r.violations) + " of " + std::to_string(r.samples) + " readings)";
  return r;
}

}  // namespace vtrace::clock
