#include "cli/child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <vector>

namespace vtrace::cli {

namespace {

// The path execvp would run for `name` ("" when it finds none), so a typo fails before tracing
// starts.
std::string find_executable(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string full = dir + "/" + name;
    if (access(full.c_str(), X_OK) == 0) return full;
    start = end + 1;
  }
  return "";
}

}  // namespace

std::string GatedChild::resolve(const std::string& command) {
  std::istringstream in(command);
  std::string first;
  if (!(in >> first)) return "";
  return find_executable(first);
}

bool GatedChild::start(const std::string& command, std::string& error,
                       const std::vector<std::string>& extra_env) {
  std::vector<std::string> words;
  std::istringstream in(command);
  for (std::string w; in >> w;) words.push_back(w);
  if (words.empty()) {
    error = "-c requires a command";
    return false;
  }
  if (find_executable(words[0]).empty()) {
    error = strerror(ENOENT);
    return false;
  }
  int gate[2], exec_status[2];
  if (pipe(gate) != 0) {
    error = std::string("pipe: ") + strerror(errno);
    return false;
  }
  if (pipe2(exec_status, O_CLOEXEC) != 0) {
    error = std::string("pipe: ") + strerror(errno);
    close(gate[0]);
    close(gate[1]);
    return false;
  }
  pid_ = fork();
  if (pid_ < 0) {
    error = std::string("fork: ") + strerror(errno);
    return false;
  }
  if (pid_ == 0) {
    close(gate[1]);
    close(exec_status[0]);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, nullptr);
    char go = 0;
    if (read(gate[0], &go, 1) != 1) _exit(127);  // the tracer gave up
    close(gate[0]);
    for (const auto& e : extra_env) {
      size_t eq = e.find('=');
      if (eq != std::string::npos) setenv(e.substr(0, eq).c_str(), e.c_str() + eq + 1, 1);
    }
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    int e = errno;
    ssize_t n = write(exec_status[1], &e, sizeof e);
    (void)n;
    _exit(127);
  }
  close(gate[0]);
  close(exec_status[1]);
  gate_fd_ = gate[1];
  exec_fd_ = exec_status[0];
  return true;
}

bool GatedChild::release(std::string& error) {
  char go = 1;
  ssize_t n = write(gate_fd_, &go, 1);
  (void)n;
  close(gate_fd_);
  gate_fd_ = -1;
  int e = 0;
  ssize_t got = read(exec_fd_, &e, sizeof e);
  close(exec_fd_);
  exec_fd_ = -1;
  if (got == sizeof e) {
    error = strerror(e);
    return false;
  }
  return true;
}

GatedChild::~GatedChild() {
  if (gate_fd_ >= 0 || exec_fd_ >= 0) {
    abandon();
    return;
  }
  if (pid_ <= 0) return;
  // 0: still our child and not reaped (alive or a zombie), so pid_ cannot have been reused. A
  // child the tracing loop reaped already gives ECHILD: nothing to kill.
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == 0) {
    kill(pid_, SIGKILL);
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
}

void GatedChild::abandon() {
  if (pid_ <= 0) return;
  if (gate_fd_ >= 0) close(gate_fd_);
  if (exec_fd_ >= 0) close(exec_fd_);
  gate_fd_ = exec_fd_ = -1;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace vtrace::cli
