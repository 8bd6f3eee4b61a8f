// Dynamic variables: 0 and "" free an element; the dynvarsize bound counts drops.
#include "engine/dynvars.h"

#include <gtest/gtest.h>

#include <string>

namespace vtrace::engine {
namespace {

// prefix followed by n in decimal (appending avoids GCC 12's -Wrestrict false positive on
// "literal" + std::string).
std::string named(const char* prefix, int n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

TEST(DynVarsTest, StoreAndFind) {
  DynVarStore d(1 << 20);
  EXPECT_EQ(d.find("k"), nullptr);
  d.store_int("k", 5);
  ASSERT_NE(d.find("k"), nullptr);
  EXPECT_EQ(d.find("k")->i, 5);
  d.store_int("k", -7);
  EXPECT_EQ(d.find("k")->i, -7);
  d.store_str("s", "hello");
  ASSERT_NE(d.find("s"), nullptr);
  EXPECT_EQ(d.find("s")->s, "hello");
  EXPECT_EQ(d.size(), 2u);
  EXPECT_EQ(d.drops(), 0u);
}

TEST(DynVarsTest, KeysAreBinary) {
  DynVarStore d(1 << 20);
  d.store_int(std::string_view("a\0b", 3), 1);
  d.store_int(std::string_view("a\0c", 3), 2);
  EXPECT_EQ(d.size(), 2u);
  EXPECT_EQ(d.find(std::string_view("a\0b", 3))->i, 1);
  EXPECT_EQ(d.find("a"), nullptr);
}

TEST(DynVarsTest, ZeroAndEmptyStringFree) {
  DynVarStore d(1 << 20);
  d.store_int("k", 5);
  d.store_str("s", "x");
  d.store_int("k", 0);
  EXPECT_EQ(d.find("k"), nullptr);
  d.store_str("s", "");
  EXPECT_EQ(d.find("s"), nullptr);
  EXPECT_EQ(d.size(), 0u);
  // Freeing an absent element is a no-op, not a drop.
  d.store_int("absent", 0);
  d.store_str("absent", "");
  EXPECT_EQ(d.size(), 0u);
  EXPECT_EQ(d.drops(), 0u);
}

TEST(DynVarsTest, CapacityBoundCountsDrops) {
  // Each element costs about 64 bytes plus its key and string: 1024 bytes hold ~15 of them.
  DynVarStore d(1024);
  int stored = 0;
  for (int i = 0; i < 100; ++i) {
    std::string key = named("key", i);
    d.store_int(key, i + 1);
    if (d.find(key) != nullptr) ++stored;
  }
  EXPECT_GT(stored, 5);
  EXPECT_LT(stored, 100);
  EXPECT_EQ(d.size(), static_cast<size_t>(stored));
  EXPECT_EQ(d.drops(), static_cast<uint64_t>(100 - stored));

  // Updating an existing integer element never drops.
  const uint64_t drops = d.drops();
  d.store_int("key0", 42);
  EXPECT_EQ(d.find("key0")->i, 42);
  EXPECT_EQ(d.drops(), drops);

  // Freeing makes room again.
  d.store_int("key0", 0);
  d.store_int("key1", 0);
  d.store_int("fresh", 9);
  ASSERT_NE(d.find("fresh"), nullptr);
  EXPECT_EQ(d.drops(), drops);
}

TEST(DynVarsTest, GrowingStringBeyondCapacityDropsAndKeepsOldValue) {
  DynVarStore d(1024);
  d.store_str("s", "short");
  d.store_str("s", std::string(2000, 'x'));
  EXPECT_EQ(d.drops(), 1u);
  ASSERT_NE(d.find("s"), nullptr);
  EXPECT_EQ(d.find("s")->s, "short");
  // Shrinking always fits.
  d.store_str("s", "ab");
  EXPECT_EQ(d.find("s")->s, "ab");
  EXPECT_EQ(d.drops(), 1u);
}

TEST(DynVarsTest, UsageIsAccountedOnFreeAndShrink) {
  // Fill, free everything, fill again: the same number fits both times.
  DynVarStore d(2048);
  auto fill = [&](const char* prefix) {
    int n = 0;
    for (int i = 0; i < 200; ++i) {
      std::string key = named(prefix, i);
      d.store_str(key, named("value-", i));
      if (d.find(key) != nullptr) ++n;
    }
    return n;
  };
  int first = fill("a");
  for (int i = 0; i < 200; ++i) d.store_str(named("a", i), "");
  EXPECT_EQ(d.size(), 0u);
  int second = fill("a");
  EXPECT_EQ(first, second);
}

}  // namespace
}  // namespace vtrace::engine
