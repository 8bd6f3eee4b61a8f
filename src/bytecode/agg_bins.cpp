#include "bytecode/agg_bins.h"

#include <algorithm>

namespace vtrace::bytecode {

namespace {

bool mul_ok(int64_t a, int64_t b, int64_t& out) {
  return !__builtin_mul_overflow(a, b, &out);
}

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
  limit = first;
  for (int64_t o = low; o <= high; o++) limit *= factor;

  const int64_t sf = nsteps / factor;  // the steps of a magnitude that lie below it
  const int64_t per = nsteps - sf;     // bins per magnitude
  const int64_t mags = high - low + 1;
  bin0 = static_cast<uint32_t>(1 + mags * per);
  // Bins: in magnitude m, |value| * nsteps / factor^(m+1) is the step, sf .. nsteps - 1.
  int64_t end = first * factor;
  for (int64_t m = low; m <= high; m++) {
    const int64_t base = bin0 + 1 + (m - low) * per - sf;
    if (end % nsteps == 0)
      orders.push_back({end, 1, end / nsteps, base});
    else  // steps finer than 1 (only in the magnitude of 1: end < nsteps)
      orders.push_back({end, nsteps, end, base});
    if (m < high) end *= factor;
  }

  // Labels, as dt_print_llquantize() writes them.
  labels.assign(2 * static_cast<size_t>(bin0) + 1, Label{});
  auto set = [&](int64_t i, int64_t v) {
    labels[bin0 + i] = {Label::Value, v};
    labels[bin0 - i] = {Label::Value, -v};
  };
  labels[bin0] = {Label::Zero, first};
  set(1, first);
  int64_t i = 1, mag = low;
  if (low == 0 && nsteps > factor) {
    for (int64_t step = 2; step <= factor; step++) set(i += sf, step);
    mag++;
  }
  int64_t scale = 1;
  for (int64_t o = 0; o <= mag; o++) scale *= factor;
  scale /= nsteps;
  for (; mag <= high; mag++) {
    for (int64_t step = sf + 1; step <= nsteps; step++) set(++i, step * scale);
    if (mag < high) scale *= factor;
  }
  labels[0] = {Label::AtMost, -limit};
  labels[labels.size() - 1] = {Label::AtLeast, limit};
}

uint32_t Llquantize::bin(int64_t value) const {
  // |value| as unsigned: INT64_MIN is 2^63, past every limit.
  const uint64_t a = value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  int64_t b;
  if (a < static_cast<uint64_t>(first)) {
    b = bin0;
  } else if (a >= static_cast<uint64_t>(limit)) {
    b = nbins() - 1;
  } else {
    b = nbins() - 1;
    for (const Order& o : orders)
      if (a < static_cast<uint64_t>(o.end)) {
        b = o.base +
            static_cast<int64_t>(a * static_cast<uint64_t>(o.mul) / static_cast<uint64_t>(o.div));
        break;
      }
  }
  if (value < 0) b = 2 * static_cast<int64_t>(bin0) - b;
  return static_cast<uint32_t>(std::clamp<int64_t>(b, 0, nbins() - 1));
}

}  // namespace vtrace::bytecode
