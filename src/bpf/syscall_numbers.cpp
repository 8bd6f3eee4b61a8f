#include "bpf/syscall_numbers.h"

#include <algorithm>
#include <utility>

namespace vtrace::bpf {
namespace {

struct Entry {
  std::string_view name;
  uint32_t nr;
};

constexpr Entry kNumbers[] = {
#include "bpf/syscall_numbers.inc"
};

// Syscalls newer than the oldest <asm/unistd_64.h> we build with (linux-libc-dev 6.1): an x86-64
// number never changes once assigned (arch/x86/entry/syscalls/syscall_64.tbl), and the tests
// check each against the running kernel's own syscalls:sys_enter_NAME tracepoint. The build's
// header wins where it has the name.
constexpr Entry kNewer[] = {
    {"uretprobe", 335},         {"uprobe", 336},
    {"cachestat", 451},         {"fchmodat2", 452},
    {"map_shadow_stack", 453},  {"futex_wake", 454},
    {"futex_wait", 455},        {"futex_requeue", 456},
    {"statmount", 457},         {"listmount", 458},
    {"lsm_get_self_attr", 459}, {"lsm_set_self_attr", 460},
    {"lsm_list_modules", 461},  {"mseal", 462},
    {"setxattrat", 463},        {"getxattrat", 464},
    {"listxattrat", 465},       {"removexattrat", 466},
    {"open_tree_attr", 467},    {"file_getattr", 468},
    {"file_setattr", 469},
};

// Tracepoint names (the SYSCALL_DEFINE name) that are not their __NR_ name on x86-64.
constexpr std::pair<std::string_view, std::string_view> kRenamed[] = {
    {"newstat", "stat"},   {"newfstat", "fstat"},      {"newlstat", "lstat"},
    {"newuname", "uname"}, {"sendfile64", "sendfile"}, {"umount", "umount2"},
};

}  // namespace

std::optional<uint32_t> syscall_number(std::string_view name) {
  for (const auto& [tp, nr_name] : kRenamed)
    if (name == tp) name = nr_name;
  auto named = [&](const Entry& e) { return e.name == name; };
  const Entry* it = std::find_if(std::begin(kNumbers), std::end(kNumbers), named);
  if (it == std::end(kNumbers)) it = std::find_if(std::begin(kNewer), std::end(kNewer), named);
  if (it == std::end(kNewer) || it->nr >= kMaxSyscallNr) return std::nullopt;
  return it->nr;
}

}  // namespace vtrace::bpf
