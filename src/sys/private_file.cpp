#include "sys/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace vtrace::sys {

namespace {

std::string octal(unsigned mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

std::string errno_text(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

// Opens a directory without following a final symlink.
int open_dir(const std::string& dir) {
  return open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

std::string check_private_stat(const std::string& path, uid_t uid, unsigned mode, bool regular,
                               uint64_t size, uint64_t expect_size) {
  if (!regular) return path + " is not a regular file";
  if (uid != geteuid())
    return path + " is owned by uid " + std::to_string(uid) + ", not by vtrace's user (uid " +
           std::to_string(geteuid()) + ")";
  if ((mode & 077) != 0) return path + " is open to other users (mode " + octal(mode) + ")";
  if (expect_size != 0 && size != expect_size)
    return path + " has " + std::to_string(size) + " bytes, not " + std::to_string(expect_size);
  return {};
}

// The problem with an opened file ("" when none): see check_private_stat.
std::string check_opened(int fd, const std::string& path, uint64_t expect_size) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return errno_text("cannot stat " + path, errno);
  return check_private_stat(path, st.st_uid, st.st_mode, S_ISREG(st.st_mode),
                            static_cast<uint64_t>(st.st_size), expect_size);
}

}  // namespace

std::string ensure_private_dir(const std::string& dir, DirUse use) {
  if (dir.empty()) return "an empty directory name";
  UniqueFd fd(open_dir(dir));
  if (!fd.valid() && errno == ENOENT) {
    std::error_code ec;
    std::filesystem::path parent = std::filesystem::path(dir).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      return errno_text("cannot create " + dir, errno);
    fd.reset(open_dir(dir));
  }
  if (!fd.valid()) {
    int err = errno;
    if (err == ELOOP || err == ENOTDIR)
      return dir + " is not a directory (a symlink or a file): refusing to use it";
    return errno_text("cannot open " + dir, err);
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return errno_text("cannot stat " + dir, errno);
  const std::string refuse = ": refusing to use it (remove it, or choose another directory)";
  if (st.st_uid != geteuid())
    return dir + " is owned by uid " + std::to_string(st.st_uid) + ", not by vtrace's user (uid " +
           std::to_string(geteuid()) + ")" + refuse;
  if ((st.st_mode & 022) != 0)
    return dir + " is writable by other users (mode " + octal(st.st_mode) + ")" + refuse;
  if (use == DirUse::kPrivate && (st.st_mode & 077) != 0 && fchmod(fd.get(), 0700) != 0)
    return errno_text("cannot make " + dir + " private (chmod 0700)", errno);
  return {};
}

UniqueFd create_private_file(const std::string& path, uint64_t size, bool reserve,
                             std::string& error) {
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    error = errno == EEXIST ? path + " already exists: refusing to reuse it"
                            : errno_text("cannot create " + path, errno);
    return {};
  }
  error = check_opened(fd.get(), path, 0);
  if (error.empty() && size != 0) {
    // posix_fallocate returns the error instead of setting errno.
    int rc = reserve ? posix_fallocate(fd.get(), 0, static_cast<off_t>(size))
                     : (ftruncate(fd.get(), static_cast<off_t>(size)) == 0 ? 0 : errno);
    if (rc != 0)
      error = errno_text("cannot allocate " + std::to_string(size) + " bytes for " + path, rc);
  }
  if (!error.empty()) {
    unlink(path.c_str());
    return {};
  }
  return fd;
}

UniqueFd open_private_file(const std::string& path, int flags, uint64_t expect_size,
                           std::string& error) {
  UniqueFd fd(open(path.c_str(), flags | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    error = errno == ELOOP ? path + " is a symlink: refusing to follow it"
                           : errno_text("cannot open " + path, errno);
    return {};
  }
  error = check_opened(fd.get(), path, expect_size);
  if (!error.empty()) return {};
  return fd;
}

}  // namespace vtrace::sys
