// One D script across two real Linux guests (QEMU): guests as targets (probes listed and named
// by VM), the ordering check across guests in sync and async mode, per-VM syscall counts, and a
// hostile guest writing garbage into its channel while the other guest's results stay exact.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <regex>
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
    run_dir_ = new TempDir("guest-trace");
    env_ = "VTRACE_RUNTIME_DIR=" + run_dir_->path + " VTRACE_CACHE_DIR=" + kCache;
    a_ = "gta" + std::to_string(getpid());
    b_ = "gtb" + std::to_string(getpid());
    Result r =
        run_vtrace(env_, "vm start " + a_ + " " + b_ + " --share order" + std::to_string(getpid()));
    boot_output_ = r.output;
    booted_ = r.status == 0;
  }
  static void TearDownTestSuite() {
    if (run_dir_ != nullptr) {
      run_vtrace(env_, "vm stop --all");
      delete run_dir_;
      run_dir_ = nullptr;
    }
  }
  void SetUp() override {
    if (std::string why = guest_vm_missing(); !why.empty()) GTEST_SKIP() << "skipped: " << why;
    ASSERT_TRUE(booted_) << boot_output_;
  }

  // Runs the ordering check with `n` messages; returns vtrace's output.
  std::string run_order(const std::string& mode_flags, int n) {
    TempDir tmp("order");
    Background tracer(env_,
                      "-Z " + mode_flags + " -s " + std::string(EXAMPLES_DIR) + "/guest_order.d " +
                          std::to_string(n),
                      tmp.path + "/out");
    EXPECT_TRUE(wait_attached({a_, b_}, 60)) << tracer.output();
    EXPECT_TRUE(wait_output(tracer, "waiting for", 60)) << tracer.output();
    const std::string count = std::to_string(n);
    // Sync mode under TCG takes some milliseconds a message: no exec timeout.
    Background recv(env_, "vm exec --timeout 1200 " + b_ + " -- /bin/order_recv " + count,
                    tmp.path + "/recv");
    Result send = run_vtrace(env_, "vm exec --timeout 1200 " + a_ + " -- /bin/order_send " + count);
    EXPECT_EQ(send.status, 0) << send.output;
    EXPECT_EQ(recv.wait(600), 0) << recv.output();
    int status = tracer.wait(60);
    std::string out = tracer.output();
    EXPECT_EQ(status, 0) << out;
    return out;
  }

  static inline TempDir* run_dir_ = nullptr;
  static inline std::string env_, a_, b_, boot_output_;
  static inline bool booted_ = false;
};

TEST_F(GuestTraceTest, ListsEveryGuestsProbesUnderItsName) {
  Result r = run_vtrace(env_, "-l");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const std::string& vm : {a_, b_}) {
    EXPECT_NE(r.output.find(vm + ":syscall"), std::string::npos) << r.output.substr(0, 2000);
    EXPECT_NE(r.output.find(vm + ":sched"), std::string::npos);
  }
  // Each guest's clock translation and its bound, measured through its agent.
  Result list = run_vtrace(env_, "vm list -v");
  ASSERT_EQ(list.status, 0) << list.output;
  EXPECT_TRUE(std::regex_search(list.output,
                                std::regex("clock (measured, \\+-[0-9.]+ (ns|us)|kvm, exact)")))
      << list.output;
  // A description naming one guest matches only that guest's probes.
  Result one = run_vtrace(env_, "-l -n '" + a_ + ":syscall::getppid:entry'");
  ASSERT_EQ(one.status, 0) << one.output;
  EXPECT_NE(one.output.find(a_ + ":syscall"), std::string::npos) << one.output;
  EXPECT_EQ(one.output.find(b_ + ":syscall"), std::string::npos) << one.output;
}

TEST_F(GuestTraceTest, OrderIsExactInSyncMode) {
  const int n = 10000;
  std::string out = run_order("-x mode=sync", n);
  EXPECT_EQ(count_line(out, a_, "send"), n) << out;
  EXPECT_EQ(count_line(out, b_, "recv"), n) << out;
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
  EXPECT_EQ(count_line(out, a_, "send") + reported_drops(out, a_), n) << out;
  EXPECT_EQ(count_line(out, b_, "recv") + reported_drops(out, b_), n) << out;
  // Translated time is exact up to the guests' bounds: a send and its recv closer than that may
  // come out inverted (and the script says by how much); nothing may be inverted by more.
  const double bound = clock_bound_ns(out, a_) + clock_bound_ns(out, b_);
  ASSERT_GE(clock_bound_ns(out, a_), 0) << out;
  ASSERT_GE(clock_bound_ns(out, b_), 0) << out;
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

TEST_F(GuestTraceTest, PerVmSyscallCountsAreExact) {
  TempDir tmp("count");
  const std::string script =
      "-q -n 'BEGIN { printf(\"ready\\n\"); }' "
      "-n '*:syscall::getppid:entry /execname == \"getppid_loop\"/ "
      "{ @[vmname] = count(); }' -n 'tick-1s /++i == 30/ { exit(0); }'";
  Background tracer(env_, script, tmp.path + "/out");
  ASSERT_TRUE(wait_attached({a_, b_}, 60)) << tracer.output();
  ASSERT_TRUE(wait_output(tracer, "ready", 60)) << tracer.output();
  Result ra = run_vtrace(env_, "vm exec " + a_ + " -- /bin/getppid_loop 300");
  Result rb = run_vtrace(env_, "vm exec " + b_ + " -- /bin/getppid_loop 500");
  EXPECT_EQ(ra.status, 0) << ra.output;
  EXPECT_EQ(rb.status, 0) << rb.output;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  tracer.interrupt();
  ASSERT_EQ(tracer.wait(30), 0) << tracer.output();
  std::string out = tracer.output();
  EXPECT_TRUE(std::regex_search(out, std::regex(a_ + "\\s+300\\b"))) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex(b_ + "\\s+500\\b"))) << out;
}

