// `vtrace vm start|list|stop` from separate invocations, with real QEMU guests (TCG here).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "guest_test_util.h"
#include "targets/qemu/vm_manager.h"
#include "vtrace/guest_abi.h"

namespace vtrace::guest_test {
namespace {

namespace fs = std::filesystem;
namespace qemu = vtrace::targets::qemu;

// Shared by the VM tests: the image is built once, later builds are no-ops.
const std::string kCache = VTRACE_TEST_CACHE;

class VmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = guest_vm_missing(); !why.empty()) GTEST_SKIP() << "skipped: " << why;
    env_ = "VTRACE_RUNTIME_DIR=" + run_.path + " VTRACE_CACHE_DIR=" + kCache;
  }
  void TearDown() override {
    if (!env_.empty()) run_vtrace(env_, "vm stop --all");  // never leave a QEMU behind
  }
  std::string name(const std::string& tag) { return "gt" + std::to_string(getpid()) + tag; }
  TempDir run_{"vm-run"};
  std::string env_;
};

TEST_F(VmTest, StartListStop) {
  const std::string vm = name("a");
  auto t0 = std::chrono::steady_clock::now();
  Result start = run_vtrace(env_, "vm start " + vm + " --cpus 2 --mem 192");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(start.status, 0) << start.output;
  EXPECT_NE(start.output.find("started " + vm), std::string::npos) << start.output;
  std::cout << "[ boot ] " << vm << " ready after " << seconds
            << " s (including the image check)\n";
  RecordProperty("boot_seconds", std::to_string(seconds));

  const std::string dir = run_.path + "/" + vm;
  for (const char* f : {"qemu.pid", "qmp.sock", "console.log", "vm.conf"})
    EXPECT_TRUE(fs::exists(dir + "/" + f)) << f;
  // Shared memory in a private directory, files only root can open (SECURITY.md).
  const std::string ivshmem = guest_channel(run_.path, vm);
  const std::string ram = ivshmem.substr(0, ivshmem.size() - 8) + ".ram";
  ASSERT_TRUE(fs::exists(ivshmem)) << ivshmem;
  EXPECT_EQ(fs::file_size(ivshmem), 16u << 20);
  for (const std::string& f : {ivshmem, ram, dir, fs::path(ivshmem).parent_path().string()}) {
    struct stat st {};
    ASSERT_EQ(lstat(f.c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_mode & 077, 0u) << f << " is open to other users";
    EXPECT_EQ(st.st_uid, geteuid()) << f;
  }
  {
    // Formatted before QEMU started: the agent finds a valid layout.
    std::ifstream ch(ivshmem, std::ios::binary);
    uint64_t magic = 0;
    ch.read(reinterpret_cast<char*>(&magic), sizeof magic);
    EXPECT_EQ(magic, VTRACE_GUEST_MAGIC);
  }
  EXPECT_EQ(fs::file_size(ram), 192u << 20);
  std::ifstream console(dir + "/console.log");
  std::string log((std::istreambuf_iterator<char>(console)), {});
  EXPECT_NE(log.find("vtrace-guest: ready"), std::string::npos);

  // A second invocation sees it running.
  Result list = run_vtrace(env_, "vm list");
  ASSERT_EQ(list.status, 0) << list.output;
  std::string line = list.output.substr(list.output.find(vm));
  line = line.substr(0, line.find('\n'));
  EXPECT_NE(line.find(" 2 "), std::string::npos) << line;
  EXPECT_NE(line.find("192M"), std::string::npos) << line;
  EXPECT_NE(line.find("running"), std::string::npos) << line;
  std::ifstream pidf(dir + "/qemu.pid");
  int pid = 0;
  pidf >> pid;
  ASSERT_GT(pid, 0);

  // QMP answers, the channel device is on the guest's PCI bus (Red Hat ivshmem, 1af4:1110) and
  // guest RAM is readable from the host: the initramfs /init text is in it.
  {
    setenv("VTRACE_RUNTIME_DIR", run_.path.c_str(), 1);
    std::string status = qemu::qmp_execute(vm, R"({"execute":"query-status"})");
    EXPECT_NE(status.find("\"running\""), std::string::npos) << status;
    std::string pci = qemu::qmp_execute(
        vm, R"({"execute":"human-monitor-command","arguments":{"command-line":"info pci"}})");
    EXPECT_NE(pci.find("1af4:1110"), std::string::npos) << pci;
    // A VM with the channel cannot be saved (so never restored under a tracer): the ivshmem
    // device blocks migration, and savevm with it. vtrace's clock translation relies on it:
    // the only discontinuities its guests' clocks have are pauses and steps (guest_target.h).
    std::string save = qemu::qmp_execute(
        vm, R"({"execute":"human-monitor-command","arguments":{"command-line":"savevm s1"}})");
    EXPECT_NE(save.find("Migration is disabled"), std::string::npos) << save;
    unsetenv("VTRACE_RUNTIME_DIR");
    std::ifstream ram_in(ram, std::ios::binary);
    std::string mem((std::istreambuf_iterator<char>(ram_in)), {});
    EXPECT_NE(mem.find("echo \"vtrace-guest: ready\""), std::string::npos);
  }

  // Starting it again is refused while it runs.
  Result again = run_vtrace(env_, "vm start " + vm);
  EXPECT_EQ(again.status, 1) << again.output;
  EXPECT_NE(again.output.find("already running"), std::string::npos) << again.output;

  Result stop = run_vtrace(env_, "vm stop " + vm);
  ASSERT_EQ(stop.status, 0) << stop.output;
  EXPECT_NE(stop.output.find("stopped " + vm), std::string::npos);
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_FALSE(fs::exists(ivshmem));
  EXPECT_FALSE(fs::exists(ram));
  Result after = run_vtrace(env_, "vm list");
  EXPECT_EQ(after.output.find(vm), std::string::npos) << after.output;
  // QEMU is gone (a zombie left for a non-reaping init counts as gone).
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string st((std::istreambuf_iterator<char>(stat)), {});
  EXPECT_TRUE(st.empty() || st.find(") Z ") != std::string::npos) << st;
}

TEST_F(VmTest, BootFailureShowsTheConsoleTail) {
  // A real kernel with an empty initramfs panics ("VFS: Unable to mount root fs").
  std::string empty = run_.path + "/empty.img";
  std::ofstream(empty).close();
  const std::string vm = name("panic");
  Result r = run_vtrace(env_, "vm start " + vm + " --initrd " + empty + " --timeout 60");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("vm " + vm + ": the guest did not boot"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("last lines of its console log"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Kernel panic"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(run_.path + "/" + vm));
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(qemu::shm_dir(), ec))
    EXPECT_NE(e.path().filename().string().rfind(vm + "-", 0), 0u) << "left behind: " << e.path();
}

TEST_F(VmTest, BadKernelPathIsAnError) {
  Result r = run_vtrace(env_, "vm start " + name("nok") + " --kernel /nonexistent/vmlinuz");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("no such file: /nonexistent/vmlinuz"), std::string::npos) << r.output;
}

TEST_F(VmTest, KernelQemuRejectsGivesItsError) {
  std::string garbage = run_.path + "/garbage";
  std::ofstream(garbage) << std::string(8192, 'x');
  Result r = run_vtrace(env_, "vm start " + name("junk") + " --kernel " + garbage);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("qemu failed"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(run_.path + "/" + name("junk")));
}

TEST(VmCommand, UsageAndUnknownVm) {
  TempDir run("vm-run");
  std::string env = "VTRACE_RUNTIME_DIR=" + run.path;
  EXPECT_EQ(run_vtrace(env, "vm").status, 2);
  EXPECT_EQ(run_vtrace(env, "vm start").status, 2);
  EXPECT_EQ(run_vtrace(env, "vm start host").status, 2);
  EXPECT_EQ(run_vtrace(env, "vm start --cpus 0 a").status, 2);
  Result stop = run_vtrace(env, "vm stop nosuchvm");
  EXPECT_EQ(stop.status, 1);
  EXPECT_NE(stop.output.find("no VM named nosuchvm"), std::string::npos) << stop.output;
  Result list = run_vtrace(env, "vm list");
  EXPECT_EQ(list.status, 0);
  EXPECT_NE(list.output.find("NAME"), std::string::npos);
}

TEST(VmManager, NamesAreChecked) {
  EXPECT_EQ(qemu::check_vm_name("web1"), "");
  EXPECT_EQ(qemu::check_vm_name("db_2-x"), "");
  EXPECT_NE(qemu::check_vm_name(""), "");
  EXPECT_NE(qemu::check_vm_name("host"), "");
  EXPECT_NE(qemu::check_vm_name("pid42"), "");
  EXPECT_EQ(qemu::check_vm_name("pidgin"), "");
  EXPECT_NE(qemu::check_vm_name("a/b"), "");
  EXPECT_NE(qemu::check_vm_name(std::string(33, 'a')), "");
}

TEST(VmManager, AcceleratorNeedsHardwareVirtualization) {
  const char* forced = std::getenv("VTRACE_ACCEL");
  std::string saved = forced ? forced : "";
  unsetenv("VTRACE_ACCEL");
  TempDir d("accel");
  std::ofstream(d.path + "/vmx") << "processor\t: 0\nflags\t\t: fpu vme vmx sse2\n";
  std::ofstream(d.path + "/pvm") << "processor\t: 0\nflags\t\t: fpu vme hypervisor sse2\n";
  // /dev/null stands in for a /dev/kvm that opens.
  EXPECT_EQ(qemu::choose_accelerator(d.path + "/vmx", "/dev/null").name, "kvm");
  qemu::Accelerator pvm = qemu::choose_accelerator(d.path + "/pvm", "/dev/null");
  EXPECT_EQ(pvm.name, "tcg");
  EXPECT_NE(pvm.reason.find("no vmx/svm"), std::string::npos) << pvm.reason;
  qemu::Accelerator none = qemu::choose_accelerator(d.path + "/vmx", d.path + "/no-kvm");
  EXPECT_EQ(none.name, "tcg");
  EXPECT_NE(none.reason.find("not usable"), std::string::npos) << none.reason;
  setenv("VTRACE_ACCEL", "tcg", 1);
  EXPECT_EQ(qemu::choose_accelerator(d.path + "/vmx", "/dev/null").name, "tcg");
  if (forced)
    setenv("VTRACE_ACCEL", saved.c_str(), 1);
  else
    unsetenv("VTRACE_ACCEL");
}

TEST(VmManager, QemuCommandHasTheChannelAndSharedRam) {
  qemu::VmConfig c;
  c.name = "web1";
  c.cpus = 2;
  c.mem_mib = 512;
  c.kernel = "/k";
  c.initrd = "/i";
  qemu::VmInfo v;
  v.accel = "tcg";
  v.dir = "/run/vtrace/web1";
  v.ivshmem = "/dev/shm/vtrace-vm-web1";
  v.ram = "/dev/shm/vtrace-vm-web1.ram";
  v.console = v.dir + "/console.log";
  v.qmp = v.dir + "/qmp.sock";
  v.events = v.dir + "/events.sock";
  auto cmd = qemu::qemu_command(c, v);
  std::string all;
  for (const auto& a : cmd) all += a + " ";
  for (const char* want :
       {"-M pc ", "-accel tcg ", "-smp 2 ", "-m 512M ",
        "memory-backend-file,id=ram,size=512M,mem-path=/dev/shm/vtrace-vm-web1.ram,share=on ",
        "-machine memory-backend=ram ", "-device ivshmem-plain,memdev=ivsh,addr=0x4 ",
        "memory-backend-file,id=ivsh,size=16M,mem-path=/dev/shm/vtrace-vm-web1,share=on ",
        "-serial file:/run/vtrace/web1/console.log ",
        "-qmp unix:/run/vtrace/web1/qmp.sock,server,nowait ",
        "-qmp unix:/run/vtrace/web1/events.sock,server,nowait ", "-daemonize ",
        "-pidfile /run/vtrace/web1/qemu.pid ", "console=ttyS0 acpi=off panic=-1"})
    EXPECT_NE(all.find(want), std::string::npos) << want << "\nin: " << all;
  EXPECT_EQ(all.find("memdev=share"), std::string::npos) << all;

  // --share NAME: a second device at a fixed slot on the shared file.
  v.share = "ring";
  v.share_path = qemu::share_path("ring");
  all.clear();
  for (const auto& a : qemu::qemu_command(c, v)) all += a + " ";
  for (const std::string& want : {"memory-backend-file,id=share,size=1M,mem-path=/dev/shm/vtrace-" +
                                      std::to_string(geteuid()) + "/share-ring,share=on ",
                                  std::string("-device ivshmem-plain,memdev=share,addr=0x5 ")})
    EXPECT_NE(all.find(want), std::string::npos) << want << "\nin: " << all;
  EXPECT_EQ(qemu::check_share_name("ring-1_a"), "");
  EXPECT_NE(qemu::check_share_name("../x"), "");
  EXPECT_NE(qemu::check_share_name(""), "");
}

}  // namespace
}  // namespace vtrace::guest_test
