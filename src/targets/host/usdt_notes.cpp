#include "targets/host/usdt_notes.h"

#include "engine/catalog.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "sys/probe_name.h"
#include "targets/host/usdt_args.h"

namespace vtrace::targets::host {

namespace {

constexpr uint32_t kNtStapsdt = 3;
constexpr size_t kMaxFileSize = size_t{1} << 32;  // 4 GiB: anything larger is refused
constexpr size_t kMaxNotes = 1 << 16;
constexpr size_t kMaxString = 256;
// A probe's function: the containing symbol with the highest address, looked for among this many
// symbols below its pc (sorted by address). Real binaries need a handful; a crafted one with
// huge overlapping symbols would otherwise cost notes x symbols.
constexpr size_t kMaxSymbolScan = 4096;

// A bounds-checked view of the file.
class Image {
 public:
  Image(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  bool has(uint64_t off, uint64_t len) const { return off <= n_ && len <= n_ - off; }
  template <class T>
  bool get(uint64_t off, T& out) const {
    if (!has(off, sizeof(T))) return false;
    std::memcpy(&out, d_ + off, sizeof(T));
    return true;
  }
  // A NUL-terminated string at off, at most max bytes before the NUL, within [off, end).
  bool str(uint64_t off, uint64_t end, size_t max, std::string& out) const {
    end = std::min<uint64_t>(end, n_);
    if (off >= end) return false;
    const uint8_t* p = d_ + off;
    size_t avail = static_cast<size_t>(std::min<uint64_t>(end - off, max + 1));
    const void* nul = std::memchr(p, 0, avail);
    if (nul == nullptr) return false;
    out.assign(reinterpret_cast<const char*>(p), static_cast<const uint8_t*>(nul) - p);
    return true;
  }
  const uint8_t* data() const { return d_; }
  size_t size() const { return n_; }

 private:
  const uint8_t* d_;
  size_t n_;
};

struct Sym {
  uint64_t addr, size;
  uint32_t name_off;
  uint32_t strtab;  // section index of the string table
};

bool printable(const std::string& s, bool allow_empty) {
  if (s.empty()) return allow_empty;
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f) return false;
  return true;
}

class Parser {
 public:
  Parser(const Image& img, UsdtFile& out) : img_(img), out_(out) {}

  bool run(std::string& error) {
    if (!img_.get(0, eh_) || std::memcmp(eh_.e_ident, ELFMAG, SELFMAG) != 0) {
      error = "not an ELF file";
      return false;
    }
    if (eh_.e_ident[EI_CLASS] != ELFCLASS64 || eh_.e_ident[EI_DATA] != ELFDATA2LSB) {
      error = "not a little-endian ELF64 file";
      return false;
    }
    out_.shared = eh_.e_type == ET_DYN;
    read_phdrs();
    read_shdrs();
    read_notes();
    read_symbols();
    read_dynamic();
    return true;
  }

 private:
  void read_phdrs() {
    if (eh_.e_phentsize != sizeof(Elf64_Phdr)) return;
    for (uint32_t i = 0; i < eh_.e_phnum; ++i) {
      Elf64_Phdr ph;
      if (!img_.get(eh_.e_phoff + uint64_t{i} * sizeof(ph), ph)) return;
      if (ph.p_type == PT_LOAD) loads_.push_back(ph);
      if (ph.p_type == PT_DYNAMIC) dynamic_ = ph;
    }
  }

  void read_shdrs() {
    if (eh_.e_shentsize != sizeof(Elf64_Shdr) || eh_.e_shoff == 0) return;
    for (uint32_t i = 0; i < eh_.e_shnum; ++i) {
      Elf64_Shdr sh;
      if (!img_.get(eh_.e_shoff + uint64_t{i} * sizeof(sh), sh)) {
        shdrs_.clear();
        return;
      }
      shdrs_.push_back(sh);
    }
  }

