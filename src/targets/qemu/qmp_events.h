// QEMU's asynchronous events, read by the tracer on a VM's second QMP monitor (events.sock,
// vm_manager.h): STOP and RESUME tell when a guest was paused (QMP stop/cont, a debugger, a
// snapshot), which moves its TSC against the host's under TCG (guest_target.h holds its records
// and re-measures the translation). Never blocks after open().
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace vtrace::targets::qemu {

struct QmpEvent {
  std::string name;      // "STOP", "RESUME", ...
  uint64_t host_ns = 0;  // when QEMU emitted it, in host CLOCK_MONOTONIC ns
};

// One line QEMU wrote: true with `ev` when it is an event with a timestamp. `realtime_minus_mono`
// converts the event's wall-clock timestamp (seconds, microseconds) to CLOCK_MONOTONIC.
bool parse_qmp_event(const std::string& line, int64_t realtime_minus_mono, QmpEvent& ev);

class QmpEvents {
 public:
  QmpEvents() = default;
  ~QmpEvents();
  QmpEvents(const QmpEvents&) = delete;
  QmpEvents& operator=(const QmpEvents&) = delete;

  // Connects (waiting up to timeout_ms for QEMU's greeting). False with `error`: a VM started by
  // an older vtrace has no events socket.
  bool open(const std::string& sock_path, int timeout_ms, std::string& error);
  bool is_open() const { return fd_ >= 0; }
  // Appends the events that arrived since the last call. A closed socket (QEMU exited) closes.
  void poll(std::vector<QmpEvent>& out);

 private:
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace vtrace::targets::qemu
