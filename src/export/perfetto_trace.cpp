#include "export/perfetto_trace.h"

#include "engine/engine.h"
#include "export/json_values.h"

namespace vtrace::exporters {

using nlohmann::json;

PerfettoTrace::PerfettoTrace(const engine::Engine& engine, std::FILE* out)
    : engine_(engine), out_(out) {
  out_.write("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
}

void PerfettoTrace::event(const std::string& text) {
  if (!first_) out_.write(",\n");
  first_ = false;
  out_.write(text);
}

void PerfettoTrace::name_tracks(const engine::Firing& f, int64_t pid, bool guest,
                                const std::string& vm) {
  if (named_pids_.insert(pid).second) {
    const std::string name =
        guest ? "vm " + vm : std::string(f.execname) + " " + std::to_string(f.pid);
    event(dump_json({{"ph", "M"},
                     {"name", "process_name"},
                     {"pid", pid},
                     {"tid", 0},
                     {"args", {{"name", name}}}}));
  }
  if (named_tids_.insert({pid, f.tid}).second) {
    std::string name = std::string(f.execname) + " " + std::to_string(f.tid);
    if (guest) name += " (pid " + std::to_string(f.pid) + ")";
    event(dump_json({{"ph", "M"},
                     {"name", "thread_name"},
                     {"pid", pid},
                     {"tid", f.tid},
                     {"args", {{"name", name}}}}));
  }
}

void PerfettoTrace::firing(const engine::Firing& f) {
  if (ended_) return;
  const engine::ProbeInfo& p = engine_.catalog().probe(f.probe);
  const bool guest = p.vmname != "host";
  const int64_t pid = guest ? vm_track(f.target) : f.pid;
  name_tracks(f, pid, guest, p.vmname);
  json args;
  add_probe_fields(args, engine_, f);
  args["items"] = items_json(engine_, f);
  // Microseconds, as the format has them; the exact ns are in the arguments.
  event(dump_json({{"name", p.function + ":" + p.name},
                   {"cat", p.provider},
                   {"ph", "i"},
                   {"s", "t"},
                   {"ts", static_cast<double>(f.timestamp) / 1000.0},
                   {"pid", pid},
                   {"tid", f.tid},
                   {"args", std::move(args)}}));
}

void PerfettoTrace::end(const std::vector<std::shared_ptr<const engine::AggSnapshot>>& aggs) {
  if (ended_) return;
  ended_ = true;
  json all = json::array();
  for (const auto& a : aggs) all.push_back(aggregation_json(*a));
  out_.write("\n],\"vtraceAggregations\":" + dump_json(all) + "}\n");
}

}  // namespace vtrace::exporters
