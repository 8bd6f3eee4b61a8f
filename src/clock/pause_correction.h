// A guest whose VM was paused (QMP stop/cont, a debugger, a snapshot) comes back with its clock
// behind the host's: under TCG the guest TSC stands still while the VM is stopped, so the
// translation measured before the pause places every later reading too early by the pause's
// length. The guest clock model (GuestClock) is kept on a "virtual" host timeline that never saw
// the pauses; this maps its results to real host time: a reading translated past a pause's stop
// really happened that pause's jump later. The jump is measured (a ping after the resume), not
// taken from the pause's length: under KVM the guest TSC may run on through a pause.
//
// Where the guest clock froze is known to within a window: after the last reading vtrace had
// seen before the STOP event, and before the event (QEMU freezes the clock, stops the vCPUs,
// then sends STOP). A reading the model places inside that window may have been taken just
// before the freeze or just after the resume: it is translated as before the pause and counted
// as ambiguous (ambiguous()), so the run says how many records are placed less exactly.
//
// A step no QEMU event announced (the event socket was not ours, a guest that wrote its TSC)
// is found by its reader when the guest's watermark no longer fits the translation, and enters
// as a pause already resumed (step()): its boundary is the latest reading seen before, and
// readings up to the first one seen after it may come from either side. They are placed after
// the step, and counted as ambiguous too.
//
// A clock that went back past readings already seen (a TSC the guest wrote lower; a restored
// snapshot, if a VM with vtrace's channel could be saved) cannot be told apart by its readings'
// values: from the measurement on, every reading is taken as after it (went_back), the order in
// which they are read deciding, not their values.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

namespace vtrace::clock {

class PauseCorrection {
 public:
  struct Pause {
    uint64_t stop_real_ns = 0;     // when the VM stopped (host time)
    uint64_t stop_virtual_ns = 0;  // the same moment on the virtual timeline
    uint64_t seen_virtual_ns = 0;  // the latest reading seen before it (virtual timeline)
    // Readings in (ambiguous_from, ambiguous_to] may come from either side of it.
    uint64_t ambiguous_from = 0, ambiguous_to = 0;
    bool announced = true;        // a QEMU STOP event; false: a step found by its readings
    bool went_back = false;       // measured before the latest reading seen: see above
    uint64_t resume_real_ns = 0;  // when it went on (0 until known)
    int64_t jump_ns = 0;          // how far its clock fell behind the host's
    uint64_t jump_error_ns = 0;   // the measurement's uncertainty
    bool measured = false;
  };

  // The VM stopped at host time `stop_real_ns`; the latest reading seen before was translated
  // to `seen_virtual_ns` by the model.
  void stop(uint64_t stop_real_ns, uint64_t seen_virtual_ns) {
    Pause p;
    p.stop_real_ns = stop_real_ns;
    const int64_t v = static_cast<int64_t>(stop_real_ns) - total_jump_ns();
    p.stop_virtual_ns = v > 0 ? static_cast<uint64_t>(v) : 0;
    p.seen_virtual_ns = std::min(seen_virtual_ns, p.stop_virtual_ns);
    p.ambiguous_from = p.seen_virtual_ns;
    p.ambiguous_to = p.stop_virtual_ns;
    pauses_.push_back(p);
  }
  // A step found at host time `found_real_ns`: the latest reading seen before it was
  // `seen_virtual_ns`, the first one after it `after_virtual_ns` (virtual timeline, as the
  // model translated them). Its jump is measured next (measured()).
  void step(uint64_t found_real_ns, uint64_t seen_virtual_ns, uint64_t after_virtual_ns) {
    Pause p;
    p.announced = false;
    p.stop_real_ns = p.resume_real_ns = found_real_ns;
    p.stop_virtual_ns = p.seen_virtual_ns = p.ambiguous_from = seen_virtual_ns;
    p.ambiguous_to = std::max(seen_virtual_ns, after_virtual_ns);
    pauses_.push_back(p);
  }
  void resume(uint64_t resume_real_ns) {
    if (!pauses_.empty() && pauses_.back().resume_real_ns == 0)
      pauses_.back().resume_real_ns = resume_real_ns;
  }
  // A stop whose jump is not measured yet: readings past it cannot be translated.
  bool awaiting() const { return !pauses_.empty() && !pauses_.back().measured; }
  bool resumed() const { return !pauses_.empty() && pauses_.back().resume_real_ns != 0; }

  // After the resume: a guest reading the model translates to `virtual_ns` was taken at real
  // host time `real_ns` (+- error_ns). Sets the last pause's jump.
  void measured(uint64_t virtual_ns, uint64_t real_ns, uint64_t error_ns) {
    if (!awaiting()) return;
    const int64_t before = total_jump_ns();  // the pauses before this one
    Pause& p = pauses_.back();
    p.jump_ns = static_cast<int64_t>(real_ns) - before - static_cast<int64_t>(virtual_ns);
    p.jump_error_ns = error_ns;
    p.measured = true;
    p.went_back = virtual_ns + kWentBackMarginNs < p.seen_virtual_ns;
  }
  // Readings the model places this much before the latest one seen mean the clock went back
  // (more than the model's error could).
  static constexpr uint64_t kWentBackMarginNs = 1'000'000;

  // Real host time of a reading the model translates to `virtual_ns`.
  uint64_t to_real(uint64_t virtual_ns) const {
    int64_t t = static_cast<int64_t>(virtual_ns);
    size_t first = 0;  // pauses before it: every reading translated now is after them
    for (size_t i = pauses_.size(); i-- > 0;)
      if (pauses_[i].measured && pauses_[i].went_back) {
        first = i + 1;
        break;
      }
    for (size_t i = 0; i < pauses_.size(); ++i) {
      const Pause& p = pauses_[i];
      if (p.measured && (i < first || virtual_ns > p.stop_virtual_ns)) t += p.jump_ns;
    }
    return t > 0 ? static_cast<uint64_t>(t) : 0;
  }
  // The pause whose freeze (or step) a reading the model translates to `virtual_ns` may be on
  // either side of (see above), or null: placed before an announced pause, after a step, and
  // possibly off by its jump.
  const Pause* ambiguous(uint64_t virtual_ns) const {
    for (const Pause& p : pauses_)
      if (virtual_ns > p.ambiguous_from && virtual_ns <= p.ambiguous_to) return &p;
    return nullptr;
  }
  // Every measured jump: what to take off real host readings before they reach the model.
  int64_t total_jump_ns() const {
    int64_t j = 0;
    for (const Pause& p : pauses_)
      if (p.measured) j += p.jump_ns;
    return j;
  }
  const std::vector<Pause>& pauses() const { return pauses_; }
  // The largest uncertainty a measured jump adds to a translation.
  uint64_t max_jump_error_ns() const {
    uint64_t e = 0;
    for (const Pause& p : pauses_)
      if (p.measured && p.jump_error_ns > e) e = p.jump_error_ns;
    return e;
  }

 private:
  std::vector<Pause> pauses_;
};

}  // namespace vtrace::clock
