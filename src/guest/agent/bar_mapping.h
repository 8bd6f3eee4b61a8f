// The agent's view of the guest channel: BAR2 of the vtrace ivshmem device (or, for tests, a
// plain file), mapped shared, and small helpers for the header fields the agent owns.
#pragma once
#include <cstdint>
#include <string>

#include "transport/guest_channel.h"

namespace vtrace::guest {

class BarMapping {
 public:
  BarMapping() = default;
  ~BarMapping();
  BarMapping(const BarMapping&) = delete;
  BarMapping& operator=(const BarMapping&) = delete;

  // Maps `path`, or (empty) finds the vtrace ivshmem device in sysfs, enables it and maps its
  // resource2. False with `error` set.
  bool map(const std::string& path, std::string& error);
  // Checks the header the host wrote (read_guest_layout). "" or what is wrong.
  std::string validate();

  void* base() const { return base_; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }
  vtrace_guest_header* header() const { return static_cast<vtrace_guest_header*>(base_); }
  const transport::GuestLayout& layout() const { return layout_; }

  // The resource2 of the ivshmem device to use ("" when none): the first of 1af4:1110 whose
  // BAR is >= 16 MiB, preferring one that already holds the magic. `sysfs` is for tests.
  static std::string find_device(const std::string& sysfs = "/sys/bus/pci/devices");

 private:
  void unmap();

  void* base_ = nullptr;
  uint64_t size_ = 0;
  std::string path_;
  transport::GuestLayout layout_;
};

// Writes agent_error (cut to fit, NUL-terminated).
void set_agent_error(vtrace_guest_header* h, const std::string& msg);
// Copies `s` into a fixed char field, cut to fit, NUL-terminated and zero-padded.
void copy_field(char* dst, size_t size, const std::string& s);

}  // namespace vtrace::guest
