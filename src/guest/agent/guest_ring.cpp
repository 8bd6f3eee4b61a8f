#include "guest/agent/guest_ring.h"

#include <sched.h>

#include <chrono>
#include <cstring>

#include "transport/guest_channel.h"

namespace vtrace::guest {

void set_tail(vtrace_guest_record& rec, const char* s, size_t len) {
  constexpr size_t cap = VTRACE_GUEST_TAIL_SIZE - 1;
  len = strnlen(s, len);
  if (len > cap) {  // cut, and say so
    std::memcpy(rec.tail, s, cap - 3);
    std::memcpy(rec.tail + cap - 3, "...", 3);
    len = cap;
  } else {
    std::memcpy(rec.tail, s, len);
  }
  rec.tail[len] = '\0';
  rec.tail_len = static_cast<uint16_t>(len + 1);
}

void GuestRingWriter::attach(vtrace_ring* ring, uint32_t nslots) {
  ring_ = ring;
  nslots_ = nslots;
  pos_ = 0;
}

void GuestRingWriter::reset() {
  pos_ = 0;
  __atomic_store_n(&ring_->head, 0, __ATOMIC_RELEASE);
}

bool GuestRingWriter::write(vtrace_guest_record& rec, uint64_t& pos) {
  const uint64_t tail = __atomic_load_n(&ring_->tail, __ATOMIC_ACQUIRE);
  if (pos_ - tail >= nslots_ && tail <= pos_) return false;
  rec.seq = pos_;
  const size_t used = offsetof(vtrace_guest_record, tail) + rec.tail_len;
  std::memcpy(transport::guest_slot(ring_, nslots_, pos_), &rec, used);
  pos = pos_++;
  __atomic_store_n(&ring_->head, pos_, __ATOMIC_RELEASE);
  return true;
}

bool wait_host_done(const vtrace_guest_header* h, const vtrace_ring* ring, uint64_t pos,
                    const std::function<void()>& tick) {
  using clock = std::chrono::steady_clock;
  const uint64_t session = h->host_session;
  uint64_t beat = h->host_heartbeat;
  auto beat_seen = clock::now(), last_tick = beat_seen;
  for (uint32_t spin = 0;; ++spin) {
    if (__atomic_load_n(&ring->done, __ATOMIC_ACQUIRE) > pos) return true;
    if (spin < 64) {
      __builtin_ia32_pause();
      continue;
    }
    if (!h->host_attached || h->host_session != session) return false;
    auto now = clock::now();
    if (h->host_heartbeat != beat) {
      beat = h->host_heartbeat;
      beat_seen = now;
    } else if (now - beat_seen > std::chrono::seconds(1)) {
      return false;
    }
    if (now - last_tick > std::chrono::milliseconds(50)) {
      last_tick = now;
      if (tick) tick();
    }
    sched_yield();
  }
}

}  // namespace vtrace::guest
