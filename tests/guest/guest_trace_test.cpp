// One D script across two real Linux guests (QEMU): guests as targets (probes listed and named
// by VM), the ordering check across guests in sync and async mode, per-VM syscall counts, and a
// hostile guest writing garbage into its channel while the other guest's results stay exact.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "guest_test_util.h"

namespace {

using namespace vtrace::guest_test;

const std::string kCache = VTRACE_TEST_CACHE;

// The value of "NAME  KIND  COUNT" lines of guest_order.d's summary (-1 when absent).
long count_line(const std::string& out, const std::string& vm, const std::string& kind) {
  std::regex re(vm + "\\s+" + kind + "\\s+(\\d+)");
  std::smatch m;
  return std::regex_search(out, m, re) ? std::stol(m[1]) : -1;
}

class GuestTraceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!guest_vm_missing().empty()) return;
    vms_.start("gt", kCache, "--share order" + std::to_string(getpid()));
  }
  static void TearDownTestSuite() { vms_.stop(); }
  void SetUp() override {
    if (std::string why = guest_vm_missing(); !why.empty()) GTEST_SKIP() << "skipped: " << why;
    ASSERT_TRUE(vms_.booted) << vms_.boot_output;
  }

  // Runs `script` (its BEGIN prints "ready") in the background until guests `attach` are
  // attached and it is ready, runs `workload` while it traces, waits `settle_ms`, stops it
  // (SIGINT) and returns its output ("" with a failure recorded when it did not start).
  std::string trace_while(const std::string& script, const std::vector<std::string>& attach,
                          const std::function<void()>& workload, int settle_ms = 500) {
    TempDir tmp("run");
    Background tracer(vms_.env, script, tmp.path + "/out");
    if (!wait_attached(vms_.run_dir->path, attach, 60) || !wait_output(tracer, "ready", 60)) {
      ADD_FAILURE() << "the tracer did not start: " << tracer.output();
      return "";
    }
    workload();
    std::this_thread::sleep_for(std::chrono::milliseconds(settle_ms));
    tracer.interrupt();
    EXPECT_EQ(tracer.wait(60), 0) << tracer.output();
    return tracer.output();
  }

  // Runs the ordering check with `n` messages; returns vtrace's output.
  std::string run_order(const std::string& mode_flags, int n) {
    TempDir tmp("order");
    Background tracer(vms_.env,
                      "-Z " + mode_flags + " -s " + std::string(EXAMPLES_DIR) + "/guest_order.d " +
                          std::to_string(n),
                      tmp.path + "/out");
    EXPECT_TRUE(wait_attached(vms_.run_dir->path, {vms_.a, vms_.b}, 60)) << tracer.output();
    EXPECT_TRUE(wait_output(tracer, "waiting for", 60)) << tracer.output();
    const std::string count = std::to_string(n);
    // Sync mode under TCG takes some milliseconds a message: no exec timeout.
    Background recv(vms_.env, "vm exec --timeout 1200 " + vms_.b + " -- /bin/order_recv " + count,
                    tmp.path + "/recv");
    Result send =
        run_vtrace(vms_.env, "vm exec --timeout 1200 " + vms_.a + " -- /bin/order_send " + count);
    EXPECT_EQ(send.status, 0) << send.output;
    EXPECT_EQ(recv.wait(600), 0) << recv.output();
    int status = tracer.wait(60);
    std::string out = tracer.output();
    EXPECT_EQ(status, 0) << out;
    return out;
  }

  static inline TwoGuests vms_;
};

TEST_F(GuestTraceTest, ListsEveryGuestsProbesUnderItsName) {
  Result r = run_vtrace(vms_.env, "-l");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const std::string& vm : {vms_.a, vms_.b}) {
    EXPECT_NE(r.output.find(vm + ":syscall"), std::string::npos) << r.output.substr(0, 2000);
    EXPECT_NE(r.output.find(vm + ":sched"), std::string::npos);
  }
  // Each guest's clock translation and its bound, measured through its agent.
  Result list = run_vtrace(vms_.env, "vm list -v");
  ASSERT_EQ(list.status, 0) << list.output;
  EXPECT_TRUE(std::regex_search(list.output,
                                std::regex("clock (measured, \\+-[0-9.]+ (ns|us)|kvm, exact)")))
      << list.output;
  // A description naming one guest matches only that guest's probes.
  Result one = run_vtrace(vms_.env, "-l -n '" + vms_.a + ":syscall::getppid:entry'");
  ASSERT_EQ(one.status, 0) << one.output;
  EXPECT_NE(one.output.find(vms_.a + ":syscall"), std::string::npos) << one.output;
  EXPECT_EQ(one.output.find(vms_.b + ":syscall"), std::string::npos) << one.output;
}

