#include "sys/elf_symbols.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vtrace::sys {

namespace {

// Appends the function symbols of the first section of type `want` (SHT_SYMTAB, SHT_DYNSYM).
template <typename Sym>
void read_functions(Elf* elf, Elf64_Word want, std::vector<Sym>& out) {
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn != nullptr; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == nullptr || sh.sh_type != want || sh.sh_entsize == 0) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr) continue;
    const size_t n = sh.sh_size / sh.sh_entsize;
    for (size_t i = 0; i < n; ++i) {
      GElf_Sym sym;
      if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr) continue;
      if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_value == 0) continue;
      const char* name = elf_strptr(elf, sh.sh_link, sym.st_name);
      if (name == nullptr || *name == '\0') continue;
      out.push_back({sym.st_value, sym.st_size, name});
    }
    return;
  }
}

// The file's GNU build id as hex ("" when it has none).
std::string build_id(Elf* elf) {
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn != nullptr; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == nullptr || sh.sh_type != SHT_NOTE) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr) continue;
    GElf_Nhdr nh;
    size_t off = 0, name_off = 0, desc_off = 0;
    while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
      if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
          std::memcmp(static_cast<const char*>(data->d_buf) + name_off, "GNU", 4) != 0)
        continue;
      std::string hex;
      const auto* id = static_cast<const unsigned char*>(data->d_buf) + desc_off;
      for (size_t i = 0; i < nh.n_descsz; ++i) {
        char b[3];
        std::snprintf(b, sizeof b, "%02x", id[i]);
        hex += b;
      }
      return hex;
    }
  }
  return "";
}

// Calls fn(elf) for the ELF file at path (nothing when it cannot be read).
template <typename Fn>
void with_elf(const std::string& path, Fn fn) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  elf_version(EV_CURRENT);
  Elf* elf = elf_begin(fd, ELF_C_READ, nullptr);
  if (elf != nullptr && elf_kind(elf) == ELF_K_ELF) fn(elf);
  if (elf != nullptr) elf_end(elf);
  close(fd);
}

}  // namespace

ElfSymbols::ElfSymbols(const std::string& path) {
  std::string id;
  with_elf(path, [&](Elf* elf) {
    size_t nphdr = 0;
    if (elf_getphdrnum(elf, &nphdr) == 0)
      for (size_t i = 0; i < nphdr; ++i) {
        GElf_Phdr ph;
        if (gelf_getphdr(elf, static_cast<int>(i), &ph) != nullptr && ph.p_type == PT_LOAD)
          segments_.push_back({ph.p_offset, ph.p_filesz, ph.p_vaddr, (ph.p_flags & PF_X) != 0});
      }
    // .symtab has every function; a stripped file keeps .dynsym (the exported ones).
    read_functions(elf, SHT_SYMTAB, syms_);
    if (syms_.empty()) id = build_id(elf);
    if (syms_.empty()) read_functions(elf, SHT_DYNSYM, syms_);
  });
  // A stripped file's full table may be in its debug file (Debian's -dbg/-dbgsym packages),
  // found by build id; same link-time addresses.
  if (id.size() > 2) {
    std::vector<Sym> full;
    with_elf(kDebugDir + id.substr(0, 2) + "/" + id.substr(2) + ".debug",
             [&](Elf* elf) { read_functions(elf, SHT_SYMTAB, full); });
    if (!full.empty()) syms_ = std::move(full);
  }
  std::sort(syms_.begin(), syms_.end(), [](const Sym& a, const Sym& b) { return a.addr < b.addr; });
}

bool ElfSymbols::vaddr_of(uint64_t off, uint64_t& vaddr) const {
  for (const Segment& s : segments_)
    if (off >= s.offset && off < s.offset + s.filesz) {
      vaddr = off - s.offset + s.vaddr;
      return true;
    }
  return false;
}

bool ElfSymbols::code_offset_of(uint64_t vaddr, uint64_t& off) const {
  for (const Segment& s : segments_)
    if (s.exec && vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz) {
      off = vaddr - s.vaddr + s.offset;
      return true;
    }
  return false;
}

bool ElfSymbols::lookup(uint64_t vaddr, std::string& name, uint64_t& offset) const {
  auto it = std::upper_bound(syms_.begin(), syms_.end(), vaddr,
                             [](uint64_t a, const Sym& s) { return a < s.addr; });
  if (it == syms_.begin()) return false;
  const Sym& s = *(it - 1);
  // Past the end of a sized symbol is not that symbol (padding, or a stripped static function).
  if (s.size != 0 && vaddr >= s.addr + s.size) return false;
  name = s.name;
  offset = vaddr - s.addr;
  return true;
}

