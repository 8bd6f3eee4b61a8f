/* The semaphore-guarded probe of usdt_sample: sample:::guarded fires only while a tracer has
 * raised its semaphore (a 16-bit counter in the .probes section). */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

unsigned short sample_guarded_semaphore __attribute__((section(".probes"))) = 0;

/* -O2: at -O0 this leaf function would keep v in the red zone below %rsp, which a uprobe
 * sample's stack copy (from %rsp up) does not hold. */
__attribute__((optimize("O2"))) int fire_guarded(int v) {
  if (!sample_guarded_semaphore) return 0;
  STAP_PROBE1(sample, guarded, v);
  return 1;
}
