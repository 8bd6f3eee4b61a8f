// libFuzzer target: arbitrary bytes as what a VM's QMP socket sends back (src/targets/qemu/
// qmp.h): the bytes arrive in reads of a size the first byte picks, take_qmp_reply takes the
// reply lines out of what has arrived (skipping events), and each reply goes through the
// parser of the one reply vtrace reads fields from, query-cpus-fast (targets/host/vmm_vcpus.h);
// every line also goes through the event parser of the tracer's event socket (qmp_events.h).
//
// Invariants: no crash, hang or sanitizer report; a reply is one whole line (no newline in it),
// a JSON object with "return" or "error", lines skipped before it are not, and every byte is
// either in a line taken or still buffered; a parsed vCPU has an index <= 4095 and a thread id
// > 0, and a parse with no vCPU says why; a parsed event has a name.
//
// Seeds: fuzz/corpus/qmp/ (fuzz/make_seeds.py). Run: see fuzz/CMakeLists.txt.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_check.h"
#include "targets/host/vmm_vcpus.h"
#include "targets/qemu/qmp.h"
#include "targets/qemu/qmp_events.h"

namespace {

bool is_reply(const std::string& line) {
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  return j.is_object() && (j.contains("return") || j.contains("error"));
}

void check_event(const std::string& line) {
  vtrace::targets::qemu::QmpEvent ev;
  if (vtrace::targets::qemu::parse_qmp_event(line, 1'000'000'000, ev)) CHECK(!ev.name.empty());
}

void check_vcpus(const std::string& reply) {
  std::string err;
  const auto vcpus = vtrace::targets::host::parse_query_cpus_fast(reply, err);
  if (vcpus.empty()) CHECK(!err.empty());
  for (const auto& v : vcpus) CHECK(v.index <= 4095 && v.tid > 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t chunk = 1 + data[0];
  const std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string buffer, reply;
  size_t fed = 0, taken = 0;  // bytes appended, bytes of the input before `buffer`
  while (fed < input.size()) {
    const size_t n = std::min(chunk, input.size() - fed);
    buffer.append(input, fed, n);
    fed += n;
    const size_t before = buffer.size();
    while (vtrace::targets::qemu::take_qmp_reply(buffer, reply)) {
      CHECK(reply.find('\n') == std::string::npos && is_reply(reply));
      // The reply ends right before what is left, after the skipped lines and itself.
      const size_t end = fed - buffer.size() - 1;
      CHECK(input.compare(end - reply.size(), reply.size(), reply) == 0);
      CHECK(end == reply.size() || input[end - reply.size() - 1] == '\n');
      // Lines skipped before the reply were not replies.
      for (size_t at = taken; at < end - reply.size();) {
        const size_t nl = input.find('\n', at);
        CHECK(nl != std::string::npos && nl < end - reply.size());
        CHECK(!is_reply(input.substr(at, nl - at)));
        check_event(input.substr(at, nl - at));
        at = nl + 1;
      }
      taken = end + 1;
      check_vcpus(reply);
    }
    CHECK(buffer.size() <= before);
    // Whatever is left has no complete reply line: a line that ended was skipped as an event.
    CHECK(fed - buffer.size() >= taken);
    CHECK(input.compare(fed - buffer.size(), buffer.size(), buffer) == 0);
  }
  check_vcpus(input);
  return 0;
}
