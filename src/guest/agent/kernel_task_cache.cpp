#include "guest/agent/kernel_task_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace vtrace::guest {

namespace {

constexpr size_t kMaxTasks = 1 << 16;  // dropped wholesale past this: pid reuse or a fork storm

// Reads a small /proc file into buf (NUL-terminated); its length, or -1.
ssize_t read_small(const char* path, char* buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, cap - 1);
  close(fd);
  if (n < 0) return -1;
  buf[n] = '\0';
  return n;
}

}  // namespace

void set_comm(char (&dst)[16], std::string_view src) {
  size_t n = 0;
  while (n < src.size() && n < sizeof(dst) - 1 && src[n] != '\0') ++n;
  std::memcpy(dst, src.data(), n);
  std::memset(dst + n, 0, sizeof(dst) - n);
}

const KernelTask& KernelTaskCache::get(uint32_t tid, uint32_t pid_hint) {
  auto it = tasks_.find(tid);
  if (it != tasks_.end()) {
    // A tid seen first as a switched-in task has a guessed pid: the sample's is authoritative.
    if (pid_hint != 0) it->second.pid = pid_hint;
    if (!it->second.have_comm) read_comm(tid, it->second);
    return it->second;
  }
  if (tasks_.size() >= kMaxTasks) tasks_.clear();
  KernelTask t;
  t.pid = pid_hint;
  if (tid == 0) {
    set_comm(t.comm, "swapper");
    t.have_comm = true;
  } else if (pid_hint != 0) {
    read_comm(tid, t);
  } else {
    // status has both the name and the tgid ("Name:\tX\n...Tgid:\tN\n").
    char path[48];
    char buf[512];
    std::snprintf(path, sizeof(path), "/proc/%u/status", tid);
    if (read_small(path, buf, sizeof(buf)) > 0) {
      if (std::strncmp(buf, "Name:\t", 6) == 0) {
        const char* end = std::strchr(buf + 6, '\n');
        set_comm(t.comm, std::string_view(buf + 6, end ? static_cast<size_t>(end - buf - 6) : 0));
      }
      if (const char* tg = std::strstr(buf, "\nTgid:\t"))
        t.pid = static_cast<uint32_t>(std::strtoul(tg + 7, nullptr, 10));
    }
    t.have_comm = true;  // read once, found or not
    // Gone already: a main thread's pid is its tid, the likeliest guess.
    if (t.pid == 0) t.pid = tid;
  }
  return tasks_.emplace(tid, t).first->second;
}

void KernelTaskCache::read_comm(uint32_t tid, KernelTask& t) {
  char path[48];
  char buf[64];
  std::snprintf(path, sizeof(path), "/proc/%u/comm", tid);
  ssize_t n = read_small(path, buf, sizeof(buf));
  if (n > 0) set_comm(t.comm, std::string_view(buf, static_cast<size_t>(n) - 1));  // no '\n'
  t.have_comm = true;  // read once, found or not
}

void KernelTaskCache::on_comm(uint32_t pid, uint32_t tid, std::string_view comm) {
  if (tasks_.size() >= kMaxTasks) tasks_.clear();
  KernelTask& t = tasks_[tid];
  t.pid = pid;
  set_comm(t.comm, comm);
  t.have_comm = true;
}

void KernelTaskCache::on_fork(uint32_t pid, uint32_t tid, uint32_t parent_tid) {
  // The child has its parent's name; its pid is known even when the parent's name is not (then
  // /proc is read when the name is first needed).
  auto parent = tasks_.find(parent_tid);
  KernelTask t = parent != tasks_.end() ? parent->second : KernelTask{};
  t.pid = pid;
  if (tasks_.size() >= kMaxTasks) tasks_.clear();
  tasks_[tid] = t;
}

}  // namespace vtrace::guest
