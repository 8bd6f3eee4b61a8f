// order_send N: sends 1..N through the shared mailbox (mailbox.h), one at a time, waiting for
// order_recv (in another VM, or on the host with $VTRACE_MAILBOX) to acknowledge each. Each send
// fires order:order_send:main:send (arg0 = n) before the value is published, so in a trace
// every send precedes its recv: `vtrace -x mode=sync` shows it across VMs.
//
//   order_send N [--timeout SECONDS]   gives up after SECONDS (default 10) without progress
#include <cinttypes>

#include "mailbox.h"
#include "vtrace/probe.h"

using namespace vtrace_guest;

int main(int argc, char** argv) {
  uint64_t n_max = 0;
  double timeout_s = 10;
  parse_args(argc, argv, &n_max, &timeout_s);
  Mailbox* m = map_mailbox("order_send");

  // Wait until `ack` equals `want`, or fail after timeout_s without it.
  auto await_ack = [&](uint64_t want, const char* what) {
    const double start = now_seconds();
    while (load(&m->ack) != want) {
      if (now_seconds() - start > timeout_s) {
        std::fprintf(stderr, "order_send: no receiver acknowledged %s within %g s\n", what,
                     timeout_s);
        std::exit(1);
      }
      sched_yield();
    }
  };

  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  const uint64_t hello =
      kHelloBit | ((static_cast<uint64_t>(getpid()) << 32) ^ static_cast<uint64_t>(ts.tv_nsec) ^
                   static_cast<uint64_t>(ts.tv_sec));
  store(&m->seq, hello);
  await_ack(hello, "the start");
  for (uint64_t n = 1; n <= n_max; ++n) {
    VTRACE_PROBE(order, send, n);
    store(&m->seq, n);
    char what[48];
    std::snprintf(what, sizeof what, "%" PRIu64, n);
    await_ack(n, what);
  }
  std::printf("order_send: sent %" PRIu64 "\n", n_max);
  return 0;
}
