#include "targets/qemu/vm_conf.h"

#include <cstdlib>
#include <sstream>

namespace vtrace::targets::qemu {

std::map<std::string, std::string> parse_conf(std::string_view text) {
  std::map<std::string, std::string> kv;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return kv;
}

std::string format_conf(const VmInfo& v) {
  std::ostringstream out;
  out << "name=" << v.name << "\ncpus=" << v.cpus << "\nmem=" << v.mem_mib << "\naccel=" << v.accel
      << "\naccel_reason=" << v.accel_reason << "\nshm_id=" << v.shm_id
      << "\nboot_seconds=" << v.boot_seconds << "\nshare=" << v.share << "\n";
  return out.str();
}

void apply_conf(const std::map<std::string, std::string>& kv, VmInfo& v) {
  auto get = [&](const char* key) {
    auto it = kv.find(key);
    return it == kv.end() ? std::string() : it->second;
  };
  v.cpus = static_cast<unsigned>(std::atoi(get("cpus").c_str()));
  v.mem_mib = static_cast<unsigned>(std::atoi(get("mem").c_str()));
  v.accel = get("accel");
  v.accel_reason = get("accel_reason");
  v.boot_seconds = std::atof(get("boot_seconds").c_str());
  const std::string share = get("share");
  if (check_share_name(share).empty()) {
    v.share = share;
    v.share_path = share_path(v.share);
  }
}

bool valid_shm_id(const std::string& id) {
  return id.size() == 16 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace vtrace::targets::qemu
