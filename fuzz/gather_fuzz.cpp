// libFuzzer target: arbitrary bytes as a gather record out of a BPF ring buffer (today the host
// kernel writes them; a guest's agent will forward its kernel's, and a guest is untrusted).
//
// The first bytes choose the plan the record is checked against (number of strings, strsize,
// data room, stack depths); the rest is the record. Invariant: no crash, hang or sanitizer
// report; a record the parser accepts has every view inside the input (the sanitizers check the
// reads), strings within strsize and stacks within their frames.
//
// Seeds: fuzz/corpus/gather/. Run: see fuzz/CMakeLists.txt.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "bpf/gather_layout.h"
#include "bpf/gather_parse.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 6) return 0;
  vtrace::bpf::GatherPlan plan;
  plan.strsize = 1 + data[0] % 64;
  plan.data_size = data[1] % 64;
  plan.data_extra = data[2] % 32;
  plan.kernel_frames = data[3] % 8;
  plan.user_frames = data[4] % 8;
  for (int i = 0; i < data[5] % 4; ++i) plan.strings.push_back({});
  // The record in its own buffer of exactly its size (the ring gives no more).
  std::vector<uint8_t> rec(data + 6, data + size);
  if (!rec.empty() && rec.size() >= 4) std::memset(rec.data(), 0, 4);  // probe id 0, mostly
  vtrace::bpf::GatherView v;
  if (!vtrace::bpf::parse_gather_record(rec.data(), rec.size(), plan, v)) return 0;
  CHECK(v.data_len <= plan.data_size + plan.data_extra);
  CHECK(v.strings.size() == plan.strings.size());
  uint64_t sum = 0;
  for (const auto& s : v.strings) {
    CHECK(s.str.size() < plan.strsize);
    for (char c : s.str) sum += static_cast<uint8_t>(c);
  }
  CHECK(v.kstack.size() <= plan.kernel_frames);
  CHECK(v.ustack.size() <= plan.user_frames);
  for (size_t i = 0; i < v.kstack.size(); ++i) sum += v.kstack[i];
  for (size_t i = 0; i < v.ustack.size(); ++i) sum += v.ustack[i];
  for (size_t i = 0; i < v.data_len; ++i) sum += v.data[i];
  return sum == 1 ? 0 : 0;
}
