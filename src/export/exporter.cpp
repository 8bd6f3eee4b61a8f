#include "export/exporter.h"

#include "engine/engine.h"
#include "export/ctf_trace.h"
#include "export/folded_stacks.h"
#include "export/json_lines.h"
#include "export/perfetto_trace.h"

namespace vtrace::exporters {

bool writes_directory(const std::string& oformat) {
  return oformat == "ctf";
}

std::unique_ptr<engine::Consumer> make_exporter(const engine::Engine& engine, std::FILE* out,
                                                const std::string& dir, std::FILE* err,
                                                std::string& error) {
  error.clear();
  const std::string& f = engine.options().oformat;
  if (f == "json") return std::make_unique<JsonLines>(engine, out);
  if (f == "perfetto") return std::make_unique<PerfettoTrace>(engine, out);
  if (f == "folded") return std::make_unique<FoldedStacks>(out, err);
  if (f == "ctf") return CtfTrace::create(engine, dir, error);
  return nullptr;
}

}  // namespace vtrace::exporters
