// Discovery of the probe sites of an instrumented program (include/vtrace/probe.h): the
// "vtrace_probes" section of its executable holds one vtrace_probe_desc per site. The section is
// found in the ELF file (/proc/PID/exe), relocated by the load bias read from /proc/PID/maps,
// and the descriptors and their strings are read from the live process (process_vm_readv).
// Everything read is validated: the process is untrusted.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace vtrace::sys {

inline constexpr size_t kMaxProbeString = 128;  // longest provider/name/function/file read

struct ProbeSite {
  uint32_t offset = 0;   // of the descriptor in the section (what records name)
  uint64_t address = 0;  // of the descriptor in the live process
  uint16_t nargs = 0;
  uint16_t flags = 0;  // VTRACE_DESC_*
  uint32_t line = 0;
  std::string provider, name, function, file;
};

struct ProbeTable {
  std::string exe;       // path of the executable (/proc/PID/exe's target)
  uint64_t section = 0;  // live address of the section
  uint64_t section_size = 0;
  std::vector<ProbeSite> sites;  // probe sites and VTRACE_ENABLED guards
  size_t invalid = 0;            // descriptors skipped because they failed validation
};

// The "vtrace_probes" section of an ELF64 file: address (link-time) and size. False when the
// file is not ELF64 or has no such section.
struct ProbeSection {
  uint64_t addr = 0, size = 0;  // link-time address and size of "vtrace_probes"
  bool pie = false;             // ET_DYN: relocated by the load bias
  uint64_t first_load = 0;      // p_vaddr of the PT_LOAD segment at file offset 0
};
bool find_probe_section(const std::string& path, ProbeSection& sec, std::string& error);
bool has_probe_section(const std::string& path);

// Reads the probe table of a live process. False with `error` set ("no such process", "has no
// vtrace probes", permission problems).
bool discover_probes(pid_t pid, ProbeTable& table, std::string& error);

// Validates a descriptor image (48 bytes as in the ABI) and reads its strings through `read`.
// Exposed for tests and the fuzzer. `read(addr, buf, len)` returns bytes read (0 on failure).
using MemReader = size_t (*)(void* ctx, uint64_t addr, void* buf, size_t len);
bool decode_descriptor(const unsigned char* image, size_t len, MemReader read, void* ctx,
                       ProbeSite& site);

// Reads a NUL-terminated string of at most kMaxProbeString - 1 printable bytes.
bool read_probe_string(MemReader read, void* ctx, uint64_t addr, std::string& out);

// Writes a 32-bit word of another process (process_vm_writev): an enable flag.
bool write_process_u32(pid_t pid, uint64_t addr, uint32_t value);

// Writes a site's enable word (VTRACE_EN_*; 0 is off) in the live process. False when the
// write failed.
bool set_site_word(pid_t pid, const ProbeSite& site, uint32_t word);

// Marks in `want` (a flag per site) the VTRACE_ENABLED guards of each provider:name whose probe
// site is marked: a guard is on while a probe it guards is.
void want_guards(const std::vector<ProbeSite>& sites, std::vector<uint8_t>& want);

// The MemReader for a live process (ctx points at its pid_t).
size_t process_reader(void* ctx, uint64_t addr, void* buf, size_t len);

}  // namespace vtrace::sys
