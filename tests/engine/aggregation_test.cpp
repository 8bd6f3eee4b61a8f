// Aggregations: update semantics and the exact text dtrace(1) prints for them.
#include "engine/aggregation.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "bytecode/tuple.h"

namespace vtrace::engine {
namespace {

using lang::Type;

std::string sp(size_t n) {
  return std::string(n, ' ');
}
std::string at(size_t n) {
  return std::string(n, '@');
}

std::string skey(std::string_view s) {
  std::string k;
  bytecode::tuple_put_str(k, s);
  return k;
}
std::string ikey(int64_t v) {
  std::string k;
  bytecode::tuple_put_int(k, v);
  return k;
}

AggDef def_of(AggFunc f, std::vector<Type> keys) {
  AggDef d;
  d.name = "a";
  d.func = f;
  d.key_types = std::move(keys);
  return d;
}

std::string print(const Aggregation& a, AggSortOptions o = {}) {
  std::string out;
  a.print_default(out, o);
  return out;
}

std::string printa(const Aggregation& a, std::string_view f) {
  PrintfFormat p;
  std::string err;
  EXPECT_TRUE(p.parse(f, err)) << err;
  std::string out;
  a.printa(out, p);
  return out;
}

// One row of the default layout: a string key ("  %-50s") and a value (" %16lld").
std::string srow(std::string_view key, std::string_view val) {
  return "  " + std::string(key) + sp(50 - key.size()) + sp(17 - val.size()) + std::string(val) +
         "\n";
}

const std::string kHeader =
    "           value  ------------- Distribution ------------- count    \n";

// A distribution row with only positive counts: "%16s |" + bar + " %-9lld".
std::string qrow(std::string_view label, int ats, std::string_view count) {
  return sp(16 - label.size()) + std::string(label) + " |" + at(ats) + sp(40 - ats) + " " +
         std::string(count) + sp(9 - count.size()) + "\n";
}

// @[k] = count() with a=3, bb=1, c=3.
const AggDef kCountDef = def_of(AggFunc::Count, {Type::str()});
void fill_abc(Aggregation& a) {
  for (int i = 0; i < 3; i++) a.update(skey("a"), 0);
  a.update(skey("bb"), 0);
  for (int i = 0; i < 3; i++) a.update(skey("c"), 0);
}

TEST(Aggregation, Names) {
  EXPECT_STREQ(agg_func_name(AggFunc::Count), "count");
  EXPECT_STREQ(agg_func_name(AggFunc::Llquantize), "llquantize");
}

TEST(Aggregation, CountDefaultLayout) {
  Aggregation a(kCountDef);
  fill_abc(a);
  EXPECT_EQ(a.size(), 3u);
  // Blank line first; by value ascending, ties ("a" and "c") by key.
  EXPECT_EQ(print(a),
            "\n"
            "  bb                                                                1\n"
            "  a                                                                 3\n"
            "  c                                                                 3\n");
}

TEST(Aggregation, KeylessAggregations) {
  Aggregation c(def_of(AggFunc::Count, {}));
  for (int i = 0; i < 5; i++) c.update("", 0);
  EXPECT_EQ(print(c), "\n                5\n");
  Aggregation s(def_of(AggFunc::Sum, {}));
  s.update("", -12);
  EXPECT_EQ(print(s), "\n              -12\n");
  EXPECT_EQ(printa(c, "count=%@d\n"), "count=5\n");
}

TEST(Aggregation, EmptyPrintsNothing) {
  Aggregation a(def_of(AggFunc::Count, {Type::str()}));
  EXPECT_EQ(print(a), "");
  EXPECT_EQ(printa(a, "%s %@d\n"), "");
}

TEST(Aggregation, SumMinMaxAvg) {
  const int64_t vals[] = {5, 3, 9};
  Aggregation sum(def_of(AggFunc::Sum, {Type::str()}));
  Aggregation mn(def_of(AggFunc::Min, {Type::str()}));
  Aggregation mx(def_of(AggFunc::Max, {Type::str()}));
  Aggregation avg(def_of(AggFunc::Avg, {Type::str()}));
  for (int64_t v : vals) {
    for (Aggregation* a : {&sum, &mn, &mx, &avg}) a->update(skey("x"), v);
  }
  for (Aggregation* a : {&sum, &mn, &mx, &avg}) a->update(skey("neg"), -7);
  EXPECT_EQ(print(sum), "\n" + srow("neg", "-7") + srow("x", "17"));
  EXPECT_EQ(print(mn), "\n" + srow("neg", "-7") + srow("x", "3"));
  EXPECT_EQ(print(mx), "\n" + srow("neg", "-7") + srow("x", "9"));
  EXPECT_EQ(print(avg), "\n" + srow("neg", "-7") + srow("x", "5"));  // 17 / 3, truncated
}

TEST(Aggregation, AvgTruncatesTowardZero) {
  Aggregation avg(def_of(AggFunc::Avg, {}));
  avg.update("", 1);
  avg.update("", 2);
  avg.update("", 4);
  EXPECT_EQ(print(avg), "\n                2\n");
  Aggregation neg(def_of(AggFunc::Avg, {}));
  neg.update("", -1);
  neg.update("", -2);
  EXPECT_EQ(print(neg), "\n               -1\n");
}

TEST(Aggregation, Stddev) {
  Aggregation a(def_of(AggFunc::Stddev, {Type::str()}));
  for (int64_t v : {1, 2, 3, 4}) a.update(skey("a"), v);  // sqrt(30/4 - (10/4)^2) in integers
  for (int64_t v : {10, 20, 30}) a.update(skey("b"), v);  // sqrt(1400/3 - 20^2) = sqrt(66)
  a.update(skey("c"), 5);
  EXPECT_EQ(print(a), "\n" + srow("c", "0") + srow("a", "1") + srow("b", "8"));
  Aggregation n(def_of(AggFunc::Stddev, {}));
  for (int64_t v : {-10, 10}) n.update("", v);
  EXPECT_EQ(print(n), "\n               10\n");
  EXPECT_EQ(printa(n, "%@d\n"), "10\n");
}

TEST(Aggregation, IntegerKeysByWidth) {
  Aggregation a(def_of(AggFunc::Count, {Type::i64()}));
  a.update(ikey(5), 0);
  a.update(ikey(5), 0);
  a.update(ikey(123456), 0);
  EXPECT_EQ(print(a), "\n" + sp(11) + "123456" + sp(16) + "1\n" + sp(16) + "5" + sp(16) + "2\n");
  Aggregation b(def_of(AggFunc::Count, {Type::i32()}));
  b.update(ikey(-5), 0);
  EXPECT_EQ(print(b), "\n       -5                1\n");  // " %8d"
  Aggregation c(def_of(AggFunc::Count, {Type::int_of(2, true)}));
  c.update(ikey(-1), 0);
  EXPECT_EQ(print(c), "\n 65535                1\n");  // " %5d" of the 2-byte record
  Aggregation d(def_of(AggFunc::Count, {Type::int_of(1, false)}));
  d.update(ikey(7), 0);
  EXPECT_EQ(print(d), "\n   7                1\n");  // " %3d"
}

TEST(Aggregation, MultipleKeys) {
  Aggregation a(def_of(AggFunc::Count, {Type::str(), Type::i64()}));
  auto key = [](std::string_view s, int64_t i) {
    std::string k;
    bytecode::tuple_put_str(k, s);
    bytecode::tuple_put_int(k, i);
    return k;
  };
  a.update(key("x", 2), 0);
  a.update(key("x", 1), 0);
  a.update(key("a", 5), 0);
  a.update(key("a", 5), 0);
  const std::string x = "  x" + sp(49);
  EXPECT_EQ(print(a), "\n" + x + sp(16) + "1" + sp(16) + "1\n" + x + sp(16) + "2" + sp(16) + "1\n" +
                          "  a" + sp(49) + sp(16) + "5" + sp(16) + "2\n");
  EXPECT_EQ(printa(a, "%s:%d %@d\n"), "x:1 1\nx:2 1\na:5 2\n");
  EXPECT_EQ(printa(a, "%-3s|%@4d|\n"), "x  |   1|\nx  |   1|\na  |   2|\n");
}

TEST(Aggregation, SortTiesAndOptions) {
  Aggregation a(kCountDef);
  fill_abc(a);
  AggSortOptions key;
  key.sort_by_key = true;
  EXPECT_EQ(printa(a, "%s "), "bb a c ");
  std::string out;
  PrintfFormat p;
  std::string err;
  ASSERT_TRUE(p.parse("%s ", err));
  a.printa(out, p, key);
  EXPECT_EQ(out, "a bb c ");
  out.clear();
  key.reverse = true;
  a.printa(out, p, key);
  EXPECT_EQ(out, "c bb a ");
  out.clear();
  AggSortOptions rev;
  rev.reverse = true;
  a.printa(out, p, rev);
  EXPECT_EQ(out, "c a bb ");
  EXPECT_EQ(print(a, rev), "\n" + srow("c", "3") + srow("a", "3") + srow("bb", "1"));
}

TEST(Aggregation, IntegerKeyTiesCompareUnsigned) {
  // dt_aggregate_keycmp() compares integer keys as unsigned: -1 sorts after 1.
  Aggregation a(def_of(AggFunc::Count, {Type::i64()}));
  for (int64_t k : {-1, 1, 0}) a.update(ikey(k), 0);
  EXPECT_EQ(printa(a, "%d "), "0 1 -1 ");
  Aggregation s(def_of(AggFunc::Sum, {Type::i64()}));
  s.update(ikey(1), -5);
  s.update(ikey(2), 5);
  s.update(ikey(3), 0);
  EXPECT_EQ(printa(s, "%d:%@d "), "1:-5 3:0 2:5 ");
}

TEST(Aggregation, ClearKeepsKeys) {
  Aggregation a(kCountDef);
  fill_abc(a);
  a.clear();
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(print(a), "\n" + srow("a", "0") + srow("bb", "0") + srow("c", "0"));
  a.update(skey("bb"), 0);
  EXPECT_EQ(printa(a, "%s=%@d "), "a=0 c=0 bb=1 ");
}

TEST(Aggregation, Trunc) {
  Aggregation a(kCountDef);
  fill_abc(a);
  a.update(skey("d"), 0);
  a.update(skey("d"), 0);  // a=3 bb=1 c=3 d=2
  a.trunc(2);              // the two largest: c and a (the tie keeps its reverse key order)
  EXPECT_EQ(printa(a, "%s=%@d "), "a=3 c=3 ");
  Aggregation b(kCountDef);
  fill_abc(b);
  b.trunc(-2);  // the two smallest
  EXPECT_EQ(printa(b, "%s=%@d "), "bb=1 a=3 ");
  Aggregation c(kCountDef);
  fill_abc(c);
  c.trunc(10);
  EXPECT_EQ(c.size(), 3u);
  c.trunc(0);
  EXPECT_EQ(c.size(), 0u);
  Aggregation d(kCountDef);
  fill_abc(d);
  d.trunc_all();
  EXPECT_EQ(d.size(), 0u);
  EXPECT_EQ(print(d), "");
  d.update(skey("new"), 0);  // still usable after truncation
  EXPECT_EQ(printa(d, "%s=%@d\n"), "new=1\n");
}

TEST(Aggregation, NormalizeAndDenormalize) {
  Aggregation a(kCountDef);
  fill_abc(a);
  a.update(skey("c"), 0);  // c=4
  a.normalize(2);
  EXPECT_EQ(print(a), "\n" + srow("bb", "0") + srow("a", "1") + srow("c", "2"));
  EXPECT_EQ(printa(a, "%s=%@d "), "bb=0 a=1 c=2 ");
  a.denormalize();
  EXPECT_EQ(print(a), "\n" + srow("bb", "1") + srow("a", "3") + srow("c", "4"));
  Aggregation avg(def_of(AggFunc::Avg, {}));
  avg.update("", 100);
  avg.update("", 300);
  avg.normalize(10);
  EXPECT_EQ(print(avg), "\n               20\n");
}

TEST(Aggregation, PrintaFormats) {
  Aggregation a(kCountDef);
  fill_abc(a);
  EXPECT_EQ(printa(a, "%s %@d\n"), "bb 1\na 3\nc 3\n");
  EXPECT_EQ(printa(a, "%-4s|%@5d|\n"), "bb  |    1|\na   |    3|\nc   |    3|\n");
  EXPECT_EQ(printa(a, "%s\n"), "bb\na\nc\n");  // no %@: the value is not printed
  EXPECT_EQ(printa(a, "%@d %s %@x\n"), "1 bb 1\n3 a 3\n3 c 3\n");
  EXPECT_EQ(printa(a, "%@02d%%\n"), "01%\n03%\n03%\n");
  Aggregation w(def_of(AggFunc::Count, {Type::i32(), Type::str()}));
  std::string k;
  bytecode::tuple_put_int(k, 6);
  bytecode::tuple_put_str(k, "ab");
  w.update(k, 0);
  EXPECT_EQ(printa(w, "%*s|%@d\n"), "    ab|1\n");  // '*' takes its width from a key
  Aggregation avg(def_of(AggFunc::Avg, {Type::str()}));
  avg.update(skey("k"), 3);
  avg.update(skey("k"), 4);
  EXPECT_EQ(printa(avg, "%s avg=%@d\n"), "k avg=3\n");
}

TEST(Aggregation, QuantizeDefaultLayout) {
  Aggregation a(def_of(AggFunc::Quantize, {}));
  for (int64_t v : {1, 2, 3, 3}) a.update("", v);
  // Zero rows either side of the data; bars scaled to 40 columns of the shown total.
  EXPECT_EQ(print(a),
            "\n\n"
            "           value  ------------- Distribution ------------- count    \n"
            "               0 |                                         0        \n"
            "               1 |@@@@@@@@@@                               1        \n"
            "               2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@           3        \n"
            "               4 |                                         0        \n"
            "\n");
}

TEST(Aggregation, QuantizeBucketsAndWeights) {
  Aggregation a(def_of(AggFunc::Quantize, {Type::str()}));
  a.update(skey("k"), 0, 3);     // weight 3 at zero
  a.update(skey("k"), 1000, 1);  // 512..1023
  a.update(skey("k"), 1023, 2);  // same bucket
  a.update(skey("k"), 1024, 0);  // zero weight: counted nowhere
  EXPECT_EQ(print(a), "\n  k" + sp(49) + "\n" + kHeader + qrow("-1", 0, "0") + qrow("0", 20, "3") +
                          qrow("1", 0, "0") + qrow("2", 0, "0") + qrow("4", 0, "0") +
                          qrow("8", 0, "0") + qrow("16", 0, "0") + qrow("32", 0, "0") +
                          qrow("64", 0, "0") + qrow("128", 0, "0") + qrow("256", 0, "0") +
                          qrow("512", 20, "3") + qrow("1024", 0, "0") + "\n");
}

TEST(Aggregation, QuantizeNegativeValues) {
  Aggregation a(def_of(AggFunc::Quantize, {}));
  for (int64_t v : {-1, -2, -3, 5}) a.update("", v);
  // -1 -> "-1"; -2 and -3 -> "-2"; 5 -> "4".
  EXPECT_EQ(print(a), "\n\n" + kHeader + qrow("-4", 0, "0") + qrow("-2", 20, "2") +
                          qrow("-1", 10, "1") + qrow("0", 0, "0") + qrow("1", 0, "0") +
                          qrow("2", 0, "0") + qrow("4", 10, "1") + qrow("8", 0, "0") + "\n");
  Aggregation m(def_of(AggFunc::Quantize, {}));
  m.update("", INT64_MIN);
  m.update("", INT64_MAX);
  const std::string out = print(m);
  EXPECT_NE(out.find("\n-4611686018427387904 |@@@@@@@@@@@@@@@@@@@@ "), std::string::npos) << out;
  EXPECT_NE(out.find("\n4611686018427387904 |@@@@@@@@@@@@@@@@@@@@ "), std::string::npos) << out;
}

TEST(Aggregation, QuantizeNegativeWeights) {
  // Only negative counts: the bar grows leftwards towards the '|'.
  Aggregation n(def_of(AggFunc::Quantize, {}));
  n.update("", 100, -1);
  EXPECT_EQ(print(n), "\n\n" + kHeader + "              32 " + sp(40) + "| 0        \n" +
                          "              64 " + at(40) + "| -1       \n" + "             128 " +
                          sp(40) + "| 0        \n\n");
  // Positive and negative counts: two half bars around a centre line.
  Aggregation b(def_of(AggFunc::Quantize, {}));
  b.update("", 1, 3);
  b.update("", 4, -1);
  auto neg = [](std::string_view label, int ats, std::string_view count) {
    return sp(16 - label.size()) + std::string(label) + " " + sp(20 - ats) + at(ats) + "|" +
           sp(20) + " " + std::string(count) + sp(9 - count.size()) + "\n";
  };
  auto pos = [](std::string_view label, int ats, std::string_view count) {
    return sp(16 - label.size()) + std::string(label) + " " + sp(20) + "|" + at(ats) +
           sp(20 - ats) + " " + std::string(count) + sp(9 - count.size()) + "\n";
  };
  EXPECT_EQ(print(b), "\n\n" + kHeader + neg("0", 0, "0") + pos("1", 15, "3") + neg("2", 0, "0") +
                          neg("4", 5, "-1") + neg("8", 0, "0") + "\n");
}

TEST(Aggregation, QuantizeAfterClearShowsZeroBuckets) {
  Aggregation a(def_of(AggFunc::Quantize, {}));
  a.update("", 7);
  a.clear();
  EXPECT_EQ(print(a),
            "\n\n" + kHeader + qrow("-1", 0, "0") + qrow("0", 0, "0") + qrow("1", 0, "0") + "\n");
}

TEST(Aggregation, QuantizeNormalized) {
  Aggregation a(def_of(AggFunc::Quantize, {}));
  for (int i = 0; i < 10; i++) a.update("", 1);
  a.normalize(4);
  EXPECT_EQ(print(a),
            "\n\n" + kHeader + qrow("0", 0, "0") + qrow("1", 40, "2") + qrow("2", 0, "0") + "\n");
}

TEST(Aggregation, QuantizeSortsByWeightedSum) {
  Aggregation a(def_of(AggFunc::Quantize, {Type::str()}));
  a.update(skey("big"), 1000);
  for (int i = 0; i < 100; i++) a.update(skey("many"), 1);  // sum 100 < 512
  a.update(skey("zero"), 0);
  a.update(skey("zero"), 0);
  a.update(skey("z1"), 0);
  EXPECT_EQ(printa(a, "%s "), "z1 zero many big ");
}

TEST(Aggregation, PrintaQuantize) {
  Aggregation a(def_of(AggFunc::Quantize, {Type::str()}));
  a.update(skey("k"), 1);
  EXPECT_EQ(printa(a, "%s:%@d\n"),
            "k:\n" + kHeader + qrow("0", 0, "0") + qrow("1", 40, "1") + qrow("2", 0, "0") + "\n");
}

AggDef lq_def(int64_t base, int64_t limit, int64_t step) {
  AggDef d = def_of(AggFunc::Lquantize, {});
  d.base = base;
  d.limit = limit;
  d.step = step;
  return d;
}

TEST(Aggregation, Lquantize) {
  Aggregation a(lq_def(0, 10, 2));
  for (int64_t v : {-1, 3, 3, 11, 100}) a.update("", v);
  EXPECT_EQ(print(a), "\n\n" + kHeader + qrow("< 0", 8, "1") + qrow("0", 0, "0") +
                          qrow("2", 16, "2") + qrow("4", 0, "0") + qrow("6", 0, "0") +
                          qrow("8", 0, "0") + qrow(">= 10", 16, "2") + "\n");
}

TEST(Aggregation, LquantizeZeroRowsEitherSide) {
  Aggregation a(lq_def(0, 10, 2));
  a.update("", 4);
  a.update("", 5);
  EXPECT_EQ(print(a),
            "\n\n" + kHeader + qrow("2", 0, "0") + qrow("4", 40, "2") + qrow("6", 0, "0") + "\n");
  Aggregation u(lq_def(-10, 10, 5));
  u.update("", -50);
  EXPECT_EQ(print(u), "\n\n" + kHeader + qrow("< -10", 40, "1") + qrow("-10", 0, "0") + "\n");
  // A limit the step does not divide: ">=" shows base + levels * step.
  Aggregation o(lq_def(0, 7, 2));
  o.update("", 9);
  EXPECT_EQ(print(o), "\n\n" + kHeader + qrow("4", 0, "0") + qrow(">= 6", 40, "1") + "\n");
  Aggregation e(lq_def(0, 10, 2));
  e.update("", 1);
  e.clear();
  EXPECT_EQ(print(e),
            "\n\n" + kHeader + qrow("< 0", 0, "0") + qrow("0", 0, "0") + qrow("2", 0, "0") + "\n");
}

TEST(Aggregation, LquantizeWeightsAndSort) {
  AggDef d = lq_def(0, 100, 10);
  d.key_types = {Type::str()};
  Aggregation a(d);
  a.update(skey("hi"), 95, 1);
  a.update(skey("lo"), 5, 3);
  a.update(skey("mid"), 50, 1);
  EXPECT_EQ(printa(a, "%s "), "lo mid hi ");
}

AggDef llq_def(int64_t factor, int64_t low, int64_t high, int64_t nsteps) {
  AggDef d = def_of(AggFunc::Llquantize, {});
  d.factor = factor;
  d.low = low;
  d.high = high;
  d.nsteps = nsteps;
  return d;
}

TEST(Aggregation, Llquantize) {
  Aggregation a(llq_def(10, 0, 2, 10));
  for (int64_t v : {5, 25, 25}) a.update("", v);
  EXPECT_EQ(print(a), "\n\n" + kHeader + qrow("4", 0, "0") + qrow("5", 13, "1") +
                          qrow("6", 0, "0") + qrow("7", 0, "0") + qrow("8", 0, "0") +
                          qrow("9", 0, "0") + qrow("10", 0, "0") + qrow("20", 27, "2") +
                          qrow("30", 0, "0") + "\n");
}

TEST(Aggregation, LlquantizeUnderflowAndOverflow) {
  Aggregation a(llq_def(10, 0, 2, 10));
  a.update("", 0);
  a.update("", 5000);
  const std::string out = print(a);
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  // Oracle's layout: blank, blank, header, -1, 0, 1..9, 10..90, 100..900, ">= 1000", blank
  ASSERT_EQ(lines.size(), 3u + 30u + 1u);
  EXPECT_EQ(lines[3] + "\n", qrow("-1", 0, "0"));
  EXPECT_EQ(lines[4] + "\n", qrow("0", 20, "1"));
  EXPECT_EQ(lines[5] + "\n", qrow("1", 0, "0"));
  EXPECT_EQ(lines[14] + "\n", qrow("10", 0, "0"));
  EXPECT_EQ(lines[15] + "\n", qrow("20", 0, "0"));
  EXPECT_EQ(lines[31] + "\n", qrow("900", 0, "0"));
  EXPECT_EQ(lines[32] + "\n", qrow(">= 1000", 20, "1"));
  EXPECT_EQ(lines[33], "");
}

TEST(Aggregation, LlquantizeStepsAboveNsteps) {
  Aggregation a(llq_def(2, 0, 4, 4));  // 1 | 2 3 | 4 6 | 8 12 | 16 24 | >= 32
  for (int64_t v : {6, 7, 13, 40}) a.update("", v);
  EXPECT_EQ(print(a), "\n\n" + kHeader + qrow("4", 0, "0") + qrow("6", 20, "2") +
                          qrow("8", 0, "0") + qrow("12", 10, "1") + qrow("16", 0, "0") +
                          qrow("24", 0, "0") + qrow(">= 32", 10, "1") + "\n");
}

TEST(Aggregation, ManyKeysRoundTrip) {
  constexpr int kKeys = 100000;
  Aggregation a(def_of(AggFunc::Count, {Type::i64()}));
  for (int64_t i = 0; i < kKeys; i++)
    for (int64_t n = 0; n <= i % 5; n++) a.update(ikey(i * 7919 - 300000), 0);
  ASSERT_EQ(a.size(), static_cast<size_t>(kKeys));
  const std::string out = printa(a, "%d %@d\n");
  std::istringstream in(out);
  std::map<int64_t, int64_t> seen;
  int64_t key, count, prev_count = 0;
  uint64_t prev_key = 0;
  while (in >> key >> count) {
    ASSERT_TRUE(count > prev_count ||
                (count == prev_count && static_cast<uint64_t>(key) > prev_key))
        << key;
    prev_count = count;
    prev_key = static_cast<uint64_t>(key);
    ASSERT_TRUE(seen.emplace(key, count).second);
  }
  ASSERT_EQ(seen.size(), static_cast<size_t>(kKeys));
  for (int64_t i = 0; i < kKeys; i++) ASSERT_EQ(seen[i * 7919 - 300000], i % 5 + 1);
  a.trunc(10);
  EXPECT_EQ(a.size(), 10u);
  EXPECT_EQ(printa(a, "%@d "), "5 5 5 5 5 5 5 5 5 5 ");
}

TEST(Aggregation, MemoryPerIntKeyIsCompact) {
  constexpr int kKeys = 1000000;
  Aggregation a(def_of(AggFunc::Count, {Type::i64()}));
  for (int64_t i = 0; i < kKeys; i++) a.update(ikey(i), 0);
  const double per_key = static_cast<double>(a.memory_bytes()) / kKeys;
  EXPECT_LT(per_key - 8, 100.0) << per_key;
}

// aggsize: the budget shared by a program's aggregations bounds the keys; a new key that does
// not fit is dropped and counted, existing keys keep aggregating, trunc() gives room back.
TEST(AggregationBudget, NewKeysBeyondTheBoundAreDropped) {
  AggBudget budget;
  budget.capacity = 1000;
  Aggregation a(def_of(AggFunc::Count, {Type::i64()}), &budget);
  Aggregation b(def_of(AggFunc::Sum, {Type::str()}), &budget);
  for (int64_t i = 0; i < 1000; i++) a.update(ikey(i), 0);
  EXPECT_GT(a.size(), 0u);
  EXPECT_LT(a.size(), 1000u / 16);  // each key costs more than its 16 bytes of data
  EXPECT_LE(budget.used, budget.capacity);
  EXPECT_EQ(budget.drops, 1000 - a.size());
  const size_t kept = a.size();
  b.update(skey(std::string(500, 'k')), 1);  // the other aggregation shares the bound
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(budget.drops, 1001 - kept);
  a.update(ikey(0), 0);  // a held key still counts
  EXPECT_NE(("\n" + printa(a, "%d %@d\n")).find("\n0 2\n"), std::string::npos);
  a.trunc(1);
  EXPECT_EQ(a.size(), 1u);
  b.update(skey(std::string(500, 'k')), 1);
  EXPECT_EQ(b.size(), 1u);
  a.trunc_all();
  b.trunc_all();
  EXPECT_EQ(budget.used, 0u);
}

TEST(AggregationBudget, OneHugeKeyCannotPassTheBound) {
  AggBudget budget;
  budget.capacity = 64 * 1024;
  Aggregation a(def_of(AggFunc::Count, {Type::str(), Type::i64()}), &budget);
  const std::string big(60 * 1024, 'x');  // a 60 KB key: at most one fits
  for (int64_t i = 0; i < 100; i++) a.update(skey(big) + ikey(i), 0);
  EXPECT_EQ(a.size(), 1u);
  EXPECT_EQ(budget.drops, 99u);
  EXPECT_LE(a.memory_bytes(), 4 * budget.capacity);
}

}  // namespace
}  // namespace vtrace::engine
