/* A program for the syscall probe tests: `opens N` opens N distinct paths that do not exist,
 * "/nonexistent-vtrace-opens/path-I", through one buffer that is overwritten right after each
 * openat(), so a tracer that reads the path after the call sees another one. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 200;
  char path[64];
  for (int i = 0; i < n; ++i) {
    snprintf(path, sizeof path, "/nonexistent-vtrace-opens/path-%d", i);
    if (openat(AT_FDCWD, path, O_RDONLY) >= 0) return 1;
    memset(path, 'Z', sizeof path - 1);
  }
  return 0;
}
