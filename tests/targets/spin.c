/* A busy program for the profile-N tests: `spin MS [THREADS]` keeps THREADS threads (default 1)
 * on the CPU, in user mode, for MS milliseconds of wall time, then exits 0. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

static long long deadline_ns;
static volatile unsigned long long sink;

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Not inlined into main: the profile test looks for spin`spin in its stacks. */
__attribute__((noinline)) static void* spin(void* arg) {
  (void)arg;
  unsigned long long x = 0;
  while (now_ns() < deadline_ns)
    for (int i = 0; i < 100000; ++i) x += (unsigned long long)i * 2654435761u;
  sink = x;
  return NULL;
}

int main(int argc, char** argv) {
  long ms = argc > 1 ? atol(argv[1]) : 1000;
  int threads = argc > 2 ? atoi(argv[2]) : 1;
  if (threads < 1 || threads > 64) threads = 1;
  deadline_ns = now_ns() + ms * 1000000LL;
  pthread_t t[64];
  for (int i = 1; i < threads; ++i) pthread_create(&t[i], NULL, spin, NULL);
  spin(NULL);
  for (int i = 1; i < threads; ++i) pthread_join(t[i], NULL);
  return 0;
}
