// Reading another process's memory (or our own) without trusting the address: process_vm_readv
// fails cleanly on an unmapped address instead of faulting. Reads go page by page, so an
// unmapped page ends a read without losing the bytes before it.
#pragma once
#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <cstring>

namespace vtrace::sys {

inline constexpr uint64_t kPageSize = 4096;

// Reads up to len bytes at addr in process pid; returns how many it read (0 on failure).
// With stop_at_nul, stops after the first NUL byte read.
inline size_t read_process_memory(pid_t pid, uint64_t addr, void* buf, size_t len,
                                  bool stop_at_nul = false) {
  size_t done = 0;
  auto* out = static_cast<char*>(buf);
  while (done < len) {
    uint64_t at = addr + done;
    if (at < addr) break;  // wrapped around
    size_t chunk = static_cast<size_t>(kPageSize - (at % kPageSize));
    if (chunk > len - done) chunk = len - done;
    iovec local{out + done, chunk};
    iovec remote{reinterpret_cast<void*>(static_cast<uintptr_t>(at)), chunk};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n <= 0) break;
    if (stop_at_nul && std::memchr(out + done, '\0', static_cast<size_t>(n)) != nullptr) {
      done += static_cast<size_t>(n);
      break;
    }
    done += static_cast<size_t>(n);
    if (static_cast<size_t>(n) < chunk) break;
  }
  return done;
}

}  // namespace vtrace::sys
