// A small instrumented program for the process-target tests (tests/targets/).
//
//   instrumented_sample [N [DELAY_US [THREADS]]]
//
// Each of THREADS threads (default 1) fires sample:::tick N times (N < 0: forever), with
// DELAY_US microseconds between firings, plus the other probes below; then it exits 0.
#include <pthread.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "vtrace/probe.h"

namespace {

long g_expensive_calls = 0;

long expensive() {
  return ++g_expensive_calls;
}

// Probes in a template's instances and in an inline function: the compiler emits these
// functions in COMDAT groups, where a descriptor must still reach the probe section.
template <typename T>
T twice(T x) {
  VTRACE_PROBE(sample, twice, x);
  return x * 2;
}

inline long thrice(long x) {
  VTRACE_PROBE(sample, thrice, x);
  return x * 3;
}

void work(long i) {
  VTRACE_PROBE(sample, tick, i, i * 2);
  VTRACE_PROBE_STR(sample, query, (i % 2) == 0 ? "select 1" : "update t", i);
  if (VTRACE_ENABLED(sample, expensive)) VTRACE_PROBE(sample, expensive, expensive());
  VTRACE_PROBE(sample, request__start, i, 1, 2, 3, 4, 5, 6, 7, 8, 9);
  if (twice(i) + twice(static_cast<short>(i)) + thrice(i) < 0) std::abort();
}

void loop(long n, long delay_us) {
  for (long i = 0; n < 0 || i < n; ++i) {
    work(i);
    if (delay_us > 0) usleep(static_cast<useconds_t>(delay_us));
  }
}

}  // namespace

int main(int argc, char** argv) {
  long n = argc > 1 ? std::atol(argv[1]) : 10;
  long delay_us = argc > 2 ? std::atol(argv[2]) : 0;
  int threads = argc > 3 ? std::atoi(argv[3]) : 1;
  VTRACE_PROBE(sample, start);
  std::vector<std::thread> ts;
  for (int t = 1; t < threads; ++t) ts.emplace_back(loop, n, delay_us);
  loop(n, delay_us);
  for (auto& t : ts) t.join();
  return 0;
}
