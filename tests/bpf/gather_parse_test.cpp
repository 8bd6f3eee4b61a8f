// The record parser refuses every record a gather program of the plan could not have written.
#include "bpf/gather_parse.h"

#include <gtest/gtest.h>

#include <vector>

#include "bpf/gather_layout.h"

namespace vtrace::bpf {
namespace {

GatherPlan plan() {
  GatherPlan p;
  p.probe = 5;
  p.data_size = 20;
  p.data_extra = 10;
  p.strsize = 13;  // not a multiple of 8: slots are padded
  p.strings.resize(2);
  p.kernel_frames = 4;
  p.user_frames = 3;
  return p;
}

// A well-formed record of plan(): strings "hi" and "" (a fault), two kernel frames, no ustack.
struct Record {
  GatherPlan p = plan();
  GatherLayout l = gather_layout(p);
  std::vector<uint8_t> bytes = std::vector<uint8_t>(l.size, 0xee);

  Record() {
    GatherHeader h{};
    h.probe = 5;
    h.pid = 100;
    h.tid = 101;
    h.data_len = 30;
    memcpy(h.comm, "0123456789abcdef", 16);  // no NUL: 16 characters
    h.kstack_len = 16;
    h.ustack_len = -14;  // EFAULT
    put(0, h);
    set_string(0, {0x1000, 12, 3}, "hi");
    set_string(1, {0x2000, 12, -14}, "");
    for (uint64_t i = 0; i < 4; ++i) put(l.kstack_offset + 8 * i, 0xffffffff81000000ull + i);
  }
  template <class T>
  void put(uint64_t at, const T& v) {
    memcpy(bytes.data() + at, &v, sizeof(v));
  }
  void set_string(size_t i, GatherString s, const char* text) {
    put(l.string_offset(i), s);
    memcpy(bytes.data() + l.string_offset(i) + sizeof(GatherString), text, strlen(text) + 1);
  }
  GatherHeader& header() { return *reinterpret_cast<GatherHeader*>(bytes.data()); }
  bool parse(GatherView& v) { return parse_gather_record(bytes.data(), bytes.size(), p, v); }
  bool parse() {
    GatherView v;
    return parse(v);
  }
};

TEST(GatherLayout, SectionsAre8ByteAligned) {
  GatherLayout l = gather_layout(plan());
  EXPECT_EQ(l.data_offset, 72u);
  EXPECT_EQ(l.data_room, 30u);
  EXPECT_EQ(l.strings_offset, 104u);
  EXPECT_EQ(l.string_stride, 16u + 16u);
  EXPECT_EQ(l.kstack_offset, 104u + 64u);
  EXPECT_EQ(l.ustack_offset, 168u + 32u);
  EXPECT_EQ(l.size, 200u + 24u);
}

TEST(GatherParse, AWellFormedRecord) {
  Record r;
  GatherView v;
  ASSERT_TRUE(r.parse(v));
  EXPECT_EQ(v.header.pid, 100u);
  EXPECT_EQ(v.comm(), "0123456789abcdef");
  EXPECT_EQ(v.data, r.bytes.data() + 72);
  EXPECT_EQ(v.data_len, 30u);
  ASSERT_EQ(v.strings.size(), 2u);
  EXPECT_EQ(v.strings[0].str, "hi");
  EXPECT_EQ(v.strings[0].addr, 0x1000u);
  EXPECT_FALSE(v.strings[0].faulted());
  EXPECT_TRUE(v.strings[1].faulted());
  EXPECT_EQ(v.strings[1].str, "");
  ASSERT_EQ(v.kstack.size(), 2u);
  EXPECT_EQ(v.kstack[1], 0xffffffff81000001ull);
  EXPECT_TRUE(v.ustack.empty());  // a failed bpf_get_stack() is not a malformed record
}

TEST(GatherParse, ARecordOfAnotherSizeOrProbe) {
  Record r;
  GatherView v;
  EXPECT_FALSE(parse_gather_record(r.bytes.data(), r.bytes.size() - 1, r.p, v));
  r.bytes.push_back(0);
  EXPECT_FALSE(r.parse());
  r.bytes.pop_back();
  EXPECT_FALSE(parse_gather_record(r.bytes.data(), 10, r.p, v));  // shorter than the header
  EXPECT_FALSE(parse_gather_record(nullptr, r.bytes.size(), r.p, v));
  r.header().probe = 6;
  EXPECT_FALSE(r.parse());
}

TEST(GatherParse, DataLongerThanItsRoom) {
  Record r;
  r.header().data_len = 31;
  EXPECT_FALSE(r.parse());
  r.header().data_len = 0xffffffff;
  EXPECT_FALSE(r.parse());
  r.header().data_len = 0;
  EXPECT_TRUE(r.parse());
}

TEST(GatherParse, StringLengthsOutsideTheirSlot) {
  {
    Record r;  // max beyond strsize - 1
    r.set_string(0, {0x1000, 13, 3}, "hi");
    EXPECT_FALSE(r.parse());
  }
  {
    Record r;  // len beyond max + 1
    r.set_string(0, {0x1000, 1, 3}, "hi");
    EXPECT_FALSE(r.parse());
  }
  {
    Record r;  // len beyond the slot
    r.set_string(0, {0x1000, 12, 1000}, "hi");
    EXPECT_FALSE(r.parse());
  }
  {
    Record r;  // no NUL where len says
    r.set_string(0, {0x1000, 12, 2}, "hi");
    EXPECT_FALSE(r.parse());
  }
  {
    Record r;  // a full slot: 12 characters and the NUL
    r.set_string(0, {0x1000, 12, 13}, "abcdefghijkl");
    GatherView v;
    ASSERT_TRUE(r.parse(v));
    EXPECT_EQ(v.strings[0].str, "abcdefghijkl");
  }
  {
    Record r;  // nothing read
    r.set_string(0, {0x1000, 0, 0}, "");
    GatherView v;
    ASSERT_TRUE(r.parse(v));
    EXPECT_EQ(v.strings[0].str, "");
    EXPECT_FALSE(v.strings[0].faulted());
  }
}

TEST(GatherParse, StackLengthsOutsideTheirSection) {
  for (int32_t bad : {33, 40, 12, 1, 0x7fffffff}) {
    Record r;
    r.header().kstack_len = bad;
    EXPECT_FALSE(r.parse()) << bad;
  }
  for (int32_t bad : {25, 32, 4}) {
    Record r;
    r.header().ustack_len = bad;
    EXPECT_FALSE(r.parse()) << bad;
  }
  Record r;
  r.header().kstack_len = 32;
  r.header().ustack_len = 24;
  GatherView v;
  ASSERT_TRUE(r.parse(v));
  EXPECT_EQ(v.kstack.size(), 4u);
  EXPECT_EQ(v.ustack.size(), 3u);
}

TEST(GatherParse, APlanWithoutSections) {
  GatherPlan p;
  std::vector<uint8_t> bytes(sizeof(GatherHeader), 0);
  GatherView v;
  ASSERT_TRUE(parse_gather_record(bytes.data(), bytes.size(), p, v));
  EXPECT_TRUE(v.strings.empty());
  EXPECT_EQ(v.data_len, 0u);
  bytes[offsetof(GatherHeader, kstack_len)] = 8;
  EXPECT_FALSE(parse_gather_record(bytes.data(), bytes.size(), p, v));
}

}  // namespace
}  // namespace vtrace::bpf
