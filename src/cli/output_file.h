// The -o file. dtrace(1) appends to it; vtrace does too, but it runs as root next to other
// users, so a name in a shared directory (/tmp/out) must not let another user choose what root
// writes to: a symlink someone else owns is not followed, and a regular file someone else owns
// is not appended to (what the kernel's fs.protected_symlinks/protected_regular do, whatever
// this machine's sysctls say).
#pragma once
#include <cstdio>
#include <string>

namespace vtrace::cli {

// Opens `path` for appending (creating it, mode 0644). nullptr with `error` set when it cannot,
// or when it is refused as above. Devices, pipes and root's links (/dev/stderr) are fine.
std::FILE* open_output_file(const std::string& path, std::string& error);

}  // namespace vtrace::cli
