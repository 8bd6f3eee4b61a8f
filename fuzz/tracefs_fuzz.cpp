// libFuzzer target: arbitrary bytes as a tracefs event `format` file (src/targets/host/
// tracefs.h): parse_format, then the record layout queries the host target makes (field(),
// args(), fixed_size()) and the __print_symbolic tables of its print fmt (kvm_exit's reason
// names). The kernel writes these files, but a tracefs mounted by someone else, or a future
// kernel's format, must not crash vtrace.
//
// Invariants: no crash, hang or sanitizer report; a parsed format has a name and an ID of at
// most 9 digits; every field has a name and type, offset and size within 0xffff, and
// field(name) finds a field of that name; args() are fields, none common; there are never more
// symbolic tables than "__print_symbolic(" appears in the text.
//
// Seeds: fuzz/corpus/tracefs/ (the canned formats of tests/targets/data and variants, by
// fuzz/make_seeds.py). Run: see fuzz/CMakeLists.txt.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "sys/tracefs.h"

namespace {

size_t occurrences(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (size_t at = 0; (at = text.find(what, at)) != std::string_view::npos; at += what.size()) ++n;
  return n;
}

void check_tables(std::string_view text) {
  const auto tables = vtrace::sys::print_symbolic_tables(text);
  CHECK(tables.size() <= occurrences(text, "__print_symbolic("));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string err;
  auto fmt = vtrace::sys::parse_format(text, err);
  check_tables(text);
  if (!fmt) {
    CHECK(!err.empty());
    return 0;
  }
  CHECK(!fmt->name.empty() && fmt->id <= 999'999'999);
  uint32_t end = 0;
  for (const auto& f : fmt->fields) {
    CHECK(!f.name.empty() && !f.type.empty());
    CHECK(f.offset <= 0xffff && f.size <= 0xffff);
    CHECK(!(f.data_loc && f.char_array));
    const auto* found = fmt->field(f.name);
    CHECK(found != nullptr && found->name == f.name);
    if (f.offset + f.size > end) end = f.offset + f.size;
  }
  CHECK(fmt->fixed_size() == end);
  for (const auto* a : fmt->args()) {
    CHECK(a != nullptr && !a->is_common());
    CHECK(a >= fmt->fields.data() && a < fmt->fields.data() + fmt->fields.size());
  }
  check_tables(fmt->print_fmt);
  return 0;
}