  std::string section_name(const Elf64_Shdr& sh) const {
    if (eh_.e_shstrndx >= shdrs_.size()) return "";
    const Elf64_Shdr& strs = shdrs_[eh_.e_shstrndx];
    if (sh.sh_name >= strs.sh_size) return "";
    std::string s;
    if (!img_.str(strs.sh_offset + sh.sh_name, strs.sh_offset + strs.sh_size, kMaxString, s))
      return "";
    return s;
  }

  // Link-time address -> file offset through PT_LOAD (only bytes backed by the file).
  bool to_offset(uint64_t vaddr, uint64_t& off) const {
    for (const auto& ph : loads_) {
      if (vaddr >= ph.p_vaddr && vaddr - ph.p_vaddr < ph.p_filesz) {
        off = vaddr - ph.p_vaddr + ph.p_offset;
        return off >= ph.p_offset && off < img_.size();  // no wrap, inside the file
      }
    }
    return false;
  }

  void read_notes() {
    bool have_base = false;
    uint64_t base_addr = 0;
    for (const auto& sh : shdrs_) {
      if (sh.sh_type == SHT_PROGBITS && section_name(sh) == ".stapsdt.base") {
        have_base = true;
        base_addr = sh.sh_addr;
      }
    }
    for (const auto& sh : shdrs_) {
      if (sh.sh_type != SHT_NOTE || !img_.has(sh.sh_offset, sh.sh_size)) continue;
      if (section_name(sh) != ".note.stapsdt") continue;
      uint64_t pos = sh.sh_offset;
      const uint64_t end = sh.sh_offset + sh.sh_size;
      while (pos + 12 <= end && out_.notes.size() < kMaxNotes) {
        Elf64_Nhdr nh;
        if (!img_.get(pos, nh)) break;
        uint64_t name_at = pos + 12;
        uint64_t desc_at = name_at + ((uint64_t{nh.n_namesz} + 3) & ~uint64_t{3});
        uint64_t next = desc_at + ((uint64_t{nh.n_descsz} + 3) & ~uint64_t{3});
        if (desc_at > end || next > end || desc_at + nh.n_descsz > end) {
          ++out_.invalid;
          break;
        }
        pos = next;
        if (nh.n_type != kNtStapsdt || nh.n_namesz != 8 ||
            std::memcmp(img_.data() + name_at, "stapsdt", 8) != 0)
          continue;
        parse_note(desc_at, nh.n_descsz, have_base, base_addr);
      }
    }
  }

  void parse_note(uint64_t at, uint64_t len, bool have_base, uint64_t base_addr) {
    UsdtNote n;
    uint64_t end = at + len;
    if (len < 24 || !img_.get(at, n.pc) || !img_.get(at + 8, n.base) ||
        !img_.get(at + 16, n.semaphore)) {
      ++out_.invalid;
      return;
    }
    uint64_t p = at + 24;
    if (!img_.str(p, end, kMaxString, n.provider) ||
        !img_.str(p += n.provider.size() + 1, end, kMaxString, n.raw_name) ||
        !img_.str(p += n.raw_name.size() + 1, end, 4096, n.args) || !printable(n.provider, false) ||
        !printable(n.raw_name, false) || !printable(n.args, true)) {
      ++out_.invalid;
      return;
    }
    if (have_base) {  // prelink moved the file: shift by the same amount (wrapping on purpose)
      n.pc += base_addr - n.base;
      if (n.semaphore != 0) n.semaphore += base_addr - n.base;
    }
    if (!to_offset(n.pc, n.pc_offset)) {
      ++out_.invalid;
      return;
    }
    if (n.semaphore != 0 && !to_offset(n.semaphore, n.semaphore_offset)) n.semaphore_offset = 0;
    n.name = sys::d_probe_name(n.raw_name);
    out_.notes.push_back(std::move(n));
  }

