// libFuzzer target: arbitrary bytes as the executable of a traced program, read by
// vtrace::sys::find_probe_section (src/sys/elf_probes.h): the ELF header, section
// headers, section name table and program headers, to find the "vtrace_probes" section. Host
// processes and the guest agent's process scanner call it on /proc/PID/exe: the file is
// whatever the traced user put there.
//
// The input is written to a memfd and read through /proc/self/fd/N, as a file.
//
// Invariants: no crash, hang, unbounded allocation or sanitizer report; a section is found only
// when the file names it ("vtrace_probes" appears in it); has_probe_section agrees.
//
// Seeds: fuzz/corpus/elf/ (fuzz/make_seeds.py). Run: see fuzz/CMakeLists.txt.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "sys/elf_probes.h"

namespace {

struct File {
  int fd = -1;
  std::string path;
  File() {
    fd = memfd_create("vtrace-elf-fuzz", MFD_CLOEXEC);
    CHECK(fd >= 0);
    path = "/proc/self/fd/" + std::to_string(fd);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static File file;
  CHECK(ftruncate(file.fd, 0) == 0);
  size_t done = 0;
  while (done < size) {
    ssize_t n = pwrite(file.fd, data + done, size - done, static_cast<off_t>(done));
    CHECK(n > 0);
    done += static_cast<size_t>(n);
  }
  vtrace::sys::ProbeSection sec;
  std::string err;
  const bool found = vtrace::sys::find_probe_section(file.path, sec, err);
  if (found) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    CHECK(text.find("vtrace_probes") != std::string_view::npos);
  } else {
    CHECK(!err.empty());
  }
  CHECK(vtrace::sys::has_probe_section(file.path) == (found && sec.size >= 48));
  return 0;
}