TEST_F(GuestTraceTest, OrderIsExactInSyncMode) {
  const int n = 10000;
  std::string out = run_order("-x mode=sync", n);
  EXPECT_EQ(count_line(out, vms_.a, "send"), n) << out;
  EXPECT_EQ(count_line(out, vms_.b, "recv"), n) << out;
  EXPECT_EQ(out.find("recv ran before its send"), std::string::npos) << out;
  EXPECT_EQ(out.find("recv stamped before its send"), std::string::npos) << out;
  std::cout << "[ order sync ] " << out << "\n";
}

// The bound vtrace printed for a guest's clock ("vtrace: NAME: guest clock measured, +-55 ns"),
// in ns; -1 when absent.
double clock_bound_ns(const std::string& out, const std::string& vm) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(vm + ": guest clock [a-z]+, \\+-([0-9.]+) (ns|us)")))
    return std::regex_search(out, std::regex(vm + ": guest clock kvm, exact")) ? 0 : -1;
  return std::stod(m[1]) * (m[2] == "us" ? 1000 : 1);
}

// Records of `vm` lost in async mode, as vtrace reported them (0 when it reported none).
long reported_drops(const std::string& out, const std::string& vm) {
  long total = 0;
  std::regex re("vtrace: " + vm + ": (\\d+) drops");
  for (std::sregex_iterator it(out.begin(), out.end(), re), end; it != end; ++it)
    total += std::stol((*it)[1]);
  return total;
}

TEST_F(GuestTraceTest, OrderHoldsInAsyncModeByTranslatedTime) {
  const int n = 10000;
  std::string out = run_order("", n);
  // Async: a guest starved by a loaded host may overflow its rings; every record is then either
  // counted or reported as a drop, never silently missing.
  EXPECT_EQ(count_line(out, vms_.a, "send") + reported_drops(out, vms_.a), n) << out;
  EXPECT_EQ(count_line(out, vms_.b, "recv") + reported_drops(out, vms_.b), n) << out;
  // Translated time is exact up to the guests' bounds: a send and its recv closer than that may
  // come out inverted (and the script says by how much); nothing may be inverted by more.
  const double bound = clock_bound_ns(out, vms_.a) + clock_bound_ns(out, vms_.b);
  ASSERT_GE(clock_bound_ns(out, vms_.a), 0) << out;
  ASSERT_GE(clock_bound_ns(out, vms_.b), 0) << out;
  std::smatch m;
  long inverted = 0;
  if (std::regex_search(out, m, std::regex("inverted by \\(ns\\): (\\d+)")))
    inverted = std::stol(m[1]);
  EXPECT_LE(inverted, bound) << out;
  // The merge waited for every guest's watermark: nothing ran out of time order.
  EXPECT_EQ(out.find("records ran after later ones"), std::string::npos) << out;
  std::cout << "[ order async ] bounds sum " << bound << " ns, worst inversion " << inverted
            << " ns\n"
            << out << "\n";
}

// The async ordering check with 100,000 messages while guest b is paused for 2 s mid-run (QMP
// stop/cont). Checks every message is counted or reported dropped and that no recv is stamped
// before its send by more than the clocks' bounds (records the paused guest had not relayed
// when it stopped may run late: counted, not reordered); returns vtrace's output.
std::string order_across_a_pause(TwoGuests& vms, const std::string& tag) {
  const int n = 100000;
  const std::string count = std::to_string(n);
  TempDir tmp(tag);
  Background tracer(
      vms.env, "-Z -x dynvarsize=64m -s " + std::string(EXAMPLES_DIR) + "/guest_order.d " + count,
      tmp.path + "/out");
  EXPECT_TRUE(wait_attached(vms.run_dir->path, {vms.a, vms.b}, 60)) << tracer.output();
  EXPECT_TRUE(wait_output(tracer, "waiting for", 60)) << tracer.output();
  Background recv(vms.env, "vm exec --timeout 1200 " + vms.b + " -- /bin/order_recv " + count,
                  tmp.path + "/recv");
  Background send(
      vms.env, "vm exec --timeout 1200 " + vms.a + " -- /bin/order_send " + count + " --timeout 60",
      tmp.path + "/send");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Result pause = run_vtrace(vms.env, "vm pause " + vms.b);
  EXPECT_EQ(pause.status, 0) << pause.output;
  std::this_thread::sleep_for(std::chrono::seconds(2));
  Result resume = run_vtrace(vms.env, "vm resume " + vms.b);
  EXPECT_EQ(resume.status, 0) << resume.output;
  EXPECT_EQ(send.wait(300), 0) << send.output();
  EXPECT_EQ(recv.wait(300), 0) << recv.output();
  EXPECT_EQ(tracer.wait(60), 0) << tracer.output();
  const std::string out = tracer.output();
  EXPECT_EQ(count_line(out, vms.a, "send") + reported_drops(out, vms.a), n) << out;
  EXPECT_EQ(count_line(out, vms.b, "recv") + reported_drops(out, vms.b), n) << out;
  const double bound = clock_bound_ns(out, vms.a) + clock_bound_ns(out, vms.b);
  std::smatch m;
  long inverted = 0;
  if (std::regex_search(out, m, std::regex("inverted by \\(ns\\): (\\d+)")))
    inverted = std::stol(m[1]);
  EXPECT_LE(inverted, bound) << out;
  std::cout << "[ " << tag << " ] bounds sum " << bound << " ns, worst inversion " << inverted
            << " ns\n"
            << out << "\n";
  return out;
}

