/* probe_loop N [--work K]: fires bench:probe_loop:main:tick (arg0 = i) N times in a tight loop,
 * with K rounds of arithmetic between firings (default 0), then prints
 *   probe_loop: N iterations, X ns/iteration
 * Only the loop is timed (clock_gettime around it), not the start nor a tracer's attach, so the
 * same program measures a probe's cost on the host and in a guest (bench/guest_probe_cost.sh):
 *   vtrace -q -n 'bench:::tick { @ = count(); }' -c './probe_loop 1000000'
 *   vtrace vm exec G -- /bin/probe_loop 1000000 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vtrace/probe.h"

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Not inlined, so traced and untraced runs execute the same code around the probe. */
__attribute__((noinline)) static uint64_t work(uint64_t x, uint64_t i, uint64_t rounds) {
  for (uint64_t k = 0; k < rounds; ++k) x = x * 6364136223846793005u + i + 1442695040888963407u;
  return x ^ (x >> 29);
}

int main(int argc, char** argv) {
  uint64_t n = 1000000, rounds = 0;
  for (int a = 1; a < argc; ++a) {
    if (strcmp(argv[a], "--work") == 0 && a + 1 < argc) {
      rounds = strtoull(argv[++a], NULL, 10);
    } else if (argv[a][0] >= '0' && argv[a][0] <= '9') {
      n = strtoull(argv[a], NULL, 10);
    } else {
      fprintf(stderr, "usage: probe_loop N [--work K]\n");
      return 2;
    }
  }
  volatile uint64_t sink = 0;
  uint64_t x = 1;
  const uint64_t t0 = now_ns();
  for (uint64_t i = 0; i < n; ++i) {
    x = work(x, i, rounds);
    VTRACE_PROBE(bench, tick, i);
  }
  const uint64_t t1 = now_ns();
  sink = x;
  (void)sink;
  printf("probe_loop: %llu iterations, %.2f ns/iteration\n", (unsigned long long)n,
         n ? (double)(t1 - t0) / (double)n : 0.0);
  return 0;
}
