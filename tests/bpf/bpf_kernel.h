// What the tests that load programs into the running kernel share: the reasons to skip them, a
// tracepoint's id, and a gather program attached to a tracepoint with its ring.
#pragma once
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "bpf/attach.h"
#include "bpf/gather_parse.h"
#include "bpf/gather_program.h"
#include "bpf/gather_ring.h"
#include "bpf/kernel_layout.h"

namespace vtrace::bpf::test {

// Why kernel tests cannot run here, or "" when they can.
inline std::string kernel_skip_reason() {
  if (geteuid() != 0) return "not root: loading BPF programs needs root";
  if (access(kVmlinuxBtf, R_OK) != 0) return std::string("no kernel BTF at ") + kVmlinuxBtf;
  return "";
}

#define SKIP_WITHOUT_BPF()                                       \
  do {                                                           \
    std::string why = ::vtrace::bpf::test::kernel_skip_reason(); \
    if (!why.empty()) GTEST_SKIP() << why;                       \
  } while (0)

// The tracefs id of system:event (mounting tracefs when absent); 0 when there is none.
inline uint64_t tracepoint_id(const std::string& system, const std::string& event) {
  const std::string root = "/sys/kernel/tracing";
  struct stat st;
  if (stat((root + "/events").c_str(), &st) != 0)
    mount("tracefs", root.c_str(), "tracefs", 0, nullptr);
  std::ifstream in(root + "/events/" + system + "/" + event + "/id");
  uint64_t id = 0;
  in >> id;
  return id;
}

// A gather program for `plan` attached to system:event, writing into its own ring.
struct Gatherer {
  std::unique_ptr<GatherRing> ring;
  sys::UniqueFd prog, link;
  std::string err;

  // Loads and attaches; err says why not.
  bool start(const GatherPlan& plan, const std::string& system, const std::string& event,
             size_t bufsize = 1 << 20) {
    auto layout = read_kernel_layout(err);
    if (!layout) return false;
    ring = GatherRing::create(bufsize, err);
    if (!ring) return false;
    std::string what = system + ":" + event;
    prog = load_gather_program(plan, *layout, ring->ring_fd(), ring->drops_fd(), what, err);
    if (!prog.valid()) return false;
    uint64_t id = tracepoint_id(system, event);
    if (id == 0) {
      err = "no tracepoint " + what;
      return false;
    }
    link = attach_tracepoint(prog.get(), id, what, err);
    return link.valid();
  }
  void stop() { link.reset(); }

  // Every record waiting, parsed against plan; a record that does not parse fails the test.
  std::vector<GatherView> records(const GatherPlan& plan, std::vector<std::vector<uint8_t>>& keep) {
    std::vector<GatherView> out;
    std::string e;
    ring->consume(
        [&](const uint8_t* p, size_t n) {
          keep.emplace_back(p, p + n);
          GatherView v;
          EXPECT_TRUE(parse_gather_record(keep.back().data(), n, plan, v)) << "record of " << n;
          out.push_back(v);
        },
        e);
    EXPECT_EQ(e, "");
    return out;
  }
};

}  // namespace vtrace::bpf::test
