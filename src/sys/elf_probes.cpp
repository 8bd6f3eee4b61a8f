#include "sys/elf_probes.h"

#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "sys/process_memory.h"
#include "sys/unique_fd.h"
#include "vtrace/channel_abi.h"

namespace vtrace::sys {

namespace {

constexpr size_t kDescSize = sizeof(vtrace_probe_desc);
static_assert(kDescSize == 48, "the descriptor layout of channel_abi.h");
constexpr uint64_t kMaxSectionSize = kDescSize * (1u << 20);
constexpr uint64_t kMaxShstrtab = 1u << 22;

bool pread_all(int fd, void* buf, size_t len, uint64_t off) {
  auto* p = static_cast<char*>(buf);
  size_t done = 0;
  while (done < len) {
    ssize_t n = pread(fd, p + done, len - done, static_cast<off_t>(off + done));
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool is_ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// The load bias of an ET_DYN executable: start of its mapping at file offset 0, found by inode.
bool load_bias(pid_t pid, const ProbeSection& sec, uint64_t& bias, std::string& error) {
  bias = 0;
  if (!sec.pie) return true;
  struct stat st;
  std::string proc = "/proc/" + std::to_string(pid);
  if (stat((proc + "/exe").c_str(), &st) != 0) {
    error = std::string("cannot stat executable: ") + strerror(errno);
    return false;
  }
  std::ifstream maps(proc + "/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream ls(line);
    std::string range, perms, offset, dev;
    unsigned long long inode = 0;
    if (!(ls >> range >> perms >> offset >> dev >> inode)) continue;
    if (inode != st.st_ino || std::strtoull(offset.c_str(), nullptr, 16) != 0) continue;
    uint64_t start = std::strtoull(range.c_str(), nullptr, 16);
    bias = start - (sec.first_load & ~(kPageSize - 1));
    return true;
  }
  error = "cannot find the executable's mapping in " + proc + "/maps";
  return false;
}

}  // namespace

bool find_probe_section(const std::string& path, ProbeSection& sec, std::string& error) {
  sys::UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    error = path + ": " + strerror(errno);
    return false;
  }
  Elf64_Ehdr eh;
  if (!pread_all(fd.get(), &eh, sizeof eh, 0) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) {
    error = path + ": not an ELF64 little-endian file";
    return false;
  }
  // (e_shnum and e_phnum are 16-bit: at most 65535 headers, a bounded read.)
  if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shstrndx >= eh.e_shnum ||
      eh.e_phentsize != sizeof(Elf64_Phdr)) {
    error = path + ": no section headers";
    return false;
  }
  std::vector<Elf64_Shdr> sh(eh.e_shnum);
  if (!pread_all(fd.get(), sh.data(), sh.size() * sizeof(Elf64_Shdr), eh.e_shoff)) {
    error = path + ": truncated section headers";
    return false;
  }
  const Elf64_Shdr& strtab = sh[eh.e_shstrndx];
  if (strtab.sh_size == 0 || strtab.sh_size > kMaxShstrtab) {
    error = path + ": bad section name table";
    return false;
  }
  std::string names(strtab.sh_size, '\0');
  if (!pread_all(fd.get(), names.data(), names.size(), strtab.sh_offset)) {
    error = path + ": truncated section name table";
    return false;
  }
  names.push_back('\0');
  const Elf64_Shdr* found = nullptr;
  for (const auto& s : sh)
    if (s.sh_name < names.size() && std::strcmp(names.c_str() + s.sh_name, "vtrace_probes") == 0)
      found = &s;
  if (found == nullptr) {
    error = "no vtrace_probes section";
    return false;
  }
  sec.addr = found->sh_addr;
  sec.size = found->sh_size;
  sec.pie = eh.e_type == ET_DYN;
  sec.first_load = 0;
  std::vector<Elf64_Phdr> ph(eh.e_phnum);
  if (!ph.empty() && pread_all(fd.get(), ph.data(), ph.size() * sizeof(Elf64_Phdr), eh.e_phoff)) {
    for (const auto& p : ph) {
      if (p.p_type == PT_LOAD && p.p_offset == 0) {
        sec.first_load = p.p_vaddr;
        break;
      }
    }
  }
  return true;
}

bool has_probe_section(const std::string& path) {
  ProbeSection sec;
  std::string err;
  return find_probe_section(path, sec, err) && sec.size >= kDescSize;
}

bool read_probe_string(MemReader read, void* ctx, uint64_t addr, std::string& out) {
  char buf[kMaxProbeString];
  if (addr == 0) return false;
  size_t n = read(ctx, addr, buf, sizeof buf);
  const void* nul = n == 0 ? nullptr : std::memchr(buf, '\0', n);
  if (nul == nullptr) return false;
  out.assign(buf, static_cast<const char*>(nul) - buf);
  for (char c : out)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

bool decode_descriptor(const unsigned char* image, size_t len, MemReader read, void* ctx,
                       ProbeSite& site) {
  if (len < kDescSize) return false;
  uint32_t magic, line;
  uint16_t nargs, flags;
  uint64_t ptrs[4];
  std::memcpy(&magic, image + offsetof(vtrace_probe_desc, magic), 4);
  std::memcpy(&nargs, image + offsetof(vtrace_probe_desc, nargs), 2);
  std::memcpy(&flags, image + offsetof(vtrace_probe_desc, flags), 2);
  std::memcpy(&line, image + offsetof(vtrace_probe_desc, line), 4);
  std::memcpy(ptrs, image + offsetof(vtrace_probe_desc, provider), sizeof ptrs);
  if (magic != VTRACE_PROBE_MAGIC || nargs > VTRACE_MAX_ARGS) return false;
  if ((flags & ~(VTRACE_DESC_STR0 | VTRACE_DESC_GUARD | VTRACE_DESC_AGG | VTRACE_DESC_TEST)) != 0)
    return false;
  if ((flags & VTRACE_DESC_GUARD) != 0 && (flags & VTRACE_DESC_AGG) != 0) return false;
  if ((flags & VTRACE_DESC_TEST) != 0 && (flags & VTRACE_DESC_AGG) == 0) return false;
  if ((flags & VTRACE_DESC_GUARD) != 0 && (flags & VTRACE_DESC_STR0) != 0) return false;
  if ((flags & VTRACE_DESC_STR0) != 0 && nargs == 0) return false;
  site.nargs = nargs;
  site.flags = flags;
  site.line = line;
  if (!read_probe_string(read, ctx, ptrs[0], site.provider) ||
      !read_probe_string(read, ctx, ptrs[1], site.name) ||
      !read_probe_string(read, ctx, ptrs[2], site.function) ||
      !read_probe_string(read, ctx, ptrs[3], site.file))
    return false;
  if (site.provider.empty() || site.name.empty() || site.function.empty()) return false;
  for (char c : site.provider)
    if (!is_ident_char(c)) return false;
  for (char c : site.name)
    if (!is_ident_char(c)) return false;
  return true;
}

size_t process_reader(void* ctx, uint64_t addr, void* buf, size_t len) {
  return read_process_memory(*static_cast<pid_t*>(ctx), addr, buf, len, true);
}

// A process read right after exec: the dynamic loader may not have relocated the descriptors'
// string pointers yet, so a pointer that reads nothing is tried again as a link-time address
// plus the load bias (what the relocation will make of it).
struct EarlyProcess {
  pid_t pid;
  uint64_t bias;
};
size_t early_process_reader(void* ctx, uint64_t addr, void* buf, size_t len) {
  const auto* p = static_cast<EarlyProcess*>(ctx);
  size_t n = read_process_memory(p->pid, addr, buf, len, true);
  if (n == 0 && p->bias != 0) n = read_process_memory(p->pid, addr + p->bias, buf, len, true);
  return n;
}

bool write_process_u32(pid_t pid, uint64_t addr, uint32_t value) {
  iovec local{&value, sizeof value};
  iovec remote{reinterpret_cast<void*>(static_cast<uintptr_t>(addr)), sizeof value};
  return process_vm_writev(pid, &local, 1, &remote, 1, 0) == sizeof value;
}

bool set_site_word(pid_t pid, const ProbeSite& site, uint32_t word) {
  return write_process_u32(pid, site.address + offsetof(vtrace_probe_desc, enabled), word);
}

void want_guards(const std::vector<ProbeSite>& sites, std::vector<uint8_t>& want) {
  std::set<std::pair<std::string, std::string>> guarded;  // provider, name
  for (size_t i = 0; i < sites.size(); ++i)
    if (want[i] && !(sites[i].flags & VTRACE_DESC_GUARD))
      guarded.emplace(sites[i].provider, sites[i].name);
  for (size_t i = 0; i < sites.size(); ++i)
    if ((sites[i].flags & VTRACE_DESC_GUARD) && guarded.count({sites[i].provider, sites[i].name}))
      want[i] = 1;
}

bool discover_probes(pid_t pid, ProbeTable& table, std::string& error) {
  const std::string who = "pid " + std::to_string(pid);
  std::string proc = "/proc/" + std::to_string(pid);
  if (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH)) {
    error = who + ": no such process";
    return false;
  }
  char exe[4096];
  ssize_t n = readlink((proc + "/exe").c_str(), exe, sizeof exe - 1);
  if (n < 0) {
    error = errno == ENOENT ? who + ": no such process"
                            : who + ": cannot read its executable: " + strerror(errno);
    return false;
  }
  table.exe.assign(exe, static_cast<size_t>(n));
  ProbeSection sec;
  std::string why;
  if (!find_probe_section(proc + "/exe", sec, why) || sec.size < kDescSize) {
    error = who + " has no vtrace probes (not built with vtrace/probe.h)";
    return false;
  }
  if (sec.size > kMaxSectionSize) {
    error = who + ": its vtrace_probes section is too large";
    return false;
  }
  uint64_t bias = 0;
  if (!load_bias(pid, sec, bias, why)) {
    error = who + ": " + why;
    return false;
  }
  table.section = sec.addr + bias;
  table.section_size = sec.size;
  std::vector<unsigned char> image(sec.size);
  if (read_process_memory(pid, table.section, image.data(), image.size()) != image.size()) {
    error = who + ": cannot read its probe table: " +
            (errno == EPERM ? "permission denied (run vtrace as root or as its user)"
                            : std::string(strerror(errno)));
    return false;
  }
  EarlyProcess p{pid, bias};
  for (uint64_t off = 0; off + kDescSize <= sec.size; off += kDescSize) {
    ProbeSite site;
    if (!decode_descriptor(image.data() + off, kDescSize, early_process_reader, &p, site)) {
      ++table.invalid;
      continue;
    }
    site.offset = static_cast<uint32_t>(off);
    site.address = table.section + off;
    table.sites.push_back(std::move(site));
  }
  return true;
}

}  // namespace vtrace::sys
