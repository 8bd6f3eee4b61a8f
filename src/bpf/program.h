// Loading raw instruction arrays as BPF programs, and creating the maps they use, through
// libbpf's low-level API (no ELF objects). Errors are sentences a user can act on; a program the
// verifier refuses comes with the last lines of the verifier's log.
#pragma once
#include <linux/bpf.h>

#include <cstdint>
#include <span>
#include <string>

#include "sys/unique_fd.h"

namespace vtrace::bpf {

// Loads insns as a program of `type` (license "GPL": the tracing helpers need it). `what` names
// the program in messages ("the BPF program for syscalls:sys_enter_openat"); the kernel's name
// for it (bpftool prog list) is `name`, cut to 15 characters. Invalid fd and err set on failure.
sys::UniqueFd load_program(bpf_prog_type type, std::span<const bpf_insn> insns,
                           const std::string& name, const std::string& what, std::string& err);

// Creates a map; `what` names it in messages. Invalid fd and err set on failure.
sys::UniqueFd create_map(bpf_map_type type, const std::string& name, uint32_t key_size,
                         uint32_t value_size, uint32_t max_entries, const std::string& what,
                         std::string& err);

// The last `lines` non-empty lines of a verifier log (the reason is at its end).
std::string log_tail(const std::string& log, size_t lines);

// What a failed bpf() call with this errno means to a user ("Permission denied — run as root").
std::string errno_hint(int err);

}  // namespace vtrace::bpf
