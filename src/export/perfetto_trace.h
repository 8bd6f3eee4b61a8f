// -x oformat=perfetto: the Chrome trace-event JSON format, which Perfetto UI (ui.perfetto.dev)
// and chrome://tracing open. One instant event per clause firing that printed something, on the
// track of its thread; threads are grouped under their process on the host and under their VM
// for a guest ("vm web1"), so a VM's threads sit together. Event arguments carry the firing's
// items (json_values.h), its host timestamp in ns and its clock bound. The aggregations printed
// at the end of the run go under "vtraceAggregations" beside "traceEvents".
// The file is streamed: cut short (the tracer killed), it is still an unterminated trace-event
// array, which both viewers accept.
#pragma once
#include <cstdio>
#include <set>
#include <string>
#include <utility>

#include "engine/consumer.h"
#include "engine/output_stream.h"

namespace vtrace::engine {
class Engine;
}

namespace vtrace::exporters {

class PerfettoTrace : public engine::Consumer {
 public:
  PerfettoTrace(const engine::Engine& engine, std::FILE* out);

  void firing(const engine::Firing& f) override;
  void end(const std::vector<std::shared_ptr<const engine::AggSnapshot>>& aggs) override;
  bool flush() override { return out_.flush(); }
  int error() const override { return out_.error(); }

  // The process id a guest's threads are grouped under: one per VM, above any Linux pid
  // (pid_max is at most 2^22).
  static int64_t vm_track(uint32_t target) { return (int64_t{1} << 30) + target; }

 private:
  void event(const std::string& json);
  // Names a process or thread track the first time it is used (metadata events).
  void name_tracks(const engine::Firing& f, int64_t pid, bool guest, const std::string& vm);

  const engine::Engine& engine_;
  engine::OutputStream out_;
  bool first_ = true;
  bool ended_ = false;
  std::set<int64_t> named_pids_;
  std::set<std::pair<int64_t, int64_t>> named_tids_;
};

}  // namespace vtrace::exporters
