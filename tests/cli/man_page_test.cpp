// The manual page (doc/vtrace.1) names every flag `vtrace -h` lists and every built-in
// variable, subroutine and action the compiler knows: a new one without documentation fails here.
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/options.h"
#include "lang/compiler.h"

namespace vtrace::cli {
namespace {

std::string man_page() {
  std::ifstream in(MAN_PAGE);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// `word` in `text` on its own (not inside a longer name).
bool has_word(const std::string& text, const std::string& word) {
  auto name_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
    const bool before = at == 0 || !name_char(text[at - 1]);
    const bool after = at + word.size() == text.size() || !name_char(text[at + word.size()]);
    if (before && after) return true;
  }
  return false;
}

TEST(ManPage, NamesEveryFlagOfTheUsage) {
  const std::string page = man_page();
  ASSERT_FALSE(page.empty()) << MAN_PAGE;
  std::istringstream usage(usage_text());
  int flags = 0;
  for (std::string line; std::getline(usage, line);) {
    if (line.size() < 4 || line.compare(0, 3, "  -") != 0 || !std::isalpha(line[3])) continue;
    ++flags;
    EXPECT_NE(page.find(std::string("\\-") + line[3]), std::string::npos) << line;
  }
  EXPECT_GE(flags, 15);
}

TEST(ManPage, NamesEveryBuiltinSubroutineAndAction) {
  const std::string page = man_page();
  for (const auto& names :
       {lang::builtin_variable_names(), lang::subroutine_names(), lang::action_names()}) {
    EXPECT_FALSE(names.empty());
    for (const std::string& n : names) {
      // arg0 .. arg9 are written as a range.
      if (n.size() == 4 && n.compare(0, 3, "arg") == 0 && n[3] > '0' && n[3] < '9') continue;
      EXPECT_TRUE(has_word(page, n)) << n;
    }
  }
}

}  // namespace
}  // namespace vtrace::cli
