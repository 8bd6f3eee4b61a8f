// The guest's symbols for the host: stack() and ustack() of a guest carry addresses, and only
// the guest knows what is at them (its kernel's /proc/kallsyms, with KASLR's slide and its
// modules; its processes' mappings and ELF files). The host asks at print time through the exec
// mailbox with a built-in command (kCommand) instead of a program; the agent answers.
//
// User frames are named when their sample is emitted, in time order with perf's side band
// (MMAP, COMM, FORK, EXIT), so each is named from the mappings the process had at that moment:
// an exec, an munmap or an exit after it does not change its name. Each process image (a
// process between execs) gets a number that the record carries, and the host asks for
// "pid, image, address": the same address before and after an exec is two questions.
//
// Request arguments: "k:HEX" (a kernel address), "u:PID:IMAGE:HEX" (a user frame).
// Answer: one line per argument, in order: "ARG\tMODULE\tNAME\tHEXOFFSET", MODULE and NAME
// empty when unknown (NAME alone when the file has no symbol there).
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace vtrace::sys {
class Kallsyms;
class ElfSymbols;
}  // namespace vtrace::sys

namespace vtrace::guest {

class SymbolServer {
 public:
  static constexpr const char* kCommand = "vtrace-agent:symbols";
  // An offset this far past a kernel symbol is past the last one (a module's or BPF's code
  // kallsyms does not list): unknown rather than a wrong name.
  static constexpr uint64_t kMaxKernelOffset = 1u << 20;

  SymbolServer();
  ~SymbolServer();

  // perf's side band, in time order: an executable mapping, a COMM (an exec starts a new
  // image; a rename too, harmlessly), a new process, a process gone.
  void on_mmap(uint32_t pid, uint64_t start, uint64_t len, uint64_t pgoff, const std::string& path);
  void on_comm(uint32_t pid);
  void on_fork(uint32_t pid, uint32_t parent);
  void on_exit(uint32_t pid);
  // Names the user frames of a sample of `pid` now; returns the image number the record
  // carries. Frames outside every known mapping make it read /proc/PID/maps (a process that
  // was running before the side band started). Bounded (kMaxNamed frames in all).
  uint32_t name_user(uint32_t pid, const uint64_t* frames, size_t n);

  // The answer to a request (see above); a malformed argument answers as unknown.
  std::string answer(const std::vector<std::string>& args);
  // Forgets the frames named so far (a new tracing session: the bound is per session).
  void forget_named();

 private:
  struct Mapping {
    uint64_t start, end, pgoff;
    std::string path;
  };
  struct Image {
    uint32_t number = 0;
    std::vector<Mapping> maps;
    bool read_proc = false;  // /proc/PID/maps was read for this image
  };
  struct Named {
    std::string module, name;
    uint64_t offset;
  };
  using Key = std::tuple<uint32_t, uint32_t, uint64_t>;  // pid, image, address
  static constexpr size_t kMaxNamed = 1u << 16, kMaxFiles = 128;

  Image& image_of(uint32_t pid);
  void new_image(uint32_t pid);
  void read_proc_maps(uint32_t pid, Image& img);
  Named name(uint32_t pid, const Image& img, uint64_t addr);
  const sys::ElfSymbols* file(const std::string& path);

  // The exec thread answers while the main thread names: mu_ guards what both use. The
  // kernel's symbols are the exec thread's alone (their first load takes a second under TCG,
  // which must not hold up the main thread's relaying).
  std::mutex mu_;
  std::unique_ptr<sys::Kallsyms> kernel_;
  std::unordered_map<uint32_t, Image> images_;
  std::unordered_map<uint32_t, uint32_t> last_number_;  // per pid, so numbers never repeat
  std::map<Key, Named> named_;
  std::unordered_map<std::string, std::unique_ptr<sys::ElfSymbols>> files_;
};

}  // namespace vtrace::guest