// A guest paused mid-run: under TCG its clock stands still while it is stopped, so the
// translation measured before the pause would place everything after it 2 s too early (every
// recv before its send). vtrace follows QEMU's STOP/RESUME events, holds the guest's records
// until it has measured the clock again, and reports the pause and the jump.
TEST_F(GuestTraceTest, OrderHoldsInAsyncModeAcrossAPause) {
  const std::string out = order_across_a_pause(vms_, "order-pause");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      out, m, std::regex(vms_.b + ": paused for ([0-9.]+) s; its clock fell ([0-9.]+) s behind")))
      << out;
  EXPECT_GT(std::stod(m[1]), 1.9) << out;
  EXPECT_GT(std::stod(m[2]), 1.9) << out;
}

// The same pause, but QEMU's STOP/RESUME events do not reach vtrace: another client holds the
// VM's event socket (QEMU serves one client at a time). The step of the guest's clock is found
// by its watermark, which no longer fits the translation after the resume; the guest's records
// wait until the clock is measured again, and the step is reported.
TEST_F(GuestTraceTest, OrderHoldsInAsyncModeAcrossAPauseNoEventAnnounced) {
  const int holder = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(holder, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string events = vms_.run_dir->path + "/" + vms_.b + "/events.sock";
  ASSERT_LT(events.size(), sizeof addr.sun_path);
  std::memcpy(addr.sun_path, events.c_str(), events.size() + 1);
  ASSERT_EQ(connect(holder, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << events;
  const std::string out = order_across_a_pause(vms_, "order-step");
  close(holder);
  EXPECT_NE(out.find("QEMU's pause events not followed"), std::string::npos) << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      out, m,
      std::regex(vms_.b + ": guest clock stepped ([0-9.]+) s behind the host's .* with no pause "
                          "QEMU announced")))
      << out;
  EXPECT_GT(std::stod(m[1]), 1.9) << out;
}

// One timeline across the hypervisor boundary: order_send runs on the host (a probe.h process
// under -c) and writes the VMs' shared memory through its host file; order_recv runs in a guest.
// Async mode merges the process's records with the guest's by host time: no recv may come
// before its send by more than the guest clock's bound, and none is run out of time order.
TEST_F(GuestTraceTest, OrderHoldsBetweenAHostProcessAndAGuestInAsyncMode) {
  Result list = run_vtrace(vms_.env, "vm list -v");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(list.output, m, std::regex("share \\S+ \\((\\S+)\\)")))
      << list.output;
  const std::string share_file = m[1];
  const int n = 10000;
  const std::string count = std::to_string(n);
  TempDir tmp("host-order");
  // The tracer first: order_send waits for a receiver's hello; order_recv, started in the guest
  // after, waits at its start until the tracer has enabled its probes (as any guest program
  // started under a running trace), so no message goes untraced.
  Background tracer("VTRACE_MAILBOX=" + share_file + " " + vms_.env,
                    "-Z -s " + std::string(EXAMPLES_DIR) + "/guest_order.d " + count + " -c '" +
                        GUEST_BIN_DIR + "/order_send " + count + " --timeout 120'",
                    tmp.path + "/out");
  EXPECT_TRUE(wait_output(tracer, "waiting for", 60)) << tracer.output();
  Result recv = run_vtrace(vms_.env, "vm exec --timeout 1200 " + vms_.b + " -- /bin/order_recv " +
                                         count + " --timeout 120");
  EXPECT_EQ(recv.status, 0) << recv.output;
  const int status = tracer.wait(120);
  Result r{status, tracer.output()};
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("order_send: sent " + count), std::string::npos) << r.output;
  EXPECT_EQ(count_line(r.output, "host", "send"), n) << r.output;
  EXPECT_EQ(count_line(r.output, vms_.b, "recv") + reported_drops(r.output, vms_.b), n) << r.output;
  // The host process's clock is the host's; the guest's is translated within its bound.
  const double bound = clock_bound_ns(r.output, vms_.b);
  ASSERT_GE(bound, 0) << r.output;
  long inverted = 0;
  if (std::regex_search(r.output, m, std::regex("inverted by \\(ns\\): (\\d+)")))
    inverted = std::stol(m[1]);
  EXPECT_LE(inverted, bound) << r.output;
  // Records run in time order: a recv runs before its send only if it is stamped before it.
  if (inverted == 0) {
    EXPECT_EQ(r.output.find("recv ran before its send"), std::string::npos) << r.output;
  }
  EXPECT_EQ(r.output.find("too late to be merged"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("records ran after later ones"), std::string::npos) << r.output;
  std::cout << "[ order host->guest async ] bound " << bound << " ns, worst inversion " << inverted
            << " ns\n"
            << r.output << "\n";
}

