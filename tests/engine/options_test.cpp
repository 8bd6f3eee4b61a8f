// Run-time options (#pragma D option, -x): sizes with suffixes, flags, ranges, bad values.
#include "engine/options.h"

#include <gtest/gtest.h>

namespace vtrace::engine {
namespace {

TEST(EngineOptionsTest, ParseSize) {
  uint64_t v = 0;
  EXPECT_TRUE(parse_size("100", v));
  EXPECT_EQ(v, 100u);
  EXPECT_TRUE(parse_size("0", v));
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(parse_size("4k", v));
  EXPECT_EQ(v, 4096u);
  EXPECT_TRUE(parse_size("4K", v));
  EXPECT_EQ(v, 4096u);
  EXPECT_TRUE(parse_size("2m", v));
  EXPECT_EQ(v, 2u << 20);
  EXPECT_TRUE(parse_size("2M", v));
  EXPECT_EQ(v, 2u << 20);
  EXPECT_TRUE(parse_size("3g", v));
  EXPECT_EQ(v, 3ull << 30);
  EXPECT_TRUE(parse_size("1G", v));
  EXPECT_EQ(v, 1ull << 30);
}

TEST(EngineOptionsTest, ParseSizeRejectsMalformed) {
  uint64_t v = 77;
  for (const char* bad :
       {"", "k", "-1", "+1", " 1", "1 ", "4kb", "4t", "1.5m", "0x10", "abc", "4 k", "1kk"})
    EXPECT_FALSE(parse_size(bad, v)) << "\"" << bad << "\"";
  EXPECT_EQ(v, 77u) << "a rejected value leaves the output alone";
}

TEST(EngineOptionsTest, ParseSizeRejectsOverflow) {
  uint64_t v = 0;
  EXPECT_FALSE(parse_size("17179869184g", v));  // 2^34 GiB = 2^64
  EXPECT_TRUE(parse_size("17179869183g", v));
  EXPECT_EQ(v, 17179869183ull << 30);
  EXPECT_TRUE(parse_size("18446744073709551615", v));
  EXPECT_EQ(v, UINT64_MAX);
  // One more than UINT64_MAX does not fit: it must not saturate silently to UINT64_MAX.
  EXPECT_FALSE(parse_size("18446744073709551616", v));
  EXPECT_FALSE(parse_size("99999999999999999999999", v));
}

TEST(EngineOptionsTest, Flags) {
  Options o;
  EXPECT_FALSE(o.quiet);
  EXPECT_EQ(o.set("quiet", ""), "");
  EXPECT_TRUE(o.quiet);
  EXPECT_EQ(o.set("quiet", "0"), "");
  EXPECT_FALSE(o.quiet);
  EXPECT_EQ(o.set("quiet", "true"), "");
  EXPECT_TRUE(o.quiet);
  EXPECT_EQ(o.set("quiet", "false"), "");
  EXPECT_FALSE(o.quiet);
  EXPECT_NE(o.set("quiet", "yes"), "");
  EXPECT_EQ(o.set("aggsortkey", "1"), "");
  EXPECT_TRUE(o.aggsortkey);
  EXPECT_EQ(o.set("aggsortrev", ""), "");
  EXPECT_TRUE(o.aggsortrev);
  EXPECT_EQ(o.set("destructive", ""), "");
  EXPECT_TRUE(o.destructive);
  EXPECT_EQ(o.set("defaultargs", ""), "");
  EXPECT_TRUE(o.defaultargs);
  EXPECT_EQ(o.set("zdefs", ""), "");
  EXPECT_TRUE(o.zdefs);
}

TEST(EngineOptionsTest, Sizes) {
  Options o;
  EXPECT_EQ(o.set("strsize", "512"), "");
  EXPECT_EQ(o.strsize, 512u);
  EXPECT_EQ(o.set("strsize", "1k"), "");
  EXPECT_EQ(o.strsize, 1024u);
  EXPECT_EQ(o.set("nspec", "4"), "");
  EXPECT_EQ(o.nspec, 4u);
  EXPECT_EQ(o.set("specsize", "32k"), "");
  EXPECT_EQ(o.specsize, 32u << 10);
  EXPECT_EQ(o.set("dynvarsize", "16m"), "");
  EXPECT_EQ(o.dynvarsize, 16u << 20);
  EXPECT_EQ(o.set("bufsize", "8m"), "");
  EXPECT_EQ(o.bufsize, 8u << 20);
  EXPECT_EQ(o.set("aggsize", "1m"), "");
  EXPECT_EQ(o.aggsize, 1u << 20);
  EXPECT_EQ(o.bufsize, 8u << 20);  // aggsize is its own bound, not bufsize
  EXPECT_EQ(o.set("aggsize", "2g"), "");
  EXPECT_EQ(o.aggsize, 2ull << 30);
  EXPECT_NE(o.set("aggsize", "0"), "");
  EXPECT_NE(o.set("aggsize", "1x"), "");
  EXPECT_EQ(o.aggsize, 2ull << 30);
}

TEST(EngineOptionsTest, BadSizesKeepTheOldValue) {
  Options o;
  EXPECT_NE(o.set("strsize", ""), "");     // requires a value
  EXPECT_NE(o.set("strsize", "abc"), "");  // malformed
  EXPECT_NE(o.set("strsize", "1"), "");    // below the minimum (2)
  EXPECT_NE(o.set("strsize", "2m"), "");   // above the maximum (1m)
  EXPECT_EQ(o.strsize, 256u);
  EXPECT_NE(o.set("nspec", "0"), "");
  EXPECT_NE(o.set("nspec", "5000"), "");
  EXPECT_EQ(o.nspec, 1u);
  EXPECT_NE(o.set("dynvarsize", "100"), "");  // below 1k
  EXPECT_NE(o.set("dynvarsize", "-5"), "");
  EXPECT_EQ(o.dynvarsize, 1u << 20);
  EXPECT_NE(o.set("specsize", "0"), "");
  std::string err = o.set("strsize", "12q");
  EXPECT_NE(err.find("strsize"), std::string::npos) << err;
}

TEST(EngineOptionsTest, ModeAndUnknownOptions) {
  Options o;
  EXPECT_EQ(o.mode, "async");
  EXPECT_EQ(o.set("mode", "sync"), "");
  EXPECT_EQ(o.mode, "sync");
  EXPECT_NE(o.set("mode", "fast"), "");
  EXPECT_EQ(o.mode, "sync");
  std::string err = o.set("nosuchoption", "1");
  EXPECT_NE(err.find("nosuchoption"), std::string::npos) << err;
  for (const char* compat :
       {"switchrate", "aggrate", "statusrate", "cleanrate", "bufpolicy", "bufresize"})
    EXPECT_EQ(o.set(compat, "10hz"), "") << compat;
}

}  // namespace
}  // namespace vtrace::engine
