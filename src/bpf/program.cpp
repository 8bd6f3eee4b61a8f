#include "bpf/program.h"

#include <bpf/bpf.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace vtrace::bpf {
namespace {

// Kernel object names: at most 15 characters of [A-Za-z0-9_.] (others are refused).
std::string object_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (out.size() == BPF_OBJ_NAME_LEN - 1) break;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.';
    out += ok ? c : '_';
  }
  return out;
}

// The verifier log is a few lines per instruction; 1 MiB holds programs far bigger than ours,
// and since 6.4 the kernel keeps the log's end when it overflows (the end says why).
constexpr size_t kLogSize = 1 << 20;

}  // namespace

std::string errno_hint(int e) {
  std::string s = strerror(e);
  if (e == EPERM) s += " — run as root (loading BPF needs CAP_BPF and CAP_PERFMON)";
  if (e == ENOSYS) s += " — this kernel has no BPF support";
  if (e == E2BIG) s += " — the program is too big for the verifier";
  if (e == ENOMEM) s += " — out of memory (or the locked-memory limit: raise `ulimit -l`)";
  return s;
}

std::string log_tail(const std::string& log, size_t lines) {
  std::vector<std::string> kept;
  size_t pos = 0;
  while (pos < log.size()) {
    size_t nl = log.find('\n', pos);
    if (nl == std::string::npos) nl = log.size();
    if (nl > pos) kept.push_back(log.substr(pos, nl - pos));
    pos = nl + 1;
  }
  std::string out;
  size_t from = kept.size() > lines ? kept.size() - lines : 0;
  for (size_t i = from; i < kept.size(); ++i) out += (out.empty() ? "" : "\n") + kept[i];
  return out;
}

sys::UniqueFd load_program(bpf_prog_type type, std::span<const bpf_insn> insns,
                           const std::string& name, const std::string& what, std::string& err) {
  std::string kname = object_name(name);
  // First without a log (the verifier runs faster); on failure again with one, to say why.
  LIBBPF_OPTS(bpf_prog_load_opts, opts);
  int fd = bpf_prog_load(type, kname.c_str(), "GPL", insns.data(), insns.size(), &opts);
  if (fd >= 0) return sys::UniqueFd(fd);
  int first = errno;
  std::string log(kLogSize, '\0');
  LIBBPF_OPTS(bpf_prog_load_opts, vopts, .log_level = 1, .log_size = kLogSize,
              .log_buf = log.data());
  fd = bpf_prog_load(type, kname.c_str(), "GPL", insns.data(), insns.size(), &vopts);
  if (fd >= 0) return sys::UniqueFd(fd);  // a transient failure the retry got past
  int e = errno ? errno : first;
  log.resize(strnlen(log.data(), log.size()));
  err = "loading " + what + ": " + errno_hint(e);
  std::string tail = log_tail(log, 8);
  if (!tail.empty()) err += "\nverifier log (last lines):\n" + tail;
  return {};
}

sys::UniqueFd create_map(bpf_map_type type, const std::string& name, uint32_t key_size,
                         uint32_t value_size, uint32_t max_entries, const std::string& what,
                         std::string& err) {
  std::string kname = object_name(name);
  int fd = bpf_map_create(type, kname.c_str(), key_size, value_size, max_entries, nullptr);
  if (fd < 0) {
    err = "creating " + what + ": " + errno_hint(errno);
    return {};
  }
  return sys::UniqueFd(fd);
}

}  // namespace vtrace::bpf
