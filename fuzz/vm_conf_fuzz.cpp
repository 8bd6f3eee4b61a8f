// libFuzzer target: arbitrary bytes as a VM's vm.conf (src/targets/qemu/vm_conf.h): parse_conf
// and apply_conf, as `vm list`, `vm stop` and tracing runs read it, then the text format_conf
// writes for what was read, read again.
//
// Invariants: no crash, hang or sanitizer report; keys have no '=' and no newline, values no
// newline; a share is kept only when its name is valid (and its path is then under the shared
// memory directory); a shared memory id is valid only as 16 lowercase hex digits; what
// format_conf writes reads back the same (name, cpus, mem, accel, accel_reason, shm_id, share).
//
// Seeds: fuzz/corpus/vm_conf/ (fuzz/make_seeds.py). Run: see fuzz/CMakeLists.txt.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "targets/qemu/vm_conf.h"

namespace {

namespace qemu = vtrace::targets::qemu;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto kv = qemu::parse_conf(text);
  for (const auto& [k, v] : kv) {
    CHECK(k.find('=') == std::string::npos && k.find('\n') == std::string::npos);
    CHECK(v.find('\n') == std::string::npos);
  }
  qemu::VmInfo v;
  auto it = kv.find("name");
  v.name = it == kv.end() ? "" : it->second;
  it = kv.find("shm_id");
  const std::string id = it == kv.end() ? "" : it->second;
  if (qemu::valid_shm_id(id)) {
    CHECK(id.size() == 16);
    for (char c : id) CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    v.shm_id = id;
  }
  qemu::apply_conf(kv, v);
  if (!v.share.empty()) {
    CHECK(qemu::check_share_name(v.share).empty());
    CHECK(v.share_path == qemu::shm_dir() + "/share-" + v.share);
    CHECK(v.share.find('/') == std::string::npos && v.share != "..");
  } else {
    CHECK(v.share_path.empty());
  }

  const auto again = qemu::parse_conf(qemu::format_conf(v));
  qemu::VmInfo w;
  qemu::apply_conf(again, w);
  CHECK(again.at("name") == v.name && again.at("shm_id") == v.shm_id);
  CHECK(w.cpus == v.cpus && w.mem_mib == v.mem_mib);
  CHECK(w.accel == v.accel && w.accel_reason == v.accel_reason);
  CHECK(w.share == v.share && w.share_path == v.share_path);
  return 0;
}
