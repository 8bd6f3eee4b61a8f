/* Calls getppid() exactly N times (argv[1], default 1000), then prints the parent pid. The host
   kernel probe tests count these calls through syscall::getppid:entry. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char** argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
  long ppid = 0;
  for (long i = 0; i < n; ++i) ppid = syscall(SYS_getppid);
  printf("%ld\n", ppid);
  return 0;
}
