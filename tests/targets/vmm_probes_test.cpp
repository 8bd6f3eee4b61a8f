// The hypervisor layer's probes as a D program sees them: NAME:vmm:::preempt/resume/halt made
// from synthetic sched_switch samples of fake vCPU threads (laid out as this host's tracefs
// format says), and vcpustolen of guest records. Needs tracefs (root); skipped otherwise.
#include "targets/host/vmm_probes.h"
#include "engine/engine_sink.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "../engine/mem_file.h"
#include "engine/engine.h"
#include "lang/compiler.h"
#include "lang/parser.h"

namespace vtrace::targets::host {
namespace {

constexpr uint32_t kA = 0x10000, kB = 0x10001;
// Thread ids above PID_MAX_LIMIT: no real task has them, so /proc knows nothing of them.
constexpr int32_t kA0 = 0x7ffff001, kA1 = 0x7ffff002, kB0 = 0x7ffff101, kHog = 0x7ffff201;

using vtrace::test::MemFile;

std::vector<VcpuThread> fake_query(const std::string& vm, std::string& err) {
  if (vm == "vmA") return {{0, kA0}, {1, kA1}};
  if (vm == "vmB") return {{0, kB0}};
  err = "no such VM";
  return {};
}

struct Harness {
  explicit Harness(const std::string& text) {
    vmm.add_vm("vmA", kA);
    vmm.add_vm("vmB", kB);
    done = catalog.add("vmA", "reqloop", "", "", "request-done");
    src.name = "t.d";
    src.text = text;
    engine::Options o;
    o.quiet = true;
    o.zdefs = true;
    bytecode::Module m = lang::compile_source(src, {}, kernel.field_resolver());
    stolen = VmmProbes::uses_vcpustolen(m);
    eng = std::make_unique<engine::Engine>(std::move(m), src, o, catalog);
    eng->set_output(out.file());
    eng->set_error_output(err.file());
    eng->enable();
    std::string e;
    started = vmm.start(eng->enabled_probes(), stolen, e);
    EXPECT_TRUE(started) << e;
    std::string ferr;
    EXPECT_TRUE(fs.open(ferr)) << ferr;
    fmt = fs.format("sched", "sched_switch", ferr);
    EXPECT_NE(fmt, nullptr) << ferr;
  }

  void put_int(std::vector<uint8_t>& d, const char* name, int64_t v) {
    const sys::EventField* f = fmt->field(name);
    ASSERT_NE(f, nullptr) << name;
    std::memcpy(d.data() + f->offset, &v, f->size);
  }
  void put_str(std::vector<uint8_t>& d, const char* name, const char* s) {
    const sys::EventField* f = fmt->field(name);
    ASSERT_NE(f, nullptr) << name;
    std::strncpy(reinterpret_cast<char*>(d.data() + f->offset), s, f->size - 1);
  }
  // One sched_switch on host CPU `cpu` at `time`.
  void sw(uint64_t time, uint32_t cpu, int32_t prev, const char* prev_comm, int64_t state,
          int32_t next, const char* next_comm) {
    std::vector<uint8_t> d(fmt->fixed_size(), 0);
    put_int(d, "prev_pid", prev);
    put_str(d, "prev_comm", prev_comm);
    put_int(d, "prev_state", state);
    put_int(d, "next_pid", next);
    put_str(d, "next_comm", next_comm);
    KernelProbes::Sample s{fmt, time, cpu, prev, prev, d.data(), static_cast<uint32_t>(d.size())};
    engine::EngineSink sink(*eng);
    vmm.on_sample(s, sink);
  }
  // A record from inside guest A at host time `time` on vCPU `vcpu`.
  void guest(uint64_t time, int32_t vcpu, int64_t id) {
    Record r;
    r.probe = done;
    r.target = kA;
    r.guest = true;
    r.pid = r.tid = 77;
    r.cpu = vcpu;
    r.timestamp = time;
    r.args[0] = id;
    vmm.annotate(r);
    eng->process(r);
  }

