// tracefs format parsing from canned format files (tests/targets/data, copied from a 6.x kernel),
// and the live tracefs when mounted.
#include "sys/tracefs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <sstream>

namespace vtrace::sys {
namespace {

std::string canned(const std::string& name) {
  std::ifstream in(std::string(HOST_TEST_DATA) + "/" + name, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(TracefsFormat, ParsesSchedSwitch) {
  std::string err;
  auto fmt = parse_format(canned("sched_switch.format"), err);
  ASSERT_TRUE(fmt) << err;
  EXPECT_EQ(fmt->name, "sched_switch");
  EXPECT_EQ(fmt->id, 372u);
  ASSERT_EQ(fmt->fields.size(), 11u);
  const EventField* comm = fmt->field("prev_comm");
  ASSERT_TRUE(comm);
  EXPECT_EQ(comm->type, "char[16]");
  EXPECT_EQ(comm->offset, 8u);
  EXPECT_EQ(comm->size, 16u);
  EXPECT_TRUE(comm->char_array);
  EXPECT_TRUE(comm->is_string());
  const EventField* state = fmt->field("prev_state");
  ASSERT_TRUE(state);
  EXPECT_EQ(state->type, "long");
  EXPECT_EQ(state->offset, 32u);
  EXPECT_EQ(state->size, 8u);
  EXPECT_TRUE(state->is_signed);
  EXPECT_FALSE(state->is_string());
  EXPECT_TRUE(fmt->field("common_pid")->is_common());
  EXPECT_EQ(fmt->args().size(), 7u);
  EXPECT_EQ(fmt->fixed_size(), 64u);
  EXPECT_EQ(fmt->field("nope"), nullptr);
}

TEST(TracefsFormat, ParsesDataLocStrings) {
  std::string err;
  auto fmt = parse_format(canned("sched_process_exec.format"), err);
  ASSERT_TRUE(fmt) << err;
  const EventField* f = fmt->field("filename");
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->data_loc);
  EXPECT_FALSE(f->char_array);
  EXPECT_EQ(f->size, 4u);
  EXPECT_EQ(f->type, "__data_loc char[]");
}

TEST(TracefsFormat, RejectsMalformed) {
  std::string err;
  EXPECT_FALSE(parse_format("", err));
  EXPECT_FALSE(parse_format("name: x\n", err));  // no ID
  EXPECT_FALSE(
      parse_format("name: x\nID: 1\n\tfield:int a;\toffset:zz;\tsize:4;\tsigned:1;\n", err));
  EXPECT_FALSE(parse_format("name: x\nID: 1\n\tfield:int;\toffset:0;\tsize:4;\tsigned:1;\n", err));
  EXPECT_FALSE(
      parse_format("name: x\nID: 1\n\tfield:int a;\toffset:0;\tsize:99999;\tsigned:1;\n", err));
  EXPECT_FALSE(parse_format("name: x\nID: 99999999999\n", err));
  auto ok =
      parse_format("name: x\nID: 7\n\tfield:u64 a[2];\toffset:8;\tsize:16;\tsigned:0;\n", err);
  ASSERT_TRUE(ok) << err;
  EXPECT_FALSE(ok->fields[0].is_string());
}

TEST(TracefsFormat, KvmExitReasonTables) {
  std::string err;
  auto fmt = parse_format(canned("kvm_exit.format"), err);
  ASSERT_TRUE(fmt) << err;
  auto tables = print_symbolic_tables(fmt->print_fmt);
  ASSERT_EQ(tables.size(), 2u);  // VMX, SVM
  EXPECT_EQ(tables[0].at(12), "HLT");
  EXPECT_EQ(tables[0].at(30), "IO_INSTRUCTION");
  EXPECT_EQ(tables[1].at(0x040 + 14), "PF excp");
  EXPECT_EQ(tables[1].at(0x078), "hlt");
  EXPECT_EQ(tables[1].at(-1), "invalid_guest_state");
  EXPECT_TRUE(print_symbolic_tables("\"%d\", REC->x").empty());
  EXPECT_EQ(print_symbolic_tables("__print_symbolic(x, { 1, \"a)\" }, {2,\"b\"}").at(0).size(), 2u);
}

// Found by fuzz/tracefs_fuzz: values past INT64_MAX, or -0x8000000000000000, were a signed
// overflow (undefined behaviour; the sanitizer build aborts). They wrap, as the kernel's C does.
TEST(TracefsFormat, SymbolicValuesWrapAround) {
  auto tables = print_symbolic_tables(
      "__print_symbolic(REC->v, { 0x7fffffffffffffff + 2, \"A\" }, { -0x8000000000000000, \"B\" }, "
      "{ -0x8000000000000000 + -1, \"C\" }, { 9223372036854775807 + 9223372036854775807, \"D\" })");
  ASSERT_EQ(tables.size(), 1u);
  EXPECT_EQ(tables[0].at(INT64_MIN + 1), "A");
  EXPECT_EQ(tables[0].at(INT64_MIN), "B");
  EXPECT_EQ(tables[0].at(INT64_MAX), "C");
  EXPECT_EQ(tables[0].at(-2), "D");
}

TEST(Tracefs, LiveFormats) {
  Tracefs fs;
  std::string err;
  if (!fs.open(err)) GTEST_SKIP() << "skipped: " << err;
  if (!fs.exists("sched", "sched_switch")) GTEST_SKIP() << "skipped: no sched events";
  const EventFormat* f = fs.format("sched", "sched_switch", err);
  ASSERT_TRUE(f) << err;
  EXPECT_GT(f->id, 0u);
  EXPECT_TRUE(f->field("next_pid"));
  EXPECT_FALSE(fs.format("sched", "no_such_event", err));
  EXPECT_NE(err.find("no tracepoint sched:no_such_event"), std::string::npos) << err;
  EXPECT_FALSE(fs.exists("..", "x"));
  EXPECT_FALSE(fs.events().empty());
  // Every format this kernel has parses.
  size_t parsed = 0;
  for (const auto& [sys, ev] : fs.events()) {
    std::string e;
    if (fs.exists(sys, ev) && fs.format(sys, ev, e))
      ++parsed;
    else if (fs.exists(sys, ev))
      ADD_FAILURE() << sys << ":" << ev << ": " << e;
  }
  EXPECT_GT(parsed, 100u);
}

}  // namespace
}  // namespace vtrace::sys
