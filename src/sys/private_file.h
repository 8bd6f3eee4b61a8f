// Files and directories no other local user can plant, replace or read.
//
// vtrace runs as root next to untrusted local users. A file it creates in a shared directory
// (/dev/shm, /tmp) under a predictable name can be created first by someone else, or be a
// symlink to a file of root's: vtrace would then share its channel with that user, or overwrite
// the file the link points to. So every file vtrace makes lives in a directory that only its
// owner can write (ensure_private_dir), is created exclusively without following links
// (create_private_file), and is checked after it is opened (owner, type, mode, size). An existing
// file where a new one is wanted is refused with a clear error, never reused.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "sys/unique_fd.h"

namespace vtrace::sys {

enum class DirUse {
  kPrivate,  // only the owner may enter it (mode 0700): state, sockets, shared memory
  kShared,   // others may read it but not write it (e.g. a cache of public files)
};

// Makes sure `dir` is a directory owned by the effective user that no other user can write (for
// kPrivate: nor enter). Creates it (and missing parents, mode 0755) with mode 0700 when absent.
// An existing directory is used only if it is a real directory (not a symlink), owned by us and
// not writable by group or others; a kPrivate one that others can merely read is chmod'ed to
// 0700. Returns "" or a sentence saying what is wrong and why it is refused.
std::string ensure_private_dir(const std::string& dir, DirUse use = DirUse::kPrivate);

// Creates `path` exclusively (O_CREAT|O_EXCL|O_NOFOLLOW), mode 0600, of `size` bytes. With
// `reserve`, the bytes are allocated for real (posix_fallocate), so a memory file system that
// is full says so now instead of killing a later writer with SIGBUS. Returns an invalid fd and
// sets `error` when the file exists (whatever it is), cannot be created, or fails the checks.
UniqueFd create_private_file(const std::string& path, uint64_t size, bool reserve,
                             std::string& error);

// Opens an existing file we made (O_NOFOLLOW) and checks it: a regular file, owned by us, not
// accessible to group or others and, when expect_size is not 0, exactly that size.
UniqueFd open_private_file(const std::string& path, int flags, uint64_t expect_size,
                           std::string& error);

}  // namespace vtrace::sys
