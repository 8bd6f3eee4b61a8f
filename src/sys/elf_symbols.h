// User-space symbols: a process's executable mappings (a snapshot of /proc/PID/maps, so a
// process that has exited still symbolizes) and the function symbols of each mapped ELF file
// (.symtab, else .dynsym, through libelf), with the load bias of PIE executables and shared
// libraries. What ustack(), ufunc(), usym(), umod() and uaddr() print.
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sys/process_facts.h"

namespace vtrace::sys {

struct UserSymbol {
  std::string module;  // the mapped file's name ("libc.so.6"); empty when no mapping has addr
  std::string name;    // empty when the file has no symbol for addr
  uint64_t offset = 0;
};

// The function symbols of one ELF file, by address in the file's own (link-time) space.
class ElfSymbols {
 public:
  // Where debug files are found by build id (DIR/ab/cdef....debug).
  static constexpr const char* kDebugDir = "/usr/lib/debug/.build-id/";
  // Reads the file: .symtab, else its debug file's .symtab, else .dynsym; an unreadable file
  // gives an empty table.
  explicit ElfSymbols(const std::string& path);
  // The symbol containing vaddr (or the nearest one below it).
  bool lookup(uint64_t vaddr, std::string& name, uint64_t& offset) const;
  // The link-time address of file offset `off` (through the PT_LOAD segment holding it).
  bool vaddr_of(uint64_t off, uint64_t& vaddr) const;
  // The file offset of link-time address `vaddr` in an executable PT_LOAD segment (where a
  // uprobe can be placed).
  bool code_offset_of(uint64_t vaddr, uint64_t& off) const;

  struct Sym {
    uint64_t addr, size;
    std::string name;
  };
  // Every function symbol, by address.
  const std::vector<Sym>& functions() const { return syms_; }

 private:
  struct Segment {
    uint64_t offset, filesz, vaddr;
    bool exec;
  };
  std::vector<Sym> syms_;
  std::vector<Segment> segments_;
};

class ProcessSymbols {
 public:
  // Takes the snapshot of pid's mappings and reads their files' symbols now (a later lookup uses
  // them, even once pid is gone or a file was replaced). A snapshot that does not cover one of
  // `addrs` (a library mapped since it was taken: one taken while ld.so ran) is taken again.
  void snapshot(pid_t pid, const uint64_t* addrs = nullptr, size_t n = 0);
  UserSymbol lookup(pid_t pid, uint64_t addr);

 private:
  using Mapping = ExecMapping;
  // A snapshot belongs to one process: a pid used again by another (its start time differs)
  // never gets the first one's mappings, nor they its own.
  struct Snapshot {
    uint64_t start_time = 0;  // /proc/PID/stat field 22
    std::vector<Mapping> maps;
  };
  const std::vector<Mapping>* mappings(pid_t pid, bool refresh);
  // The symbols of the file mapped at `m` in pid: read through /proc/PID/map_files (the mapped
  // file itself) while the process lives, else through its path unless a file with another
  // inode is there now; nullptr when neither is the file. Cached by file_id.
  const ElfSymbols* file(pid_t pid, const Mapping& m);

  static constexpr size_t kMaxProcesses = 256, kMaxFiles = 256;
  std::unordered_map<pid_t, Snapshot> procs_;
  std::list<pid_t> proc_order_;  // oldest first, for eviction
  std::unordered_map<std::string, std::unique_ptr<ElfSymbols>> files_;  // by file_id
};

}  // namespace vtrace::sys
