#include "guest/agent/exec_server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "guest/agent/agent_log.h"
#include "sys/elf_probes.h"

extern char** environ;

namespace vtrace::guest {

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kPath = "/sbin:/bin:/usr/sbin:/usr/bin";

std::string find_in_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
  std::string dirs = kPath;
  for (size_t start = 0; start <= dirs.size();) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string full = dirs.substr(start, end - start) + "/" + name;
    if (access(full.c_str(), X_OK) == 0) return full;
    start = end + 1;
  }
  return "";
}

// True once the child has exited (it is not reaped: waitpid collects the status later).
bool child_exited(pid_t pid) {
  siginfo_t info{};
  return waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

template <typename Pred>
bool wait_until(Pred pred, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!pred()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return true;
}

// Holds the child until the agent made its channel, then lets it run and trace it.
void trace_held_child(pid_t pid, TraceHooks* hooks, const vtrace_guest_header* h, int gate_fd) {
  bool traced = hooks->begin_traced(pid);
  char go = 1;
  if (write(gate_fd, &go, 1) != 1) log_error("exec: could not release pid %d", pid);
  close(gate_fd);
  if (!traced) return;
  // The program's constructor maps the channel, writes client_pid and waits for `go`.
  if (wait_until([&] { return hooks->traced_client(pid) != 0 || child_exited(pid); }, 2000) &&
      hooks->traced_client(pid) != 0) {
    uint32_t gen = hooks->register_traced(pid);
    if (gen != 0) {
      wait_until(
          [&] {
            return __atomic_load_n(&h->table_seen, __ATOMIC_ACQUIRE) >= gen ||
                   !__atomic_load_n(&h->host_attached, __ATOMIC_ACQUIRE);
          },
          2000);
      hooks->enable_traced(pid);
    }
  } else {
    log_info("exec: pid %d did not map its channel", pid);
  }
  hooks->open_gate(pid);
}

}  // namespace

std::string parse_argv(const vtrace_guest_exec& ex, std::vector<std::string>& argv) {
  argv.clear();
  const uint32_t argc = ex.argc, len = ex.argv_len;
  if (argc == 0) return "no command";
  if (len > sizeof ex.argv) return "argv_len too large";
  size_t at = 0;
  for (uint32_t i = 0; i < argc; ++i) {
    const void* nul = at < len ? std::memchr(ex.argv + at, '\0', len - at) : nullptr;
    if (nul == nullptr) return "argv is not " + std::to_string(argc) + " NUL-terminated strings";
    size_t end = static_cast<const char*>(nul) - ex.argv;
    argv.emplace_back(ex.argv + at, end - at);
    at = end + 1;
  }
  if (argv[0].empty()) return "empty command name";
  return "";
}

