// The agent's parts, without a running agent: exec request parsing, tail cutting, the probe
// table's publication, the guest ring writer, finding the ivshmem device in sysfs, and the kernel
// functions fbt probes are made for (against a tracefs made of plain files).
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "agent_host.h"
#include "guest/agent/bar_mapping.h"
#include "guest/agent/exec_server.h"
#include "guest/agent/guest_ring.h"
#include "guest/agent/kernel_functions.h"
#include "guest/agent/probe_table.h"

namespace agent_test {
namespace {

using namespace vtrace::guest;

TEST(AgentParts, ParsesArgv) {
  vtrace_guest_exec ex{};
  std::memcpy(ex.argv, "sh\0-c\0exit 3\0", 13);
  ex.argc = 3;
  ex.argv_len = 13;
  std::vector<std::string> argv;
  EXPECT_EQ(parse_argv(ex, argv), "");
  EXPECT_EQ(argv, (std::vector<std::string>{"sh", "-c", "exit 3"}));
  ex.argc = 4;
  EXPECT_NE(parse_argv(ex, argv), "");
  ex.argc = 0;
  EXPECT_NE(parse_argv(ex, argv), "");
  ex.argc = 1;
  ex.argv_len = sizeof ex.argv + 1;
  EXPECT_NE(parse_argv(ex, argv), "");
}

TEST(AgentParts, CutsLongStringsVisibly) {
  vtrace_guest_record rec{};
  set_tail(rec, "abc", 100);
  EXPECT_STREQ(rec.tail, "abc");
  EXPECT_EQ(rec.tail_len, 4);
  std::string longer(400, 'x');
  set_tail(rec, longer.c_str(), longer.size() + 1);
  EXPECT_EQ(rec.tail_len, VTRACE_GUEST_TAIL_SIZE);
  std::string got(rec.tail);
  EXPECT_EQ(got.size(), VTRACE_GUEST_TAIL_SIZE - 1);
  EXPECT_EQ(got.substr(got.size() - 3), "...");
}

TEST(AgentParts, TablePublishesCountThenGenerationAndReportsFull) {
  std::vector<char> mem(4096 + 3 * sizeof(vtrace_guest_probe));
  auto* h = reinterpret_cast<vtrace_guest_header*>(mem.data());
  auto* entries = reinterpret_cast<vtrace_guest_probe*>(mem.data() + 4096);
  GuestProbeTable t;
  t.attach(h, entries, 3);
  EXPECT_EQ(t.add(VTRACE_GPROBE_NATIVE, 42, 12, 1, "p", std::string(100, 'm'), "f", "n"), 0u);
  EXPECT_EQ(h->probe_count, 0u) << "not visible before publish";
  EXPECT_EQ(t.publish(), 1u);
  EXPECT_EQ(h->probe_count, 1u);
  EXPECT_EQ(h->table_gen, 1u);
  EXPECT_EQ(t.publish(), 1u) << "nothing new, no new generation";
  EXPECT_EQ(entries[0].nargs, VTRACE_MAX_ARGS);
  EXPECT_EQ(std::string(entries[0].module).size(), sizeof entries[0].module - 1);
  t.add(VTRACE_GPROBE_NATIVE, 42, 0, 0, "p", "m", "f", "n2");
  t.add(VTRACE_GPROBE_NATIVE, 42, 0, 0, "p", "m", "f", "n3");
  EXPECT_EQ(t.add(VTRACE_GPROBE_NATIVE, 42, 0, 0, "p", "m", "f", "n4"), kNoEntry);
  EXPECT_NE(std::string(h->agent_error).find("full"), std::string::npos);
  EXPECT_EQ(t.publish(), 2u);
  EXPECT_EQ(h->probe_count, 3u);
}

// A tracefs of plain files: the functions' list, and kprobe_events (writes append to it).
TEST(AgentParts, KernelFunctionsMatchGlobsAndDefineKprobeEvents) {
  char dir[] = "/tmp/vtrace-fbt-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string root = dir;
  std::ofstream(root + "/available_filter_functions")
      << "vfs_read\nvfs_readv\nvfs_write\nfoo.isra.0\nvfs_read\next4_file_read_iter [ext4]\n"
      << std::string(70, 'x') << "\n";
  std::ofstream(root + "/kprobe_events") << "p:vtrace_fbt/e_old old\np:other/e_x x\n";
  KernelFunctions fns;
  fns.open(root);
  ASSERT_TRUE(fns.available());
  auto names = [](const std::vector<KernelFunctions::Function>& v) {
    std::string s;
    for (const auto& f : v) s += f.name + "@" + f.module + " ";
    return s;
  };
  // Clones and names no event can have are not offered; duplicates once.
  EXPECT_EQ(names(fns.match("*", "vfs_rea*")), "vfs_read@vmlinux vfs_readv@vmlinux ");
  EXPECT_EQ(names(fns.match("*", "*read_iter")), "ext4_file_read_iter@ext4 ");
  EXPECT_EQ(names(fns.match("*", "foo*")), "");
  EXPECT_EQ(names(fns.match("ext4", "*")), "ext4_file_read_iter@ext4 ");
  EXPECT_EQ(names(fns.match("vmlinux", "*read_iter")), "");
  EXPECT_EQ(fns.define("vfs_read", false), "");
  EXPECT_EQ(fns.define("vfs_read", true), "");
  EXPECT_NE(fns.define("foo.isra.0", false), "");
  std::ifstream in(root + "/kprobe_events");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  // The stale event of an earlier agent is removed; another group's is left alone.
  EXPECT_NE(text.find("-:vtrace_fbt/e_old\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("-:other"), std::string::npos) << text;
  EXPECT_NE(text.find("p:vtrace_fbt/e_vfs_read vfs_read arg0=%di:u64 arg1=%si:u64 arg2=%dx:u64 "
                      "arg3=%cx:u64 arg4=%r8:u64 arg5=%r9:u64\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("r:vtrace_fbt/r_vfs_read vfs_read arg1=$retval:s64\n"), std::string::npos)
      << text;
  std::filesystem::remove_all(root);
}

TEST(AgentParts, RingWriterStopsWhenFull) {
  const uint32_t nslots = 16;
  std::vector<char> mem(sizeof(vtrace_ring) + nslots * VTRACE_RECORD_SIZE);
  auto* r = reinterpret_cast<vtrace_ring*>(mem.data());
  GuestRingWriter w;
  w.attach(r, nslots);
  vtrace_guest_record rec{};
  uint64_t pos = 0;
  for (uint32_t i = 0; i < nslots; ++i) {
    rec.probe = i;
    ASSERT_TRUE(w.write(rec, pos));
    EXPECT_EQ(pos, i);
  }
  EXPECT_FALSE(w.write(rec, pos));
  EXPECT_EQ(r->head, nslots);
  r->tail = 1;
  EXPECT_TRUE(w.write(rec, pos));
  EXPECT_EQ(vtrace::transport::guest_slot(r, nslots, pos)->seq, nslots);
  w.reset();
  EXPECT_EQ(r->head, 0u);
}

TEST(AgentParts, FindsTheLargeIvshmemDevice) {
  char dir[] = "/tmp/vtrace-sysfs.XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  auto device = [&](const std::string& name, const char* vendor, const char* id, off_t size) {
    std::string d = std::string(dir) + "/" + name;
    mkdir(d.c_str(), 0755);
    std::ofstream(d + "/vendor") << vendor << "\n";
    std::ofstream(d + "/device") << id << "\n";
    std::ofstream(d + "/resource2");
    EXPECT_EQ(truncate((d + "/resource2").c_str(), size), 0);
    return d;
  };
  device("0000:00:03.0", "0x8086", "0x100e", 32 << 20);  // a NIC
  device("0000:00:05.0", "0x1af4", "0x1110", 1 << 20);   // the test mailbox
  std::string vt = device("0000:00:04.0", "0x1af4", "0x1110", 16 << 20);
  EXPECT_EQ(BarMapping::find_device(dir), vt + "/resource2");
  std::ifstream enable(vt + "/enable");
  std::string on;
  enable >> on;
  EXPECT_EQ(on, "1");
  EXPECT_EQ(system(("rm -rf " + std::string(dir)).c_str()), 0);
}

}  // namespace
}  // namespace agent_test
