// The guest workloads of examples/guest, run on the host: order_send/order_recv through a
// mailbox file ($VTRACE_MAILBOX) in either start order and repeatedly, and guest_garbage against
// a channel file ($VTRACE_CHANNEL).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "guest_test_util.h"
#include "transport/guest_channel.h"

namespace vtrace::guest_test {
namespace {

const std::string kBin = GUEST_BIN_DIR;

// Runs a shell command; its exit status and output.
Result shell(const std::string& cmd) {
  Result r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) r.output.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

TEST(OrderWorkloads, SendAndReceiveInEitherOrderAndRepeat) {
  TempDir d("mailbox");
  const std::string env = "VTRACE_MAILBOX=" + d.path + "/mb ";
  for (const char* order : {"recv-first", "send-first", "recv-first"}) {
    const bool recv_first = std::string(order) == "recv-first";
    const std::string recv = env + kBin + "/order_recv 200 > " + d.path + "/recv.out 2>&1";
    const std::string send = env + kBin + "/order_send 200 > " + d.path + "/send.out 2>&1";
    // The second program starts a moment later, in the background pair's shell.
    Result r = shell("(" + (recv_first ? recv : send) + "; echo first=$? >> " + d.path +
                     "/rc) & sleep 0.2; " + (recv_first ? send : recv) + "; echo second=$? >> " +
                     d.path + "/rc; wait; cat " + d.path + "/rc " + d.path + "/recv.out " + d.path +
                     "/send.out; rm " + d.path + "/rc");
    EXPECT_NE(r.output.find("first=0"), std::string::npos) << order << ": " << r.output;
    EXPECT_NE(r.output.find("second=0"), std::string::npos) << order << ": " << r.output;
    EXPECT_NE(r.output.find("order_recv: received 200"), std::string::npos)
        << order << ": " << r.output;
    EXPECT_NE(r.output.find("order_send: sent 200"), std::string::npos)
        << order << ": " << r.output;
  }
}

TEST(OrderWorkloads, GiveUpWithoutAPeer) {
  TempDir d("mailbox");
  Result r = shell("VTRACE_MAILBOX=" + d.path + "/mb " + kBin + "/order_send 3 --timeout 0.2");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("no receiver acknowledged the start within 0.2 s"), std::string::npos)
      << r.output;
  EXPECT_EQ(shell(kBin + "/order_recv").status, 2);
  // Outside a VM started with --share, the message says what to do.
  Result no_dev = shell("env -u VTRACE_MAILBOX " + kBin + "/order_recv 1");
  EXPECT_EQ(no_dev.status, 1);
  EXPECT_NE(no_dev.output.find("--share"), std::string::npos) << no_dev.output;
}

TEST(GuestGarbage, WritesBadRecordsAndALyingTable) {
  TempDir d("garbage");
  const std::string path = d.path + "/channel";
  const transport::GuestLayout l = transport::guest_layout(16u << 20);
  int fd = open(path.c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_EQ(ftruncate(fd, static_cast<off_t>(l.total_size)), 0);
  void* base = mmap(nullptr, l.total_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  ASSERT_NE(base, MAP_FAILED);
  transport::init_guest_channel(base, l);

  Result r = shell("VTRACE_CHANNEL=" + path + " " + kBin +
                   "/guest_garbage --count 5 --ring native --kinds nargs,seq,table");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("10 bad records"), std::string::npos) << r.output;
  vtrace_ring* native = transport::guest_ring(base, l, VTRACE_GUEST_RING_NATIVE);
  EXPECT_EQ(native->head, 10u);
  EXPECT_GT(transport::guest_slot(native, l.nslots, 0)->nargs, VTRACE_MAX_ARGS);
  EXPECT_NE(transport::guest_slot(native, l.nslots, 5)->seq, 5u);
  EXPECT_EQ(transport::guest_ring(base, l, VTRACE_GUEST_RING_KERNEL)->head, 0u);
  auto* h = static_cast<vtrace_guest_header*>(base);
  EXPECT_EQ(h->probe_count, 1000000u);
  EXPECT_EQ(transport::guest_table(base, l)[0].nargs, 200);

  Result head = shell("VTRACE_CHANNEL=" + path + " " + kBin + "/guest_garbage --kinds head");
  EXPECT_EQ(head.status, 0) << head.output;
  EXPECT_GT(native->head - native->tail, uint64_t{l.nslots});
  EXPECT_EQ(shell("VTRACE_CHANNEL=" + path + " " + kBin + "/guest_garbage --kinds bogus").status,
            2);
  munmap(base, l.total_size);
}

}  // namespace
}  // namespace vtrace::guest_test