  engine::Catalog catalog;
  KernelProbes kernel{catalog};
  VmmProbes vmm{catalog, kernel, fake_query};
  sys::Tracefs fs;
  const sys::EventFormat* fmt = nullptr;
  uint32_t done = 0;
  bool stolen = false, started = false;
  lang::Source src;
  std::unique_ptr<engine::Engine> eng;
  MemFile out, err;
};

std::string skip_reason() {
  if (geteuid() != 0) return "needs root (tracefs)";
  sys::Tracefs fs;
  std::string err;
  if (!fs.open(err)) return err;
  if (!fs.exists("sched", "sched_switch")) return "no sched:sched_switch tracepoint";
  return "";
}

#define REQUIRE_TRACEFS()                                 \
  do {                                                    \
    std::string why = skip_reason();                      \
    if (!why.empty()) GTEST_SKIP() << "skipped: " << why; \
  } while (0)

TEST(VmmProbes, ListedPerVmOnDemand) {
  REQUIRE_TRACEFS();
  Harness h("vmB:vmm:::halt { }");
  // Only the VM the description names got its probes.
  size_t a = 0, b = 0;
  for (const auto& p : h.catalog.probes()) {
    if (p.provider != "vmm") continue;
    (p.target == "vmA" ? a : b)++;
    EXPECT_EQ(p.vmname, p.target);
  }
  EXPECT_EQ(a, 0u);
  EXPECT_GE(b, 3u);  // preempt, resume, halt (+ exit, entry where kvm tracepoints exist)
}

TEST(VmmProbes, PreemptResumeHaltAsDSeesThem) {
  REQUIRE_TRACEFS();
  Harness h(
      "vmm:::preempt { printf(\"%s preempt vcpu=%d cpu=%d host_cpu=%d by=%d/%s tid=%d\\n\", "
      "vmname, vcpu, cpu, arg1, arg2, args->next_comm, tid); }\n"
      "vmm:::resume { printf(\"%s resume vcpu=%d off=%d stolen=%d after=%s\\n\", vmname, arg0, "
      "arg4, arg5, args->prev_comm); }\n"
      "vmm:::halt { printf(\"%s halt vcpu=%d state=%d\\n\", vmname, arg0, arg4); }\n");
  ASSERT_TRUE(h.started);
  EXPECT_FALSE(h.stolen);
  h.sw(1000, 1, kA1, "CPU 1/TCG", 0x100, kHog, "hog");  // A's vCPU 1 preempted by a hog
  h.sw(1000, 0, 99, "other", 1, 98, "other2");          // no vCPU involved
  h.sw(4000, 1, kHog, "hog", 0, kA1, "CPU 1/TCG");      // and back after 3 us
  h.sw(5000, 0, kB0, "CPU 0/TCG", 1, 0, "swapper/0");   // B idles
  h.sw(9000, 0, 0, "swapper/0", 0, kB0, "CPU 0/TCG");
  EXPECT_EQ(h.out.text(), "vmA preempt vcpu=1 cpu=1 host_cpu=1 by=" + std::to_string(kHog) +
                              "/hog tid=" + std::to_string(kA1) +
                              "\n"
                              "vmA resume vcpu=1 off=3000 stolen=3000 after=hog\n"
                              "vmB halt vcpu=0 state=1\n"
                              "vmB resume vcpu=0 off=4000 stolen=0 after=swapper/0\n");
  EXPECT_EQ(h.err.text(), "");
}

TEST(VmmProbes, VcpustolenOfGuestRecords) {
  REQUIRE_TRACEFS();
  Harness h("vmA:reqloop:::request-done { printf(\"%d %d %d\\n\", arg0, vcpu, vcpustolen); }");
  ASSERT_TRUE(h.started);
  EXPECT_TRUE(h.stolen);  // the program reads vcpustolen: every VM's vCPUs are tracked
  EXPECT_EQ(h.vmm.tracker().size(), 3u);
  h.guest(1000, 0, 1);                              // the first record: 0
  h.sw(2000, 0, kA0, "CPU 0/TCG", 0, kHog, "hog");  // vCPU 0 preempted 2000..2500
  h.sw(2500, 0, kHog, "hog", 0, kA0, "CPU 0/TCG");
  h.sw(2600, 1, kA1, "CPU 1/TCG", 0, kHog, "hog");  // vCPU 1 preempted 2600..2800
  h.sw(2800, 1, kHog, "hog", 0, kA1, "CPU 1/TCG");
  h.sw(2900, 0, kA0, "CPU 0/TCG", 1, 0, "swapper/0");  // vCPU 0 halted 2900..3900
  h.sw(3900, 0, 0, "swapper/0", 0, kA0, "CPU 0/TCG");
  h.guest(5000, 0, 2);  // 500 ns stolen from vCPU 0 since record 1
  h.guest(5100, 0, 3);  // nothing since
  h.guest(5200, 1, 4);  // vCPU 1's first record
  EXPECT_EQ(h.out.text(), "1 0 0\n2 0 500\n3 0 0\n4 1 0\n");
}

TEST(VmmProbes, KvmExitsOfVcpuThreads) {
  REQUIRE_TRACEFS();
  {
    sys::Tracefs fs;
    std::string err;
    if (!fs.open(err) || !fs.exists("kvm", "kvm_exit"))
      GTEST_SKIP() << "skipped: no kvm:kvm_exit tracepoint on this host";
  }
  Harness h(
      "vmm:::exit { printf(\"%s vcpu=%d reason=%d/%s rip=%x kvm_vcpu=%d tid=%d\\n\", vmname, "
      "vcpu, arg0, args->reason_name, arg1, arg2, tid); }");
  ASSERT_TRUE(h.started);
  std::string err;
  const sys::EventFormat* fmt = h.fs.format("kvm", "kvm_exit", err);
  ASSERT_NE(fmt, nullptr) << err;
  auto exit_sample = [&](int32_t tid, int64_t reason) {
    std::vector<uint8_t> d(fmt->fixed_size(), 0);
    auto put = [&](const char* name, uint64_t v) {
      const sys::EventField* f = fmt->field(name);
      ASSERT_NE(f, nullptr) << name;
      std::memcpy(d.data() + f->offset, &v, f->size);
    };
    put("exit_reason", static_cast<uint64_t>(reason));
    put("guest_rip", 0xfff0);
    put("isa", 1);  // VMX
    put("vcpu_id", 1);
    KernelProbes::Sample s{fmt, 100, 0, tid, tid, d.data(), static_cast<uint32_t>(d.size())};
    engine::EngineSink sink(*h.eng);
    h.vmm.on_sample(s, sink);
  };
  exit_sample(kA1, 30);   // A's vCPU 1: an I/O instruction
  exit_sample(kHog, 30);  // not a vCPU thread of a traced VM
  EXPECT_EQ(h.out.text(), "vmA vcpu=1 reason=30/IO_INSTRUCTION rip=fff0 kvm_vcpu=1 tid=" +
                              std::to_string(kA1) + "\n");
  EXPECT_EQ(h.err.text(), "");
}

TEST(VmmProbes, UnknownVmIsAClearError) {
  REQUIRE_TRACEFS();
  engine::Catalog catalog;
  KernelProbes kernel(catalog);
  VmmProbes vmm(catalog, kernel, fake_query);
  vmm.add_vm("vmC", kA);
  std::string err;
  EXPECT_FALSE(vmm.start({}, true, err));
  EXPECT_NE(err.find("VM vmC: cannot find its vCPU threads: no such VM"), std::string::npos) << err;
}

}  // namespace
}  // namespace vtrace::targets::host
