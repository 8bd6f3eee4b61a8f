// An in-memory FILE* (open_memstream), for tests that read what the engine writes.
#pragma once
#include <stdio.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace vtrace::test {

class MemFile {
 public:
  MemFile() : f_(open_memstream(&buf_, &len_)) {}
  ~MemFile() {
    std::fclose(f_);
    std::free(buf_);
  }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  std::FILE* file() const { return f_; }
  std::string text() {
    std::fflush(f_);
    return std::string(buf_, len_);
  }

 private:
  char* buf_ = nullptr;
  size_t len_ = 0;
  std::FILE* f_;
};

}  // namespace vtrace::test
