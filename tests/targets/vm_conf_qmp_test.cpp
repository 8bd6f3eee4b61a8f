// vm.conf and QMP replies as vm_manager reads them (targets/qemu/vm_conf.h, qmp.h): no VM
// needed. The fuzzers fuzz/vm_conf_fuzz and fuzz/qmp_fuzz try the malformed cases.
#include <gtest/gtest.h>

#include <string>

#include "targets/qemu/qmp.h"
#include "targets/qemu/qmp_events.h"
#include "targets/qemu/vm_conf.h"

namespace vtrace::targets::qemu {
namespace {

TEST(VmConf, RoundTrip) {
  VmInfo v;
  v.name = "web1";
  v.cpus = 2;
  v.mem_mib = 512;
  v.accel = "tcg";
  v.accel_reason = "a=b: reasons may hold '='";
  v.shm_id = "0123456789abcdef";
  v.boot_seconds = 6.25;
  v.share = "mbox";
  const auto kv = parse_conf(format_conf(v));
  EXPECT_EQ(kv.at("name"), "web1");
  EXPECT_EQ(kv.at("shm_id"), "0123456789abcdef");
  VmInfo w;
  apply_conf(kv, w);
  EXPECT_EQ(w.cpus, 2u);
  EXPECT_EQ(w.mem_mib, 512u);
  EXPECT_EQ(w.accel, "tcg");
  EXPECT_EQ(w.accel_reason, v.accel_reason);
  EXPECT_DOUBLE_EQ(w.boot_seconds, 6.25);
  EXPECT_EQ(w.share, "mbox");
  EXPECT_EQ(w.share_path, share_path("mbox"));
}

TEST(VmConf, HostileValuesMakeNoPaths) {
  VmInfo v;
  apply_conf(parse_conf("cpus=abc\nmem=\nshare=../../etc\nshm_id=../x\nnoequals\n"), v);
  EXPECT_EQ(v.cpus, 0u);
  EXPECT_EQ(v.mem_mib, 0u);
  EXPECT_EQ(v.share, "");
  EXPECT_EQ(v.share_path, "");
  EXPECT_FALSE(valid_shm_id("../x"));
  EXPECT_FALSE(valid_shm_id("0123456789ABCDEF"));
  EXPECT_TRUE(valid_shm_id("0123456789abcdef"));
}

TEST(Qmp, EventsAreSkippedAndPartialLinesKept) {
  std::string buf = "{\"event\": \"STOP\"}\r\n{\"return\": {\"status\": \"paused\"}}\r\n{\"ret";
  std::string reply;
  ASSERT_TRUE(take_qmp_reply(buf, reply));
  EXPECT_EQ(reply, "{\"return\": {\"status\": \"paused\"}}\r");
  EXPECT_EQ(buf, "{\"ret");
  EXPECT_FALSE(take_qmp_reply(buf, reply));
  buf += "urn\": {}}\n";
  ASSERT_TRUE(take_qmp_reply(buf, reply));
  EXPECT_EQ(reply, "{\"return\": {}}");
  buf = "{\"event\": \"RESUME\"}\n";
  EXPECT_FALSE(take_qmp_reply(buf, reply));
  EXPECT_EQ(buf, "");
  buf = "{\"error\": {\"class\": \"GenericError\"}}\n";
  ASSERT_TRUE(take_qmp_reply(buf, reply));
  EXPECT_EQ(reply, "{\"error\": {\"class\": \"GenericError\"}}");
}

// The tracer's event socket: STOP/RESUME with QEMU's wall-clock stamp, turned into host
// monotonic time; replies and garbage are not events.
TEST(Qmp, EventsCarryTheirTimeInHostMonotonicNs) {
  QmpEvent ev;
  ASSERT_TRUE(parse_qmp_event(
      R"({"timestamp": {"seconds": 1700000002, "microseconds": 500}, "event": "STOP"})",
      1'700'000'000'000'000'000, ev));
  EXPECT_EQ(ev.name, "STOP");
  EXPECT_EQ(ev.host_ns, 2'000'500'000u);
  EXPECT_FALSE(parse_qmp_event(R"({"return": {}})", 0, ev));
  EXPECT_FALSE(parse_qmp_event(R"({"event": "RESUME"})", 0, ev));  // no timestamp
  EXPECT_FALSE(
      parse_qmp_event(R"({"event": "", "timestamp": {"seconds": 1, "microseconds": 0}})", 0, ev));
  EXPECT_FALSE(parse_qmp_event("{\"event\": \"STOP\", \"timestamp\": {", 0, ev));
  // Times no clock gives (the fuzzer's: seconds * 1e9 overflowed) are not events.
  EXPECT_FALSE(parse_qmp_event(
      R"({"timestamp": {"seconds": 17000000000, "microseconds": 1}, "event": "STOP"})", 0, ev));
  EXPECT_FALSE(parse_qmp_event(
      R"({"timestamp": {"seconds": 1, "microseconds": -5}, "event": "STOP"})", 0, ev));
  EXPECT_FALSE(parse_qmp_event(
      R"({"timestamp": {"seconds": 1, "microseconds": 1000000}, "event": "STOP"})", 0, ev));
}

}  // namespace
}  // namespace vtrace::targets::qemu