// fbt inside a guest: the description asks the guest's agent for kprobes on its kernel's
// functions; entry arguments are the calling convention's registers (vfs_read's count), a
// return's arg1 the return value, and its arg0 (dtrace's return offset, which a kretprobe does
// not see) faults. The host kernel here has no kprobes: said once when a description reaches
// the host.
TEST_F(GuestTraceTest, FbtProbesInAGuestKernelCountAndReadArguments) {
  const std::string a = vms_.a;
  const std::string script =
      "-q -n 'BEGIN { printf(\"ready\\n\"); }' "
      "-n '" +
      a +
      ":fbt::vfs_read:entry /execname == \"dd\"/ { @calls = count(); "
      "@asked = sum(arg2); }' "
      "-n '" +
      a +
      ":fbt::vfs_read:return /execname == \"dd\"/ { @got = sum(arg1); }' "
      "-n '" +
      a +
      ":fbt:vmlinux:vfs_rea*:return /execname == \"dd\"/ { trace(arg0); }' "
      "-n 'END { printa(\"calls %@d asked %@d\\n\", @calls, @asked); "
      "printa(\"got %@d\\n\", @got); }'";
  const std::string out = trace_while(script, {a}, [&] {
    Result dd = run_vtrace(
        vms_.env, "vm exec " + a + " -- /bin/dd if=/proc/cpuinfo of=/dev/null bs=100 count=5");
    EXPECT_EQ(dd.status, 0) << dd.output;
  });
  EXPECT_NE(out.find("calls 5 asked 500\n"), std::string::npos) << out;
  EXPECT_NE(out.find("got 500\n"), std::string::npos) << out;
  EXPECT_NE(out.find("(fbt:vmlinux:vfs_read:return): not gathered at the probe"), std::string::npos)
      << out;
  EXPECT_EQ(out.find("no fbt probes"), std::string::npos) << out;
  // A function no kernel has matches nothing; a description without a target reaches the host
  // too, which says once why it has no fbt probes.
  Result none = run_vtrace(vms_.env, "-n 'fbt::no_such_function_x:entry { }'");
  EXPECT_EQ(none.status, 1) << none.output;
  EXPECT_NE(none.output.find("does not match any probes"), std::string::npos) << none.output;
  EXPECT_NE(none.output.find("no fbt probes in the host kernel"), std::string::npos) << none.output;
  // Every function of the kernel is more than one description may trace: refused whole (only
  // the probes made before are listed), so the guest's probe table keeps its room.
  Result all = run_vtrace(vms_.env, "-l -n '" + a + ":fbt:::entry'");
  EXPECT_EQ(all.output.find("vfs_write"), std::string::npos) << all.output;
  EXPECT_TRUE(std::regex_search(
      all.output, std::regex(a + ": no fbt probes: fbt:\\*:\\* matches [0-9]+ functions, more "
                                 "than the 1024 one description may trace")))
      << all.output;
  Result write = run_vtrace(vms_.env, "-l -n '" + a + ":fbt:vmlinux:vfs_write:entry'");
  EXPECT_TRUE(std::regex_search(write.output, std::regex(":fbt +vmlinux +vfs_write +entry\n")))
      << write.output;
  // The probes are listed with their module.
  Result list = run_vtrace(vms_.env, "-l -n '" + a + ":fbt::vfs_read:'");
  EXPECT_EQ(list.status, 0) << list.output;
  EXPECT_TRUE(std::regex_search(list.output, std::regex(":fbt +vmlinux +vfs_read +entry\n")))
      << list.output;
}

