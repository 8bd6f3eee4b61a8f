// The bins of the quantize family, shared by the engine (which updates, sorts and prints them)
// and the BPF backend (which updates them in the kernel): a value must land in the same bin
// wherever its clause runs.
#pragma once
#include <cstdint>
#include <vector>

namespace vtrace::bytecode {

// quantize(): bins for the powers of two, negative and positive, around the bin of 0.
inline constexpr int kQuantizeBuckets = 127;
inline constexpr int kQuantizeZero = 63;

// lquantize(value, base, limit, step): its levels (bins are levels + 2: below base, each level,
// at or above limit). A step <= 0 counts as 1.
int64_t lquantize_levels(int64_t base, int64_t limit, int64_t step);

// llquantize(value, factor, low, high, nsteps) with its parameters sanitized (the compiler
// rejects bad ones; these bounds keep every walk finite and every power in 64 bits) and the
// geometry dtrace.c's dtrace_aggregate_llquantize_bucket() walks, computed once.
struct Llquantize {
  Llquantize(int64_t factor, int64_t low, int64_t high, int64_t nsteps);

  int64_t factor, low, high, nsteps;
  int64_t first = 1;  // factor^low: smaller values go to bin 0
  // Each order of magnitude: values in [last, end) go to bin base + (value - last) / width.
  struct Order {
    int64_t last, end, width, base;
  };
  std::vector<Order> orders;
  int64_t past = 0;  // the bin of values past the last order (before clamping to the last bin)
  // The value each bin is labelled with in dtrace's output, bin 0 ("< first") to the last
  // (">= its value"); there are labels.size() bins.
  std::vector<int64_t> labels;

  uint32_t nbins() const { return static_cast<uint32_t>(labels.size()); }
  uint32_t bin(int64_t value) const;
};

}  // namespace vtrace::bytecode
