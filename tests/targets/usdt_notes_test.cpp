// USDT notes: the test program's probes, libstdc++'s, a file without notes, and malformed
// images (truncated and mutated copies of a real file never crash the parser).
#include <gtest/gtest.h>

#include <unistd.h>
#include "engine/catalog.h"

#include <fstream>
#include <iterator>
#include <random>

#include "sys/probe_name.h"
#include "targets/host/usdt_notes.h"

namespace vtrace::targets::host {
namespace {

const UsdtNote* find(const UsdtFile& f, const std::string& name) {
  for (const auto& n : f.notes)
    if (n.name == name) return &n;
  return nullptr;
}

std::vector<uint8_t> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(UsdtNotes, DashedNames) {
  EXPECT_EQ(vtrace::sys::d_probe_name("query__start"), "query-start");
  EXPECT_EQ(vtrace::sys::d_probe_name("a___b"), "a-_b");
  EXPECT_EQ(vtrace::sys::d_probe_name("plain_name"), "plain_name");
  EXPECT_EQ(vtrace::sys::d_probe_name("__"), "-");
}

TEST(UsdtNotes, SampleProgram) {
  if (!USDT_SAMPLE_BY_GCC)
    GTEST_SKIP() << "skipped: the sample's USDT operand checks assume gcc's code generation";
  UsdtFile f;
  std::string err;
  ASSERT_TRUE(read_usdt_file(USDT_SAMPLE, f, err)) << err;
  EXPECT_EQ(f.invalid, 0u);
  EXPECT_TRUE(f.shared);  // PIE
  for (const char* name : {"ints", "str", "consts", "global", "regs", "guarded", "loop-done"})
    EXPECT_NE(find(f, name), nullptr) << name;
  const UsdtNote* ints = find(f, "ints");
  ASSERT_NE(ints, nullptr);
  EXPECT_EQ(ints->provider, "sample");
  EXPECT_EQ(ints->function, "main");
  EXPECT_NE(ints->pc_offset, 0u);
  EXPECT_EQ(ints->semaphore_offset, 0u);
  const UsdtNote* done = find(f, "loop-done");
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(done->raw_name, "loop__done");
  const UsdtNote* guarded = find(f, "guarded");
  ASSERT_NE(guarded, nullptr);
  EXPECT_NE(guarded->semaphore, 0u);
  EXPECT_NE(guarded->semaphore_offset, 0u);
  EXPECT_EQ(guarded->function, "fire_guarded");
  // The probe's nop is at pc_offset in the file.
  std::vector<uint8_t> bytes = slurp(USDT_SAMPLE);
  ASSERT_LT(ints->pc_offset, bytes.size());
  EXPECT_EQ(bytes[ints->pc_offset], 0x90);
  const UsdtNote* global = find(f, "global");
  ASSERT_NE(global, nullptr);
  ASSERT_EQ(global->symbols.size(), 1u);
  EXPECT_EQ(global->symbols[0].first, "g_counter");
}

TEST(UsdtNotes, Libstdcxx) {
  const char* lib = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";
  if (access(lib, R_OK) != 0) GTEST_SKIP() << "skipped: " << lib << " not found";
  UsdtFile f;
  std::string err;
  ASSERT_TRUE(read_usdt_file(lib, f, err)) << err;
  const UsdtNote* t = find(f, "throw");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->provider, "libstdcxx");
  EXPECT_NE(find(f, "catch"), nullptr);
}

TEST(UsdtNotes, NoNotesIsAClearError) {
  UsdtFile f;
  std::string err;
  EXPECT_FALSE(read_usdt_file("/bin/true", f, err));
  EXPECT_EQ(err, "/bin/true has no USDT probes (.note.stapsdt)");
  EXPECT_FALSE(read_usdt_file("/nonexistent/bin", f, err));
  EXPECT_NE(err.find("cannot open"), std::string::npos);
  EXPECT_FALSE(read_usdt_file("/etc/passwd", f, err));
  EXPECT_NE(err.find("not an ELF file"), std::string::npos);
}

TEST(UsdtNotes, MalformedImagesNeverCrash) {
  std::vector<uint8_t> good = slurp(USDT_SAMPLE);
  ASSERT_GT(good.size(), 64u);
  UsdtFile f;
  std::string err;
  // Every truncation length of the headers, and some of the rest.
  for (size_t len = 0; len < good.size(); len += len < 4096 ? 1 : 997)
    parse_usdt_elf(good.data(), len, f, err);
  // Random byte mutations (fixed seed: reproducible).
  std::mt19937 rng(12345);
  for (int round = 0; round < 3000; ++round) {
    std::vector<uint8_t> bad = good;
    int flips = 1 + static_cast<int>(rng() % 16);
    for (int i = 0; i < flips; ++i) {
      // Mostly the ELF header, section headers and the note section's neighbourhood.
      size_t at = rng() % 3 == 0 ? rng() % 64 : rng() % bad.size();
      bad[at] = static_cast<uint8_t>(rng());
    }
    if (parse_usdt_elf(bad.data(), bad.size(), f, err)) {
      for (const auto& n : f.notes) EXPECT_LT(n.pc_offset, bad.size());
    }
  }
}

}  // namespace
}  // namespace vtrace::targets::host
