/* A program for the pid provider tests (pid_provider_test.cpp), built without vtrace probes:
 * `functions N` calls add3(i, 2 i, -3) for i < N, many(1, ..., 10) once and malloc(4321) N / 4
 * times (each freed), then prints the sum of what add3 returned. `functions -1` calls add3 every
 * millisecond until killed (for -p). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((noinline)) long add3(long a, long b, long c) {
  __asm__ volatile("");
  return a + b + c;
}

__attribute__((noinline)) long many(long a0, long a1, long a2, long a3, long a4, long a5, long a6,
                                    long a7, long a8, long a9) {
  __asm__ volatile("");
  return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9;
}

/* Through a volatile pointer: the compiler may not pair malloc with free and drop both. */
static void* (*volatile allocate)(size_t) = malloc;

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 100;
  long sum = 0;
  if (n < 0) {
    for (long i = 0;; ++i) {
      sum += add3(i, 2 * i, -3);
      usleep(1000);
    }
  }
  for (long i = 0; i < n; ++i) sum += add3(i, 2 * i, -3);
  sum += many(1, 2, 3, 4, 5, 6, 7, 8, 9, 10) - 55;
  for (long i = 0; i < n / 4; ++i) free(allocate(4321));
  printf("%ld\n", sum);
  return 0;
}
