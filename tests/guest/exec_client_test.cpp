// The `vtrace vm exec` client against a fake agent: a thread of this test serving the exec
// mailbox of a channel file, as the guest's vtrace-agent does (guest_abi.h). No QEMU needed.
#include "targets/qemu/exec_client.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "guest_test_util.h"
#include "transport/guest_channel.h"

namespace vtrace::guest_test {
namespace {

namespace qemu = vtrace::targets::qemu;

// A channel file as `vm start` formats it, and an agent thread answering its exec requests:
//   echo ARGS...   prints ARGS and exits 0        exit N   exits N
//   info           prints argc, traced, output_cap
//   liar N         claims 4 GiB of output and exit status N, without writing them
//   hang           never answers
class FakeAgent {
 public:
  explicit FakeAgent(bool ready = true) {
    layout_ = transport::guest_layout(uint64_t{qemu::kIvshmemSizeMiB} << 20);
    target_ = {"fake", dir_.path + "/channel", dir_.path + "/exec.lock", dir_.path + "/console.log",
               0};
    int fd = open(target_.channel.c_str(), O_RDWR | O_CREAT, 0600);
    EXPECT_EQ(ftruncate(fd, static_cast<off_t>(layout_.total_size)), 0);
    base_ = mmap(nullptr, layout_.total_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    transport::init_guest_channel(base_, layout_);
    header()->agent_ready = ready ? 1 : 0;
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeAgent() {
    stop_ = true;
    thread_.join();
    munmap(base_, layout_.total_size);
  }
  const qemu::ExecTarget& target() const { return target_; }
  vtrace_guest_header* header() { return static_cast<vtrace_guest_header*>(base_); }
  void set_ready() { __atomic_store_n(&header()->agent_ready, 1u, __ATOMIC_RELEASE); }

 private:
  void serve() {
    vtrace_guest_exec* e = transport::guest_exec(base_, layout_);
    while (!stop_) {
      const uint32_t req = __atomic_load_n(&e->request_seq, __ATOMIC_ACQUIRE);
      if (req == e->response_seq) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      std::vector<std::string> argv;
      for (size_t off = 0; off < e->argv_len && argv.size() < e->argc;) {
        argv.emplace_back(e->argv + off);
        off += argv.back().size() + 1;
      }
      char* out = reinterpret_cast<char*>(e + 1);
      std::string text;
      int status = 0;
      if (argv[0] == "hang") {  // never answered: the client times out
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      if (argv[0] == "echo") {
        for (size_t i = 1; i < argv.size(); ++i) text += (i > 1 ? " " : "") + argv[i];
        text += "\n";
      } else if (argv[0] == "exit") {
        status = std::stoi(argv[1]);
      } else if (argv[0] == "info") {
        text = "argc=" + std::to_string(e->argc) + " traced=" + std::to_string(e->traced) +
               " cap=" + std::to_string(e->output_cap);
      } else if (argv[0] == "liar") {
        std::memset(out, 'x', e->output_cap);
        e->output_len = 0xffffffffu;
        e->exit_status = std::stoi(argv[1]);
        finish(e, req);
        continue;
      } else {
        text = argv[0] + ": not found\n";
        status = 127;
      }
      std::memcpy(out, text.data(), text.size());
      e->output_len = static_cast<uint32_t>(text.size());
      e->exit_status = status;
      finish(e, req);
    }
  }
  static void finish(vtrace_guest_exec* e, uint32_t req) {
    __atomic_store_n(&e->state, VTRACE_GEXEC_DONE, __ATOMIC_RELEASE);
    __atomic_store_n(&e->response_seq, req, __ATOMIC_RELEASE);
  }

  TempDir dir_{"exec"};
  transport::GuestLayout layout_;
  qemu::ExecTarget target_;
  void* base_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

qemu::ExecOptions command(std::vector<std::string> argv) {
  qemu::ExecOptions o;
  o.argv = std::move(argv);
  o.timeout_s = 10;
  return o;
}

std::string error_of(const qemu::ExecTarget& t, const qemu::ExecOptions& o) {
  try {
    qemu::exec_command(t, o);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ExecClient, ReturnsOutputAndExitStatus) {
  FakeAgent agent;
  qemu::ExecResult r = qemu::exec_command(agent.target(), command({"echo", "hello", "world"}));
  EXPECT_EQ(r.output, "hello world\n");
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_FALSE(r.truncated);
  EXPECT_EQ(qemu::exec_command(agent.target(), command({"exit", "7"})).exit_status, 7);
  qemu::ExecResult missing = qemu::exec_command(agent.target(), command({"nosuchcmd"}));
  EXPECT_EQ(missing.exit_status, 127);
  EXPECT_EQ(missing.output, "nosuchcmd: not found\n");
}

TEST(ExecClient, SendsArgvTracedFlagAndOutputCap) {
  FakeAgent agent;
  const std::string cap = std::to_string(128 * 1024 - sizeof(vtrace_guest_exec));
  EXPECT_EQ(qemu::exec_command(agent.target(), command({"info", "a", ""})).output,
            "argc=3 traced=1 cap=" + cap);
  qemu::ExecOptions no_wait = command({"info"});
  no_wait.traced = false;
  EXPECT_EQ(qemu::exec_command(agent.target(), no_wait).output, "argc=1 traced=0 cap=" + cap);
}

TEST(ExecClient, ClampsWhatTheGuestClaims) {
  FakeAgent agent;
  qemu::ExecResult r = qemu::exec_command(agent.target(), command({"liar", "100000"}));
  EXPECT_EQ(r.output.size(), 128 * 1024 - sizeof(vtrace_guest_exec));
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.exit_status, 255);
  EXPECT_EQ(qemu::exec_command(agent.target(), command({"liar", "-3"})).exit_status, 0);
}

TEST(ExecClient, OneRequestAtATime) {
  FakeAgent agent;
  std::vector<std::thread> clients;
  std::atomic<int> right{0};
  for (int i = 0; i < 4; ++i)
    clients.emplace_back([&, i] {
      for (int k = 0; k < 5; ++k) {
        std::string word = std::to_string(i) + "-" + std::to_string(k);
        if (qemu::exec_command(agent.target(), command({"echo", word})).output == word + "\n")
          ++right;
      }
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(right, 20);
}

TEST(ExecClient, ErrorsSayWhatIsWrong) {
  FakeAgent agent;
  qemu::ExecOptions hang = command({"hang"});
  hang.timeout_s = 0.2;
  EXPECT_NE(error_of(agent.target(), hang).find("'hang' did not finish within 0.2 s"),
            std::string::npos)
      << error_of(agent.target(), hang);

  std::string too_long = error_of(agent.target(), command({"echo", std::string(5000, 'a')}));
  EXPECT_NE(too_long.find("the command line is too long (5006 bytes"), std::string::npos)
      << too_long;

  // The agent answers again after a request it never answered.
  EXPECT_EQ(qemu::exec_command(agent.target(), command({"echo", "ok"})).output, "ok\n");
}

TEST(ExecClient, WaitsForTheAgent) {
  FakeAgent not_ready(false);
  qemu::ExecOptions o = command({"echo", "x"});
  o.agent_wait_s = 0.2;
  std::string e = error_of(not_ready.target(), o);
  EXPECT_NE(e.find("the agent in VM fake is not running (see its console: " +
                   not_ready.target().console + ")"),
            std::string::npos)
      << e;
  // An agent that comes up within the wait is used.
  o.agent_wait_s = 10;
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    not_ready.set_ready();
  });
  EXPECT_EQ(qemu::exec_command(not_ready.target(), o).output, "x\n");
  later.join();
}

TEST(ExecClient, RefusesAFileThatIsNotAChannel) {
  TempDir d("exec-bad");
  const std::string path = d.path + "/channel";
  int fd = open(path.c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_EQ(ftruncate(fd, 16 << 20), 0);
  close(fd);
  qemu::ExecTarget t{"bad", path, d.path + "/exec.lock", d.path + "/console.log", 0};
  std::string e = error_of(t, command({"echo"}));
  EXPECT_NE(e.find("is not a usable vtrace channel: no vtrace guest channel (bad magic)"),
            std::string::npos)
      << e;
}

TEST(VmExecCommand, UsageAndUnknownVm) {
  TempDir run("vm-run");
  const std::string env = "VTRACE_RUNTIME_DIR=" + run.path;
  EXPECT_EQ(run_vtrace(env, "vm exec").status, 2);
  Result no_cmd = run_vtrace(env, "vm exec a");
  EXPECT_EQ(no_cmd.status, 2) << no_cmd.output;
  EXPECT_NE(no_cmd.output.find("vm exec needs a command"), std::string::npos) << no_cmd.output;
  EXPECT_EQ(run_vtrace(env, "vm exec a --timeout 0 -- ls").status, 2);
  Result unknown = run_vtrace(env, "vm exec nosuchvm -- ls");
  EXPECT_EQ(unknown.status, 1) << unknown.output;
  EXPECT_NE(unknown.output.find("no VM named nosuchvm"), std::string::npos) << unknown.output;
}

}  // namespace
}  // namespace vtrace::guest_test
