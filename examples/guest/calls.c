/* calls N [DELAY_S]: waits DELAY_S seconds (default 10: time for a tracer to attach to it by
 * its pid), then calls add_one() exactly N times (default 1000) and prints the result. A known
 * number of function calls, with known arguments and return values, for pid probes of a guest
 * process:
 *   vtrace -n 'web1:pidPID::add_one:entry { @ = count(); }' */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((noinline)) long add_one(long x) {
  __asm__ volatile("" ::: "memory"); /* a real call, not folded away */
  return x + 1;
}

int main(int argc, char** argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
  unsigned delay = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 10;
  sleep(delay);
  long x = 0;
  for (long i = 0; i < n; ++i) x = add_one(x);
  printf("%ld\n", x);
  return 0;
}
