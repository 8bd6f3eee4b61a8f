// The consumer seam: what an exporter receives from the engine is typed (values with their D
// types, aggregation snapshots), carries the record's target, time and clock bound, and a
// speculation delivers its firings only when committed.
#include "engine/consumer.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/engine.h"
#include "lang/compiler.h"
#include "lang/parser.h"
#include "mem_file.h"

namespace vtrace::engine {
namespace {

// Keeps a copy of what it is given.
struct Recorder : Consumer {
  struct Kept {
    uint32_t probe;
    uint64_t timestamp, bound;
    std::vector<FiringItem::Kind> kinds;
    std::vector<std::string> values;  // "i:<n>" / "u:<n>" / "s:<text>"
    std::vector<int64_t> agg_values;  // printa: the first row's value
  };
  std::vector<Kept> firings;
  std::vector<std::vector<std::pair<std::string, int64_t>>> end_aggs;  // name, value per row

  void firing(const Firing& f) override {
    Kept k{f.probe, f.timestamp, f.clock_bound_ns, {}, {}, {}};
    for (const FiringItem& it : f.items) {
      k.kinds.push_back(it.kind);
      if (it.kind == FiringItem::Kind::Printa) k.agg_values.push_back(f.snapshot(it).value(0));
    }
    for (const FormatArg& v : f.values)
      k.values.push_back(v.type.is_string() ? "s:" + std::string(v.s)
                         : v.type.is_signed ? "i:" + std::to_string(v.i)
                                            : "u:" + std::to_string(v.i));
    firings.push_back(std::move(k));
  }
  void end(const std::vector<std::shared_ptr<const AggSnapshot>>& aggs) override {
    std::vector<bytecode::TupleElem> keys;
    for (const auto& a : aggs) {
      auto& rows = end_aggs.emplace_back();
      for (size_t r = 0; r < a->rows(); ++r) {
        a->keys(r, keys);
        rows.emplace_back(a->def().name + "[" + std::string(keys.at(0).s) + "]", a->value(r));
      }
    }
  }
  bool flush() override { return true; }
  int error() const override { return 0; }
};

struct Rig {
  explicit Rig(const std::string& text) {
    tick = catalog.add("host", "test", "mod", "func", "tick");
    src.name = "t.d";
    src.text = text;
    Options o;
    o.quiet = true;
    eng = std::make_unique<Engine>(lang::compile_source(src, {}), src, o, catalog);
    eng->set_error_output(err.file());
    eng->set_consumer(&rec);
    eng->enable();
  }
  void fire(int64_t arg0, uint64_t ts, uint64_t bound = 0) {
    Record r;
    r.probe = tick;
    r.timestamp = ts;
    r.clock_bound_ns = bound;
    r.args[0] = arg0;
    std::snprintf(r.execname, sizeof r.execname, "%s", "app");
    eng->process(r);
  }
  Catalog catalog;
  uint32_t tick = 0;
  lang::Source src;
  std::unique_ptr<Engine> eng;
  Recorder rec;
  test::MemFile err;
};

TEST(ConsumerSeam, ValuesArriveTypedWithTheRecordsTimeAndBound) {
  Rig r(R"D(test:::tick { printf("%d %s", (int)arg0, execname); trace((uint8_t)arg0); })D");
  r.fire(-7, 5000, 120);
  ASSERT_EQ(r.rec.firings.size(), 1u);
  const auto& f = r.rec.firings[0];
  EXPECT_EQ(f.probe, r.tick);
  EXPECT_EQ(f.timestamp, 5000u);
  EXPECT_EQ(f.bound, 120u);
  EXPECT_EQ(f.kinds,
            (std::vector<FiringItem::Kind>{FiringItem::Kind::Printf, FiringItem::Kind::Trace}));
  EXPECT_EQ(f.values, (std::vector<std::string>{"i:-7", "s:app", "u:249"}));
}

TEST(ConsumerSeam, PrintaHandsOverTheAggregationAsItWasThen) {
  Rig r(R"D(test:::tick { @c[execname] = count(); printa(@c); })D");
  r.fire(0, 1);
  r.fire(0, 2);
  ASSERT_EQ(r.rec.firings.size(), 2u);
  EXPECT_EQ(r.rec.firings[0].agg_values, std::vector<int64_t>{1});
  EXPECT_EQ(r.rec.firings[1].agg_values, std::vector<int64_t>{2});
  r.eng->finish();
  // printa printed it: the end of the run has nothing left to print.
  EXPECT_TRUE(r.rec.end_aggs.empty());
}

TEST(ConsumerSeam, TheEndOfTheRunHandsOverTheAggregationsNotPrinted) {
  Rig r(R"D(test:::tick { @n[execname] = sum(arg0); })D");
  r.fire(3, 1);
  r.fire(4, 2);
  r.eng->finish();
  ASSERT_EQ(r.rec.end_aggs.size(), 1u);
  EXPECT_EQ(r.rec.end_aggs[0], (std::vector<std::pair<std::string, int64_t>>{{"n[app]", 7}}));
}

TEST(ConsumerSeam, ASpeculationDeliversItsFiringsAtCommitWithTheirOwnTimes) {
  Rig r(R"D(
    test:::tick /arg0 == 1/ { s = speculation(); }
    test:::tick /arg0 == 1/ { speculate(s); printf("%s", execname); }
    test:::tick /arg0 == 2/ { commit(s); }
  )D");
  r.fire(1, 100);
  EXPECT_TRUE(r.rec.firings.empty());
  r.fire(2, 200);
  ASSERT_EQ(r.rec.firings.size(), 1u);
  EXPECT_EQ(r.rec.firings[0].timestamp, 100u);
  // The string was copied when the clause ran (its scratch is long reused).
  EXPECT_EQ(r.rec.firings[0].values, std::vector<std::string>{"s:app"});
}

}  // namespace
}  // namespace vtrace::engine
