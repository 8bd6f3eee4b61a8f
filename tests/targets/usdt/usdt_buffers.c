/* A USDT probe whose string argument lives a moment only: `usdt_buffers N` fires
 * sample:::buffer N times with "buffer-I" in one stack buffer, overwritten right after each
 * probe, so a tracer that reads the string after the probe (not while the thread is stopped at
 * it) sees "ZZZ..." or a later buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sdt.h>

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 200;
  char buf[64];
  for (int i = 0; i < n; ++i) {
    snprintf(buf, sizeof buf, "buffer-%d", i);
    DTRACE_PROBE2(sample, buffer, buf, i);
    memset(buf, 'Z', sizeof buf - 1);
    buf[sizeof buf - 1] = '\0';
    __asm__ volatile("" ::"r"(buf) : "memory");
  }
  return 0;
}
