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

// llquantize(value, factor, low, high, nsteps) as Oracle's DTrace lays it out: symmetric around
// the bin of |value| < factor^low (bin0), each order of magnitude from low to high split into
// nsteps steps of which the first nsteps / factor fall in the magnitudes below, negative values
// mirrored below bin0, and an open bin at each end (<= -factor^(high+1), >= factor^(high+1)).
// The parameters are sanitized (the compiler rejects bad ones; these bounds keep every power in
// 64 bits and every walk finite).
struct Llquantize {
  Llquantize(int64_t factor, int64_t low, int64_t high, int64_t nsteps);

  int64_t factor, low, high, nsteps;
  int64_t first = 1;  // factor^low
  int64_t limit = 1;  // factor^(high + 1)
  uint32_t bin0 = 0;
  // Each order of magnitude: |value| < end (and >= the previous end) goes to bin
  // base + |value| * mul / div; a negative value to 2 bin0 minus that.
  struct Order {
    int64_t end, mul, div, base;
  };
  std::vector<Order> orders;
  // How dtrace labels each bin. Some bins no integer reaches have none (steps finer than 1 in
  // the magnitude of 1).
  struct Label {
    enum Kind : uint8_t { None, Value, Zero, AtMost, AtLeast } kind = None;
    int64_t bound = 0;  // Value: the bin's lower bound (its upper one for negative values)
  };
  std::vector<Label> labels;

  uint32_t nbins() const { return static_cast<uint32_t>(labels.size()); }
  uint32_t bin(int64_t value) const;
};

}  // namespace vtrace::bytecode
