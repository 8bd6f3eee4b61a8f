#include "clock/guest_clock.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace vtrace::clock {

namespace {

constexpr long double kU64Max = 18446744073709551615.0L;

uint64_t saturate(long double v) {
  if (!(v > 0)) return 0;  // also NaN
  if (v >= kU64Max) return UINT64_MAX;
  return static_cast<uint64_t>(v + 0.5L);
}

double median(std::vector<double> v) {
  auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

}  // namespace

bool GuestClock::pick(const std::vector<HandshakeSample>& burst, Anchor& out, size_t& ignored) {
  // Times relative to the first valid sample, so the robust fit below works on small numbers.
  std::vector<Anchor> v;
  for (const auto& s : burst) {
    if (s.host_after < s.host_before || s.host_after - s.host_before > (1ull << 62)) {
      ++ignored;
      continue;
    }
    v.push_back({s.host_before, s.host_after - s.host_before, s.guest});
  }
  if (v.empty()) return false;
  const uint64_t ref_h = v[0].before, ref_g = v[0].guest;
  const size_t n = v.size();
  std::vector<double> x(n), y(n), hw(n);
  for (size_t i = 0; i < n; ++i) {
    x[i] = static_cast<double>(static_cast<int64_t>(v[i].before - ref_h)) + v[i].width / 2.0;
    y[i] = static_cast<double>(static_cast<int64_t>(v[i].guest - ref_g));
    hw[i] = v[i].width / 2.0;
  }
  // Theil-Sen line through the burst: the median of the slopes of pairs with disjoint brackets
  // (a minority of garbage readings cannot move a median). Too few pairs: assume scale 1.
  std::vector<double> slopes;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j)
      if (v[j].before > v[i].before + v[i].width) slopes.push_back((y[j] - y[i]) / (x[j] - x[i]));
  const double slope = slopes.empty() ? 1.0 : median(slopes);
  if (!(slope > 0)) {
    ignored += n;
    return false;
  }
  std::vector<double> icpt(n);
  for (size_t i = 0; i < n; ++i) icpt[i] = y[i] - slope * x[i];
  const double c = median(icpt), med_hw = median(hw);
  // An honest reading lies within slope*hw of the true line; the fitted line is off by about a
  // typical half width, so allow a few of those.
  size_t best = n;
  for (size_t i = 0; i < n; ++i) {
    const double resid = std::fabs(y[i] - (slope * x[i] + c));
    if (resid > slope * (hw[i] + 3 * med_hw) + 64) {
      ++ignored;
      continue;
    }
    if (best == n || v[i].width < v[best].width) best = i;
  }
  if (best == n) return false;
  out = v[best];
  return true;
}

void GuestClock::add_burst(const std::vector<HandshakeSample>& burst) {
  ++bursts_;
  Anchor a;
  if (!pick(burst, a, ignored_)) return;
  if (pair_ok_ && !anchor_consistent(a)) {
    ++rejected_;
    pending_.push_back(a);
    if (pending_.size() >= kConfirmSteps) {
      const Anchor& n = pending_.back();
      const long double mid =
          static_cast<long double>(n.before) + static_cast<long double>(n.width) / 2;
      // Saturated: a garbage reading (a hostile guest) may put it anywhere.
      const long double off = std::clamp<long double>(
          static_cast<long double>(to_host_tsc(n.guest)) - mid, -9.2e18L, 9.2e18L);
      steps_.push_back({n.before, static_cast<int64_t>(off)});
      anchors_ = std::move(pending_);
      pending_.clear();
      choose_pair();
    }
    return;
  }
  pending_.clear();
  anchors_.push_back(a);
  if (anchors_.size() > kMaxAnchors) {
    // Drop the widest older anchor: the newest one is always kept, the rest thin out to tight
    // samples spread over the baseline.
    size_t widest = 0;
    for (size_t i = 1; i + 1 < anchors_.size(); ++i)
      if (anchors_[i].width > anchors_[widest].width) widest = i;
    anchors_.erase(anchors_.begin() + static_cast<std::ptrdiff_t>(widest));
  }
  choose_pair();
}

void GuestClock::choose_pair() {
  pair_ok_ = false;
  if (anchors_.size() < 2) return;
  auto mid = [](const Anchor& a) {
    return static_cast<long double>(a.before) + static_cast<long double>(a.width) / 2;
  };
  // Readings arrive after the newest anchor: judge pairs by their bound a quarter of the whole
  // baseline past it, which favours long baselines of tight anchors.
  const long double last = mid(anchors_.back());
  const long double x = last + (last - mid(anchors_.front())) / 4;
  long double best = 0;
  for (size_t i = 0; i < anchors_.size(); ++i) {
    for (size_t j = i + 1; j < anchors_.size(); ++j) {
      const Anchor &p = anchors_[i], &q = anchors_[j];
      if (q.before <= p.before + p.width || static_cast<int64_t>(q.guest - p.guest) <= 0) continue;
      const long double t = (x - mid(p)) / (mid(q) - mid(p));
      const long double cost = std::fabs(1 - t) * p.width / 2 + std::fabs(t) * q.width / 2;
      if (!pair_ok_ || cost < best) {
        best = cost;
        a_ = p;
        b_ = q;
        pair_ok_ = true;
      }
    }
  }
}

