// -x oformat=json: JSON lines, one object per clause firing that printed something and one per
// aggregation printed at the end of the run. Each firing carries its probe, the target and VM it
// came from, its host timestamp (ns, CLOCK_MONOTONIC; a guest's translated) and the +- bound of
// that translation, so a reader can tell ordering it can trust from ordering it cannot.
//   {"type":"firing","timestamp_ns":...,"clock_bound_ns":0,"target":"host","vmname":"host",
//    "probe":"syscall::read:entry","probe_id":..,"epid":..,"cpu":..,"pid":..,"tid":..,
//    "items":[...]}                                                   (json_values.h)
//   {"type":"aggregation","name":"@c","function":"count","keys":[...],"rows":[...]}
#pragma once
#include <cstdio>
#include <string>

#include "engine/consumer.h"
#include "engine/output_stream.h"

namespace vtrace::engine {
class Engine;
}

namespace vtrace::exporters {

class JsonLines : public engine::Consumer {
 public:
  // `engine` must outlive the consumer; `out` is written, not closed.
  JsonLines(const engine::Engine& engine, std::FILE* out) : engine_(engine), out_(out) {}

  void firing(const engine::Firing& f) override;
  void end(const std::vector<std::shared_ptr<const engine::AggSnapshot>>& aggs) override;
  bool flush() override { return out_.flush(); }
  int error() const override { return out_.error(); }

 private:
  void write_line(std::string line) {
    line += '\n';
    out_.write(line);
  }

  const engine::Engine& engine_;
  engine::OutputStream out_;
};

}  // namespace vtrace::exporters
