#include "bpf/attach.h"

#include <bpf/bpf.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bpf/program.h"

namespace vtrace::bpf {

sys::UniqueFd attach_tracepoint(int prog_fd, uint64_t event_id, const std::string& what,
                                std::string& err) {
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_TRACEPOINT;
  attr.config = event_id;
  attr.sample_period = 1;
  attr.disabled = 1;
  // The event records nothing itself: its only use is to carry the program.
  sys::UniqueFd fd(
      static_cast<int>(syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC)));
  if (!fd.valid()) {
    int e = errno;
    err = "opening the perf event of " + what + ": " + strerror(e);
    if (e == EACCES || e == EPERM) err += " — run as root (or lower kernel.perf_event_paranoid)";
    if (e == ENOENT || e == EINVAL) err += " — no tracepoint has id " + std::to_string(event_id);
    return {};
  }
  if (!attach_perf_event(fd.get(), prog_fd, what, err)) return {};
  return fd;
}

sys::UniqueFd attach_raw_tracepoint(int prog_fd, const std::string& name, std::string& err) {
  int fd = bpf_raw_tracepoint_open(name.c_str(), prog_fd);
  if (fd < 0) {
    int e = errno;
    err = "attaching to the raw tracepoint " + name + ": " + errno_hint(e);
    if (e == ENOENT) err += " — the kernel has no tracepoint of that name";
    return {};
  }
  return sys::UniqueFd(fd);
}

bool attach_perf_event(int perf_fd, int prog_fd, const std::string& what, std::string& err) {
  if (ioctl(perf_fd, PERF_EVENT_IOC_SET_BPF, prog_fd) != 0) {
    int e = errno;
    err = "attaching the BPF program to " + what + ": " + errno_hint(e);
    if (e == EINVAL) err += " — the program's type does not fit this event";
    if (e == EEXIST) err += " — the event already has a program";
    return false;
  }
  if (ioctl(perf_fd, PERF_EVENT_IOC_ENABLE, 0) != 0) {
    err = "enabling " + what + ": " + strerror(errno);
    return false;
  }
  return true;
}

}  // namespace vtrace::bpf
