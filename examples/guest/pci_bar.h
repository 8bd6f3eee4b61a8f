// Maps a memory BAR of a PCI device from user space (sysfs resourceN), as the guest workloads
// map the ivshmem devices QEMU gives a vtrace guest. Header-only: the workloads are static
// programs that link nothing of vtrace.
#pragma once
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace vtrace_guest {

// A mapped region; base == nullptr when mapping failed (error says why).
struct Region {
  void* base = nullptr;
  size_t size = 0;
  std::string error;
};

// Maps a whole file (a host test stands in a file for the device).
inline Region map_file(const std::string& path, size_t min_size) {
  Region r;
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) {
    r.error = "cannot open " + path + ": " + std::strerror(errno);
    if (fd >= 0) close(fd);
    return r;
  }
  if (static_cast<size_t>(st.st_size) < min_size &&
      ftruncate(fd, static_cast<off_t>(min_size)) == 0)
    st.st_size = static_cast<off_t>(min_size);
  r.size = static_cast<size_t>(st.st_size);
  void* p = r.size ? mmap(nullptr, r.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
  if (p == MAP_FAILED)
    r.error = "cannot map " + path + ": " + std::strerror(errno);
  else
    r.base = p;
  close(fd);
  return r;
}

// Maps BAR `bar` of the ivshmem device (Red Hat 1af4:1110) at PCI address `bdf`
// ("0000:00:05.0"), enabling the device first so its memory BAR decodes.
inline Region map_ivshmem_bar(const std::string& bdf, int bar) {
  const std::string dev = "/sys/bus/pci/devices/" + bdf;
  auto read_id = [&](const char* file) {
    char buf[16] = {};
    int fd = open((dev + "/" + file).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ssize_t n = read(fd, buf, sizeof buf - 1);
      (void)n;
      close(fd);
    }
    return std::string(buf, strnlen(buf, sizeof buf)).substr(0, 6);
  };
  Region r;
  if (access(dev.c_str(), F_OK) != 0) {
    r.error = "no PCI device at " + bdf;
    return r;
  }
  if (read_id("vendor") != "0x1af4" || read_id("device") != "0x1110") {
    r.error = "the PCI device at " + bdf + " is not an ivshmem device";
    return r;
  }
  int en = open((dev + "/enable").c_str(), O_WRONLY | O_CLOEXEC);
  if (en >= 0) {
    ssize_t n = write(en, "1", 1);  // already enabled: harmless
    (void)n;
    close(en);
  }
  const std::string res = dev + "/resource" + std::to_string(bar);
  int fd = open(res.c_str(), O_RDWR | O_SYNC | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0) {
    r.error = "cannot open " + res + ": " + std::strerror(errno);
    if (fd >= 0) close(fd);
    return r;
  }
  r.size = static_cast<size_t>(st.st_size);
  void* p = mmap(nullptr, r.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED)
    r.error = "cannot map " + res + ": " + std::strerror(errno);
  else
    r.base = p;
  close(fd);
  return r;
}

}  // namespace vtrace_guest
