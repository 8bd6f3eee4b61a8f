// The exporters read back: JSON lines parsed line by line, the Perfetto trace parsed as one
// document and checked for its structure (tracks per process and per VM), folded stacks, all
// fed by the engine from synthetic host and guest records.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "../engine/mem_file.h"
#include "engine/engine.h"
#include "export/folded_stacks.h"
#include "export/json_lines.h"
#include "export/perfetto_trace.h"
#include "lang/compiler.h"
#include "lang/parser.h"

namespace vtrace::exporters {
namespace {

using nlohmann::json;

struct Rig {
  explicit Rig(const std::string& text) {
    host_tick = catalog.add("host", "test", "mod", "func", "tick");
    vm_tick = catalog.add("vm1", "test", "mod", "func", "tick");
    src.name = "t.d";
    src.text = text;
    engine::Options o;
    o.quiet = true;
    eng = std::make_unique<engine::Engine>(lang::compile_source(src, {}), src, o, catalog);
    eng->set_error_output(err.file());
    eng->enable();
  }
  Record rec(bool guest, int64_t arg0, uint64_t ts) {
    Record r;
    r.probe = guest ? vm_tick : host_tick;
    r.target = guest ? 1 : 0;
    r.guest = guest;
    r.pid = guest ? 300 : 42;
    r.tid = guest ? 301 : 43;
    r.cpu = guest ? 2 : 1;
    r.timestamp = ts;
    r.clock_bound_ns = guest ? 350 : 0;
    r.args[0] = arg0;
    std::snprintf(r.execname, sizeof r.execname, "%s", guest ? "gapp" : "app");
    return r;
  }
  void fire(bool guest, int64_t arg0, uint64_t ts) { eng->process(rec(guest, arg0, ts)); }

  engine::Catalog catalog;
  uint32_t host_tick = 0, vm_tick = 0;
  lang::Source src;
  std::unique_ptr<engine::Engine> eng;
  test::MemFile out, err;
};

std::vector<json> lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(json::parse(l));
  return out;
}

TEST(JsonLines, OneTypedObjectPerFiringAndPerAggregation) {
  Rig r(R"D(test:::tick { printf("%d %s\n", (int)arg0, execname); @n[vmname] = sum(arg0); })D");
  JsonLines j(*r.eng, r.out.file());
  r.eng->set_consumer(&j);
  r.fire(false, 5, 1000);
  r.fire(true, -2, 2000);
  r.eng->finish();
  const std::vector<json> v = lines(r.out.text());
  ASSERT_EQ(v.size(), 3u) << r.out.text();
  EXPECT_EQ(v[0]["type"], "firing");
  EXPECT_EQ(v[0]["target"], "host");
  EXPECT_EQ(v[0]["timestamp_ns"], 1000);
  EXPECT_EQ(v[0]["clock_bound_ns"], 0);
  EXPECT_EQ(v[0]["probe"], "test:mod:func:tick");
  const json& item = v[0]["items"][0];
  EXPECT_EQ(item["action"], "printf");
  EXPECT_EQ(item["text"], "5 app\n");
  EXPECT_EQ(item["values"][0], (json{{"type", "int32"}, {"value", 5}}));
  EXPECT_EQ(item["values"][1], (json{{"type", "string"}, {"value", "app"}}));
  EXPECT_EQ(v[1]["vmname"], "vm1");
  EXPECT_EQ(v[1]["clock_bound_ns"], 350);
  EXPECT_EQ(v[1]["items"][0]["values"][0]["value"], -2);
  EXPECT_EQ(v[2]["type"], "aggregation");
  EXPECT_EQ(v[2]["name"], "@n");
  EXPECT_EQ(v[2]["function"], "sum");
  // Rows in dtrace's order (by value): vm1's -2 before the host's 5.
  EXPECT_EQ(v[2]["rows"], (json::parse(R"([{"keys":["vm1"],"value":-2},
                                           {"keys":["host"],"value":5}])")));
}

TEST(JsonLines, AGuestClockNotYetMeasuredHasNoBound) {
  Rig r(R"D(test:::tick { trace(arg0); })D");
  JsonLines j(*r.eng, r.out.file());
  r.eng->set_consumer(&j);
  Record rec = r.rec(true, 1, 10);
  rec.clock_bound_ns = UINT64_MAX;
  r.eng->process(rec);
  const std::vector<json> v = lines(r.out.text());
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(v[0]["clock_bound_ns"].is_null());
}

TEST(JsonLines, DistributionsHaveTheirBuckets) {
  Rig r(R"D(test:::tick { @q = quantize(arg0); })D");
  JsonLines j(*r.eng, r.out.file());
  r.eng->set_consumer(&j);
  for (int v : {1, 2, 3, 100}) r.fire(false, v, 1);
  r.eng->finish();
  const std::vector<json> v = lines(r.out.text());
  ASSERT_EQ(v.size(), 1u);
  int64_t total = 0;
  for (const json& b : v[0]["rows"][0]["buckets"]) total += b["count"].get<int64_t>();
  EXPECT_EQ(total, 4);
  EXPECT_EQ(v[0]["rows"][0]["buckets"][1], (json{{"value", 1}, {"count", 1}}));
}

TEST(JsonLines, StringsThatAreNotUtf8AreReplacedNotThrown) {
  Rig r(R"D(test:::tick { trace(execname); })D");
  JsonLines j(*r.eng, r.out.file());
  r.eng->set_consumer(&j);
  Record rec = r.rec(true, 0, 1);
  std::snprintf(rec.execname, sizeof rec.execname, "%s",
                "a\xff\xfe"
                "b");
  r.eng->process(rec);
  const std::vector<json> v = lines(r.out.text());
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["items"][0]["value"]["value"],
            "a\xEF\xBF\xBD\xEF\xBF\xBD"
            "b");
}

TEST(JsonLines, TracememIsItsBytesInHex) {
  Rig r(R"D(test:::tick { p = (char *)alloca(4); p[0] = 'A'; p[2] = 0xff; tracemem(p, 4, 3); })D");
  JsonLines j(*r.eng, r.out.file());
  r.eng->set_consumer(&j);
  r.fire(false, 0, 1);
  const std::vector<json> v = lines(r.out.text());
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["items"][0]["action"], "tracemem");
  EXPECT_EQ(v[0]["items"][0]["bytes"], "4100ff");
}

