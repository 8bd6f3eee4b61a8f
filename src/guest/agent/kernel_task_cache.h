// Guest tasks' process ids and names by thread id, for kernel events whose tracepoint does not
// carry them (syscalls carry neither comm nor, for the task switched in, its pid). Filled from
// /proc once per thread and kept current by perf's side-band records (COMM on exec and prctl,
// FORK, EXIT), so a task is read from /proc at most once while it lives.
#pragma once
#include <cstdint>
#include <string_view>
#include <unordered_map>

namespace vtrace::guest {

struct KernelTask {
  uint32_t pid = 0;
  char comm[16] = {};      // NUL-terminated; empty when the task was gone before it was read
  bool have_comm = false;  // false: known from a fork whose parent was not cached
};

class KernelTaskCache {
 public:
  // The task with this tid. pid_hint (the sample's pid, 0 if unknown) spares reading its tgid.
  const KernelTask& get(uint32_t tid, uint32_t pid_hint);
  // Side-band updates.
  void on_comm(uint32_t pid, uint32_t tid, std::string_view comm);
  void on_fork(uint32_t pid, uint32_t tid, uint32_t parent_tid);
  void on_exit(uint32_t tid) { tasks_.erase(tid); }
  void clear() { tasks_.clear(); }
  size_t size() const { return tasks_.size(); }

 private:
  static void read_comm(uint32_t tid, KernelTask& t);

  std::unordered_map<uint32_t, KernelTask> tasks_;
};

// Copies at most 15 bytes of src (stopping at a NUL) into a NUL-terminated comm.
void set_comm(char (&dst)[16], std::string_view src);

}  // namespace vtrace::guest
