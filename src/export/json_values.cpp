#include "export/json_values.h"
#include "export/hex_bytes.h"

#include <cstring>
#include <span>

#include "engine/engine.h"

namespace vtrace::exporters {

using nlohmann::json;

std::string type_name(const lang::Type& t) {
  if (t.is_string()) return "string";
  if (t.tag == lang::Tag::Stack) return "stack";
  if (t.tag == lang::Tag::Ustack) return "ustack";
  return (t.is_signed ? "int" : "uint") + std::to_string(t.size * 8);
}

namespace {

json int_json(const lang::Type& t, int64_t i) {
  if (!t.is_signed) return static_cast<uint64_t>(i);
  return i;
}

json stack_json(const engine::StackTable* stacks, int64_t id) {
  json frames = json::array();
  std::string note;
  if (stacks != nullptr)
    for (std::string& f : stacks->frames(id, note)) frames.push_back(std::move(f));
  json j = {{"frames", std::move(frames)}};
  if (stacks == nullptr) note = "not symbolized";
  if (!note.empty()) j["note"] = note;
  return j;
}

json elem_json(const lang::Type& t, int64_t i, std::string_view s,
               const engine::StackTable* stacks) {
  if (t.is_string()) return std::string(s);
  if (t.is_stack()) return stack_json(stacks, i);
  return int_json(t, i);
}

}  // namespace

json value_json(const engine::FormatArg& v) {
  return {{"type", type_name(v.type)}, {"value", elem_json(v.type, v.i, v.s, v.stacks)}};
}

json aggregation_json(const engine::AggSnapshot& a) {
  const engine::AggDef& def = a.def();
  json keys = json::array();
  for (const lang::Type& t : def.key_types) keys.push_back(type_name(t));
  json rows = json::array();
  std::vector<bytecode::TupleElem> elems;
  for (size_t r = 0; r < a.rows(); ++r) {
    a.keys(r, elems);
    json k = json::array();
    for (const auto& e : elems) k.push_back(elem_json(e.type, e.i, e.s, a.stacks()));
    json row = {{"keys", std::move(k)}};
    if (a.is_distribution()) {
      json buckets = json::array();
      for (const auto& b : a.buckets(r)) {
        json bj = {{"value", b.bound}, {"count", b.count}};
        if (b.below) bj["below"] = true;
        if (b.above) bj["above"] = true;
        if (b.at_most) bj["at_most"] = true;
        if (b.magnitude) bj["magnitude"] = true;
        buckets.push_back(std::move(bj));
      }
      row["buckets"] = std::move(buckets);
    } else if (def.func == engine::AggFunc::Stddev) {
      row["value"] = static_cast<uint64_t>(a.value(r));
    } else {
      row["value"] = a.value(r);
    }
    rows.push_back(std::move(row));
  }
  return {{"name", "@" + def.name},
          {"function", engine::agg_func_name(def.func)},
          {"keys", std::move(keys)},
          {"rows", std::move(rows)}};
}

json items_json(const engine::Engine& eng, const engine::Firing& f) {
  json items = json::array();
  for (const engine::FiringItem& it : f.items) {
    const std::span<const engine::FormatArg> vals(f.values.data() + it.first, it.count);
    const bytecode::Action& action = eng.module().actions[it.action];
    switch (it.kind) {
      case engine::FiringItem::Kind::Trace:
        items.push_back({{"action", "trace"}, {"value", value_json(vals[0])}});
        break;
      case engine::FiringItem::Kind::Printf: {
        json values = json::array();
        for (const auto& v : vals) values.push_back(value_json(v));
        std::string text;
        eng.format(it.action).format(text, vals);
        items.push_back({{"action", "printf"},
                         {"format", action.format},
                         {"values", std::move(values)},
                         {"text", std::move(text)}});
        break;
      }
      case engine::FiringItem::Kind::Tracemem:
        items.push_back({{"action", "tracemem"}, {"bytes", hex_bytes(vals[0].s)}});
        break;
      case engine::FiringItem::Kind::Printa: {
        json aggs = json::array();
        for (const auto& a : f.printed(it)) aggs.push_back(aggregation_json(*a));
        json p = {{"action", "printa"}, {"aggregations", std::move(aggs)}};
        if (action.has_format) p["format"] = action.format;
        items.push_back(std::move(p));
        break;
      }
    }
  }
  return items;
}

void add_probe_fields(json& j, const engine::Engine& eng, const engine::Firing& f) {
  const engine::ProbeInfo& p = eng.catalog().probe(f.probe);
  j["timestamp_ns"] = f.timestamp;
  if (f.clock_bound_ns == UINT64_MAX)
    j["clock_bound_ns"] = nullptr;
  else
    j["clock_bound_ns"] = f.clock_bound_ns;
  j["target"] = p.target;
  j["vmname"] = p.vmname;
  j["probe"] = p.full_name();
  j["probe_id"] = p.id;
  j["epid"] = f.epid;
  j["cpu"] = f.cpu;
  j["pid"] = f.pid;
  j["tid"] = f.tid;
  j["execname"] = std::string(f.execname, strnlen(f.execname, sizeof f.execname));
}

std::string dump_json(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace vtrace::exporters
