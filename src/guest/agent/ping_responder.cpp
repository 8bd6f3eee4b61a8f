#include "guest/agent/ping_responder.h"

#include <chrono>

namespace vtrace::guest {

namespace {
using Clock = std::chrono::steady_clock;
}

void PingResponder::start() {
  stop_ = false;
  thread_ = std::thread([this] { run(); });
}

void PingResponder::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void PingResponder::serve() {
  __atomic_store_n(&h_->ping_active, 1u, __ATOMIC_SEQ_CST);
  const auto deadline = Clock::now() + std::chrono::milliseconds(200);
  uint64_t answered = __atomic_load_n(&h_->pong_seq, __ATOMIC_ACQUIRE);
  for (uint32_t i = 1; !stop_; ++i) {
    const uint64_t seq = __atomic_load_n(&h_->ping_seq, __ATOMIC_ACQUIRE);
    if (seq != answered) {
      __builtin_ia32_lfence();  // rdtsc is not ordered after the load that saw the ping
      __atomic_store_n(&h_->pong_tsc, __builtin_ia32_rdtsc(), __ATOMIC_RELAXED);
      __atomic_store_n(&h_->pong_seq, seq, __ATOMIC_RELEASE);
      answered = seq;
    }
    __builtin_ia32_pause();
    // No sched_yield: a yield under load can cost milliseconds, and the answer's delay is the
    // measurement's error. The scheduler still preempts us for the relay; 200 ms at most.
    if ((i & 1023) == 0 &&
        (__atomic_load_n(&h_->ping_request, __ATOMIC_ACQUIRE) != 1 || Clock::now() > deadline))
      break;
  }
  __atomic_store_n(&h_->ping_active, 0u, __ATOMIC_SEQ_CST);
}

void PingResponder::run() {
  auto last_beat = Clock::now();
  uint64_t seq_at_timeout = 0;
  bool timed_out = false;
  while (!stop_) {
    auto now = Clock::now();
    if (now - last_beat >= std::chrono::milliseconds(50)) {
      last_beat = now;
      __atomic_fetch_add(&h_->agent_heartbeat, 1, __ATOMIC_RELEASE);
    }
    const uint32_t req = __atomic_load_n(&h_->ping_request, __ATOMIC_ACQUIRE);
    const uint64_t seq = __atomic_load_n(&h_->ping_seq, __ATOMIC_ACQUIRE);
    if (req != 1) {
      timed_out = false;
    } else if (!timed_out || seq != seq_at_timeout) {
      // A host that leaves ping_request set gets answers again only when it pings again.
      serve();
      timed_out = __atomic_load_n(&h_->ping_request, __ATOMIC_ACQUIRE) == 1;
      seq_at_timeout = __atomic_load_n(&h_->ping_seq, __ATOMIC_ACQUIRE);
      continue;
    }
    struct timespec ts = {0, 2 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
}

}  // namespace vtrace::guest
