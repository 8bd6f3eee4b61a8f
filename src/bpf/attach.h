// Attaching loaded programs to where they run. Each attachment lives as long as the fd returned
// for it: closing that fd detaches the program (the program itself lives on while its own fd or
// an attachment holds it).
#pragma once
#include <cstdint>
#include <string>

#include "sys/unique_fd.h"

namespace vtrace::bpf {

// Attaches a BPF_PROG_TYPE_TRACEPOINT program to the trace event of tracefs id `event_id`
// (events/<system>/<event>/id). One perf event (pid -1, CPU 0) is enough: the kernel runs the
// programs of a tracepoint on every CPU it fires on, whichever CPU their event was opened for.
// `what` names the tracepoint in messages. Returns the perf event's fd.
sys::UniqueFd attach_tracepoint(int prog_fd, uint64_t event_id, const std::string& what,
                                std::string& err);

// Attaches a BPF_PROG_TYPE_RAW_TRACEPOINT program to the raw tracepoint `name` ("sched_switch").
// Returns the attachment's fd.
sys::UniqueFd attach_raw_tracepoint(int prog_fd, const std::string& name, std::string& err);

// Attaches a program (BPF_PROG_TYPE_PERF_EVENT for a sampling event) to a perf event the caller
// opened and keeps, and enables the event. `what` names the event in messages.
bool attach_perf_event(int perf_fd, int prog_fd, const std::string& what, std::string& err);

}  // namespace vtrace::bpf
