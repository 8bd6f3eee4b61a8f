// The agent's answers to the host's symbol requests (guest/agent/symbol_server.h): kernel
// addresses through kallsyms, user frames named when sampled in the process image they ran in
// (an exec starts another: the same address is asked for again with its new image number).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "guest/agent/symbol_server.h"

namespace agent_test {
namespace {

using vtrace::guest::SymbolServer;

// A function of this test binary, its address taken so it is a real symbol.
extern "C" __attribute__((noinline)) int vtrace_symbol_server_probe_target(int x) {
  return x * 3 + 1;
}

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "%" PRIx64, v);
  return b;
}

// Lines of an answer, one per argument.
std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(SymbolServer, NamesUserFramesInTheImageTheyRanIn) {
  SymbolServer s;
  const uint32_t pid = static_cast<uint32_t>(getpid());
  const uint64_t pc = reinterpret_cast<uint64_t>(&vtrace_symbol_server_probe_target) + 4;
  // No side band for this process yet: its mappings are read from /proc.
  const uint32_t first = s.name_user(pid, &pc, 1);
  const std::string asked =
      "u:" + std::to_string(pid) + ":" + std::to_string(first) + ":" + hex(pc);
  const std::vector<std::string> a = lines(s.answer({asked}));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0], asked + "\tagent_test\tvtrace_symbol_server_probe_target\t4");
  // An exec: a new image, its mappings from the side band (another file at the same place).
  s.on_comm(pid);
  s.on_mmap(pid, pc & ~0xfffull, 0x1000, 0, "/nonexistent/other_program");
  const uint32_t second = s.name_user(pid, &pc, 1);
  EXPECT_NE(second, first);
  const std::string again =
      "u:" + std::to_string(pid) + ":" + std::to_string(second) + ":" + hex(pc);
  const std::vector<std::string> b = lines(s.answer({asked, again}));
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0], a[0]);  // the frame sampled before the exec keeps its name
  EXPECT_EQ(b[1], again + "\tother_program\t\t0");
  // A frame never sampled, and arguments that are not questions: unknown, one line each.
  const std::vector<std::string> c =
      lines(s.answer({"u:" + std::to_string(pid) + ":" + std::to_string(second) + ":1234",
                      "u:x:1:2", "nonsense", "k:zz"}));
  ASSERT_EQ(c.size(), 4u);
  for (const std::string& l : c) EXPECT_NE(l.find("\t\t\t0"), std::string::npos) << l;
}

TEST(SymbolServer, NamesKernelAddressesFromKallsyms) {
  std::ifstream in("/proc/kallsyms");
  uint64_t addr = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.size() > 19 && line.substr(16) == " T vfs_read") {
      addr = std::stoull(line.substr(0, 16), nullptr, 16);
      break;
    }
  }
  if (addr == 0) GTEST_SKIP() << "kallsyms hides addresses here (not root) or has no vfs_read";
  SymbolServer s;
  const std::vector<std::string> a = lines(s.answer({"k:" + hex(addr + 0x10)}));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0], "k:" + hex(addr + 0x10) + "\tvmlinux\tvfs_read\t10");
}

}  // namespace
}  // namespace agent_test