namespace {

// The start time of process pid (clock ticks since boot), 0 when it is gone.
uint64_t start_time(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return 0;
  const size_t close = stat.rfind(')');  // the name may hold spaces and parentheses
  if (close == std::string::npos) return 0;
  std::istringstream f(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22 && (f >> field); ++i)
    if (i == 22) return std::strtoull(field.c_str(), nullptr, 10);
  return 0;
}

}  // namespace

const std::vector<ProcessSymbols::Mapping>* ProcessSymbols::mappings(pid_t pid, bool refresh) {
  auto it = procs_.find(pid);
  if (it != procs_.end() && !refresh) return &it->second.maps;
  const uint64_t started = start_time(pid);
  // Executable mappings of files, and the kernel's [vdso] (named, without symbols). Gone, or
  // another process under the same pid: keep the last snapshot, which is its own.
  std::vector<Mapping> maps;
  if (!read_exec_mappings(pid, maps) || started == 0 ||
      (it != procs_.end() && it->second.start_time != started))
    return it != procs_.end() ? &it->second.maps : nullptr;
  if (start_time(pid) != started) return it != procs_.end() ? &it->second.maps : nullptr;
  if (it == procs_.end()) {
    if (procs_.size() >= kMaxProcesses) {
      procs_.erase(proc_order_.front());
      proc_order_.pop_front();
    }
    proc_order_.push_back(pid);
  }
  Snapshot& slot = procs_[pid];
  slot.start_time = started;
  slot.maps = std::move(maps);
  return &slot.maps;
}

const ElfSymbols* ProcessSymbols::file(pid_t pid, const Mapping& m) {
  auto it = files_.find(m.file_id);
  if (it != files_.end()) return it->second.get();
  char mapped[64];
  std::snprintf(mapped, sizeof mapped, "/proc/%d/map_files/%llx-%llx", static_cast<int>(pid),
                static_cast<unsigned long long>(m.start), static_cast<unsigned long long>(m.end));
  std::string path = mapped;
  struct stat st;
  if (access(mapped, R_OK) != 0) {
    // Gone: the path, unless another file is there now (an overlay file system shows other
    // inode numbers in maps than stat() does: only a different inode on the same device says
    // the file was replaced).
    path = m.path;
    if (stat(path.c_str(), &st) != 0) return nullptr;
    char dev[32];
    std::snprintf(dev, sizeof dev, "%02x:%02x", major(st.st_dev), minor(st.st_dev));
    if (m.file_id.rfind(std::string(dev) + " ", 0) == 0 && st.st_ino != m.inode) return nullptr;
  }
  if (files_.size() >= kMaxFiles) files_.clear();
  return files_.emplace(m.file_id, std::make_unique<ElfSymbols>(path)).first->second.get();
}

void ProcessSymbols::snapshot(pid_t pid, const uint64_t* addrs, size_t n) {
  const std::vector<Mapping>* maps = mappings(pid, false);
  auto covered = [&](uint64_t a) {
    return a == 0 || std::any_of(maps->begin(), maps->end(),
                                 [a](const Mapping& m) { return a >= m.start && a < m.end; });
  };
  if (maps != nullptr && addrs != nullptr && !std::all_of(addrs, addrs + n, covered))
    maps = mappings(pid, true);
  if (maps != nullptr)
    for (const Mapping& m : *maps)
      if (m.path[0] == '/') file(pid, m);
}

UserSymbol ProcessSymbols::lookup(pid_t pid, uint64_t addr) {
  UserSymbol out;
  for (bool refresh : {false, true}) {  // a library mapped since the snapshot: look again once
    const std::vector<Mapping>* maps = mappings(pid, refresh);
    if (maps == nullptr) return out;
    for (const Mapping& m : *maps) {
      if (addr < m.start || addr >= m.end) continue;
      out.module = m.path.substr(m.path.rfind('/') + 1);
      if (m.path[0] != '/') return out;
      const ElfSymbols* elf = file(pid, m);
      uint64_t vaddr;
      if (elf != nullptr && elf->vaddr_of(addr - m.start + m.offset, vaddr))
        elf->lookup(vaddr, out.name, out.offset);
      return out;
    }
  }
  return out;
}

}  // namespace vtrace::sys
