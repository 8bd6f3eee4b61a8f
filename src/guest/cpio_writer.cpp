#include "guest/cpio_writer.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace vtrace::guest {

namespace {

void pad4(std::string& s) {
  while (s.size() % 4 != 0) s.push_back('\0');
}

void hex8(std::string& s, uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08X", v);
  s.append(buf, 8);
}

std::string strip_slash(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return std::string(path);
}

}  // namespace

void CpioWriter::add_entry(std::string_view path, uint32_t mode, std::string_view data, uint32_t rmajor,
                           uint32_t rminor) {
  std::string name = strip_slash(path);
  out_ += "070701";
  hex8(out_, next_ino_++);                          // c_ino
  hex8(out_, mode);                                 // c_mode
  hex8(out_, 0);                                    // c_uid
  hex8(out_, 0);                                    // c_gid
  hex8(out_, 1);                                    // c_nlink
  hex8(out_, 0);                                    // c_mtime
  hex8(out_, static_cast<uint32_t>(data.size()));  // c_filesize
  hex8(out_, 0);                                    // c_devmajor
  hex8(out_, 0);                                    // c_devminor
  hex8(out_, rmajor);                               // c_rdevmajor
  hex8(out_, rminor);                               // c_rdevminor
  hex8(out_, static_cast<uint32_t>(name.size() + 1));
  hex8(out_, 0);  // c_check
  out_ += name;
  out_.push_back('\0');
  pad4(out_);
  out_ += data;
  pad4(out_);
}

void CpioWriter::add_directory(std::string_view path, uint32_t mode) {
  add_entry(path, S_IFDIR | (mode & 07777), {});
}

void CpioWriter::add_file(std::string_view path, std::string_view data, uint32_t mode) {
  add_entry(path, S_IFREG | (mode & 07777), data);
}

void CpioWriter::add_symlink(std::string_view path, std::string_view target) {
  add_entry(path, S_IFLNK | 0777, target);
}

void CpioWriter::add_char_device(std::string_view path, uint32_t major, uint32_t minor, uint32_t mode) {
  add_entry(path, S_IFCHR | (mode & 07777), {}, major, minor);
}

std::string CpioWriter::finish() {
  next_ino_ = 0;
  add_entry("TRAILER!!!", 0, {});
  next_ino_ = 1;
  std::string result;
  result.swap(out_);
  return result;
}

void write_gzip_file(const std::string& path, std::string_view data) {
  gzFile f = gzopen(path.c_str(), "wb9");
  if (!f) throw std::runtime_error("cannot create " + path);
  size_t off = 0;
  while (off < data.size()) {
    unsigned chunk = static_cast<unsigned>(std::min<size_t>(data.size() - off, 1u << 20));
    if (gzwrite(f, data.data() + off, chunk) != static_cast<int>(chunk)) {
      gzclose(f);
      throw std::runtime_error("cannot write " + path);
    }
    off += chunk;
  }
  if (gzclose(f) != Z_OK) throw std::runtime_error("cannot write " + path);
}

}  // namespace vtrace::guest
