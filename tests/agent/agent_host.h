// The host side of a guest channel, played with the raw ABI (guest_abi.h) for the agent tests:
// a 16 MiB file in /dev/shm formatted like the BAR of a VM, a vtrace-agent (AGENT_BINARY) run
// on this machine against it, and the host's moves: attach, enable, read records, mark done.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "transport/guest_channel.h"

namespace agent_test {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

template <typename Pred>
bool wait_for(Pred pred, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Starts `argv` (no shell) with stdout/stderr to /dev/null.
inline pid_t spawn(const std::vector<std::string>& argv) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open("/dev/null", O_RDWR);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    execv(a[0], a.data());
    _exit(127);
  }
  return pid;
}

inline int reap(pid_t pid, std::chrono::milliseconds timeout = 5000ms) {
  int status = 0;
  auto deadline = Clock::now() + timeout;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(1ms);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class FakeHost {
 public:
  static constexpr uint64_t kSize = 16ull << 20;

  // `format` false: the agent starts against zeros (the host formats late).
  explicit FakeHost(bool format = true, std::vector<std::string> agent_args = {}) {
    static std::atomic<int> n{0};
    path_ = "/dev/shm/vtrace-agent-test." + std::to_string(getpid()) + "." + std::to_string(n++);
    int fd = open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(ftruncate(fd, kSize), 0);
    base_ = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    layout_ = vtrace::transport::guest_layout(kSize);
    if (format) this->format();
    std::vector<std::string> argv;
    // Profiling: VTRACE_AGENT_WRAP="valgrind --tool=callgrind ..." runs the agent under it.
    if (const char* wrap = std::getenv("VTRACE_AGENT_WRAP")) {
      std::istringstream words(wrap);
      for (std::string w; words >> w;) argv.push_back(w);
    }
    argv.insert(argv.end(), {AGENT_BINARY, "--bar", path_, "--poll-us", "200"});
    argv.insert(argv.end(), agent_args.begin(), agent_args.end());
    agent_ = spawn(argv);
  }
  ~FakeHost() {
    stop_heartbeat();
    if (agent_ > 0) {
      kill(agent_, SIGTERM);
      EXPECT_EQ(reap(agent_), 0) << "the agent did not stop on SIGTERM";
    }
    munmap(base_, kSize);
    unlink(path_.c_str());
  }

  void format() { vtrace::transport::init_guest_channel(base_, layout_); }
  vtrace_guest_header* h() { return static_cast<vtrace_guest_header*>(base_); }
  pid_t agent() const { return agent_; }
  const vtrace::transport::GuestLayout& layout() const { return layout_; }

  bool wait_ready(std::chrono::milliseconds timeout = 5000ms) {
    return wait_for([&] { return __atomic_load_n(&h()->agent_ready, __ATOMIC_ACQUIRE) == 1; },
                    timeout);
  }

  const vtrace_guest_probe& entry(uint32_t i) {
    return vtrace::transport::guest_table(base_, layout_)[i];
  }
  uint32_t probe_count() { return __atomic_load_n(&h()->probe_count, __ATOMIC_ACQUIRE); }
  // The table index of pid's probe provider:name (D spelling), or -1.
  int find(pid_t pid, const std::string& provider, const std::string& name) {
    for (uint32_t i = 0; i < probe_count(); ++i) {
      const auto& e = entry(i);
      if (e.kind == VTRACE_GPROBE_NATIVE && e.pid == pid && provider == e.provider &&
          name == e.name)
        return static_cast<int>(i);
    }
    return -1;
  }
  int wait_probe(pid_t pid, const std::string& provider, const std::string& name) {
    int i = -1;
    wait_for([&] { return (i = find(pid, provider, name)) >= 0; }, 5000ms);
    return i;
  }

  // A vtrace run attaches: zeroes the ring headers, then bumps the session.
  void attach(bool sync = false) {
    for (uint32_t r = 0; r < layout_.nrings; ++r) std::memset(ring(r), 0, sizeof(vtrace_ring));
    tail_[0] = tail_[1] = 0;
    std::memset(const_cast<uint8_t*>(enabled()), 0, layout_.max_probes);
    h()->host_flags = sync ? VTRACE_GHOST_SYNC : 0;
    __atomic_store_n(&h()->host_attached, 1u, __ATOMIC_RELEASE);
    __atomic_fetch_add(&h()->host_session, 1, __ATOMIC_RELEASE);
    start_heartbeat();
  }
  void detach() {
    __atomic_store_n(&h()->host_attached, 0u, __ATOMIC_RELEASE);
    stop_heartbeat();
  }
  volatile uint8_t* enabled() { return vtrace::transport::guest_enabled(base_, layout_); }
  void enable(const std::vector<int>& probes, uint8_t on = 1) {
    for (int p : probes) enabled()[p] = on;
    __atomic_store_n(&h()->table_seen, h()->table_gen, __ATOMIC_RELEASE);
    __atomic_fetch_add(&h()->enable_gen, 1, __ATOMIC_RELEASE);
  }

  vtrace_ring* ring(uint32_t r) { return vtrace::transport::guest_ring(base_, layout_, r); }
  // Copies out the records published since the last call (the host's tail advances).
  std::vector<vtrace_guest_record> read(uint32_t r = VTRACE_GUEST_RING_NATIVE) {
    std::vector<vtrace_guest_record> out;
    const uint64_t head = __atomic_load_n(&ring(r)->head, __ATOMIC_ACQUIRE);
    for (; tail_[r] < head; ++tail_[r])
      out.push_back(*vtrace::transport::guest_slot(ring(r), layout_.nslots, tail_[r]));
    __atomic_store_n(&ring(r)->tail, tail_[r], __ATOMIC_RELEASE);
    return out;
  }
  // Sync mode: the host has run the clauses of every record read so far.
  void mark_done(uint32_t r = VTRACE_GUEST_RING_NATIVE) {
    __atomic_store_n(&ring(r)->done, tail_[r], __ATOMIC_RELEASE);
  }

 private:
  void start_heartbeat() {
    if (beat_.joinable()) return;
    beating_ = true;
    beat_ = std::thread([this] {
      while (beating_) {
        __atomic_fetch_add(&h()->host_heartbeat, 1, __ATOMIC_RELEASE);
        std::this_thread::sleep_for(10ms);
      }
    });
  }
  void stop_heartbeat() {
    beating_ = false;
    if (beat_.joinable()) beat_.join();
  }

  std::string path_;
  void* base_ = nullptr;
  vtrace::transport::GuestLayout layout_;
  pid_t agent_ = -1;
  uint64_t tail_[2] = {0, 0};
  std::atomic<bool> beating_{false};
  std::thread beat_;
};

}  // namespace agent_test
