// A writer for the "newc" cpio format (the format the Linux kernel unpacks as an initramfs).
// Written here rather than run through cpio(1): it needs no root to add device nodes
// (/dev/console must exist before /init runs) and its output is byte-for-byte reproducible
// (all timestamps and owners are zero).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vtrace::guest {

class CpioWriter {
 public:
  void add_directory(std::string_view path, uint32_t mode = 0755);
  void add_file(std::string_view path, std::string_view data, uint32_t mode = 0644);
  void add_symlink(std::string_view path, std::string_view target);
  void add_char_device(std::string_view path, uint32_t major, uint32_t minor, uint32_t mode = 0600);

  // Appends the TRAILER!!! entry and returns the archive. The writer is empty afterwards.
  std::string finish();

 private:
  void add_entry(std::string_view path, uint32_t mode, std::string_view data, uint32_t rmajor = 0,
                 uint32_t rminor = 0);
  std::string out_;
  uint32_t next_ino_ = 1;
};

// gzip-compresses data (RFC 1952, mtime 0) into a file; throws std::runtime_error on failure.
void write_gzip_file(const std::string& path, std::string_view data);

}  // namespace vtrace::guest
