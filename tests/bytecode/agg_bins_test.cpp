// llquantize()'s bins (bytecode/agg_bins.h), as Oracle's DTrace lays them out: the engine and the
// BPF backend both put values where these say.
#include "bytecode/agg_bins.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace vtrace::bytecode {
namespace {

std::string label(const Llquantize& q, uint32_t bin) {
  const Llquantize::Label& l = q.labels.at(bin);
  switch (l.kind) {
    case Llquantize::Label::None:
      return "";
    case Llquantize::Label::Zero:
      return "0";
    case Llquantize::Label::AtMost:
      return "<= " + std::to_string(l.bound);
    case Llquantize::Label::AtLeast:
      return ">= " + std::to_string(l.bound);
    case Llquantize::Label::Value:
      return std::to_string(l.bound);
  }
  return "?";
}

// factor 4, magnitudes 0 and 1, 2 steps: <= -16, -8, -4, -2, -1, 0, 1, 2, 4, 8, >= 16.
TEST(Llquantize, StepsBelowTheFactorAreSymmetric) {
  const Llquantize q(4, 0, 1, 2);
  ASSERT_EQ(q.nbins(), 11u);
  EXPECT_EQ(q.bin0, 5u);
  const char* want[] = {"<= -16", "-8", "-4", "-2", "-1", "0", "1", "2", "4", "8", ">= 16"};
  for (uint32_t b = 0; b < q.nbins(); ++b) EXPECT_EQ(label(q, b), want[b]) << b;
  EXPECT_EQ(label(q, q.bin(0)), "0");
  EXPECT_EQ(label(q, q.bin(1)), "1");
  EXPECT_EQ(label(q, q.bin(3)), "2");
  EXPECT_EQ(label(q, q.bin(4)), "4");
  EXPECT_EQ(label(q, q.bin(15)), "8");
  EXPECT_EQ(label(q, q.bin(16)), ">= 16");
  EXPECT_EQ(label(q, q.bin(-3)), "-2");
  EXPECT_EQ(label(q, q.bin(-16)), "<= -16");
  EXPECT_EQ(label(q, q.bin(std::numeric_limits<int64_t>::min())), "<= -16");
  EXPECT_EQ(label(q, q.bin(std::numeric_limits<int64_t>::max())), ">= 16");
}

// Steps finer than 1 in the magnitude of 1 (factor 2, 4 steps): bins no integer reaches have
// no label, and each integer lands on a labelled one.
TEST(Llquantize, GhostBinsHaveNoLabelAndNoValue) {
  const Llquantize q(2, 0, 2, 4);
  for (int64_t v = -20; v <= 20; ++v) EXPECT_NE(label(q, q.bin(v)), "") << v;
  int ghosts = 0;
  for (uint32_t b = 0; b < q.nbins(); ++b) ghosts += label(q, b).empty();
  EXPECT_EQ(ghosts, 2);  // one each side of 0, between 1 and 2
  EXPECT_EQ(label(q, q.bin(5)), "4");
  EXPECT_EQ(label(q, q.bin(6)), "6");
}

// A low magnitude above 0: |value| below factor^low is the bin of 0, labelled by that bound.
TEST(Llquantize, BelowTheLowMagnitude) {
  const Llquantize q(10, 2, 3, 10);
  EXPECT_EQ(q.first, 100);
  EXPECT_EQ(q.bin(99), q.bin0);
  EXPECT_EQ(q.bin(-99), q.bin0);
  EXPECT_EQ(label(q, q.bin(150)), "100");
  EXPECT_EQ(label(q, q.bin(250)), "200");
  EXPECT_EQ(label(q, q.bin(-2500)), "-2000");
  EXPECT_EQ(label(q, q.bin(10000)), ">= 10000");
}

}  // namespace
}  // namespace vtrace::bytecode
