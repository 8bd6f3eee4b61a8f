/* A program for the syscall probe tests: `ia32_syscalls N` makes N ia32 getppid syscalls
 * (int $0x80 with eax 64, which x86-64 numbers semget) and then N/2 + 1 native getppid ones.
 * Exits 77 when the kernel runs no ia32 syscalls (no IA32_EMULATION). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 100;
  long ret = 0;
  for (int i = 0; i < n; ++i) {
    long nr = 64; /* __NR_getppid of ia32 */
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr) : "memory");
  }
  if (ret != (long)getppid()) return 77;
  for (int i = 0; i < n / 2; ++i) syscall(SYS_getppid);
  return 0;
}