// profile-N inside a guest named by the description: its agent samples every vCPU's clock;
// each sample is the guest's (vmname, its vCPU, its process), with the kernel PC in arg0 or
// the user PC in arg1. The other guest, not named, is not sampled.
TEST_F(GuestTraceTest, ProfileSamplesAGuestsVcpus) {
  const std::string script =
      "-q -n 'BEGIN { printf(\"ready\\n\"); }' "
      "-n '" +
      vms_.a +
      ":profile:::profile-997 { @n[vmname] = count(); "
      "@both = sum(arg0 != 0 && arg1 != 0); @none = sum(arg0 == 0 && arg1 == 0); "
      "@busy = sum(execname == \"sh\"); }' "
      "-n 'END { printa(\"%s %@d\\n\", @n); printa(\"both %@d none %@d busy %@d\\n\", "
      "@both, @none, @busy); }'";
  const std::string out = trace_while(script, {vms_.a}, [&] {
    Result busy = run_vtrace(
        vms_.env,
        "vm exec " + vms_.a + " -- /bin/sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done'");
    EXPECT_EQ(busy.status, 0) << busy.output;
  });
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex(vms_.a + " (\\d+)\n"))) << out;
  EXPECT_GT(std::stol(m[1]), 100) << out;
  EXPECT_EQ(out.find(vms_.b + " "), std::string::npos) << out;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("both 0 none 0 busy (\\d+)\n"))) << out;
  EXPECT_GT(std::stol(m[1]), 0) << out;
}

// stack() and ustack() of a guest's samples are its own, named by its agent: its kernel's
// functions (with KASLR's slide: kallsyms in the guest), the program's functions in the image
// that ran them (vm exec forks the agent, then execs the program: no frame of the agent's is
// named in the program's samples).
TEST_F(GuestTraceTest, ProfileStacksAreTheGuestsNamedByItsAgent) {
  const std::string script =
      "-q -n 'BEGIN { printf(\"ready\\n\"); }' "
      "-n '" +
      vms_.a +
      ":profile:::profile-997 /execname == \"getppid_loop\"/ { @k[stack()] = count(); "
      "@u[ustack()] = count(); }'";
  const std::string out = trace_while(script, {vms_.a}, [&] {
    Result loop = run_vtrace(vms_.env, "vm exec " + vms_.a + " -- /bin/getppid_loop 300000");
    EXPECT_EQ(loop.status, 0) << loop.output;
  });
  EXPECT_TRUE(std::regex_search(out, std::regex("\n +vmlinux`do_syscall_64\\+0x[0-9a-f]+\n")))
      << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("\n +getppid_loop`(syscall|main)\\+0x[0-9a-f]+\n")))
      << out;
  EXPECT_EQ(out.find("vtrace-agent`"), std::string::npos) << out;
  EXPECT_EQ(out.find("no symbols"), std::string::npos) << out;
}

// A guest syscall's probe context, read when it fires: copyinstr() of openat's path while the
// program's buffer still holds it (the agent asks its kernel for a kprobe on the syscall that reads
// the string), every one of 200 distinct paths exactly once, as on the host; and the stacks of a
// syscall probe.
TEST_F(GuestTraceTest, SyscallProbeContextIsReadWhenItFires) {
  constexpr int kPaths = 200;
  const std::string script =
      "-q -n 'BEGIN { printf(\"ready\\n\"); }' "
      "-n '" +
      vms_.a +
      ":syscall::openat:entry /execname == \"opens\"/ { printf(\"%s\\n\", "
      "copyinstr(arg1)); }' "
      "-n '" +
      vms_.a + ":syscall::getppid:entry /execname == \"getppid_loop\"/ { @[stack()] = count(); }'";
  const std::string out = trace_while(script, {vms_.a}, [&] {
    Result opens =
        run_vtrace(vms_.env, "vm exec " + vms_.a + " -- /bin/opens " + std::to_string(kPaths));
    EXPECT_EQ(opens.status, 0) << opens.output;
    Result loop = run_vtrace(vms_.env, "vm exec " + vms_.a + " -- /bin/getppid_loop 100");
    EXPECT_EQ(loop.status, 0) << loop.output;
  });
  std::map<std::string, int> seen;
  std::istringstream in(out);
  const std::string prefix = "/nonexistent-vtrace-opens/";
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0 || line.find("ZZZ") != std::string::npos) ++seen[line];
  for (int i = 0; i < kPaths; ++i) {
    const std::string path = prefix + "path-" + std::to_string(i);
    EXPECT_EQ(seen[path], 1) << path << "\n" << out.substr(0, 2000);
    seen.erase(path);
  }
  EXPECT_TRUE(seen.empty()) << seen.size() << " other paths, first " << seen.begin()->first;
  EXPECT_TRUE(std::regex_search(out, std::regex("\n +vmlinux`do_syscall_64\\+0x[0-9a-f]+\n")))
      << out;
  EXPECT_EQ(out.find("not gathered"), std::string::npos) << out;
}

