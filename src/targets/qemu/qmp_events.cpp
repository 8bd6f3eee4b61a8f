#include "targets/qemu/qmp_events.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "clock/host_clock.h"
#include "targets/qemu/vm_manager.h"

namespace vtrace::targets::qemu {

namespace {

constexpr size_t kMaxLineBytes = 1 << 16;  // QEMU's events are small: anything longer is dropped

}  // namespace

bool parse_qmp_event(const std::string& line, int64_t realtime_minus_mono, QmpEvent& ev) {
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  const auto name = j.find("event");
  const auto ts = j.find("timestamp");
  if (name == j.end() || !name->is_string() || name->get_ref<const std::string&>().empty() ||
      ts == j.end() || !ts->is_object())
    return false;
  const auto sec = ts->find("seconds"), usec = ts->find("microseconds");
  if (sec == ts->end() || usec == ts->end() || !sec->is_number_integer() ||
      !usec->is_number_integer())
    return false;
  // QEMU's wall clock, from a socket: a time in ns must fit (up to the year 2242).
  const int64_t s = sec->get<int64_t>(), us = usec->get<int64_t>();
  if (s < 0 || s >= (int64_t{1} << 33) || us < 0 || us >= 1'000'000) return false;
  const int64_t real_ns = s * 1'000'000'000 + us * 1000;
  const int64_t mono_ns = real_ns - realtime_minus_mono;
  ev.name = name->get<std::string>();
  ev.host_ns = mono_ns > 0 ? static_cast<uint64_t>(mono_ns) : 0;
  return true;
}

QmpEvents::~QmpEvents() {
  if (fd_ >= 0) close(fd_);
}

bool QmpEvents::open(const std::string& sock_path, int timeout_ms, std::string& error) {
  fd_ = qmp_open(sock_path, timeout_ms);
  if (fd_ < 0) {
    error = "no QMP event socket at " + sock_path;
    return false;
  }
  fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
  return true;
}

void QmpEvents::poll(std::vector<QmpEvent>& out) {
  if (fd_ < 0) return;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd_, buf, sizeof buf);
    if (n > 0) {
      buffer_.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
      close(fd_);
      fd_ = -1;
    }
    break;
  }
  // The offset between the clocks, now: QEMU stamps events with the wall clock.
  const int64_t realtime_minus_mono =
      static_cast<int64_t>(clock::wall_now_ns()) - static_cast<int64_t>(clock::host_now_ns());
  size_t start = 0;
  for (size_t nl; (nl = buffer_.find('\n', start)) != std::string::npos; start = nl + 1) {
    QmpEvent ev;
    if (parse_qmp_event(buffer_.substr(start, nl - start), realtime_minus_mono, ev))
      out.push_back(std::move(ev));
  }
  buffer_.erase(0, start);
  if (buffer_.size() > kMaxLineBytes) buffer_.clear();
}

}  // namespace vtrace::targets::qemu
