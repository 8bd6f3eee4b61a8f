#include <gtest/gtest.h>
TEST(Conformance, Placeholder) {}