  void read_symbols() {
    if (out_.notes.empty()) return;
    // .symtab when present (more complete), else .dynsym.
    for (uint32_t want : {uint32_t{SHT_SYMTAB}, uint32_t{SHT_DYNSYM}}) {
      for (const auto& sh : shdrs_) {
        if (sh.sh_type != want || sh.sh_entsize != sizeof(Elf64_Sym)) continue;
        if (sh.sh_link >= shdrs_.size() || !img_.has(sh.sh_offset, sh.sh_size)) continue;
        uint64_t count = sh.sh_size / sizeof(Elf64_Sym);
        for (uint64_t i = 0; i < count; ++i) {
          Elf64_Sym s;
          if (!img_.get(sh.sh_offset + i * sizeof(s), s)) break;
          if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || s.st_value == 0) continue;
          syms_.push_back({s.st_value, s.st_size, s.st_name, sh.sh_link});
        }
      }
      if (!syms_.empty()) break;
    }
    std::sort(syms_.begin(), syms_.end(),
              [](const Sym& a, const Sym& b) { return a.addr < b.addr; });
    for (auto& n : out_.notes) n.function = function_at(n.pc);
    resolve_arg_symbols();
  }

  // Addresses of the symbols argument specs name (data symbols: any type, .symtab or .dynsym).
  void resolve_arg_symbols() {
    std::vector<UsdtArg> args;
    std::string err;
    std::unordered_map<std::string, uint64_t> wanted;  // name -> address (0: not found)
    for (auto& n : out_.notes) {
      if (!parse_usdt_args(n.args, args, err)) continue;
      for (const auto& a : args)
        if (!a.symbol.empty()) wanted.emplace(a.symbol, 0);
    }
    if (wanted.empty()) return;
    find_symbols(wanted);  // one pass over the symbol tables, not one per argument
    for (auto& n : out_.notes) {
      if (!parse_usdt_args(n.args, args, err)) continue;
      for (const auto& a : args) {
        if (a.symbol.empty()) continue;
        if (uint64_t addr = wanted[a.symbol]; addr != 0) n.symbols.emplace_back(a.symbol, addr);
      }
    }
  }

  // Fills the address of each name in `wanted` (the first definition, .symtab before .dynsym).
  void find_symbols(std::unordered_map<std::string, uint64_t>& wanted) const {
    size_t left = wanted.size();
    for (uint32_t type : {uint32_t{SHT_SYMTAB}, uint32_t{SHT_DYNSYM}}) {
      for (const auto& sh : shdrs_) {
        if (sh.sh_type != type || sh.sh_entsize != sizeof(Elf64_Sym)) continue;
        if (sh.sh_link >= shdrs_.size() || !img_.has(sh.sh_offset, sh.sh_size)) continue;
        const Elf64_Shdr& strs = shdrs_[sh.sh_link];
        uint64_t count = sh.sh_size / sizeof(Elf64_Sym);
        for (uint64_t i = 0; i < count; ++i) {
          Elf64_Sym s;
          std::string name;
          if (!img_.get(sh.sh_offset + i * sizeof(s), s)) break;
          if (s.st_value == 0 || s.st_shndx == SHN_UNDEF || s.st_name >= strs.sh_size) continue;
          if (!img_.str(strs.sh_offset + s.st_name, strs.sh_offset + strs.sh_size, kMaxString,
                        name))
            continue;
          auto it = wanted.find(name);
          if (it == wanted.end() || it->second != 0) continue;
          it->second = s.st_value;
          if (--left == 0) return;
        }
      }
    }
  }

