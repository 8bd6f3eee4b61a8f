// The consumer -x oformat names, beside the engine's own text: json (json_lines.h), perfetto
// (perfetto_trace.h), folded (folded_stacks.h), ctf (ctf_trace.h).
#pragma once
#include <cstdio>
#include <memory>
#include <string>

#include "engine/consumer.h"

namespace vtrace::engine {
class Engine;
}

namespace vtrace::exporters {

// Whether oformat writes a directory named by -o (CTF) rather than a file or stdout.
bool writes_directory(const std::string& oformat);

// The exporter for engine.options().oformat, writing to `out` (a file or stdout) or, for a
// directory format, to `dir`; `err` takes its end-of-run notes. nullptr with `error` set when it
// cannot be made; nullptr and no error for "text" (the engine's own consumer).
std::unique_ptr<engine::Consumer> make_exporter(const engine::Engine& engine, std::FILE* out,
                                                const std::string& dir, std::FILE* err,
                                                std::string& error);

}  // namespace vtrace::exporters
