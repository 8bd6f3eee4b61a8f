/* A program for the probe-context tests: `writes N` writes N distinct buffers, "buffer-I" without
 * a NUL, each followed in memory by bytes that must not be read ("XXXX"), to /dev/null; the buffer
 * is rewritten at once, so a tracer that reads it after the write sees another value. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 200;
  int fd = open("/dev/null", O_WRONLY);
  if (fd < 0) return 1;
  char buf[64];
  for (int i = 0; i < n; ++i) {
    int len = snprintf(buf, sizeof buf, "buffer-%d", i);
    memcpy(buf + len, "XXXX", 5);
    if (write(fd, buf, (size_t)len) != len) return 1;
    memset(buf, 'Z', (size_t)len);
  }
  close(fd);
  return 0;
}