// pid probes of a guest process (uprobes its agent makes): every call of a function counted,
// its argument and return value read; a pid the guest does not have says so.
TEST_F(GuestTraceTest, PidProbesOfAGuestProcessCountCallsAndReadArguments) {
  // Started in the background in the guest: it waits 10 s before its 1000 calls.
  Result started = run_vtrace(
      vms_.env, "vm exec " + vms_.a + " -- sh -c '/bin/calls 1000 10 >/dev/null & echo $!'");
  ASSERT_EQ(started.status, 0) << started.output;
  const std::string pid = std::to_string(std::stol(started.output));
  const std::string p = vms_.a + ":pid" + pid;
  const std::string script = "-q -n 'BEGIN { printf(\"ready\\n\"); }' -n '" + p +
                             "::add_one:entry { @c = count(); @s = sum(arg0); }' -n '" + p +
                             ":calls:add_one:return { @r = sum(arg1); }' -n 'END { "
                             "printa(\"calls %@d args %@d returns %@d\\n\", @c, @s, @r); }'";
  const std::string out = trace_while(script, {vms_.a}, [&] {
    Result done = run_vtrace(vms_.env, "vm exec " + vms_.a + " -- sh -c 'while kill -0 " + pid +
                                           " 2>/dev/null; do sleep 0.2; done'");
    EXPECT_EQ(done.status, 0) << done.output;
  });
  EXPECT_NE(out.find("calls 1000 args 499500 returns 500500\n"), std::string::npos) << out;
  Result none = run_vtrace(vms_.env, "-n '" + vms_.a + ":pid999999::main:entry { }'");
  EXPECT_EQ(none.status, 1) << none.output;
  EXPECT_NE(none.output.find(vms_.a + ": no pid999999 probes: it has no such process"),
            std::string::npos)
      << none.output;
}

TEST_F(GuestTraceTest, PerVmSyscallCountsAreExact) {
  TempDir tmp("count");
  const std::string script =
      "-q -n 'BEGIN { printf(\"ready\\n\"); }' "
      "-n '*:syscall::getppid:entry /execname == \"getppid_loop\"/ "
      "{ @[vmname] = count(); }' -n 'tick-1s /++i == 30/ { exit(0); }'";
  Background tracer(vms_.env, script, tmp.path + "/out");
  ASSERT_TRUE(wait_attached(vms_.run_dir->path, {vms_.a, vms_.b}, 60)) << tracer.output();
  ASSERT_TRUE(wait_output(tracer, "ready", 60)) << tracer.output();
  Result ra = run_vtrace(vms_.env, "vm exec " + vms_.a + " -- /bin/getppid_loop 300");
  Result rb = run_vtrace(vms_.env, "vm exec " + vms_.b + " -- /bin/getppid_loop 500");
  EXPECT_EQ(ra.status, 0) << ra.output;
  EXPECT_EQ(rb.status, 0) << rb.output;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  tracer.interrupt();
  ASSERT_EQ(tracer.wait(30), 0) << tracer.output();
  std::string out = tracer.output();
  EXPECT_TRUE(std::regex_search(out, std::regex(vms_.a + "\\s+300\\b"))) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex(vms_.b + "\\s+500\\b"))) << out;
}

