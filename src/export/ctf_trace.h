// -x oformat=ctf: a CTF 1.8 trace directory (-o DIR, created new), written by babeltrace's CTF
// writer (Debian's libbabeltrace-dev), which babeltrace2 and Trace Compass read.
//   - one event class per trace()/printf() action, named after where it is in the script
//     ("printf@12:3"), with fields arg0..argN in their D types (a stack: its frames, innermost
//     first, one per line) and, for printf, "text" (what dtrace(1) prints);
//   - one event class per aggregation ("aggregation@name"): one event per row (per bucket for a
//     distribution: "bucket", its "count", "bucket_min") when printa() or the end of the run
//     prints it, with key0..keyN;
//   - on every event: vmname, target, probe, cpu, pid, tid, execname, timestamp_ns and
//     clock_bound_ns (18446744073709551615: the guest's clock was not measured yet).
// The events' CTF time is the host's CLOCK_MONOTONIC; a record the merge released late (it is
// older than one already written) keeps its exact time in timestamp_ns and is written at the
// stream's current time, as CTF streams must not go back in time.
#pragma once
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "engine/consumer.h"

struct bt_ctf_writer;
struct bt_ctf_clock;
struct bt_ctf_stream_class;
struct bt_ctf_stream;
struct bt_ctf_event_class;
struct bt_ctf_event;

namespace vtrace::engine {
class Engine;
}

namespace vtrace::exporters {

class CtfTrace : public engine::Consumer {
 public:
  // Creates directory `dir` (it must not exist) and the trace's classes. nullptr with `error`.
  static std::unique_ptr<CtfTrace> create(const engine::Engine& engine, const std::string& dir,
                                          std::string& error);
  ~CtfTrace() override;

  void firing(const engine::Firing& f) override;
  void end(const std::vector<std::shared_ptr<const engine::AggSnapshot>>& aggs) override;
  bool flush() override;
  int error() const override { return errno_; }

 private:
  explicit CtfTrace(const engine::Engine& engine) : engine_(engine) {}
  bool build_classes(std::string& error);
  // A new event of class `cls` with the common fields of `f` set, its clock at f's time; nullptr
  // after an error.
  bt_ctf_event* start(bt_ctf_event_class* cls, const engine::Firing& f);
  void append(bt_ctf_event* ev);
  void aggregation(const engine::AggSnapshot& a, const engine::Firing& at);
  void fail() { errno_ = EIO; }

  const engine::Engine& engine_;
  bt_ctf_writer* writer_ = nullptr;
  bt_ctf_clock* clock_ = nullptr;
  bt_ctf_stream_class* stream_class_ = nullptr;
  bt_ctf_stream* stream_ = nullptr;
  std::vector<bt_ctf_event_class*> action_classes_;  // by action index (nullptr: not printed)
  std::vector<bt_ctf_event_class*> agg_classes_;     // by aggregation index
  uint64_t last_ns_ = 0;                             // the stream's time
  uint64_t unflushed_ = 0;                           // events since the last packet
  int errno_ = 0;
};

}  // namespace vtrace::exporters
