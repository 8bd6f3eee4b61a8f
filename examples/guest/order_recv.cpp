// order_recv N: receives 1..N from order_send through the shared mailbox (mailbox.h) and
// acknowledges each. Each receipt fires order:order_recv:main:recv (arg0 = n) before the ack, so
// the sender cannot send n+1 before recv n has fired.
//
//   order_recv N [--timeout SECONDS]   gives up after SECONDS (default 30) without progress
#include <cinttypes>

#include "mailbox.h"
#include "vtrace/probe.h"

using namespace vtrace_guest;

int main(int argc, char** argv) {
  uint64_t n_max = 0;
  double timeout_s = 30;
  parse_args(argc, argv, &n_max, &timeout_s);
  Mailbox* m = map_mailbox("order_recv");

  bool started = false;  // a hello was seen: values that follow are this run's
  uint64_t expected = 1;
  double progress = now_seconds();
  for (;;) {
    const uint64_t s = load(&m->seq);
    if ((s & kHelloBit) && (!started || load(&m->ack) != s)) {
      store(&m->ack, s);  // a (new) sender: start over
      started = true;
      expected = 1;
      progress = now_seconds();
      continue;
    }
    if (started && s == expected) {
      VTRACE_PROBE(order, recv, s);
      store(&m->ack, s);
      if (s == n_max) break;
      ++expected;
      progress = now_seconds();
      continue;
    }
    if (now_seconds() - progress > timeout_s) {
      std::fprintf(stderr,
                   "order_recv: nothing new for %g s (received %" PRIu64 " of %" PRIu64 ")\n",
                   timeout_s, expected - 1, n_max);
      return 1;
    }
    sched_yield();
  }
  std::printf("order_recv: received %" PRIu64 "\n", n_max);
  return 0;
}
