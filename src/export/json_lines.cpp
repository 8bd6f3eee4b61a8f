#include "export/json_lines.h"

#include "engine/engine.h"
#include "export/json_values.h"

namespace vtrace::exporters {

void JsonLines::firing(const engine::Firing& f) {
  nlohmann::json j = {{"type", "firing"}};
  add_probe_fields(j, engine_, f);
  j["items"] = items_json(engine_, f);
  write_line(dump_json(j));
}

void JsonLines::end(const std::vector<std::shared_ptr<const engine::AggSnapshot>>& aggs) {
  for (const auto& a : aggs) {
    nlohmann::json j = {{"type", "aggregation"}};
    j.update(aggregation_json(*a));
    write_line(dump_json(j));
  }
}

}  // namespace vtrace::exporters
