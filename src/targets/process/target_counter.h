// A count a traced process writes into shared memory (its drop counters). The process may write
// anything there, so each reading is checked against what it could have done since the previous
// one: a count never goes backwards, and grows at most by one per two nanoseconds per CPU (a
// dropped firing costs at least an atomic add, several nanoseconds). A count that fails once is
// bad from then on: reported as "bad counter", never printed as a number.
#pragma once
#include <cstdint>

namespace vtrace::targets {

class TargetCounter {
 public:
  // `start_ns`: host time (any monotonic ns clock) when the count was 0.
  explicit TargetCounter(uint64_t start_ns = 0) : last_ns_(start_ns) {}

  // Takes a reading `value` made at `now_ns`. False once the counter is bad.
  bool update(uint64_t value, uint64_t now_ns);
  // The last plausible reading (0 before any).
  uint64_t value() const { return value_; }
  bool bad() const { return bad_; }

  // The most a count can grow in `ns` nanoseconds on this machine.
  static uint64_t max_growth(uint64_t ns);

 private:
  uint64_t value_ = 0;
  uint64_t last_ns_;
  bool bad_ = false;
};

}  // namespace vtrace::targets
