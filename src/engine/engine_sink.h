// The engine as the consumer of records: what the timeline (targets/timeline.h) delivers into.
#pragma once
#include "engine/engine.h"
#include "transport/record_sink.h"

namespace vtrace::engine {

class EngineSink : public RecordSink {
 public:
  explicit EngineSink(Engine& eng) : eng_(eng) {}
  void deliver(const Record& rec) override { eng_.process(rec); }
  // After exit() nothing more runs.
  bool closed() const override { return eng_.exited(); }

 private:
  Engine& eng_;
};

}  // namespace vtrace::engine
