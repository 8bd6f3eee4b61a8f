// Which predicates are only tests of arguments against constants (lang/predicate_tests.h), and
// the tests they become: the form a probe.h site runs where it fires.
#include "lang/predicate_tests.h"

#include <gtest/gtest.h>

#include <string>

#include "lang/parser.h"

namespace vtrace::lang {
namespace {

using bytecode::ArgTest;

std::optional<std::vector<ArgTest>> tests_of(const std::string& predicate) {
  ast::Program p = parse(Source{"t.d", "p:::t /" + predicate + "/ { }"}, {});
  return predicate_tests(*p.clauses.at(0).predicate);
}

TEST(PredicateTests, ConjunctionsOfComparisons) {
  using V = std::vector<ArgTest>;
  EXPECT_EQ(tests_of("arg0 == 7"), (V{{0, ArgTest::Eq, 7}}));
  EXPECT_EQ(tests_of("arg0 > 5 && arg9 <= -2"), (V{{0, ArgTest::Gt, 5}, {9, ArgTest::Le, -2}}));
  // The constant first: the comparison turns round.
  EXPECT_EQ(tests_of("10 < arg1 && 20 >= arg1"), (V{{1, ArgTest::Gt, 10}, {1, ArgTest::Le, 20}}));
  // A 64-bit unsigned constant makes the comparison unsigned, as C's conversions do.
  EXPECT_EQ(tests_of("arg0 < 0xffffffffffffffff"), (V{{0, ArgTest::Ltu, -1}}));
  EXPECT_EQ(tests_of("arg0 >= 5ULL && arg0 > 5U"), (V{{0, ArgTest::Geu, 5}, {0, ArgTest::Gt, 5}}));
  EXPECT_EQ(tests_of("arg2"), (V{{2, ArgTest::Ne, 0}}));
  EXPECT_EQ(tests_of("!arg2"), (V{{2, ArgTest::Eq, 0}}));
  EXPECT_EQ(tests_of("arg3 != ~0x7 && (arg4 == -(3))"),
            (V{{3, ArgTest::Ne, ~int64_t{7}}, {4, ArgTest::Eq, -3}}));
}

TEST(PredicateTests, OtherPredicatesAreNot) {
  for (const char* p : {"arg0 || arg1", "arg0 > arg1", "arg0 + 1 > 2", "pid == 3", "!(arg0 > 1)",
                        "arg0 == 1 && pid", "x == 1", "self->a == 1", "arg0 & 4", "arg10 == 1",
                        "arg0 == (1 + 2)", "args[0] == 1"})
    EXPECT_FALSE(tests_of(p).has_value()) << p;
}

}  // namespace
}  // namespace vtrace::lang
