// dtrace(1)'s text output as a consumer: the probe lines (with the "CPU ID FUNCTION:NAME" header
// before the first), trace() and printf() values in their formats, printa() and the
// aggregations printed at the end of the run in dtrace's layouts.
#pragma once
#include <cstdio>
#include <string>

#include "engine/consumer.h"
#include "engine/output_stream.h"

namespace vtrace::engine {

class Engine;

class TextConsumer : public Consumer {
 public:
  // `engine` (its catalog, formats and options) must outlive the consumer.
  TextConsumer(const Engine& engine, std::FILE* out) : engine_(engine), out_(out) {}
  void set_file(std::FILE* out) { out_.set_file(out); }

  void firing(const Firing& f) override;
  void end(const std::vector<std::shared_ptr<const AggSnapshot>>& aggs) override;
  bool flush() override { return out_.flush(); }
  int error() const override { return out_.error(); }

  // Appends the text of `f`'s items (no probe line): what exporters show as a firing's output.
  void format_items(std::string& out, const Firing& f) const;

 private:
  const Engine& engine_;
  OutputStream out_;
  std::string buf_;
  bool header_printed_ = false;
};

}  // namespace vtrace::engine
