// The host's side of guest symbol requests (targets/qemu/guest_symbolizer.h): an agent's answer
// is believed only in the shape asked for; a guest that cannot answer prints addresses.
#include "targets/qemu/guest_symbolizer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using vtrace::engine::Symbol;
using vtrace::targets::qemu::GuestSymbolizer;

const std::vector<std::string> kAsked = {"k:ffffffff81000010", "u:7:1:401000"};

TEST(GuestSymbolizer, ReadsAnAnswerInTheShapeAsked) {
  std::vector<Symbol> out;
  ASSERT_TRUE(GuestSymbolizer::parse_answer(
      "k:ffffffff81000010\tvmlinux\tdo_syscall_64\t10\nu:7:1:401000\tbusybox\t\t0\n", kAsked, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].module, "vmlinux");
  EXPECT_EQ(out[0].name, "do_syscall_64");
  EXPECT_EQ(out[0].offset, 0x10u);
  EXPECT_EQ(out[1].module, "busybox");  // a stripped file: its name only
  EXPECT_EQ(out[1].name, "");
  // Unknown addresses: empty fields.
  ASSERT_TRUE(GuestSymbolizer::parse_answer("k:ffffffff81000010\t\t\t0\nu:7:1:401000\t\t\t0\n",
                                            kAsked, out));
  EXPECT_EQ(out[0].module, "");
}

TEST(GuestSymbolizer, RefusesAnswersOfAnotherShape) {
  std::vector<Symbol> out;
  const std::string second = "u:7:1:401000\tbusybox\t\t0\n";
  const std::vector<std::string> bads = {
      std::string("u:7:1:401000\tbusybox\t\t0\nk:ffffffff81000010\tvmlinux\tf\t0\n"),  // order
      "k:ffffffff81000010\tvmlinux\tf\t0\n",                         // a line missing
      "k:ffffffff81000010\tvmlinux\tf\t0\n" + second + "extra\n",    // one too many
      "k:ffffffff81000010\tvmlinux\tf\t0\n" + second.substr(0, 10),  // cut
      "k:ffffffff81000010\tvmlinux\tf\tzz\n" + second,               // offset not hex
      "k:ffffffff81000010\tvmlinux\tf\t\n" + second,                 // no offset
      "k:ffffffff81000010\tvmlinux\tf\n" + second,                   // a field short
  };
  for (const std::string& bad : bads)
    EXPECT_FALSE(GuestSymbolizer::parse_answer(bad, kAsked, out)) << bad;
}

// A name the host would not print as it is: that address is unknown, the others are named.
TEST(GuestSymbolizer, ANameItCannotPrintIsUnknown) {
  std::vector<Symbol> out;
  const std::string second = "u:7:1:401000\tbusybox\t\t0\n";
  const std::vector<std::string> odds = {
      "k:ffffffff81000010\t\tf\t0\n" + second,          // a name without a module
      "k:ffffffff81000010\tvm linux\tf\t0\n" + second,  // a blank (" (deleted)")
      "k:ffffffff81000010\tvmlinux\tf\x01\t0\n" + second,
      "k:ffffffff81000010\tvmlinux\t" + std::string(300, 'f') + "\t0\n" + second,
  };
  for (const std::string& odd : odds) {
    ASSERT_TRUE(GuestSymbolizer::parse_answer(odd, kAsked, out)) << odd;
    EXPECT_EQ(out[0].module, "") << odd;
    EXPECT_EQ(out[0].name, "") << odd;
    EXPECT_EQ(out[1].module, "busybox") << odd;
  }
}

TEST(GuestSymbolizer, AGuestThatCannotAnswerPrintsAddresses) {
  GuestSymbolizer s;
  vtrace::targets::qemu::ExecTarget t;
  t.vm_name = "nowhere";
  t.channel = "/nonexistent/nowhere.channel";
  t.lock = "/nonexistent/exec.lock";
  s.add(1, t);
  testing::internal::CaptureStderr();
  EXPECT_EQ(s.kernel(1, 0xffffffff81000010).module, "");
  EXPECT_EQ(s.user({1, 7, 1}, 0x401000).module, "");  // not asked again
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("vtrace: nowhere: no symbols for its stacks: "), std::string::npos) << err;
  EXPECT_EQ(err.find("no symbols", err.find("no symbols") + 1), std::string::npos) << err;
  EXPECT_EQ(s.kernel(2, 0xffffffff81000010).module, "");  // not a guest it knows
}

}  // namespace