ExecResult run_command(const std::vector<std::string>& argv, size_t cap, TraceHooks* hooks,
                       const vtrace_guest_header* h, const std::atomic<bool>* stop) {
  ExecResult res;
  std::string path = find_in_path(argv[0]);
  if (path.empty()) {
    res.output = argv[0] + ": not found\n";
    if (res.output.size() > cap) res.output.resize(cap);
    return res;  // 127, as a shell says
  }
  if (hooks != nullptr && !sys::has_probe_section(path)) hooks = nullptr;

  // Everything the child needs is built before fork: the agent has threads.
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, "PATH=", 5) != 0 && std::strncmp(*e, "VTRACE_WAIT=", 12) != 0)
      env.emplace_back(*e);
  env.push_back(std::string("PATH=") + kPath);
  if (hooks != nullptr) env.emplace_back("VTRACE_WAIT=1");
  std::vector<char*> envp, args;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);
  std::string fail = argv[0] + ": cannot execute: ";

  int out[2], gate[2] = {-1, -1};
  if (pipe2(out, O_CLOEXEC) != 0 || (hooks != nullptr && pipe2(gate, O_CLOEXEC) != 0)) {
    res.output = std::string("vtrace-agent: pipe: ") + strerror(errno) + "\n";
    return res;
  }
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (gate[0] >= 0) {
      char go = 0;
      if (read(gate[0], &go, 1) != 1) _exit(127);  // the agent gave up on it
    }
    if (null_fd >= 0) dup2(null_fd, 0);
    dup2(out[1], 1);
    dup2(out[1], 2);
    execve(path.c_str(), args.data(), envp.data());
    const char* why = strerror(errno);
    ssize_t n = write(2, fail.data(), fail.size());
    n = write(2, why, strlen(why));
    n = write(2, "\n", 1);
    (void)n;
    _exit(127);
  }
  close(out[1]);
  if (null_fd >= 0) close(null_fd);
  if (gate[0] >= 0) close(gate[0]);
  if (pid < 0) {
    close(out[0]);
    if (gate[1] >= 0) close(gate[1]);
    res.output = std::string("vtrace-agent: fork: ") + strerror(errno) + "\n";
    return res;
  }
  if (hooks != nullptr) trace_held_child(pid, hooks, h, gate[1]);

  // Read until EOF; a background grandchild holding the pipe open does not keep us after the
  // command exits (100 ms of silence after its exit ends the read).
  char buf[16384];
  bool exited = false;
  int status = 0;
  for (;;) {
    pollfd p{out[0], POLLIN, 0};
    int r = poll(&p, 1, 100);
    if (r > 0) {
      ssize_t n = read(out[0], buf, sizeof buf);
      if (n > 0) {
        size_t keep = std::min(static_cast<size_t>(n), cap - res.output.size());
        res.output.append(buf, keep);
        if (keep < static_cast<size_t>(n)) res.truncated = true;
        continue;
      }
      if (n == 0 || errno != EINTR) break;
    } else if (r == 0 && exited) {
      break;
    }
    if (!exited && waitpid(pid, &status, WNOHANG) == pid) exited = true;
    if (!exited && stop != nullptr && *stop) kill(pid, SIGKILL);
  }
  close(out[0]);
  if (!exited) waitpid(pid, &status, 0);
  if (WIFEXITED(status))
    res.status = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    res.status = 128 + WTERMSIG(status);
  return res;
}

void ExecServer::start() {
  stop_ = false;
  thread_ = std::thread([this] { run(); });
}

void ExecServer::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ExecServer::serve(uint32_t request) {
  auto* ex = transport::guest_exec(base_, layout_);
  char* output = reinterpret_cast<char*>(ex + 1);
  const size_t room = layout_.exec_size - sizeof(vtrace_guest_exec);
  const size_t cap = std::min<size_t>(ex->output_cap, room);
  __atomic_store_n(&ex->state, VTRACE_GEXEC_RUNNING, __ATOMIC_RELEASE);

  vtrace_guest_exec copy;
  std::memcpy(&copy, ex, sizeof copy);  // the request, read once
  std::vector<std::string> argv;
  std::string bad = parse_argv(copy, argv);
  ExecResult res;
  if (!bad.empty()) {
    res.output = "vtrace-agent: bad exec request: " + bad + "\n";
    if (res.output.size() > cap) res.output.resize(cap);
  } else if (symbols_ != nullptr && argv[0] == SymbolServer::kCommand) {
    res.output = symbols_->answer(std::vector<std::string>(argv.begin() + 1, argv.end()));
    res.status = 0;
    res.truncated = res.output.size() > cap;
    if (res.truncated) res.output.resize(cap);
  } else {
    vtrace_guest_header* h = static_cast<vtrace_guest_header*>(base_);
    TraceHooks* hooks =
        copy.traced && hooks_ != nullptr && hooks_->host_attached() ? hooks_ : nullptr;
    log_info("exec: %s%s", argv[0].c_str(), hooks != nullptr ? " (traced)" : "");
    res = run_command(argv, cap, hooks, h, &stop_);
  }
  std::memcpy(output, res.output.data(), res.output.size());
  ex->output_len = static_cast<uint32_t>(res.output.size());
  ex->output_truncated = res.truncated ? 1 : 0;
  ex->exit_status = res.status;
  __atomic_store_n(&ex->state, VTRACE_GEXEC_DONE, __ATOMIC_RELEASE);
  __atomic_store_n(&ex->response_seq, request, __ATOMIC_RELEASE);
}

void ExecServer::run() {
  auto* ex = transport::guest_exec(base_, layout_);
  while (!stop_) {
    const uint32_t req = __atomic_load_n(&ex->request_seq, __ATOMIC_ACQUIRE);
    if (req != __atomic_load_n(&ex->response_seq, __ATOMIC_ACQUIRE)) {
      serve(req);
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace vtrace::guest