  std::string function_at(uint64_t pc) const {
    const Sym* best = nullptr;
    auto it = std::upper_bound(syms_.begin(), syms_.end(), pc,
                               [](uint64_t v, const Sym& s) { return v < s.addr; });
    for (size_t scanned = 0; it != syms_.begin() && scanned < kMaxSymbolScan; ++scanned) {
      const Sym& s = *--it;  // addresses descend: the first that contains pc is the best
      if (pc - s.addr < s.size || (s.size == 0 && pc == s.addr)) {
        best = &s;
        break;
      }
    }
    if (best == nullptr) return "";
    const Elf64_Shdr& strs = shdrs_[best->strtab];
    std::string name;
    if (best->name_off >= strs.sh_size ||
        !img_.str(strs.sh_offset + best->name_off, strs.sh_offset + strs.sh_size, kMaxString,
                  name) ||
        !printable(name, false))
      return "";
    return name;
  }

  void read_dynamic() {
    if (dynamic_.p_type != PT_DYNAMIC || !img_.has(dynamic_.p_offset, dynamic_.p_filesz)) return;
    std::vector<uint64_t> needed, runpath;
    uint64_t strtab = 0, strsz = 0;
    uint64_t count = dynamic_.p_filesz / sizeof(Elf64_Dyn);
    for (uint64_t i = 0; i < count && i < 4096; ++i) {
      Elf64_Dyn d;
      if (!img_.get(dynamic_.p_offset + i * sizeof(d), d) || d.d_tag == DT_NULL) break;
      if (d.d_tag == DT_NEEDED) needed.push_back(d.d_un.d_val);
      if (d.d_tag == DT_RUNPATH || d.d_tag == DT_RPATH) runpath.push_back(d.d_un.d_val);
      if (d.d_tag == DT_STRTAB) strtab = d.d_un.d_ptr;
      if (d.d_tag == DT_STRSZ) strsz = d.d_un.d_val;
    }
    uint64_t str_off = 0;
    if (strtab == 0 || !to_offset(strtab, str_off) || !img_.has(str_off, strsz)) return;
    auto get = [&](uint64_t o, std::string& s) {
      return o < strsz && img_.str(str_off + o, str_off + strsz, 4096, s) && printable(s, false);
    };
    for (uint64_t o : needed) {
      std::string s;
      if (get(o, s)) out_.needed.push_back(s);
    }
    for (uint64_t o : runpath) {
      std::string s;
      if (!get(o, s)) continue;
      size_t b = 0;
      while (b <= s.size()) {
        size_t e = s.find(':', b);
        if (e == std::string::npos) e = s.size();
        if (e > b) out_.runpath.push_back(s.substr(b, e - b));
        b = e + 1;
      }
    }
  }

  const Image& img_;
  UsdtFile& out_;
  Elf64_Ehdr eh_{};
  std::vector<Elf64_Phdr> loads_;
  Elf64_Phdr dynamic_{};
  std::vector<Elf64_Shdr> shdrs_;
  std::vector<Sym> syms_;
};

}  // namespace

bool parse_usdt_elf(const uint8_t* data, size_t len, UsdtFile& out, std::string& error) {
  out.notes.clear();
  out.needed.clear();
  out.runpath.clear();
  out.invalid = 0;
  Image img(data, len);
  return Parser(img, out).run(error);
}

bool read_usdt_file(const std::string& path, UsdtFile& out, std::string& error,
                    bool require_notes) {
  out.path = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
      static_cast<uint64_t>(st.st_size) > kMaxFileSize) {
    ::close(fd);
    error = path + ": not a regular ELF file";
    return false;
  }
  size_t len = static_cast<size_t>(st.st_size);
  void* m = mmap(nullptr, len, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED) {
    error = "cannot map " + path + ": " + std::strerror(errno);
    return false;
  }
  std::string why;
  bool ok = parse_usdt_elf(static_cast<const uint8_t*>(m), len, out, why);
  munmap(m, len);
  if (!ok) {
    error = path + ": " + why;
    return false;
  }
  if (require_notes && out.notes.empty()) {
    error = path + " has no USDT probes (.note.stapsdt)";
    return false;
  }
  return true;
}

}  // namespace vtrace::targets::host
