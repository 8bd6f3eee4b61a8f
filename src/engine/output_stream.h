// A FILE* the consumers write to, which remembers the first failed write (a reader of a pipe
// that went away, a full disk): from then on nothing more is written, and the engine stops the
// run (Engine::output_broken()).
#pragma once
#include <cerrno>
#include <cstdio>
#include <string_view>

namespace vtrace::engine {

class OutputStream {
 public:
  explicit OutputStream(std::FILE* f) : f_(f) {}
  void set_file(std::FILE* f) { f_ = f; }
  std::FILE* file() const { return f_; }

  void write(std::string_view text) {
    if (text.empty() || errno_ != 0) return;
    if (std::fwrite(text.data(), 1, text.size(), f_) != text.size() || std::ferror(f_)) fail();
  }
  bool flush() {
    if (errno_ == 0 && (std::fflush(f_) != 0 || std::ferror(f_))) fail();
    return errno_ == 0;
  }
  int error() const { return errno_; }

 private:
  void fail() { errno_ = errno != 0 ? errno : EIO; }

  std::FILE* f_;
  int errno_ = 0;
};

}  // namespace vtrace::engine
