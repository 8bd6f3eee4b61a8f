// The profile provider's tick-N probes (timers in vtrace, DTrace's tick semantics: one CPU,
// the tracer's context) as a target of the timeline: each poll fires the ticks that are due.
// profile-N samples of what each CPU runs come from the host kernel target instead.
#pragma once
#include <algorithm>
#include <vector>

#include "engine/engine.h"
#include "engine/profile_provider.h"
#include "targets/target.h"

namespace vtrace::targets::host {

class ProfileTicks : public Target {
 public:
  explicit ProfileTicks(engine::ProfileProvider& provider) : provider_(provider) {}

  const char* name() const override { return "profile"; }
  // Arms the tick-N timers among the enabled probes (the first fires N after now).
  bool enable(const EnableRequest& req, std::string&) override {
    provider_.arm(req.enabled, req.now_ns);
    return true;
  }
  bool active() const override { return provider_.armed(); }
  size_t poll(RecordSink& sink, uint64_t now_ns) override {
    due_.clear();
    provider_.collect_due(now_ns, due_);
    for (uint32_t id : due_) {
      if (sink.closed()) break;
      sink.deliver(engine::Engine::host_record(id));
    }
    // Nothing comes before the next tick's deadline (it is stamped when it fires, after it).
    watermark_ = std::max(now_ns, provider_.next_deadline());
    return due_.size();
  }
  uint64_t watermark() const override { return watermark_; }
  uint64_t next_deadline() const override { return provider_.next_deadline(); }
  void drain(RecordSink&) override {}  // a tick not due yet never fires
  void report(std::FILE*) const override {}

 private:
  engine::ProfileProvider& provider_;
  std::vector<uint32_t> due_;
  uint64_t watermark_ = 0;
};

}  // namespace vtrace::targets::host
