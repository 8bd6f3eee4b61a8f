#include "sys/elf_probes.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <map>
#include <thread>

#include "engine/catalog.h"
#include "sys/process_memory.h"
#include "targets/process/process_target.h"
#include "vtrace/channel_abi.h"

namespace vtrace::targets {
namespace {

// Runs the instrumented sample (forever, slowly) for one test.
class Sample {
 public:
  Sample() {
    pid_ = fork();
    if (pid_ == 0) {
      execl(SAMPLE_BINARY, SAMPLE_BINARY, "-1", "2000", nullptr);
      _exit(127);
    }
    // Wait until it has exec'd (its exe is the sample).
    for (int i = 0; i < 200; ++i) {
      char buf[4096];
      ssize_t n = readlink(("/proc/" + std::to_string(pid_) + "/exe").c_str(), buf, sizeof buf);
      if (n > 0 && std::string(buf, n).find("instrumented_sample") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // And until the dynamic loader has relocated it: before that, the descriptors' string
    // pointers are link-time values and no site validates (slow under ASan).
    for (int i = 0; i < 200; ++i) {
      sys::ProbeTable t;
      std::string err;
      if (sys::discover_probes(pid_, t, err) && !t.sites.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  ~Sample() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_;
};

TEST(ElfProbesTest, FindsTheSectionInTheFile) {
  EXPECT_TRUE(sys::has_probe_section(SAMPLE_BINARY));
  EXPECT_FALSE(sys::has_probe_section("/bin/sh"));
  EXPECT_FALSE(sys::has_probe_section("/nonexistent"));
  EXPECT_FALSE(sys::has_probe_section("/etc/passwd"));
}

TEST(ElfProbesTest, DiscoversTheLiveProcessSites) {
  Sample s;
  sys::ProbeTable t;
  std::string err;
  ASSERT_TRUE(sys::discover_probes(s.pid(), t, err)) << err;
  EXPECT_EQ(t.invalid, 0u);
  std::map<std::string, const sys::ProbeSite*> by_name;
  for (const auto& site : t.sites) by_name[site.name] = &site;
  ASSERT_TRUE(by_name.count("tick"));
  ASSERT_TRUE(by_name.count("query"));
  ASSERT_TRUE(by_name.count("request__start"));
  ASSERT_TRUE(by_name.count("start"));
  EXPECT_EQ(by_name["tick"]->provider, "sample");
  EXPECT_EQ(by_name["tick"]->function, "work");
  EXPECT_EQ(by_name["tick"]->nargs, 2);
  EXPECT_EQ(by_name["query"]->flags, VTRACE_DESC_STR0 | VTRACE_DESC_AGG | VTRACE_DESC_TEST);
  EXPECT_EQ(by_name["tick"]->flags, VTRACE_DESC_AGG | VTRACE_DESC_TEST);
  EXPECT_EQ(by_name["request__start"]->nargs, 10);
  EXPECT_NE(by_name["tick"]->file.find("instrumented_sample.cpp"), std::string::npos);
  // Both the guard and the site of sample:expensive.
  int expensive = 0;
  for (const auto& site : t.sites) expensive += site.name == "expensive";
  EXPECT_EQ(expensive, 2);
  // The magic read at the address we computed: the bias is right.
  uint32_t magic = 0;
  ASSERT_EQ(sys::read_process_memory(s.pid(), by_name["tick"]->address, &magic, 4), 4u);
  EXPECT_EQ(magic, VTRACE_PROBE_MAGIC);
}

// A process stopped at its exec, before the dynamic loader has relocated anything (the
// descriptors' string pointers are still link-time addresses): every site is still found, with
// its names. (A listing that raced a process's start once came back empty.)
TEST(ElfProbesTest, DiscoversASiteTableNotYetRelocated) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    execl(SAMPLE_BINARY, SAMPLE_BINARY, "1", nullptr);
    _exit(127);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSTOPPED(status));  // SIGTRAP at the exec: ld.so has not run
  sys::ProbeTable table;
  std::string err;
  const bool ok = sys::discover_probes(pid, table, err);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  ASSERT_TRUE(ok) << err;
  EXPECT_EQ(table.invalid, 0u);
  bool tick = false;
  for (const auto& site : table.sites)
    tick = tick || (site.provider == "sample" && site.name == "tick");
  EXPECT_TRUE(tick);
}

TEST(ElfProbesTest, ClearErrors) {
  sys::ProbeTable t;
  std::string err;
  EXPECT_FALSE(sys::discover_probes(0x3ffffff0, t, err));
  EXPECT_NE(err.find("no such process"), std::string::npos) << err;
  pid_t p = fork();
  if (p == 0) {
    execl("/bin/sleep", "sleep", "10", nullptr);
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(sys::discover_probes(p, t, err));
  EXPECT_EQ(err,
            "pid " + std::to_string(p) + " has no vtrace probes (not built with vtrace/probe.h)");
  kill(p, SIGKILL);
  waitpid(p, nullptr, 0);
}

// A fake process memory: strings at known addresses.
struct FakeMem {
  std::map<uint64_t, std::string> at;
};
size_t fake_read(void* ctx, uint64_t addr, void* buf, size_t len) {
  auto* m = static_cast<FakeMem*>(ctx);
  auto it = m->at.find(addr);
  if (it == m->at.end()) return 0;
  size_t n = std::min(len, it->second.size());
  std::memcpy(buf, it->second.data(), n);
  return n;
}

struct Image {
  unsigned char b[48] = {};
  Image(uint32_t magic, uint16_t nargs, uint16_t flags, uint64_t prov, uint64_t name) {
    std::memcpy(b, &magic, 4);
    std::memcpy(b + 8, &nargs, 2);
    std::memcpy(b + 10, &flags, 2);
    uint64_t p[4] = {prov, name, 0x300, 0x400};
    std::memcpy(b + 16, p, sizeof p);
  }
};

TEST(ElfProbesTest, DescriptorValidation) {
  FakeMem m;
  m.at[0x100] = std::string("app\0", 4);
  m.at[0x200] = std::string("tick\0", 5);
  m.at[0x300] = std::string("main\0", 5);
  m.at[0x400] = std::string("a.c\0", 4);
  m.at[0x500] = std::string(200, 'x');            // no NUL within the bound
  m.at[0x600] = std::string("bad\x01name\0", 9);  // not printable
  m.at[0x700] = std::string("has space\0", 10);   // not an identifier
  sys::ProbeSite s;
  EXPECT_TRUE(
      decode_descriptor(Image(VTRACE_PROBE_MAGIC, 2, 0, 0x100, 0x200).b, 48, fake_read, &m, s));
  EXPECT_EQ(s.provider, "app");
  EXPECT_EQ(s.name, "tick");
  EXPECT_EQ(s.file, "a.c");
  EXPECT_FALSE(decode_descriptor(Image(0xdead, 2, 0, 0x100, 0x200).b, 48, fake_read, &m, s));
  EXPECT_FALSE(
      decode_descriptor(Image(VTRACE_PROBE_MAGIC, 11, 0, 0x100, 0x200).b, 48, fake_read, &m, s));
  EXPECT_FALSE(
      decode_descriptor(Image(VTRACE_PROBE_MAGIC, 1, 8, 0x100, 0x200).b, 48, fake_read, &m, s));
  EXPECT_FALSE(decode_descriptor(Image(VTRACE_PROBE_MAGIC, 0, VTRACE_DESC_STR0, 0x100, 0x200).b, 48,
                                 fake_read, &m, s));
  EXPECT_TRUE(decode_descriptor(Image(VTRACE_PROBE_MAGIC, 1, VTRACE_DESC_AGG, 0x100, 0x200).b, 48,
                                fake_read, &m, s));
  EXPECT_FALSE(decode_descriptor(  // a guard runs no ops
      Image(VTRACE_PROBE_MAGIC, 0, VTRACE_DESC_GUARD | VTRACE_DESC_AGG, 0x100, 0x200).b, 48,
      fake_read, &m, s));
  EXPECT_FALSE(
      decode_descriptor(Image(VTRACE_PROBE_MAGIC, 1, 0, 0, 0x200).b, 48, fake_read, &m, s));
  EXPECT_FALSE(
      decode_descriptor(Image(VTRACE_PROBE_MAGIC, 1, 0, 0x500, 0x200).b, 48, fake_read, &m, s));
  EXPECT_FALSE(
      decode_descriptor(Image(VTRACE_PROBE_MAGIC, 1, 0, 0x100, 0x600).b, 48, fake_read, &m, s));
  EXPECT_FALSE(
      decode_descriptor(Image(VTRACE_PROBE_MAGIC, 1, 0, 0x700, 0x200).b, 48, fake_read, &m, s));
  EXPECT_FALSE(
      decode_descriptor(Image(VTRACE_PROBE_MAGIC, 1, 0, 0x100, 0x999).b, 48, fake_read, &m, s));
  EXPECT_FALSE(
      decode_descriptor(Image(VTRACE_PROBE_MAGIC, 1, 0, 0x100, 0x200).b, 40, fake_read, &m, s));
}

TEST(ProcessTargetTest, CatalogNamesAndEnableFlags) {
  Sample s;
  engine::Catalog catalog;
  ProcessTarget t(s.pid(), 1);
  std::string err;
  ASSERT_TRUE(t.discover(catalog, err)) << err;
  const std::string pid = std::to_string(s.pid());
  bytecode::ProbeSpec spec;
  spec.target = "pid" + pid;
  spec.provider = "sample";
  spec.name = "request-start";
  std::vector<uint32_t> ids = catalog.match(spec);
  ASSERT_EQ(ids.size(), 1u);
  const engine::ProbeInfo& p = catalog.probe(ids[0]);
  EXPECT_EQ(p.module, "instrumented_sample");
  EXPECT_EQ(p.function, "work");
  EXPECT_EQ(p.vmname, "host");
  spec.target = "instrumented_sample";  // the process's name as the target
  EXPECT_EQ(catalog.match(spec), ids);
  spec.target = "";
  spec.provider = "sample" + pid;  // dtrace's USDT spelling
  EXPECT_EQ(catalog.match(spec), ids);
  spec.provider = "sample";
  spec.name = "expensive";
  std::vector<uint32_t> exp = catalog.match(spec);
  ASSERT_EQ(exp.size(), 1u);  // the guard is not a probe

  // Enabling sample:::expensive turns on its site and its VTRACE_ENABLED guard.
  EXPECT_EQ(t.enable(exp), 1u);
  for (const auto& site : t.table().sites) {
    uint32_t on = 7;
    ASSERT_EQ(sys::read_process_memory(s.pid(), site.address + 4, &on, 4), 4u);
    EXPECT_EQ(on, site.name == "expensive" ? 1u : 0u) << site.name << " " << site.flags;
  }
  t.disable();
  for (const auto& site : t.table().sites) {
    uint32_t on = 7;
    ASSERT_EQ(sys::read_process_memory(s.pid(), site.address + 4, &on, 4), 4u);
    EXPECT_EQ(on, 0u);
  }
}

}  // namespace
}  // namespace vtrace::targets
