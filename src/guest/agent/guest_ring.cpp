#include "guest/agent/guest_ring.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>

#include "transport/guest_channel.h"
#include "transport/ring_reader.h"

namespace vtrace::guest {

void set_stacks(vtrace_guest_record& rec, const std::vector<uint64_t>& kernel,
                const std::vector<uint64_t>& user) {
  const size_t k = std::min<size_t>(kernel.size(), VTRACE_GUEST_MAX_FRAMES);
  const size_t u = std::min<size_t>(user.size(), VTRACE_GUEST_MAX_FRAMES - k);
  if (k > 0) std::memcpy(rec.tail, kernel.data(), k * 8);
  if (u > 0) std::memcpy(rec.tail + k * 8, user.data(), u * 8);
  rec.kstack_len = static_cast<uint8_t>(k);
  rec.ustack_len = static_cast<uint8_t>(u);
}

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
  const size_t used = offsetof(vtrace_guest_record, tail) + transport::tail_bytes(rec);
  std::memcpy(transport::guest_slot(ring_, nslots_, pos_), &rec, used);
  pos = pos_++;
  __atomic_store_n(&ring_->head, pos_, __ATOMIC_RELEASE);
  return true;
}

uint64_t GuestRingWriter::room() {
  const uint64_t tail = __atomic_load_n(&ring_->tail, __ATOMIC_ACQUIRE);
  if (tail > pos_) return nslots_;  // not a tail the host can write: as write(), not full
  return pos_ - tail >= nslots_ ? 0 : nslots_ - (pos_ - tail);
}

vtrace_guest_record* GuestRingWriter::taken(uint64_t k) const {
  return transport::guest_slot(ring_, nslots_, pos_ + k);
}

void GuestRingWriter::publish(uint64_t n) {
  if (n == 0) return;
  pos_ += n;
  __atomic_store_n(&ring_->head, pos_, __ATOMIC_RELEASE);
}

namespace {
size_t used_bytes(const vtrace_guest_record& r) {
  return offsetof(vtrace_guest_record, tail) + transport::tail_bytes(r);
}
}  // namespace

vtrace_guest_record* RoundWriter::next() {
  if (cur_ == nullptr) {
    if (n_ >= room_) room_ = w_.room();  // the host may have read some meanwhile
    if (n_ >= room_) {
      ++drops_;
      return nullptr;
    }
    cur_ = w_.taken(n_);
  }
  return cur_;
}

void RoundWriter::commit(NativeProcess*, uint32_t, uint64_t) {
  cur_->seq = w_.pos() + n_;
  if (cur_->timestamp < last_ts_) sorted_ = false;
  last_ts_ = cur_->timestamp;
  ++n_;
  cur_ = nullptr;
}

size_t RoundWriter::finish() {
  if (!sorted_) {
    // Records of several rings interleave: sort (stable, by timestamp) through the scratch.
    auto& recs = scratch_.recs;
    auto& keys = scratch_.keys;
    if (recs.size() < n_) recs.resize(n_);
    keys.clear();
    for (uint64_t k = 0; k < n_; ++k) {
      const vtrace_guest_record* g = w_.taken(k);
      std::memcpy(&recs[k], g, used_bytes(*g));
      keys.emplace_back(g->timestamp, static_cast<uint32_t>(k));
    }
    std::sort(keys.begin(), keys.end());  // the index breaks ties: stable
    for (uint64_t k = 0; k < n_; ++k) {
      const vtrace_guest_record& r = recs[keys[k].second];
      vtrace_guest_record* g = w_.taken(k);
      std::memcpy(g, &r, used_bytes(r));
      g->seq = w_.pos() + k;
    }
  }
  const size_t n = n_;
  w_.publish(n_);
  cur_ = nullptr;
  n_ = room_ = 0;
  last_ts_ = 0;
  sorted_ = true;
  return n;
}

vtrace_guest_record* StagedRound::next() {
  if (n_ == recs_.size()) recs_.emplace_back();
  return &recs_[n_].rec;
}

void StagedRound::commit(NativeProcess* proc, uint32_t ring, uint64_t pos) {
  RelayRecord& r = recs_[n_++];
  r.proc = proc;
  r.ring = ring;
  r.pos = pos;
}

void StagedRound::sort() {
  auto by_time = [](const RelayRecord& a, const RelayRecord& b) {
    return a.rec.timestamp < b.rec.timestamp;
  };
  if (!std::is_sorted(begin(), end(), by_time)) std::stable_sort(begin(), end(), by_time);
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
