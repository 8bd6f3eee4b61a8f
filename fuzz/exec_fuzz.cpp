// libFuzzer target: arbitrary bytes as the exec mailbox of a guest channel (struct
// vtrace_guest_exec in guest_abi.h), read from both of its sides.
//
// The first byte picks the side:
//   even: the host reading a guest's reply (targets::qemu::read_exec_reply, what `vtrace vm
//         exec` returns): the next 64 bytes are the mailbox's fields (output_len,
//         output_truncated, exit_status, ... as the guest left them), the rest the output area,
//         whose size is the host's own (the 128 KiB exec area less the mailbox).
//   odd:  the guest's agent reading a host request (guest::parse_argv, what ExecServer runs):
//         the next 64 bytes are the mailbox's fields (argc, argv_len, ...), the rest the argv
//         area (4096 bytes).
//
// Invariants: no crash, hang or sanitizer report; a reply never has more output than the area
// holds, exactly min(output_len, area) bytes of it, an exit status in 0..255, and "truncated"
// when the guest said so or claimed more than fits; a request is accepted only as argc
// NUL-terminated strings lying in argv_len <= 4096 bytes with a non-empty command name, and the
// strings are the area's.
//
// Seeds: fuzz/corpus/exec/ (fuzz/make_seeds.py). Run: see fuzz/CMakeLists.txt.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "guest/agent/exec_server.h"
#include "targets/qemu/exec_client.h"
#include "transport/guest_channel.h"

namespace {

constexpr size_t kFields = offsetof(vtrace_guest_exec, argv);
static_assert(kFields == 64);

void fuzz_reply(const uint8_t* data, size_t size) {
  const vtrace::transport::GuestLayout layout = vtrace::transport::guest_layout(16ull << 20);
  const uint32_t cap = layout.exec_size - static_cast<uint32_t>(sizeof(vtrace_guest_exec));
  static std::vector<uint64_t> area((layout.exec_size + 7) / 8);
  std::memset(area.data(), 0, layout.exec_size);
  auto* e = reinterpret_cast<vtrace_guest_exec*>(area.data());
  char* output = reinterpret_cast<char*>(e + 1);
  std::memcpy(e, data, std::min(size, kFields));
  if (size > kFields) std::memcpy(output, data + kFields, std::min<size_t>(size - kFields, cap));

  const vtrace::targets::qemu::ExecResult r = vtrace::targets::qemu::read_exec_reply(e, cap);
  CHECK(r.output.size() == std::min(e->output_len, cap));
  CHECK(std::memcmp(r.output.data(), output, r.output.size()) == 0);
  CHECK(r.exit_status >= 0 && r.exit_status <= 255);
  CHECK(r.truncated == (e->output_truncated != 0 || e->output_len > cap));
}

void fuzz_request(const uint8_t* data, size_t size) {
  static vtrace_guest_exec ex;
  std::memset(&ex, 0, sizeof ex);
  std::memcpy(&ex, data, std::min(size, kFields));
  if (size > kFields)
    std::memcpy(ex.argv, data + kFields, std::min(size - kFields, sizeof ex.argv));

  std::vector<std::string> argv;
  const std::string bad = vtrace::guest::parse_argv(ex, argv);
  if (!bad.empty()) return;
  CHECK(ex.argc > 0 && argv.size() == ex.argc);
  CHECK(ex.argv_len <= sizeof ex.argv);
  CHECK(!argv[0].empty());
  size_t at = 0;
  for (const auto& a : argv) {
    CHECK(a.find('\0') == std::string::npos);
    CHECK(at + a.size() < ex.argv_len);
    CHECK(std::memcmp(ex.argv + at, a.data(), a.size()) == 0 && ex.argv[at + a.size()] == '\0');
    at += a.size() + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if ((data[0] & 1) == 0)
    fuzz_reply(data + 1, size - 1);
  else
    fuzz_request(data + 1, size - 1);
  return 0;
}
