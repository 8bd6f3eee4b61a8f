// The vtrace command line: dtrace(1)-style flag parsing.
#include "cli/options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vtrace::cli {
namespace {

CommandLine parse(std::vector<std::string> args) {
  args.insert(args.begin(), "vtrace");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return parse_command_line(static_cast<int>(args.size()), argv.data());
}

// The UsageError message for args, or "no error".
std::string usage_error(std::vector<std::string> args) {
  try {
    parse(std::move(args));
  } catch (const UsageError& e) {
    return e.message;
  }
  return "no error";
}

TEST(CliOptionsTest, Defaults) {
  CommandLine cl = parse({});
  EXPECT_FALSE(cl.quiet);
  EXPECT_FALSE(cl.list);
  EXPECT_TRUE(cl.descriptions.empty());
  EXPECT_TRUE(cl.scripts.empty());
  EXPECT_TRUE(cl.macro_args.empty());
}

TEST(CliOptionsTest, CombinedFlags) {
  CommandLine cl = parse({"-qn", "BEGIN { exit(0); }"});
  EXPECT_TRUE(cl.quiet);
  ASSERT_EQ(cl.descriptions.size(), 1u);
  EXPECT_EQ(cl.descriptions[0], "BEGIN { exit(0); }");

  cl = parse({"-qZwel"});
  EXPECT_TRUE(cl.quiet);
  EXPECT_TRUE(cl.zdefs);
  EXPECT_TRUE(cl.destructive);
  EXPECT_TRUE(cl.compile_only);
  EXPECT_TRUE(cl.list);
}

TEST(CliOptionsTest, AttachedAndSeparateValues) {
  CommandLine cl = parse({"-nBEGIN", "-n", "END", "-oout.txt", "-xquiet", "-x", "strsize=512"});
  EXPECT_EQ(cl.descriptions, (std::vector<std::string>{"BEGIN", "END"}));
  EXPECT_EQ(cl.output, "out.txt");
  ASSERT_EQ(cl.xopts.size(), 2u);
  EXPECT_EQ(cl.xopts[0], (std::pair<std::string, std::string>{"quiet", ""}));
  EXPECT_EQ(cl.xopts[1], (std::pair<std::string, std::string>{"strsize", "512"}));
  cl = parse({"-s", "x.d"});
  EXPECT_EQ(cl.scripts, std::vector<std::string>{"x.d"});
  cl = parse({"-sx.d"});
  EXPECT_EQ(cl.scripts, std::vector<std::string>{"x.d"});
  cl = parse({"-qsx.d"});
  EXPECT_TRUE(cl.quiet);
  EXPECT_EQ(cl.scripts, std::vector<std::string>{"x.d"});
}

TEST(CliOptionsTest, XOptionNameValue) {
  CommandLine cl = parse({"-x", "dynvarsize=4m", "-x", "mode=sync", "-x", "a=b=c"});
  ASSERT_EQ(cl.xopts.size(), 3u);
  EXPECT_EQ(cl.xopts[0].first, "dynvarsize");
  EXPECT_EQ(cl.xopts[0].second, "4m");
  EXPECT_EQ(cl.xopts[1].second, "sync");
  EXPECT_EQ(cl.xopts[2].first, "a");
  EXPECT_EQ(cl.xopts[2].second, "b=c");
}

// dtrace's -b SIZE is -x bufsize=SIZE (checked with the other options by the engine).
TEST(CliOptionsTest, DashBIsBufsize) {
  CommandLine cl = parse({"vtrace", "-b64", "-b", "4m", "-n", "BEGIN"});
  ASSERT_EQ(cl.xopts.size(), 2u);
  EXPECT_EQ(cl.xopts[0], (std::pair<std::string, std::string>{"bufsize", "64"}));
  EXPECT_EQ(cl.xopts[1], (std::pair<std::string, std::string>{"bufsize", "4m"}));
}

TEST(CliOptionsTest, OperandsBecomeMacroArgsAndOptionsMayFollowThem) {
  // As dtrace(1)'s option loop: an operand does not end the options (`-s x.d 100 -c cmd`).
  CommandLine cl = parse({"-s", "x.d", "42", "hello", "-q", "-c", "ls -l"});
  EXPECT_EQ(cl.macro_args, (std::vector<std::string>{"42", "hello"}));
  EXPECT_TRUE(cl.quiet);
  EXPECT_EQ(cl.command, "ls -l");
}

TEST(CliOptionsTest, DoubleDashEndsOptions) {
  CommandLine cl = parse({"-q", "-n", "BEGIN", "--", "-x", "7"});
  EXPECT_TRUE(cl.quiet);
  EXPECT_TRUE(cl.xopts.empty());
  EXPECT_EQ(cl.macro_args, (std::vector<std::string>{"-x", "7"}));
}

TEST(CliOptionsTest, LoneDashIsAnOperand) {
  CommandLine cl = parse({"-n", "BEGIN", "-"});
  EXPECT_EQ(cl.macro_args, std::vector<std::string>{"-"});
}

TEST(CliOptionsTest, ProbeSelectorsBecomeDescriptions) {
  CommandLine cl = parse({"-l", "-P", "syscall", "-m", "kernel", "-f", "read", "-i", "4"});
  EXPECT_TRUE(cl.list);
  EXPECT_EQ(cl.descriptions, (std::vector<std::string>{"syscall:::", ":kernel::", "::read:"}));
  EXPECT_EQ(cl.list_ids, std::vector<std::string>{"4"});
}

TEST(CliOptionsTest, CommandOutputHelpVersion) {
  CommandLine cl = parse({"-c", "./app --flag", "-n", "BEGIN"});
  EXPECT_EQ(cl.command, "./app --flag");
  EXPECT_TRUE(parse({"-h"}).help);
  EXPECT_TRUE(parse({"--help"}).help);
  EXPECT_TRUE(parse({"-V"}).version);
  EXPECT_TRUE(parse({"--version"}).version);
}

TEST(CliOptionsTest, PidFlags) {
  EXPECT_EQ(parse({"-p", "4242", "-p4243", "-n", "BEGIN"}).pids, (std::vector<int>{4242, 4243}));
  std::string e = usage_error({"-p", "12x"});
  EXPECT_NE(e.find("invalid process ID: 12x"), std::string::npos) << e;
  e = usage_error({"-p", "0"});
  EXPECT_NE(e.find("invalid process ID"), std::string::npos) << e;
}

TEST(CliOptionsTest, VmNamesRepeatAndSplitOnCommas) {
  CommandLine cl = parse({"--vm", "web1,db1", "--vm=web2", "-n", "BEGIN"});
  EXPECT_EQ(cl.vms, (std::vector<std::string>{"web1", "db1", "web2"}));
  std::string e = usage_error({"--vm"});
  EXPECT_NE(e.find("requires a VM name"), std::string::npos) << e;
  EXPECT_NE(std::string(usage_text()).find("--vm NAME"), std::string::npos);
}

TEST(CliOptionsTest, UnknownFlags) {
  std::string e = usage_error({"-y"});
  EXPECT_NE(e.find("unknown option -y"), std::string::npos) << e;
  e = usage_error({"-qy"});
  EXPECT_NE(e.find("-y"), std::string::npos) << e;
  e = usage_error({"--frobnicate"});
  EXPECT_NE(e.find("--frobnicate"), std::string::npos) << e;
}

TEST(CliOptionsTest, MissingValues) {
  for (const char* flag : {"-n", "-s", "-x", "-o", "-c", "-P", "-m", "-f", "-i"}) {
    std::string e = usage_error({flag});
    EXPECT_NE(e.find("requires an argument"), std::string::npos) << flag << ": " << e;
  }
  EXPECT_NE(usage_error({"-qn"}).find("requires an argument"), std::string::npos);
}

TEST(CliOptionsTest, InvalidCombinations) {
  EXPECT_NE(usage_error({"-s", "a.d", "-s", "b.d"}), "no error");
  EXPECT_NE(usage_error({"-s", "a.d", "-n", "BEGIN"}), "no error");
}

}  // namespace
}  // namespace vtrace::cli

namespace vtrace::cli {
namespace {

TEST(CliOptionsTest, PreprocessorOptionsGoToCpp) {
  CommandLine cl = parse({"-C", "-Dprobe=BEGIN", "-U", "__linux", "-I/inc", "-xdefine=A=1",
                          "-xundef=B", "-xincdir=/x", "-xstdc=s", "-xquiet"});
  EXPECT_TRUE(cl.preprocess);
  EXPECT_EQ(cl.cpp_args, (std::vector<std::string>{"-Dprobe=BEGIN", "-U__linux", "-I/inc", "-DA=1",
                                                   "-UB", "-I/x"}));
  EXPECT_TRUE(cl.cpp_traditional);
  ASSERT_EQ(cl.xopts.size(), 1u);  // only the engine's options stay -x options
  EXPECT_EQ(cl.xopts[0].first, "quiet");
  EXPECT_TRUE(parse({"-xcpp"}).preprocess);
  // A bad value is the engine's to refuse (status 1, as dtrace), not a usage error.
  EXPECT_EQ(parse({"-xstdc=q"}).xopts[0].first, "stdc");
}

}  // namespace
}  // namespace vtrace::cli
