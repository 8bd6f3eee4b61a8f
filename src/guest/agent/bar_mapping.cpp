#include "guest/agent/bar_mapping.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

namespace vtrace::guest {

namespace {

constexpr uint64_t kMinBar = 16ull << 20;  // the test-mailbox ivshmem is smaller

std::string read_word(const std::string& path) {
  std::ifstream in(path);
  std::string w;
  in >> w;
  return w;
}

bool has_magic(const std::string& resource) {
  int fd = open(resource.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  uint64_t magic = 0;
  void* p = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return false;
  std::memcpy(&magic, p, sizeof magic);
  munmap(p, 4096);
  return magic == VTRACE_GUEST_MAGIC;
}

}  // namespace

BarMapping::~BarMapping() {
  unmap();
}

void BarMapping::unmap() {
  if (base_ != nullptr) munmap(base_, size_);
  base_ = nullptr;
  size_ = 0;
}

std::string BarMapping::find_device(const std::string& sysfs) {
  DIR* d = opendir(sysfs.c_str());
  if (d == nullptr) return "";
  std::vector<std::string> devices;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') devices.push_back(sysfs + "/" + e->d_name);
  closedir(d);
  std::string fallback;
  for (const auto& dev : devices) {
    if (read_word(dev + "/vendor") != "0x1af4" || read_word(dev + "/device") != "0x1110") continue;
    std::string res = dev + "/resource2";
    struct stat st;
    if (stat(res.c_str(), &st) != 0 || static_cast<uint64_t>(st.st_size) < kMinBar) continue;
    // The BAR reads as zeros (or faults) until memory decoding is on.
    std::ofstream(dev + "/enable") << "1";
    if (has_magic(res)) return res;
    if (fallback.empty()) fallback = res;
  }
  return fallback;
}

bool BarMapping::map(const std::string& path, std::string& error) {
  unmap();
  path_ = path.empty() ? find_device() : path;
  if (path_.empty()) {
    error = "no ivshmem device (1af4:1110 with a BAR of 16 MiB or more)";
    return false;
  }
  int fd = open(path_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    error = path_ + ": " + strerror(errno);
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < 4096) {
    error = path_ + ": too small";
    close(fd);
    return false;
  }
  void* p =
      mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int e = errno;
  close(fd);
  if (p == MAP_FAILED) {
    error = path_ + ": mmap: " + strerror(e);
    return false;
  }
  base_ = p;
  size_ = static_cast<uint64_t>(st.st_size);
  return true;
}

std::string BarMapping::validate() {
  if (base_ == nullptr) return "not mapped";
  transport::GuestLayout l;
  std::string err = transport::read_guest_layout(header(), size_, l);
  if (err.empty()) layout_ = l;
  return err;
}

void copy_field(char* dst, size_t size, const std::string& s) {
  size_t n = std::min(s.size(), size - 1);
  std::memcpy(dst, s.data(), n);
  std::memset(dst + n, 0, size - n);
}

void set_agent_error(vtrace_guest_header* h, const std::string& msg) {
  copy_field(h->agent_error, sizeof h->agent_error, msg);
}

}  // namespace vtrace::guest
