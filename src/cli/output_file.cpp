#include "cli/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vtrace::cli {

std::FILE* open_output_file(const std::string& path, std::string& error) {
  const uid_t me = geteuid();
  struct stat link {};
  if (lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode) && link.st_uid != me &&
      link.st_uid != 0) {
    error = "it is a symlink of uid " + std::to_string(link.st_uid) + ": refusing to follow it";
    return nullptr;
  }
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = std::strerror(errno);
    return nullptr;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || (S_ISREG(st.st_mode) && st.st_uid != me)) {
    error = "it belongs to uid " + std::to_string(st.st_uid) + ": refusing to append to it";
    close(fd);
    return nullptr;
  }
  std::FILE* f = fdopen(fd, "a");
  if (f == nullptr) {
    error = std::strerror(errno);
    close(fd);
  }
  return f;
}

}  // namespace vtrace::cli
