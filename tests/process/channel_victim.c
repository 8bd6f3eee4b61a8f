/*
 * channel_victim: an instrumented program for the tests of probe.h's side of the channel (issue 9,
 * item 2). It counts its own attempts to open /dev/shm/vtrace.* (it interposes open/openat), so
 * a test sees how often a site looks for a channel.
 *
 *   channel_victim wait [N]  reads a line from stdin (the test plants a channel file meanwhile),
 *                            turns its own probe victim:::tick on, fires it N times (default
 *                            1000), prints "opens=K" and exits 0.
 *   channel_victim detach    as wait with N = 10, prints "fired", reads a second line (the test
 *                            detaches the channel meanwhile), fires 100000 times, prints
 *                            "opens=K" (the opens of the second part) and exits 0.
 *   channel_victim fork N    (under vtrace -c) fires victim:::tick N times, forks; the child
 *                            fires N times and exits 0; the parent waits for it, fires N more
 *                            times, and exits 0 if the child exited 0, else 1.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vtrace/probe.h"

extern struct vtrace_probe_desc __stop_vtrace_probes[] __attribute__((weak, visibility("hidden")));

static volatile long opens;

static int real_open(int dfd, const char* path, int flags, va_list ap) {
  mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
  if (strncmp(path, "/dev/shm/vtrace.", 16) == 0) __atomic_fetch_add(&opens, 1, __ATOMIC_RELAXED);
  return (int)syscall(SYS_openat, dfd, path, flags, mode);
}

int open(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  int fd = real_open(AT_FDCWD, path, flags, ap);
  va_end(ap);
  return fd;
}

int open64(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  int fd = real_open(AT_FDCWD, path, flags, ap);
  va_end(ap);
  return fd;
}

int openat(int dfd, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  int fd = real_open(dfd, path, flags, ap);
  va_end(ap);
  return fd;
}

/* What a tracer does with -p: write enabled = 1 into the descriptors of victim:::tick. */
static void enable_own_probes(void) {
  for (struct vtrace_probe_desc* d = __start_vtrace_probes; d && d < __stop_vtrace_probes; ++d)
    if (d->magic == VTRACE_PROBE_MAGIC && strcmp(d->provider, "victim") == 0) d->enabled = 1;
}

static void fire(long n) {
  for (long i = 0; i < n; ++i) VTRACE_PROBE(victim, tick, i);
}

static void wait_line(void) {
  char line[64];
  if (fgets(line, sizeof line, stdin) == NULL) exit(2);
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "wait") == 0) {
    wait_line();
    enable_own_probes();
    fire(argc > 2 ? atol(argv[2]) : 1000);
    printf("opens=%ld\n", opens);
    return 0;
  }
  if (strcmp(mode, "detach") == 0) {
    wait_line();
    enable_own_probes();
    fire(10);
    printf("fired\n");
    fflush(stdout);
    wait_line();
    long before = opens;
    fire(100000);
    printf("opens=%ld\n", opens - before);
    return 0;
  }
  if (strcmp(mode, "fork") == 0 && argc > 2) {
    long n = atol(argv[2]);
    fire(n);
    pid_t child = fork();
    if (child < 0) return 1;
    if (child == 0) {
      fire(n);
      _exit(0);
    }
    int status = 0;
    if (waitpid(child, &status, 0) != child) return 1;
    fire(n);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
  }
  fprintf(stderr, "usage: channel_victim wait [N] | detach | fork N\n");
  return 2;
}
