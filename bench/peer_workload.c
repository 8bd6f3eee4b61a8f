/*
 * The same workload built three ways, for bench/usdt_vs_vtrace.sh:
 *
 *   gcc -O2 peer_workload.c                      -> no probe
 *   gcc -O2 -DUSE_SDT peer_workload.c            -> a USDT probe (sys/sdt.h), for bpftrace
 *   gcc -O2 -DUSE_VTRACE -Iinclude peer_workload.c -> a vtrace probe (vtrace/probe.h)
 *
 * Each is the probe myapp:tick with arg0 = the iteration number.
 *
 *   peer_workload N   loops N times (default 1000000) over a little work and a probe, then
 *                     prints "peer_workload: N iterations, X ns/iteration" (the loop alone is
 *                     timed: not the program's start, nor a tracer's attach).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(USE_SDT)
#include <sys/sdt.h>
#define TICK(i) DTRACE_PROBE1(myapp, tick, i)
#elif defined(USE_VTRACE)
#include "vtrace/probe.h"
#define TICK(i) VTRACE_PROBE(myapp, tick, i)
#else
#define TICK(i) \
  do {          \
  } while (0)
#endif

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A tiny bit of work per iteration; the result is kept through a volatile store. Not inlined,
 * so the three builds run the same code around the probe. */
__attribute__((noinline)) static uint64_t work(uint64_t x, uint64_t i, uint64_t rounds) {
  for (uint64_t k = 0; k < rounds; ++k) x = x * 6364136223846793005u + i + 1442695040888963407u;
  return x ^ (x >> 29);
}

int main(int argc, char** argv) {
  uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
  /* Work rounds per iteration: how much the program does between two firings. */
  uint64_t rounds = argc > 2 ? strtoull(argv[2], NULL, 10) : 8;
  volatile uint64_t sink = 0;
  uint64_t x = 1;
  const uint64_t t0 = now_ns();
  for (uint64_t i = 0; i < n; ++i) {
    x = work(x, i, rounds);
    TICK(i);
  }
  const uint64_t t1 = now_ns();
  sink = x;
  (void)sink;
  printf("peer_workload: %llu iterations, %.2f ns/iteration\n", (unsigned long long)n,
         n ? (double)(t1 - t0) / (double)n : 0.0);
  return 0;
}
