// Speculation buffers: allocation, the specsize bound (counted as dtrace counts buffer bytes),
// commit and discard of typed firings.
#include "engine/speculation.h"

#include <gtest/gtest.h>

namespace vtrace::engine {
namespace {

// A firing of one printf with integer values (16 header bytes + 8 per value in a buffer) and
// epid `id`, so a test can tell firings apart.
Firing firing(uint32_t id, int ints) {
  Firing f;
  f.epid = id;
  for (int i = 0; i < ints; ++i) {
    FormatArg a;
    a.type = lang::Type::i64();
    a.i = i;
    f.values.push_back(a);
  }
  f.items.push_back({FiringItem::Kind::Printf, 0, 0, static_cast<uint32_t>(ints), 0});
  return f;
}

std::vector<uint32_t> epids(const std::vector<Firing>& fs) {
  std::vector<uint32_t> out;
  for (const Firing& f : fs) out.push_back(f.epid);
  return out;
}

TEST(SpeculationTest, AllocateUntilExhausted) {
  Speculations s;
  s.configure(2, 100, 256);
  EXPECT_EQ(s.allocate(), 1);
  EXPECT_EQ(s.allocate(), 2);
  EXPECT_EQ(s.allocate(), 0);
  EXPECT_EQ(s.unavailable(), 1u);
  EXPECT_TRUE(s.active(1));
  EXPECT_TRUE(s.active(2));
  EXPECT_FALSE(s.active(0));
  EXPECT_FALSE(s.active(3));
  EXPECT_FALSE(s.active(-1));
}

TEST(SpeculationTest, CommitReturnsFiringsInOrderAndFrees) {
  Speculations s;
  s.configure(1, 100, 256);
  int64_t id = s.allocate();
  ASSERT_EQ(id, 1);
  EXPECT_TRUE(s.append(id, firing(7, 1)));
  EXPECT_TRUE(s.append(id, firing(8, 1)));
  EXPECT_EQ(epids(s.commit(id)), (std::vector<uint32_t>{7, 8}));
  EXPECT_FALSE(s.active(id));
  // The freed buffer is reused and starts empty.
  EXPECT_EQ(s.allocate(), 1);
  EXPECT_TRUE(s.commit(1).empty());
}

TEST(SpeculationTest, DiscardDropsFirings) {
  Speculations s;
  s.configure(1, 100, 256);
  int64_t id = s.allocate();
  s.append(id, firing(1, 0));
  s.discard(id);
  EXPECT_FALSE(s.active(id));
  id = s.allocate();
  EXPECT_TRUE(s.commit(id).empty());
}

TEST(SpeculationTest, SpecsizeBoundCountsHeadersIntegersAndStrings) {
  Speculations s;
  s.configure(1, 70, 20);
  int64_t id = s.allocate();
  EXPECT_TRUE(s.append(id, firing(1, 2)));   // 32
  EXPECT_FALSE(s.append(id, firing(2, 3)));  // 32 + 40 > 70
  EXPECT_EQ(s.drops(), 1u);
  Firing str = firing(3, 0);
  FormatArg a;
  a.type = lang::Type::str();
  a.s = "x";
  str.values.push_back(a);
  str.items[0].count = 1;
  EXPECT_TRUE(s.append(id, std::move(str)));  // 32 + 16 + strsize 20 = 68
  EXPECT_EQ(epids(s.commit(id)), (std::vector<uint32_t>{1, 3}));
}

TEST(SpeculationTest, AnOwnedFiringKeepsItsStringsWhenMoved) {
  std::string text = "kept";
  Firing f = firing(1, 0);
  FormatArg a;
  a.type = lang::Type::str();
  a.s = text;
  f.values.push_back(a);
  f.own();
  text = "gone";
  std::vector<Firing> v;
  v.push_back(std::move(f));
  v.resize(10);  // moves it again
  EXPECT_EQ(v[0].values[0].s, "kept");
}

TEST(SpeculationTest, ReconfigureResets) {
  Speculations s;
  s.configure(1, 8, 256);
  s.allocate();
  s.configure(3, 8, 256);
  EXPECT_EQ(s.allocate(), 1);
  EXPECT_EQ(s.allocate(), 2);
  EXPECT_EQ(s.allocate(), 3);
  EXPECT_EQ(s.allocate(), 0);
}

}  // namespace
}  // namespace vtrace::engine
