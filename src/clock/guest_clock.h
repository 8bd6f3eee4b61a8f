// Translation of a guest's raw TSC into this host's TSC (which TscClock turns into ns), with an
// uncertainty bound. Model: guest_tsc = host_tsc * scale + offset. Exact when KVM tells us its
// per-vCPU offset and scaling ratio (set_exact); otherwise measured from ping handshakes: each
// sample brackets one guest reading between two host readings. The translation rests on two
// anchors (the tightest sample of two bursts, chosen for the smallest bound near the newest
// burst); the line through both brackets' midpoints is off by at most |1-t|*hw1 + |t|*hw2, where
// t places the reading on the baseline and hw are the brackets' half widths, so the bound is
// honest both between the anchors and when extrapolating (where the scale's error grows with t).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace vtrace::clock {

// One ping: host TSC just before writing the ping, the guest TSC the guest answered with, host
// TSC when the answer was seen. The guest reading is untrusted.
struct HandshakeSample {
  uint64_t host_before = 0, guest = 0, host_after = 0;
};

class GuestClock {
 public:
  // One handshake burst. Keeps its tightest sample that agrees with the burst's robust line
  // (garbage readings and inverted brackets are ignored); a burst the current translation does
  // not bracket is rejected, and kConfirmSteps such bursts in a row replace the anchors (the
  // guest clock was stepped, e.g. the VM was paused under TCG).
  void add_burst(const std::vector<HandshakeSample>& burst);

  // KVM's exact translation: guest = ((host * ratio) >> frac_bits) + offset. False (and no
  // change) for a ratio of 0 or more than 63 fraction bits.
  bool set_exact(int64_t offset, uint64_t scaling_ratio = 1, uint32_t frac_bits = 0);

  // Exact, or at least two anchors with disjoint brackets.
  bool ready() const { return exact_ || pair_ok_; }
  // The host TSC of a guest reading (the midpoint of what the anchors allow); saturates for
  // readings too far away to represent. Meaningless (identity) before ready().
  uint64_t to_host_tsc(uint64_t guest_tsc) const;
  // The bound for one reading, in host ticks: |true host TSC - to_host_tsc(guest_tsc)| <= it
  // (INT64_MAX before ready()).
  uint64_t bound_ticks(uint64_t guest_tsc) const;
  // The bound at the newest anchor: what readings taken now are good to.
  uint64_t bound_ticks() const;
  // Whether the sample's guest reading translates into [host_before - bound, host_after + bound];
  // false before ready() and for an inverted bracket.
  bool consistent(const HandshakeSample& s) const;

  double scale() const;  // guest ticks per host tick
  std::string source() const { return exact_ ? "kvm" : "measured"; }
  // e.g. "measured, +-3.2 us" or "kvm, exact"; `extra_ns` widens the bound (a pause's jump,
  // measured less exactly than the model).
  std::string describe(double ns_per_tick, double extra_ns = 0) const;

  // A step of the guest's clock the model followed (kConfirmSteps bursts in a row that the
  // translation did not bracket): at host tick `at`, readings translated with the translation
  // before were off by `ticks` (host ticks, signed: + when they came out late).
  struct Step {
    uint64_t at = 0;
    int64_t ticks = 0;
  };
  const std::vector<Step>& steps() const { return steps_; }
  // Bursts that did not fit are waiting for confirmation of a step.
  bool step_pending() const { return !pending_.empty(); }

  size_t bursts() const { return bursts_; }
  size_t rejected_bursts() const { return rejected_; }  // bursts the translation did not bracket
  size_t ignored_samples() const { return ignored_; }   // inverted brackets, outliers

  static constexpr size_t kMaxAnchors = 32;
  static constexpr size_t kConfirmSteps = 3;

 private:
  // A tightest sample: bracket [before, before + width] around guest reading `guest`.
  struct Anchor {
    uint64_t before, width, guest;
  };
  static bool pick(const std::vector<HandshakeSample>& burst, Anchor& out, size_t& ignored);
  bool anchor_consistent(const Anchor& a) const;
  void choose_pair();
  // Position of a guest reading on the anchor baseline (0 at anchor a, 1 at anchor b).
  double position(uint64_t guest_tsc) const;

  bool exact_ = false;
  int64_t offset_ = 0;
  uint64_t ratio_ = 1;
  uint32_t frac_bits_ = 0;

  std::vector<Anchor> anchors_, pending_;
  bool pair_ok_ = false;
  Anchor a_{}, b_{};  // the pair the translation rests on, a before b
  size_t bursts_ = 0, rejected_ = 0, ignored_ = 0;
  std::vector<Step> steps_;
};

}  // namespace vtrace::clock
