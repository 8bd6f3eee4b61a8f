// Shell-style globs of probe descriptions.
#include "engine/glob.h"

#include <gtest/gtest.h>

#include <string>

namespace vtrace::engine {
namespace {

TEST(GlobTest, Literals) {
  EXPECT_TRUE(glob_match("read", "read"));
  EXPECT_FALSE(glob_match("read", "reads"));
  EXPECT_FALSE(glob_match("reads", "read"));
  EXPECT_TRUE(glob_match("", ""));
  EXPECT_FALSE(glob_match("", "a"));
  EXPECT_FALSE(glob_match("a", ""));
}

TEST(GlobTest, Star) {
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("*", "anything"));
  EXPECT_TRUE(glob_match("sys_*", "sys_read"));
  EXPECT_TRUE(glob_match("sys_*", "sys_"));
  EXPECT_FALSE(glob_match("sys_*", "sys"));
  EXPECT_TRUE(glob_match("*read", "pread"));
  EXPECT_TRUE(glob_match("*e*d*", "preadv"));
  EXPECT_TRUE(glob_match("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(glob_match("a*b*c", "aXbYbZ"));
  EXPECT_TRUE(glob_match("**", "x"));
  EXPECT_TRUE(glob_match("*a", "aaaa"));
}

TEST(GlobTest, QuestionMark) {
  EXPECT_TRUE(glob_match("tick-?", "tick-1"));
  EXPECT_FALSE(glob_match("tick-?", "tick-10"));
  EXPECT_FALSE(glob_match("?", ""));
  EXPECT_TRUE(glob_match("??", "ab"));
}

TEST(GlobTest, Classes) {
  EXPECT_TRUE(glob_match("[abc]", "b"));
  EXPECT_FALSE(glob_match("[abc]", "d"));
  EXPECT_TRUE(glob_match("web[0-9]", "web7"));
  EXPECT_FALSE(glob_match("web[0-9]", "webx"));
  EXPECT_TRUE(glob_match("web[!0-9]", "webx"));
  EXPECT_FALSE(glob_match("web[!0-9]", "web1"));
  EXPECT_TRUE(glob_match("web[^0-9]", "webx"));
  EXPECT_TRUE(glob_match("[]]", "]"));   // ']' first is a member
  EXPECT_TRUE(glob_match("[a-]", "-"));  // '-' last is a member
  EXPECT_TRUE(glob_match("[a-c]*", "cat"));
  EXPECT_TRUE(glob_match("db[12]", "db2"));
  EXPECT_FALSE(glob_match("db[12]", "db3"));
}

TEST(GlobTest, UnterminatedClassIsLiteral) {
  EXPECT_TRUE(glob_match("a[b", "a[b"));
  EXPECT_FALSE(glob_match("a[b", "ab"));
}

TEST(GlobTest, Escapes) {
  EXPECT_TRUE(glob_match("a\\*", "a*"));
  EXPECT_FALSE(glob_match("a\\*", "ab"));
  EXPECT_TRUE(glob_match("\\?", "?"));
  EXPECT_FALSE(glob_match("\\?", "x"));
  EXPECT_TRUE(glob_match("[\\]]", "]"));
}

TEST(GlobTest, NoExponentialBlowUp) {
  std::string text(5000, 'a');
  std::string pat;
  for (int i = 0; i < 50; ++i) pat += "*a";
  pat += "b";
  EXPECT_FALSE(glob_match(pat, text));  // must return promptly
}

TEST(GlobTest, HasGlobChars) {
  EXPECT_FALSE(has_glob_chars("tick-10ms"));
  EXPECT_FALSE(has_glob_chars(""));
  EXPECT_TRUE(has_glob_chars("tick-*"));
  EXPECT_TRUE(has_glob_chars("a?"));
  EXPECT_TRUE(has_glob_chars("[ab]"));
  EXPECT_TRUE(has_glob_chars("a\\b"));
}

}  // namespace
}  // namespace vtrace::engine