TEST(PerfettoTrace, ThreadsAreGroupedByProcessOnTheHostAndByVmInAGuest) {
  Rig r(R"D(test:::tick { printf("%d", (int)arg0); @c = count(); })D");
  PerfettoTrace p(*r.eng, r.out.file());
  r.eng->set_consumer(&p);
  r.fire(false, 1, 1500);
  r.fire(true, 2, 2500);
  r.fire(true, 3, 3500);
  r.eng->finish();
  const json doc = json::parse(r.out.text());
  const json& ev = doc["traceEvents"];
  std::map<std::pair<int64_t, int64_t>, std::string> threads;
  std::map<int64_t, std::string> processes;
  std::vector<json> instants;
  for (const json& e : ev) {
    if (e["ph"] == "M" && e["name"] == "process_name") processes[e["pid"]] = e["args"]["name"];
    if (e["ph"] == "M" && e["name"] == "thread_name")
      threads[{e["pid"], e["tid"]}] = e["args"]["name"];
    if (e["ph"] == "i") instants.push_back(e);
  }
  ASSERT_EQ(instants.size(), 3u);
  EXPECT_EQ(processes.at(42), "app 42");
  EXPECT_EQ(processes.at(PerfettoTrace::vm_track(1)), "vm vm1");
  EXPECT_EQ(threads.at({PerfettoTrace::vm_track(1), 301}), "gapp 301 (pid 300)");
  EXPECT_EQ(processes.size(), 2u);  // the guest's two firings share one track
  EXPECT_DOUBLE_EQ(instants[0]["ts"].get<double>(), 1.5);  // microseconds
  EXPECT_EQ(instants[1]["pid"], PerfettoTrace::vm_track(1));
  EXPECT_EQ(instants[1]["args"]["clock_bound_ns"], 350);
  EXPECT_EQ(instants[2]["args"]["items"][0]["text"], "3");
  EXPECT_EQ(doc["vtraceAggregations"][0]["rows"][0]["value"], 3);
}

TEST(FoldedStacks, StackKeysFoldRootFirstAndTheRestIsSaid) {
  Rig r(R"D(test:::tick { @s[execname, stack()] = count(); @n = count(); printf("x"); })D");
  FoldedStacks f(r.out.file(), r.err.file());
  r.eng->set_consumer(&f);
  const uint64_t frames[] = {0x1000, 0x2000, 0x3000};  // innermost first
  Record rec = r.rec(false, 0, 1);
  rec.kstack = {frames, 3};
  r.eng->process(rec);
  r.eng->process(rec);
  r.eng->finish();
  EXPECT_EQ(r.out.text(), "app;0x3000;0x2000;0x1000 2\n");
  EXPECT_NE(r.err.text().find("2 printf()/trace() outputs have no folded form"), std::string::npos)
      << r.err.text();
  EXPECT_NE(r.err.text().find("1 aggregation prints had no stack key"), std::string::npos)
      << r.err.text();
}

}  // namespace
}  // namespace vtrace::exporters
