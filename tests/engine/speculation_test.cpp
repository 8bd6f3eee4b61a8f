// Speculation buffers: allocation, the specsize bound, commit and discard.
#include "engine/speculation.h"

#include <gtest/gtest.h>

namespace vtrace::engine {
namespace {

TEST(SpeculationTest, AllocateUntilExhausted) {
  Speculations s;
  s.configure(2, 100);
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

TEST(SpeculationTest, CommitReturnsDataAndFrees) {
  Speculations s;
  s.configure(1, 100);
  int64_t id = s.allocate();
  ASSERT_EQ(id, 1);
  EXPECT_TRUE(s.append(id, "one\n"));
  EXPECT_TRUE(s.append(id, "two\n"));
  EXPECT_EQ(s.commit(id), "one\ntwo\n");
  EXPECT_FALSE(s.active(id));
  // The freed buffer is reused and starts empty.
  EXPECT_EQ(s.allocate(), 1);
  EXPECT_EQ(s.commit(1), "");
}

TEST(SpeculationTest, DiscardDropsData) {
  Speculations s;
  s.configure(1, 100);
  int64_t id = s.allocate();
  s.append(id, "secret");
  s.discard(id);
  EXPECT_FALSE(s.active(id));
  id = s.allocate();
  EXPECT_EQ(s.commit(id), "");
}

TEST(SpeculationTest, SpecsizeBound) {
  Speculations s;
  s.configure(1, 8);
  int64_t id = s.allocate();
  EXPECT_TRUE(s.append(id, "12345"));
  EXPECT_FALSE(s.append(id, "6789"));  // 9 > 8
  EXPECT_EQ(s.drops(), 1u);
  EXPECT_TRUE(s.append(id, "678"));  // exactly 8
  EXPECT_EQ(s.commit(id), "12345678");
  s.count_drop();
  EXPECT_EQ(s.drops(), 2u);
}

TEST(SpeculationTest, ReconfigureResets) {
  Speculations s;
  s.configure(1, 8);
  s.allocate();
  s.configure(3, 8);
  EXPECT_EQ(s.allocate(), 1);
  EXPECT_EQ(s.allocate(), 2);
  EXPECT_EQ(s.allocate(), 3);
  EXPECT_EQ(s.allocate(), 0);
}

}  // namespace
}  // namespace vtrace::engine
