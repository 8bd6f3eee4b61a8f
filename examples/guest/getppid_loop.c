/* getppid_loop N: calls getppid() exactly N times (default 1000), then prints the parent pid.
   A known number of system calls, to check per-VM syscall counts (and the host kernel probe
   tests' syscall::getppid:entry counts):
     vtrace -n '*:syscall::getppid:entry /execname == "getppid_loop"/ { @[vmname] = count(); }' */
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
