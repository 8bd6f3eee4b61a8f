// The memory D pointers reach: only what was handed out (scratch) or declared (variables of
// array and struct type) can be read or written, whatever address a program computes.
#include "bytecode/data_memory.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace vtrace::bytecode {
namespace {

TEST(DataMemory, ScratchIsHandedOut8AlignedAndBounded) {
  DataMemory m(32);
  uint64_t a = 0, b = 0, c = 0;
  ASSERT_TRUE(m.alloc(3, a));
  ASSERT_TRUE(m.alloc(8, b));
  EXPECT_EQ(a, DataMemory::kScratchBase);
  EXPECT_EQ(b, DataMemory::kScratchBase + 8);
  EXPECT_FALSE(m.alloc(17, c));  // 16 + 17 > 32
  ASSERT_TRUE(m.alloc(16, c));
  EXPECT_FALSE(m.alloc(1, c));
  // What was handed out, and nothing past it.
  EXPECT_NE(m.at(a, 3), nullptr);
  EXPECT_NE(m.at(b, 8), nullptr);
  EXPECT_EQ(m.at(DataMemory::kScratchBase + 32, 1), nullptr);
  EXPECT_EQ(m.at(DataMemory::kScratchBase + 31, 2), nullptr);
  EXPECT_EQ(m.at(DataMemory::kScratchBase - 1, 1), nullptr);
  EXPECT_EQ(m.at(0, 1), nullptr);
  EXPECT_EQ(m.at(UINT64_MAX, 1), nullptr);
  EXPECT_EQ(m.at(a, UINT64_MAX), nullptr);
}

TEST(DataMemory, ResetZeroesWhatAClauseUsed) {
  DataMemory m(16);
  uint64_t a = 0;
  ASSERT_TRUE(m.alloc(8, a));
  *m.at(a, 1) = 0x5a;
  m.reset_scratch();
  EXPECT_EQ(m.at(a, 1), nullptr);  // not handed out any more
  ASSERT_TRUE(m.alloc(8, a));
  EXPECT_EQ(*m.at(a, 1), 0);
}

TEST(DataMemory, AllocaOfZeroIsTheTopAndReachesNothing) {
  DataMemory m(16);
  uint64_t a = 0, b = 0;
  ASSERT_TRUE(m.alloc(0, a));
  ASSERT_TRUE(m.alloc(0, b));
  EXPECT_EQ(a, b);
  EXPECT_EQ(m.at(a, 1), nullptr);
  EXPECT_EQ(m.span(a), 0u);
}

TEST(DataMemory, VariablesHaveRegionsOfTheirOwn) {
  DataMemory m(8, 24, 4);
  EXPECT_NE(m.at(DataMemory::kGlobalBase, 24), nullptr);
  EXPECT_EQ(m.at(DataMemory::kGlobalBase + 20, 8), nullptr);
  EXPECT_EQ(m.span(DataMemory::kGlobalBase + 20), 4u);
  EXPECT_NE(m.at(DataMemory::kLocalBase, 4), nullptr);
  EXPECT_EQ(m.at(DataMemory::kLocalBase, 5), nullptr);
  *m.at(DataMemory::kLocalBase, 1) = 7;
  *m.at(DataMemory::kGlobalBase, 1) = 9;
  m.reset_locals();
  m.reset_scratch();
  EXPECT_EQ(*m.at(DataMemory::kLocalBase, 1), 0);   // this-> starts each firing zeroed
  EXPECT_EQ(*m.at(DataMemory::kGlobalBase, 1), 9);  // globals last the run
}

}  // namespace
}  // namespace vtrace::bytecode
