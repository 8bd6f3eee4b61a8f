// `vtrace vm exec` against real guests and their vtrace-agent, and `vm start --share`: two VMs
// with the same share see the same memory (order_send in one, order_recv in the other). Both
// VMs boot once, together, for the whole test (booting is the slow part under TCG).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "guest_test_util.h"

namespace vtrace::guest_test {
namespace {

namespace fs = std::filesystem;

// The mailbox of examples/guest/mailbox.h: seq at offset 0, ack at 64.
std::pair<uint64_t, uint64_t> mailbox(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  uint64_t v[9] = {};
  in.read(reinterpret_cast<char*>(v), sizeof v);
  return {v[0], v[8]};
}

TEST(VmExec, CommandsAndASharedMailboxAcrossTwoGuests) {
  if (std::string why = guest_vm_missing(); !why.empty()) GTEST_SKIP() << "skipped: " << why;
  TempDir run("vm-exec");
  const std::string env =
      "VTRACE_RUNTIME_DIR=" + run.path + " VTRACE_CACHE_DIR=" + VTRACE_TEST_CACHE;
  const std::string a = "gx" + std::to_string(getpid()) + "a",
                    b = "gx" + std::to_string(getpid()) + "b";
  const std::string share = "gx" + std::to_string(getpid());
  const std::string share_file = "/dev/shm/vtrace-" + std::to_string(geteuid()) + "/share-" + share;
  struct StopAll {
    std::string env;
    ~StopAll() { run_vtrace(env, "vm stop --all"); }  // never leave a QEMU behind
  } stop_all{env};

  Result start = run_vtrace(env, "vm start " + a + " " + b + " --share " + share);
  ASSERT_EQ(start.status, 0) << start.output;
  ASSERT_TRUE(fs::exists(share_file));
  EXPECT_EQ(fs::file_size(share_file), 1u << 20);
  struct stat st {};
  ASSERT_EQ(stat(share_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Result list = run_vtrace(env, "vm list -v");
  EXPECT_NE(list.output.find("share " + share + " (" + share_file + ")"), std::string::npos)
      << list.output;

  // Output and exit status come back as the command's own.
  Result echo = run_vtrace(env, "vm exec " + a + " -- echo hello world");
  EXPECT_EQ(echo.status, 0) << echo.output;
  EXPECT_EQ(echo.output, "hello world\n");
  Result seven = run_vtrace(env, "vm exec " + a + " -- sh -c 'echo to stderr >&2; exit 7'");
  EXPECT_EQ(seven.status, 7) << seven.output;
  EXPECT_EQ(seven.output, "to stderr\n");
  Result missing = run_vtrace(env, "vm exec " + a + " -- /no/such/command");
  EXPECT_EQ(missing.status, 127) << missing.output;
  Result ps = run_vtrace(env, "vm exec " + b + " ps");  // "--" is optional
  EXPECT_EQ(ps.status, 0) << ps.output;
  EXPECT_NE(ps.output.find("/sbin/vtrace-agent --daemon"), std::string::npos) << ps.output;

  // Two guests, one memory: the receiver (started first, in the background) sees every send.
  TempDir tmp("vm-exec-out");
  {
    Background recv(env, "vm exec " + b + " -- /bin/order_recv 100", tmp.path + "/recv");
    Result send = run_vtrace(env, "vm exec " + a + " -- /bin/order_send 100");
    EXPECT_EQ(send.status, 0) << send.output;
    EXPECT_EQ(send.output, "order_send: sent 100\n");
    EXPECT_EQ(recv.wait(60), 0) << recv.output();
    EXPECT_EQ(recv.output(), "order_recv: received 100\n");
  }
  EXPECT_EQ(mailbox(share_file), std::make_pair(uint64_t{100}, uint64_t{100}));
  // Again, sender first: runs repeat on the same memory in either order.
  {
    Background send(env, "vm exec " + a + " -- /bin/order_send 30", tmp.path + "/send");
    Result recv = run_vtrace(env, "vm exec " + b + " -- /bin/order_recv 30");
    EXPECT_EQ(recv.status, 0) << recv.output;
    EXPECT_EQ(send.wait(60), 0) << send.output();
    EXPECT_EQ(send.output(), "order_send: sent 30\n");
  }

  // A command that outlives --timeout: exit 1 and a message (the guest command runs on).
  Result slow = run_vtrace(env, "vm exec " + a + " --timeout 0.5 -- sleep 3");
  EXPECT_EQ(slow.status, 1) << slow.output;
  EXPECT_NE(slow.output.find("vm " + a + ": 'sleep 3' did not finish within 0.5 s"),
            std::string::npos)
      << slow.output;

  // The shared memory stays while a VM uses it and goes with the last one.
  ASSERT_EQ(run_vtrace(env, "vm stop " + a).status, 0);
  EXPECT_TRUE(fs::exists(share_file));
  ASSERT_EQ(run_vtrace(env, "vm stop " + b).status, 0);
  EXPECT_FALSE(fs::exists(share_file));
}

}  // namespace
}  // namespace vtrace::guest_test
