// The guest half of the time handshake (guest_abi.h): while the host measures (ping_request),
// a thread of its own answers each new ping_seq with the guest TSC, spinning so the answer's
// delay is small and never behind the relay (which may be in a sync wait). The same thread
// bumps agent_heartbeat every ~50 ms.
#pragma once
#include <atomic>
#include <thread>

#include "vtrace/guest_abi.h"

namespace vtrace::guest {

class PingResponder {
 public:
  explicit PingResponder(vtrace_guest_header* h) : h_(h) {}
  ~PingResponder() { stop(); }
  void start();
  void stop();

 private:
  void run();
  // Answers pings until ping_request drops or 200 ms pass.
  void serve();

  vtrace_guest_header* h_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace vtrace::guest