bool GuestClock::set_exact(int64_t offset, uint64_t scaling_ratio, uint32_t frac_bits) {
  if (scaling_ratio == 0 || frac_bits > 63) return false;
  exact_ = true;
  offset_ = offset;
  ratio_ = scaling_ratio;
  frac_bits_ = frac_bits;
  return true;
}

double GuestClock::position(uint64_t guest_tsc) const {
  return static_cast<double>(static_cast<int64_t>(guest_tsc - a_.guest)) /
         static_cast<double>(static_cast<int64_t>(b_.guest - a_.guest));
}

uint64_t GuestClock::to_host_tsc(uint64_t guest_tsc) const {
  if (exact_) {
    // The smallest host TSC that KVM maps to this reading (the inverse of its floor).
    const uint64_t d = guest_tsc - static_cast<uint64_t>(offset_);
    if (frac_bits_ == 0 && ratio_ == 1) return d;
    const unsigned __int128 num = static_cast<unsigned __int128>(d) << frac_bits_;
    const unsigned __int128 h = (num + ratio_ - 1) / ratio_;
    return h > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(h);
  }
  if (!pair_ok_) return guest_tsc;
  const long double t = position(guest_tsc);
  const long double ma = a_.width / 2.0L;
  const long double mb = static_cast<long double>(b_.before - a_.before) + b_.width / 2.0L;
  return saturate(static_cast<long double>(a_.before) + ma + t * (mb - ma));
}

uint64_t GuestClock::bound_ticks(uint64_t guest_tsc) const {
  if (exact_) {
    // With a ratio below 1, several host ticks map to one guest tick.
    const unsigned __int128 one = static_cast<unsigned __int128>(1) << frac_bits_;
    return ratio_ >= one ? 0 : static_cast<uint64_t>((one + ratio_ - 1) / ratio_ - 1);
  }
  if (!pair_ok_) return INT64_MAX;
  const long double t = position(guest_tsc);
  const long double b = std::fabs(1 - t) * a_.width / 2 + std::fabs(t) * b_.width / 2;
  // A guest reading truncates up to one guest tick (1/scale host ticks), and to_host_tsc rounds
  // to a whole tick.
  const long double e = b + 1 + 1 / static_cast<long double>(scale());
  return e >= static_cast<long double>(INT64_MAX) ? INT64_MAX : static_cast<uint64_t>(std::ceil(e));
}

uint64_t GuestClock::bound_ticks() const {
  if (exact_) return bound_ticks(0);
  if (!pair_ok_) return INT64_MAX;
  return bound_ticks(anchors_.back().guest);
}

bool GuestClock::consistent(const HandshakeSample& s) const {
  if (!ready() || s.host_after < s.host_before) return false;
  const __int128 h = to_host_tsc(s.guest), bound = bound_ticks(s.guest);
  return h >= static_cast<__int128>(s.host_before) - bound &&
         h <= static_cast<__int128>(s.host_after) + bound;
}

bool GuestClock::anchor_consistent(const Anchor& a) const {
  return consistent({a.before, a.guest, a.before + a.width});
}

double GuestClock::scale() const {
  if (exact_) return std::ldexp(static_cast<double>(ratio_), -static_cast<int>(frac_bits_));
  if (!pair_ok_) return 1.0;
  const long double dh =
      static_cast<long double>(b_.before - a_.before) + (b_.width / 2.0L - a_.width / 2.0L);
  return static_cast<double>(static_cast<long double>(b_.guest - a_.guest) / dh);
}

std::string GuestClock::describe(double ns_per_tick, double extra_ns) const {
  char buf[96];
  if (exact_) {
    const double b = static_cast<double>(bound_ticks()) * ns_per_tick + extra_ns;
    if (b == 0) return "kvm, exact";
    std::snprintf(buf, sizeof buf, "kvm, +-%.1f ns", b);
    return buf;
  }
  if (!pair_ok_) return "measured, not calibrated";
  const double ns = static_cast<double>(bound_ticks()) * ns_per_tick + extra_ns;
  if (ns < 1000.0)
    std::snprintf(buf, sizeof buf, "measured, +-%.0f ns", ns);
  else
    std::snprintf(buf, sizeof buf, "measured, +-%.1f us", ns / 1000.0);
  return buf;
}

}  // namespace vtrace::clock
