// printf()/printa() format strings and trace() output, compared with what dtrace(1) prints.
#include "engine/printf_format.h"

#include <gtest/gtest.h>

#include <vector>

namespace vtrace::engine {
namespace {

using lang::Type;

FormatArg I(int64_t v, Type t = Type::i64()) {
  FormatArg a;
  a.type = t;
  a.i = lang::narrow(v, t);
  return a;
}

FormatArg S(std::string_view s) {
  FormatArg a;
  a.type = Type::str();
  a.s = s;
  return a;
}

std::string fmt(std::string_view f, std::vector<FormatArg> args = {}) {
  PrintfFormat p;
  std::string err;
  EXPECT_TRUE(p.parse(f, err)) << f << ": " << err;
  std::string out;
  p.format(out, args);
  return out;
}

std::string parse_error(std::string_view f) {
  PrintfFormat p;
  std::string err;
  EXPECT_FALSE(p.parse(f, err)) << f;
  return err;
}

std::string check_error(std::string_view f, std::vector<Type> types, int first_arg = 2) {
  PrintfFormat p;
  std::string err;
  EXPECT_TRUE(p.parse(f, err)) << err;
  EXPECT_FALSE(p.check_args(types, err, first_arg)) << f;
  return err;
}

const Type kI8 = Type::int_of(1, true), kU8 = Type::int_of(1, false);
const Type kI16 = Type::int_of(2, true), kU16 = Type::int_of(2, false);
const Type kI32 = Type::i32(), kU32 = Type::int_of(4, false);
const Type kU64 = Type::int_of(8, false);

TEST(PrintfFormat, Literals) {
  EXPECT_EQ(fmt("hello\n"), "hello\n");
  EXPECT_EQ(fmt(""), "");
  EXPECT_EQ(fmt("a=%d b=%s\n", {I(1), S("x")}), "a=1 b=x\n");
  EXPECT_EQ(fmt("%%"), "%");
  EXPECT_EQ(fmt("100%%"), "100%");
  EXPECT_EQ(fmt("%d%%", {I(5)}), "5%");
}

TEST(PrintfFormat, SignedConversions) {
  EXPECT_EQ(fmt("%d", {I(42)}), "42");
  EXPECT_EQ(fmt("%i", {I(-7)}), "-7");
  EXPECT_EQ(fmt("%5d|", {I(42)}), "   42|");
  EXPECT_EQ(fmt("%-5d|", {I(42)}), "42   |");
  EXPECT_EQ(fmt("%05d", {I(42)}), "00042");
  EXPECT_EQ(fmt("%05d", {I(-42)}), "-0042");
  EXPECT_EQ(fmt("%+d", {I(42)}), "+42");
  EXPECT_EQ(fmt("% d", {I(42)}), " 42");
  EXPECT_EQ(fmt("%.3d", {I(42)}), "042");
  EXPECT_EQ(fmt("%8.3d|", {I(42)}), "     042|");
  EXPECT_EQ(fmt("%d", {I(INT64_MIN)}), "-9223372036854775808");
  // dtrace: a '0' after '-' turns zero-padding on and left-alignment off.
  EXPECT_EQ(fmt("%-05d", {I(42)}), "00042");
  EXPECT_EQ(fmt("%0-5d|", {I(42)}), "42   |");
  // %d of an unsigned type prints it unsigned.
  EXPECT_EQ(fmt("%d", {I(-1, Type::u64())}), "18446744073709551615");
  EXPECT_EQ(fmt("%d", {I(-1, kU8)}), "255");
  EXPECT_EQ(fmt("%d", {I(-1, kI8)}), "-1");
  EXPECT_EQ(fmt("%d", {I(-1, kI32)}), "-1");
  EXPECT_EQ(fmt("%d", {I(70000, kI16)}), "4464");
}

TEST(PrintfFormat, UnsignedConversions) {
  EXPECT_EQ(fmt("%u", {I(42)}), "42");
  EXPECT_EQ(fmt("%u", {I(-1)}), "18446744073709551615");
  EXPECT_EQ(fmt("%u", {I(-1, kI32)}), "4294967295");
  EXPECT_EQ(fmt("%u", {I(-1, kI16)}), "65535");
  EXPECT_EQ(fmt("%u", {I(-1, kI8)}), "255");
  EXPECT_EQ(fmt("%x", {I(255)}), "ff");
  EXPECT_EQ(fmt("%X", {I(255)}), "FF");
  EXPECT_EQ(fmt("%#x", {I(255)}), "0xff");
  EXPECT_EQ(fmt("%#X", {I(255)}), "0XFF");
  EXPECT_EQ(fmt("%08x", {I(255)}), "000000ff");
  EXPECT_EQ(fmt("%-6x|", {I(255)}), "ff    |");
  EXPECT_EQ(fmt("%x", {I(-1)}), "ffffffffffffffff");
  EXPECT_EQ(fmt("%x", {I(-1, kI32)}), "ffffffff");
  EXPECT_EQ(fmt("%x", {I(-1, kI16)}), "ffff");
  EXPECT_EQ(fmt("%x", {I(0xabcd, kU16)}), "abcd");
  EXPECT_EQ(fmt("%x", {I(-2, kU32)}), "fffffffe");
  EXPECT_EQ(fmt("%o", {I(8)}), "10");
  EXPECT_EQ(fmt("%#o", {I(8)}), "010");
  EXPECT_EQ(fmt("%5u|", {I(7)}), "    7|");
}

TEST(PrintfFormat, PointerIsBareHex) {
  // dt_printf.c maps %p to "x" (pfprint_uint): no "0x" prefix, hence the "0x%p" idiom.
  EXPECT_EQ(fmt("%p", {I(0x1234)}), "1234");
  EXPECT_EQ(fmt("%p", {I(0x7fff1234abcdLL)}), "7fff1234abcd");
  EXPECT_EQ(fmt("0x%p", {I(0xdead)}), "0xdead");
  EXPECT_EQ(fmt("%16p|", {I(0xdead)}), "            dead|");
  EXPECT_EQ(fmt("%?p|", {I(0xdead)}), "            dead|");
}

TEST(PrintfFormat, Char) {
  EXPECT_EQ(fmt("%c", {I(65, kI32)}), "A");
  EXPECT_EQ(fmt("%c", {I('z', kI8)}), "z");
  EXPECT_EQ(fmt("%3c|", {I(65, kI32)}), "  A|");
  EXPECT_EQ(fmt("%-3c|", {I(65, kI32)}), "A  |");
}

TEST(PrintfFormat, Strings) {
  EXPECT_EQ(fmt("%s", {S("hello")}), "hello");
  EXPECT_EQ(fmt("%10s|", {S("hello")}), "     hello|");
  EXPECT_EQ(fmt("%-10s|", {S("hello")}), "hello     |");
  EXPECT_EQ(fmt("%.3s|", {S("hello")}), "hel|");
  EXPECT_EQ(fmt("%10.3s|", {S("hello")}), "       hel|");
  EXPECT_EQ(fmt("%-6.2s|", {S("hello")}), "he    |");
  EXPECT_EQ(fmt("%s", {S("")}), "");
  // dtrace omits a zero precision from the format it hands to printf(3C).
  EXPECT_EQ(fmt("%.0s|", {S("hello")}), "hello|");
  EXPECT_EQ(fmt("[%s][%s]", {S("a"), S("b")}), "[a][b]");
}

TEST(PrintfFormat, FloatingConversionsOfIntegers) {
  EXPECT_EQ(fmt("%e", {I(12345)}), "1.234500e+04");
  EXPECT_EQ(fmt("%E", {I(12345)}), "1.234500E+04");
  EXPECT_EQ(fmt("%f", {I(3)}), "3.000000");
  EXPECT_EQ(fmt("%.2f", {I(-3)}), "-3.00");
  EXPECT_EQ(fmt("%8.1f|", {I(3)}), "     3.0|");
  EXPECT_EQ(fmt("%g", {I(100000)}), "100000");
  EXPECT_EQ(fmt("%g", {I(1000000)}), "1e+06");
  EXPECT_EQ(fmt("%G", {I(1000000)}), "1E+06");
  EXPECT_EQ(fmt("%.0f|", {I(2)}), "2.000000|");  // zero precision dropped, as dtrace does
}

TEST(PrintfFormat, StarWidthAndPrecision) {
  EXPECT_EQ(fmt("%*d|", {I(6, kI32), I(42)}), "    42|");
  EXPECT_EQ(fmt("%-*d|", {I(6, kI32), I(42)}), "42    |");
  EXPECT_EQ(fmt("%*d|", {I(-6, kI32), I(42)}), "42    |");
  EXPECT_EQ(fmt("%.*s|", {I(2, kI32), S("hello")}), "he|");
  EXPECT_EQ(fmt("%*.*s|", {I(6, kI32), I(2, kI32), S("hello")}), "    he|");
  EXPECT_EQ(fmt("%*s|%d", {I(4), S("ab"), I(9)}), "  ab|9");
  PrintfFormat p;
  std::string err;
  ASSERT_TRUE(p.parse("%*.*d", err));
  ASSERT_EQ(p.convs().size(), 1u);
  EXPECT_EQ(p.convs()[0].width, -2);
  EXPECT_EQ(p.convs()[0].precision, -2);
  EXPECT_TRUE(p.check_args({kI32, kI32, Type::i64()}, err)) << err;
}

// Widths and precisions are clamped to 8192 columns (printf_format_detail.h): "%*d" with
// INT_MAX once wrote a 2 GB line, and a traced program can supply '*' values as arguments.
TEST(PrintfFormat, WidthsAndPrecisionsAreBounded) {
  EXPECT_EQ(fmt("%*d", {I(2147483647, kI32), I(1)}).size(), 8192u);
  EXPECT_EQ(fmt("%*d", {I(-2147483647 - 1, kI32), I(1)}).size(), 8192u);  // left-justified
  EXPECT_EQ(fmt("%*d", {I(int64_t{1} << 40), I(1)}).size(), 8192u);       // not narrowed to 0
  EXPECT_EQ(fmt("%.*d", {I(2147483647, kI32), I(1)}).size(), 8192u);
  EXPECT_EQ(fmt("%*.*d", {I(1 << 30, kI32), I(1 << 30, kI32), I(1)}).size(), 8192u);
  EXPECT_EQ(fmt("%999999d", {I(7)}).size(), 8192u);
  EXPECT_EQ(fmt("%2147483647d", {I(7)}).size(), 8192u);
  EXPECT_EQ(fmt("%.999999x", {I(7)}).size(), 8192u);
  EXPECT_EQ(fmt("%-*s|", {I(100000, kI32), S("ab")}).size(), 8193u);
  // A %s precision only cuts: a huge one prints the whole string, a small one still cuts.
  const std::string big(10000, 'z');
  EXPECT_EQ(fmt("%.*s", {I(2147483647, kI32), S(big)}), big);
  EXPECT_EQ(fmt("%.9000s", {S(big)}).size(), 9000u);
  EXPECT_EQ(fmt("%*d|", {I(6, kI32), I(42)}), "    42|");  // ordinary widths unchanged
}

TEST(PrintfFormat, LengthModifiersAreAccepted) {
  EXPECT_EQ(fmt("%ld %lld %hd %hhd", {I(1), I(2), I(3), I(4)}), "1 2 3 4");
  EXPECT_EQ(fmt("%lx %llX %hu %lu", {I(255), I(255), I(-1, kI16), I(7)}), "ff FF 65535 7");
  EXPECT_EQ(fmt("%'d", {I(1234567)}), "1234567");
  PrintfFormat p;
  std::string err;
  ASSERT_TRUE(p.parse("%-08.3lld", err));
  const auto& c = p.convs()[0];
  EXPECT_EQ(c.conv, 'd');
  EXPECT_EQ(c.length, "ll");
  EXPECT_EQ(c.flags, "0");  // '0' after '-' wins, as in dtrace
  EXPECT_EQ(c.width, 8);
  EXPECT_EQ(c.precision, 3);
}

TEST(PrintfFormat, ParsesAggConversion) {
  PrintfFormat p;
  std::string err;
  ASSERT_TRUE(p.parse("%-20s %@8d\n", err));
  EXPECT_TRUE(p.has_agg_conversion());
  ASSERT_EQ(p.convs().size(), 3u);
  EXPECT_EQ(p.convs()[1].literal, " ");
  EXPECT_TRUE(p.convs()[1].agg);
  EXPECT_EQ(p.convs()[1].width, 8);
  EXPECT_EQ(p.convs()[2].conv, 0);
  EXPECT_EQ(p.convs()[2].literal, "\n");
  ASSERT_TRUE(p.parse("%s\n", err));
  EXPECT_FALSE(p.has_agg_conversion());
  EXPECT_EQ(p.text(), "%s\n");
}

TEST(PrintfFormat, ParseErrors) {
  EXPECT_EQ(parse_error("%z"), "format conversion #1 is undefined: %z");
  EXPECT_EQ(parse_error("%d %q"), "format conversion #2 is undefined: %q");
  EXPECT_EQ(parse_error("%% %y"), "format conversion #2 is undefined: %y");
  EXPECT_EQ(parse_error("%ls"), "format conversion #1 is undefined: %ls");
  EXPECT_EQ(parse_error("%hs"), "format conversion #1 is undefined: %hs");
  EXPECT_EQ(parse_error("abc%"), "format conversion #1 name expected before end of format string");
  EXPECT_EQ(parse_error("%-"), "format conversion #1 name expected before end of format string");
  EXPECT_EQ(parse_error("%5%"),
            "format conversion #1 cannot be combined with other format flags: %%");
  EXPECT_EQ(parse_error("%1$d"), "format conversion #1 uses unsupported positional format (%n$)");
  EXPECT_EQ(parse_error("%..2d"), "format conversion #1 has more than one '.' specified");
  EXPECT_EQ(parse_error("%**d"),
            "format conversion #1 has more than one '*' specified for the output width");
  EXPECT_EQ(parse_error("%.**d"),
            "format conversion #1 has more than one '*' specified for the output precision");
}

TEST(PrintfFormat, CheckArgsAccepts) {
  PrintfFormat p;
  std::string err;
  ASSERT_TRUE(p.parse("%s %d %u %x %c %p %e %%\n", err));
  EXPECT_TRUE(p.check_args({Type::str(), kI8, Type::u64(), kI16, kI32, Type::u64(), kI32}, err))
      << err;
  ASSERT_TRUE(p.parse("no conversions\n", err));
  EXPECT_TRUE(p.check_args({}, err)) << err;
}

TEST(PrintfFormat, CheckArgsTypeMismatch) {
  EXPECT_EQ(check_error("%s", {kI32}),
            "printf( ) argument #2 is incompatible with conversion #1 prototype:\n"
            "\tconversion: %s\n"
            "\t prototype: char [] or string (or use stringof)\n"
            "\t  argument: int");
  EXPECT_EQ(check_error("%d", {Type::str()}),
            "printf( ) argument #2 is incompatible with conversion #1 prototype:\n"
            "\tconversion: %d\n"
            "\t prototype: char, short, int, long, or long long\n"
            "\t  argument: string");
  EXPECT_EQ(check_error("%s %lld", {Type::str(), Type::str()}),
            "printf( ) argument #3 is incompatible with conversion #2 prototype:\n"
            "\tconversion: %lld\n"
            "\t prototype: char, short, int, long, or long long\n"
            "\t  argument: string");
  EXPECT_EQ(check_error("%c", {Type::i64()}),
            "printf( ) argument #2 is incompatible with conversion #1 prototype:\n"
            "\tconversion: %c\n"
            "\t prototype: char, short, or int\n"
            "\t  argument: long long");
  EXPECT_EQ(check_error("%f", {Type::str()}),
            "printf( ) argument #2 is incompatible with conversion #1 prototype:\n"
            "\tconversion: %f\n"
            "\t prototype: float, double, or long double\n"
            "\t  argument: string");
  EXPECT_EQ(check_error("%p", {Type::str()}),
            "printf( ) argument #2 is incompatible with conversion #1 prototype:\n"
            "\tconversion: %p\n"
            "\t prototype: pointer or integer\n"
            "\t  argument: string");
  // %% counts as a conversion in dtrace's numbering; first_arg shifts argument numbers.
  EXPECT_EQ(check_error("%% %s", {Type::u64()}, 3),
            "printf( ) argument #3 is incompatible with conversion #2 prototype:\n"
            "\tconversion: %s\n"
            "\t prototype: char [] or string (or use stringof)\n"
            "\t  argument: unsigned long long");
}

TEST(PrintfFormat, CheckArgsCounts) {
  EXPECT_EQ(check_error("%d %d", {kI32}),
            "printf( ) prototype mismatch: conversion #2 (%d) is missing a corresponding value "
            "argument");
  EXPECT_EQ(check_error("%d", {kI32, kI32}),
            "printf( ) prototype mismatch: only 1 arguments required by this format string");
  EXPECT_EQ(check_error("hello", {kI32}),
            "printf( ) prototype mismatch: only 0 arguments required by this format string");
  EXPECT_EQ(check_error("", {}), "printf( ) format string is empty");
  EXPECT_EQ(check_error("%*d", {}),
            "printf( ) prototype mismatch: conversion #1 (%d) is missing a corresponding \"*\" "
            "argument");
  EXPECT_EQ(check_error("%.*s", {kI32}),
            "printf( ) prototype mismatch: conversion #1 (%s) is missing a corresponding value "
            "argument");
  EXPECT_EQ(check_error("%*d", {Type::str(), kI32}),
            "printf( ) argument #2 is incompatible with conversion #1 prototype:\n"
            "\tconversion: % * d\n"
            "\t prototype: int\n"
            "\t  argument: string");
  EXPECT_EQ(check_error("%@d", {}),
            "%@ conversion requires an aggregation and is not for use with printf( )");
}

TEST(PrintfFormat, CheckPrinta) {
  PrintfFormat p;
  std::string err;
  ASSERT_TRUE(p.parse("%s %@d\n", err));
  EXPECT_TRUE(p.check_printa({Type::str()}, err)) << err;
  // printa() need not print every key.
  EXPECT_TRUE(p.check_printa({Type::str(), kI32}, err)) << err;
  ASSERT_TRUE(p.parse("%@d\n", err));
  EXPECT_TRUE(p.check_printa({}, err)) << err;
  ASSERT_TRUE(p.parse("%d %@d\n", err));
  EXPECT_FALSE(p.check_printa({Type::str()}, err));
  EXPECT_EQ(err,
            "printa( ) argument #2 is incompatible with conversion #1 prototype:\n"
            "\tconversion: %d\n"
            "\t prototype: char, short, int, long, or long long\n"
            "\t  argument: string");
  ASSERT_TRUE(p.parse("%s %s %@d\n", err));
  EXPECT_FALSE(p.check_printa({Type::str()}, err));
  EXPECT_EQ(err,
            "printa( ) prototype mismatch: conversion #2 (%s) is missing a corresponding value "
            "argument");
  ASSERT_TRUE(p.parse("%@s\n", err));
  EXPECT_FALSE(p.check_printa({}, err));
  EXPECT_EQ(err,
            "printa( ) aggregating action is incompatible with conversion #1 prototype:\n"
            "\tconversion: %s\n"
            "\t prototype: char [] or string (or use stringof)\n"
            "\t  argument: int64_t");
}

TEST(FormatTrace, IntegerWidthsPerSize) {
  auto t = [](FormatArg a, bool quiet) {
    std::string out;
    format_trace(out, a, quiet);
    return out;
  };
  // Oracle's dtrace (dt_print_trace): by size and signedness.
  EXPECT_EQ(t(I(42), false), "                  42");  // " %19lld"
  EXPECT_EQ(t(I(-42), false), "                 -42");
  EXPECT_EQ(t(I(42), true), "42");
  EXPECT_EQ(t(I(-1, kU64), false), " 18446744073709551615");  // " %20llu"
  EXPECT_EQ(t(I(-5, kI32), false), "         -5");            // " %10d"
  EXPECT_EQ(t(I(-5, kI32), true), "-5");
  EXPECT_EQ(t(I(-1, kU32), false), " 4294967295");  // " %10u"
  EXPECT_EQ(t(I(7, kI16), false), "     7");        // " %5d"
  EXPECT_EQ(t(I(-1, kI16), false), "    -1");
  EXPECT_EQ(t(I(-1, kU16), true), "65535");
  EXPECT_EQ(t(I(7, kI8), false), "   7");  // " %3d"
  EXPECT_EQ(t(I(-1, kI8), false), "  -1");
  EXPECT_EQ(t(I(-1, kU8), true), "255");
}

TEST(FormatTrace, Strings) {
  std::string out;
  format_trace(out, S("hello"), false);
  EXPECT_EQ(out, "  hello                            ");  // "  %-33s"
  out.clear();
  format_trace(out, S("hello"), true);
  EXPECT_EQ(out, "hello");
  out.clear();
  const std::string longer(40, 'x');
  format_trace(out, S(longer), false);
  EXPECT_EQ(out, "  " + longer);
}

}  // namespace
}  // namespace vtrace::engine