TEST_F(GuestTraceTest, HostileGuestIsCountedAndTheOtherGuestStaysExact) {
  TempDir tmp("hostile");
  const std::string script = "-q -n '" + a_ + ":syscall::getppid:entry, " + b_ +
                             ":syscall::getppid:entry /execname == \"getppid_loop\"/ "
                             "{ @[vmname] = count(); }' -n 'BEGIN { printf(\"ready\\n\"); }'";
  Background tracer(env_, script, tmp.path + "/out");
  ASSERT_TRUE(wait_attached({a_, b_}, 60)) << tracer.output();
  ASSERT_TRUE(wait_output(tracer, "ready", 60)) << tracer.output();
  // Guest B writes garbage of every kind into its own channel, then behaves.
  Result bad = run_vtrace(env_, "vm exec " + b_ + " -- /bin/guest_garbage --count 200 --ring both");
  EXPECT_EQ(bad.status, 0) << bad.output;
  Result ra = run_vtrace(env_, "vm exec " + a_ + " -- /bin/getppid_loop 400");
  EXPECT_EQ(ra.status, 0) << ra.output;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  tracer.interrupt();
  ASSERT_EQ(tracer.wait(30), 0) << tracer.output();
  std::string out = tracer.output();
  // A's count is exact; B's garbage is counted and reported under B's name, nothing under A's.
  EXPECT_TRUE(std::regex_search(out, std::regex(a_ + "\\s+400\\b"))) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("vtrace: " + b_ + ": \\d+ records? rejected")))
      << out;
  EXPECT_NE(out.find("vtrace: " + b_ + ": "), std::string::npos) << out;
  EXPECT_NE(out.find("probe table entries rejected"), std::string::npos) << out;
  EXPECT_FALSE(std::regex_search(out, std::regex("vtrace: " + a_ + ": (?!guest clock)"))) << out;
  // The host survived and B still answers.
  Result again = run_vtrace(env_, "vm exec " + b_ + " -- echo alive");
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("alive"), std::string::npos);
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
  Background tracer(env_, script, tmp.path + "/out");
  ASSERT_TRUE(wait_output(tracer, "ready", 60)) << tracer.output();
  EXPECT_EQ(run_vtrace(env_, "vm exec " + a_ + " -- /bin/getppid_loop 300").status, 0);
  EXPECT_EQ(run_vtrace(env_, "vm exec " + b_ + " -- /bin/getppid_loop 300").status, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  tracer.interrupt();
  ASSERT_EQ(tracer.wait(30), 0) << tracer.output();
  std::string out = tracer.output();
  std::smatch ma, mb;
  ASSERT_TRUE(std::regex_search(out, ma, std::regex(a_ + " vcpu=0 tid=(\\d+) raw=1 after_begin=1")))
      << out;
  ASSERT_TRUE(std::regex_search(out, mb, std::regex(b_ + " vcpu=0 tid=(\\d+) raw=1 after_begin=1")))
      << out;
  std::cout << "[ self ] tids " << ma[1] << " and " << mb[1]
            << (ma[1] == mb[1] ? " (the same: self-> kept apart)" : "") << "\n";
}

TEST_F(GuestTraceTest, ARunStartsItsOwnGuestAndGoesOnWhenItDies) {
  TempDir tmp("own");
  const std::string c = "gtc" + std::to_string(getpid());
  const std::string script =
      "-q --vm " + c + " -n 'BEGIN { printf(\"ready\\n\"); }' -n '" + c +
      ":sched:::on-cpu { @cpu[vmname] = count(); }' -n '" + a_ +
      ":syscall::getppid:entry /execname == \"getppid_loop\"/ { @calls[vmname] = count(); }'";
  Background tracer(env_, script, tmp.path + "/out");
  ASSERT_TRUE(wait_output(tracer, "ready", 120)) << tracer.output();
  Result list = run_vtrace(env_, "vm list");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(list.output, m, std::regex(c + "\\s+(\\d+)"))) << list.output;
  // The guest dies under the running script (its QEMU is killed).
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(kill(std::stoi(m[1]), SIGKILL), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  Result ra = run_vtrace(env_, "vm exec " + a_ + " -- /bin/getppid_loop 200");
  EXPECT_EQ(ra.status, 0) << ra.output;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  tracer.interrupt();
  ASSERT_EQ(tracer.wait(30), 0) << tracer.output();
  std::string out = tracer.output();
  EXPECT_NE(out.find("VM " + c + " has stopped"), std::string::npos) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex(a_ + "\\s+200\\b"))) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex(c + "\\s+[1-9]\\d*\\b"))) << out;
  // The run stopped the guest it started: nothing of it is left.
  Result after = run_vtrace(env_, "vm list");
  EXPECT_EQ(after.output.find(c), std::string::npos) << after.output;
}

}  // namespace