TEST_F(GuestTraceTest, HostileGuestIsCountedAndTheOtherGuestStaysExact) {
  TempDir tmp("hostile");
  const std::string script = "-q -n '" + vms_.a + ":syscall::getppid:entry, " + vms_.b +
                             ":syscall::getppid:entry /execname == \"getppid_loop\"/ "
                             "{ @[vmname] = count(); }' -n 'BEGIN { printf(\"ready\\n\"); }'";
  Background tracer(vms_.env, script, tmp.path + "/out");
  ASSERT_TRUE(wait_attached(vms_.run_dir->path, {vms_.a, vms_.b}, 60)) << tracer.output();
  ASSERT_TRUE(wait_output(tracer, "ready", 60)) << tracer.output();
  // Guest B writes garbage of every kind into its own channel, then behaves.
  Result bad =
      run_vtrace(vms_.env, "vm exec " + vms_.b + " -- /bin/guest_garbage --count 200 --ring both");
  EXPECT_EQ(bad.status, 0) << bad.output;
  Result ra = run_vtrace(vms_.env, "vm exec " + vms_.a + " -- /bin/getppid_loop 400");
  EXPECT_EQ(ra.status, 0) << ra.output;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  tracer.interrupt();
  ASSERT_EQ(tracer.wait(30), 0) << tracer.output();
  std::string out = tracer.output();
  // A's count is exact; B's garbage is counted and reported under B's name, nothing under A's.
  EXPECT_TRUE(std::regex_search(out, std::regex(vms_.a + "\\s+400\\b"))) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("vtrace: " + vms_.b + ": \\d+ records? rejected")))
      << out;
  EXPECT_NE(out.find("vtrace: " + vms_.b + ": "), std::string::npos) << out;
  EXPECT_NE(out.find("probe table entries rejected"), std::string::npos) << out;
  // Said when it happened too: probes that guest adds later may be missing.
  EXPECT_NE(out.find("vtrace: VM " + vms_.b + ": its probe table is corrupt"), std::string::npos)
      << out;
  // Counters it wrote that no guest could reach are named as bad, never printed as numbers.
  EXPECT_NE(out.find("vtrace: " + vms_.b + ": bad counter"), std::string::npos) << out;
  EXPECT_EQ(out.find("1967016172124798215"), std::string::npos) << out;
  EXPECT_EQ(out.find("3000000000"), std::string::npos) << out;
  EXPECT_FALSE(std::regex_search(out, std::regex("vtrace: " + vms_.a + ": (?!guest clock)")))
      << out;
  // The host survived and B still answers.
  Result again = run_vtrace(vms_.env, "vm exec " + vms_.b + " -- echo alive");
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("alive"), std::string::npos);
}

// A guest another vtrace traces is left out of a second run, and that run reports nothing of
// it: the counts in its channel are the first run's (they used to be printed as the second's).
TEST_F(GuestTraceTest, ASecondTracerReportsNothingOfAGuestItDoesNotTrace) {
  TempDir tmp("second");
  Background first(vms_.env,
                   "-q -n '" + vms_.b +
                       ":syscall::getppid:entry { @ = count(); }' "
                       "-n 'BEGIN { printf(\"ready\\n\"); }'",
                   tmp.path + "/first");
  ASSERT_TRUE(wait_output(first, "ready", 60)) << first.output();
  // Counts in B's channel that are the first run's business.
  Result bad =
      run_vtrace(vms_.env, "vm exec " + vms_.b + " -- /bin/guest_garbage --kinds counters");
  EXPECT_EQ(bad.status, 0) << bad.output;
  Result second = run_vtrace(vms_.env,
                             "-n 'syscall::getppid:entry { @ = count(); }' "
                             "-n 'tick-1s { exit(0); }'");
  EXPECT_EQ(second.status, 0) << second.output;
  EXPECT_NE(second.output.find(vms_.b + " is being traced by another vtrace; not tracing it"),
            std::string::npos)
      << second.output;
  EXPECT_FALSE(
      std::regex_search(second.output, std::regex("vtrace: " + vms_.b + ": (?!.*another vtrace)")))
      << second.output;
  first.interrupt();
  EXPECT_EQ(first.wait(30), 0) << first.output();
}

}  // namespace

