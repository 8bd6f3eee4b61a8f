/* A program for the probe-context tests: `busy MS` runs on the CPU for MS milliseconds of its own
 * CPU time, then prints that CPU time ("cpu_ns=N") and exits 0. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char** argv) {
  long ms = argc > 1 ? atol(argv[1]) : 500;
  volatile unsigned long long x = 0;
  long long end = cpu_ns() + ms * 1000000LL;
  while (cpu_ns() < end)
    for (int i = 0; i < 10000; ++i) x += (unsigned long long)i;
  printf("cpu_ns=%lld\n", cpu_ns());
  return 0;
}
