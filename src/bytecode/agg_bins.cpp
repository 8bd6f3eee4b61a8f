#include "bytecode/agg_bins.h"

#include <algorithm>
#include <limits>

namespace vtrace::bytecode {

namespace {

bool mul_ok(int64_t a, int64_t b, int64_t& out) {
  return !__builtin_mul_overflow(a, b, &out);
}

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

}  // namespace

int64_t lquantize_levels(int64_t base, int64_t limit, int64_t step) {
  if (step <= 0) step = 1;
  return std::clamp<int64_t>(limit > base ? (limit - base) / step : 0, 1, 65535);
}

Llquantize::Llquantize(int64_t f, int64_t lo, int64_t hi, int64_t n)
    : factor(std::clamp<int64_t>(f, 2, 65535)), low(lo), high(hi), nsteps(n) {
  // Steps below the factor must divide it; steps above it must be a multiple of it.
  nsteps = std::clamp<int64_t>(nsteps, 1, 65535);
  if (nsteps < factor && factor % nsteps != 0) nsteps = factor;
  if (nsteps >= factor) nsteps -= nsteps % factor;
  low = std::clamp<int64_t>(low, 0, 62);
  high = std::clamp<int64_t>(high, low, 62);
  for (;;) {  // factor^(high+1) must fit in 64 bits
    int64_t p = 1;
    bool ok = true;
    for (int64_t o = 0; o <= high && ok; o++) ok = mul_ok(p, factor, p);
    if (ok || high == 0) break;
    high--;
    low = std::min(low, high);
  }
  for (int64_t o = 0; o < low; o++) first *= factor;

  // The bins as dtrace_aggregate_llquantize_bucket() finds them.
  int64_t last = first, end = first * factor, base = 1;
  for (int64_t order = low; order <= high; order++) {
    const int64_t nbuckets = end > nsteps ? nsteps : end;
    orders.push_back({last, end, end / nbuckets, base});
    base += nbuckets - nbuckets / factor;
    last = end;
    if (!mul_ok(end, factor, end)) end = kMax;
  }
  past = base;

  // Their labels, as dt_print_llquantize() walks them.
  labels.push_back(first);
  int64_t value = first, next = first * factor;
  int64_t step = next > nsteps ? next / nsteps : 1;
  for (int64_t order = low; order <= high;) {
    labels.push_back(value);
    if ((value += step) < next) continue;
    value = next;  // a step that does not divide the decade must still end it
    if (!mul_ok(value, factor, next)) next = kMax;
    step = next > nsteps ? next / nsteps : 1;
    order++;
  }
  labels.push_back(value);
}

uint32_t Llquantize::bin(int64_t value) const {
  if (value < first) return 0;
  int64_t b = past;
  for (const Order& o : orders)
    if (value < o.end) {
      b = o.base + (value - o.last) / o.width;
      break;
    }
  return static_cast<uint32_t>(std::min<int64_t>(b, nbins() - 1));
}

}  // namespace vtrace::bytecode