namespace {

TEST_F(GuestTraceTest, BuiltinsAndThreadLocalsArePerGuest) {
  TempDir tmp("builtins");
  // Both guests run the same program the same way, so their threads likely share a tid: self->n
  // must still count each guest's calls separately (a shared one would reach 300 only once).
  // Not quiet: the guest clock lines at the end explain a failure of after_begin.
  const std::string script =
      "-n 'BEGIN { start = timestamp; printf(\"ready\\n\"); }' "
      "-n '*:syscall::getppid:entry /execname == \"getppid_loop\"/ { self->n++; }' "
      "-n '*:syscall::getppid:entry /execname == \"getppid_loop\" && self->n == 300/ { "
      "printf(\"%s vcpu=%d tid=%d raw=%d after_begin=%d (%d us)\\n\", vmname, vcpu, tid, "
      "guesttimestamp > 0, timestamp > start, ((int64_t)timestamp - (int64_t)start) / 1000); }'";
  Background tracer(vms_.env, script, tmp.path + "/out");
  ASSERT_TRUE(wait_output(tracer, "ready", 60)) << tracer.output();
  EXPECT_EQ(run_vtrace(vms_.env, "vm exec " + vms_.a + " -- /bin/getppid_loop 300").status, 0);
  EXPECT_EQ(run_vtrace(vms_.env, "vm exec " + vms_.b + " -- /bin/getppid_loop 300").status, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  tracer.interrupt();
  ASSERT_EQ(tracer.wait(30), 0) << tracer.output();
  std::string out = tracer.output();
  std::smatch ma, mb;
  ASSERT_TRUE(
      std::regex_search(out, ma, std::regex(vms_.a + " vcpu=0 tid=(\\d+) raw=1 after_begin=1")))
      << out;
  ASSERT_TRUE(
      std::regex_search(out, mb, std::regex(vms_.b + " vcpu=0 tid=(\\d+) raw=1 after_begin=1")))
      << out;
  std::cout << "[ self ] tids " << ma[1] << " and " << mb[1]
            << (ma[1] == mb[1] ? " (the same: self-> kept apart)" : "") << "\n";
}

// -x oformat=json: a guest's firings say which VM they came from, and each carries the bound
// of its translated timestamp (the host's own records have none: 0).
TEST_F(GuestTraceTest, JsonOutputCarriesEachGuestRecordsVmAndClockBound) {
  TempDir tmp("json");
  const std::string script =
      "-x oformat=json -n 'BEGIN { printf(\"ready\\n\"); }' -n '" + vms_.a +
      ":syscall::getppid:entry /execname == \"getppid_loop\"/ { printf(\"%d\\n\", tid); }'";
  Background tracer(vms_.env, script, tmp.path + "/out");
  ASSERT_TRUE(wait_output(tracer, "ready", 60)) << tracer.output();
  EXPECT_EQ(run_vtrace(vms_.env, "vm exec " + vms_.a + " -- /bin/getppid_loop 50").status, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  tracer.interrupt();
  ASSERT_EQ(tracer.wait(30), 0) << tracer.output();
  std::istringstream out(tracer.output());
  int guest = 0, host = 0;
  for (std::string line; std::getline(out, line);) {
    if (line.empty() || line[0] != '{') continue;  // vtrace's own lines on stderr
    const nlohmann::json j = nlohmann::json::parse(line);
    if (j["probe"] == "dtrace:::BEGIN") {
      ++host;
      EXPECT_EQ(j["vmname"], "host");
      EXPECT_EQ(j["clock_bound_ns"], 0);
      continue;
    }
    ++guest;
    EXPECT_EQ(j["vmname"], vms_.a) << line;
    EXPECT_EQ(j["target"], vms_.a) << line;
    EXPECT_EQ(j["probe"], "syscall::getppid:entry") << line;
    ASSERT_TRUE(j["clock_bound_ns"].is_number()) << line;
    EXPECT_GT(j["clock_bound_ns"].get<uint64_t>(), 0u) << line;
    EXPECT_LT(j["clock_bound_ns"].get<uint64_t>(), 1'000'000'000u) << line;
    EXPECT_EQ(j["items"][0]["values"][0]["value"], j["tid"]) << line;
  }
  EXPECT_EQ(host, 1);
  EXPECT_EQ(guest, 50) << tracer.output();
}

TEST_F(GuestTraceTest, ARunStartsItsOwnGuestAndGoesOnWhenItDies) {
  TempDir tmp("own");
  const std::string c = "gtc" + std::to_string(getpid());
  const std::string script =
      "-q --vm " + c + " -n 'BEGIN { printf(\"ready\\n\"); }' -n '" + c +
      ":sched:::on-cpu { @cpu[vmname] = count(); }' -n '" + vms_.a +
      ":syscall::getppid:entry /execname == \"getppid_loop\"/ { @calls[vmname] = count(); }'";
  Background tracer(vms_.env, script, tmp.path + "/out");
  ASSERT_TRUE(wait_output(tracer, "ready", 120)) << tracer.output();
  Result list = run_vtrace(vms_.env, "vm list");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(list.output, m, std::regex(c + "\\s+(\\d+)"))) << list.output;
  // The guest dies under the running script (its QEMU is killed).
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(kill(std::stoi(m[1]), SIGKILL), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  Result ra = run_vtrace(vms_.env, "vm exec " + vms_.a + " -- /bin/getppid_loop 200");
  EXPECT_EQ(ra.status, 0) << ra.output;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  tracer.interrupt();
  ASSERT_EQ(tracer.wait(30), 0) << tracer.output();
  std::string out = tracer.output();
  EXPECT_NE(out.find("VM " + c + " has stopped"), std::string::npos) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex(vms_.a + "\\s+200\\b"))) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex(c + "\\s+[1-9]\\d*\\b"))) << out;
  // The run stopped the guest it started: nothing of it is left.
  Result after = run_vtrace(vms_.env, "vm list");
  EXPECT_EQ(after.output.find(c), std::string::npos) << after.output;
}

}  // namespace
