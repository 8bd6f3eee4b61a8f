/* A program with <sys/sdt.h> USDT probes, for the USDT target tests. Built with -O0 so that
 * arguments are stack operands (-4@-20(%rbp)), plus register, constant and %rip forms. Usage:
 * usdt_sample N [start_ms [gap_us [end_ms]]]: sleeps start_ms, fires each probe N times (gap_us
 * apart), prints how often the semaphore-guarded probe was enabled, sleeps end_ms and exits. A
 * tracer reads non-stack memory (strings, globals) after the fact: the sleeps keep it valid. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/sdt.h>
#include <unistd.h>

int fire_guarded(int v); /* usdt_guarded.c: 1 when the semaphore-guarded probe was enabled */

int g_counter = 0;
static const char* const kWords[] = {"alpha", "beta", "gamma"};

__attribute__((noinline, optimize("O2"))) static void regs(long i) {
  /* Register operands at -O2. */
  DTRACE_PROBE3(sample, regs, i, -i, (short)i);
  /* A global at -O2: a %rip-relative memory operand (-4@g_counter(%rip)). */
  DTRACE_PROBE1(sample, global, g_counter);
  __asm__ volatile("" ::: "memory");
}

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 10;
  long start_ms = argc > 2 ? atol(argv[2]) : 0;
  long gap_us = argc > 3 ? atol(argv[3]) : 0;
  long end_ms = argc > 4 ? atol(argv[4]) : 0;
  if (start_ms > 0) usleep((useconds_t)(start_ms * 1000));
  long guarded = 0;
  for (long i = 0; i < n; ++i) {
    int v = (int)i;
    int neg = -(int)i - 1;
    const char* word = kWords[i % 3];
    g_counter = (int)(i * 2);
    DTRACE_PROBE2(sample, ints, v, neg);
    DTRACE_PROBE2(sample, str, v, word);
    DTRACE_PROBE3(sample, consts, 42, -7, 1);
    regs(i);
    guarded += fire_guarded(v);
    if (gap_us > 0) usleep((useconds_t)gap_us);
  }
  DTRACE_PROBE1(sample, loop__done, n);
  printf("guarded=%ld\n", guarded);
  fflush(stdout);
  if (end_ms > 0) usleep((useconds_t)(end_ms * 1000));
  return 0;
}
