// D values as JSON, for the exporters that write JSON (JSON lines, the Perfetto trace): a value
// with its D type, a firing's items, an aggregation snapshot with its rows. Strings from a
// target are not trusted to be UTF-8: dump() with dump_json() replaces what is not.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "engine/consumer.h"

namespace vtrace::engine {
class Engine;
}

namespace vtrace::exporters {

// "int32", "uint8", "string", "stack", "ustack".
std::string type_name(const lang::Type& t);
// {"type": "int64", "value": -3}; a string's value is a JSON string; a stack's is its frames
// (innermost first) and, when it stops early, a "note".
nlohmann::json value_json(const engine::FormatArg& v);
// {"name": "@c", "function": "count", "keys": [types], "rows": [{"keys": [...], "value": n}]};
// a distribution's rows have "buckets": [{"value": lower bound, "count": n}] ("below"/"above"
// mark the open-ended buckets).
nlohmann::json aggregation_json(const engine::AggSnapshot& a);
// The items of a firing: {"action": "printf", "format": ..., "values": [...], "text": ...},
// {"action": "trace", "value": ...}, {"action": "printa", "aggregations": [...]} (several:
// printa("%@d %@d", @a, @b)).
nlohmann::json items_json(const engine::Engine& eng, const engine::Firing& f);
// Adds where and when `f` fired: "timestamp_ns", "clock_bound_ns" (null when the guest's clock
// was not measured yet), "target", "vmname", "probe", "probe_id", "epid", "cpu", "pid", "tid",
// "execname".
void add_probe_fields(nlohmann::json& j, const engine::Engine& eng, const engine::Firing& f);
// One line of JSON (no newline); invalid UTF-8 in strings is replaced, never an exception.
std::string dump_json(const nlohmann::json& j);

}  // namespace vtrace::exporters
