// vtrace-agent [--bar PATH] [--daemon] [--log FILE] [--poll-us N] [--no-kernel]
//
// Runs inside a Linux guest (started by /init) and relays probes between the guest and the
// vtrace host through the ivshmem BAR (guest_abi.h). --bar maps a plain file instead (tests).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "guest/agent/agent.h"
#include "guest/agent/agent_log.h"

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) {
  g_stop = true;
}

[[noreturn]] void usage(const char* msg) {
  if (msg != nullptr) std::fprintf(stderr, "vtrace-agent: %s\n", msg);
  std::fprintf(stderr,
               "usage: vtrace-agent [--bar PATH] [--daemon] [--log FILE] [--poll-us N] "
               "[--no-kernel]\n");
  std::exit(2);
}

void daemonize() {
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("vtrace-agent: fork");
    std::exit(1);
  }
  if (pid > 0) std::_Exit(0);
  setsid();
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd >= 0) {
    dup2(null_fd, 0);
    dup2(null_fd, 1);
    dup2(null_fd, 2);
    if (null_fd > 2) close(null_fd);
  }
}

}  // namespace

int main(int argc, char** argv) {
  vtrace::guest::AgentOptions opts;
  bool daemon = false;
  std::string log_path;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage((a + " needs a value").c_str());
      return argv[++i];
    };
    if (a == "--bar") {
      opts.bar = value();
    } else if (a == "--daemon") {
      daemon = true;
    } else if (a == "--log") {
      log_path = value();
    } else if (a == "--poll-us") {
      std::string v = value();
      char* end = nullptr;
      unsigned long n = std::strtoul(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0' || n > 1000000) usage("bad --poll-us");
      opts.poll_us = static_cast<uint32_t>(n);
    } else if (a == "--no-kernel") {
      opts.kernel = false;
    } else {
      usage(("unknown option " + a).c_str());
    }
  }
  if (daemon) {
    if (log_path.empty()) log_path = "/tmp/vtrace-agent.log";
    daemonize();
  }
  // Problems also go to the serial console when nobody sees our stderr.
  vtrace::guest::log_open(log_path, daemon);

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  vtrace::guest::Agent agent(opts);
  return agent.run(g_stop);
}
