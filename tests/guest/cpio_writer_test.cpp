#include "guest/cpio_writer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "guest/image_builder.h"
#include "guest_test_util.h"

namespace vtrace::guest {
namespace {

uint32_t field(const std::string& a, size_t entry_off, int index) {
  return static_cast<uint32_t>(std::stoul(a.substr(entry_off + 6 + 8 * index, 8), nullptr, 16));
}

TEST(CpioWriter, NewcHeadersAreAlignedAndEndWithTrailer) {
  CpioWriter w;
  w.add_directory("/bin");
  w.add_file("bin/hello", "hello\n", 0755);
  w.add_symlink("bin/sh", "busybox");
  w.add_char_device("dev/console", 5, 1);
  std::string a = w.finish();
  ASSERT_EQ(a.size() % 4, 0u);
  EXPECT_EQ(a.substr(0, 6), "070701");
  // First entry: "bin" (leading slash stripped), a directory.
  EXPECT_EQ(field(a, 0, 1), S_IFDIR | 0755u);
  EXPECT_EQ(a.substr(110, 3), "bin");
  // Walk all entries.
  size_t off = 0;
  std::vector<std::string> names;
  while (off < a.size()) {
    ASSERT_EQ(a.substr(off, 6), "070701") << "at " << off;
    uint32_t filesize = field(a, off, 6), namesize = field(a, off, 11);
    std::string name = a.substr(off + 110, namesize - 1);
    names.push_back(name);
    if (name == "dev/console") {
      EXPECT_EQ(field(a, off, 1), S_IFCHR | 0600u);
      EXPECT_EQ(field(a, off, 9), 5u);
      EXPECT_EQ(field(a, off, 10), 1u);
    }
    if (name == "bin/hello") {
      EXPECT_EQ(a.substr((off + 110 + namesize + 3) & ~size_t(3), filesize), "hello\n");
    }
    off = (off + 110 + namesize + 3) & ~size_t(3);
    off = (off + filesize + 3) & ~size_t(3);
    if (name == "TRAILER!!!") break;
  }
  EXPECT_EQ(off, a.size());
  EXPECT_EQ(names,
            (std::vector<std::string>{"bin", "bin/hello", "bin/sh", "dev/console", "TRAILER!!!"}));
}

TEST(CpioWriter, Cpio1ReadsTheArchive) {
  if (!guest_test::shell_ok("command -v cpio")) GTEST_SKIP() << "skipped: cpio(1) not installed";
  guest_test::TempDir dir("cpio");
  CpioWriter w;
  w.add_directory("etc");
  w.add_file("etc/motd", "hi\n");
  w.add_symlink("etc/link", "motd");
  write_gzip_file(dir.path + "/a.cpio.gz", w.finish());
  FILE* p = popen(("zcat " + dir.path + "/a.cpio.gz | cpio -t 2>/dev/null").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[256];
  while (fgets(buf, sizeof buf, p)) out += buf;
  EXPECT_EQ(pclose(p), 0);
  EXPECT_EQ(out, "etc\netc/motd\netc/link\n");
}

TEST(ImageBuilder, InitScriptStartsTheAgentThenPrintsTheReadyMarker) {
  std::string init = init_script();
  EXPECT_EQ(init.rfind("#!/bin/sh", 0), 0u);
  const auto ready = init.find(std::string("echo \"") + kReadyMarker + "\"");
  EXPECT_NE(ready, std::string::npos);
  const auto agent = init.find("\n  /sbin/vtrace-agent --daemon");
  ASSERT_NE(agent, std::string::npos) << init;
  EXPECT_LT(agent, ready);
  EXPECT_NE(init.find("mount -t proc"), std::string::npos);
}

TEST(ImageBuilder, DefaultCacheDirFollowsXdg) {
  const char* old_v = std::getenv("VTRACE_CACHE_DIR");
  const char* old_x = std::getenv("XDG_CACHE_HOME");
  const char* old_h = std::getenv("HOME");
  std::string sv = old_v ? old_v : "", sx = old_x ? old_x : "", sh = old_h ? old_h : "";
  unsetenv("VTRACE_CACHE_DIR");
  setenv("XDG_CACHE_HOME", "/x/cache", 1);
  EXPECT_EQ(default_cache_dir(), "/x/cache/vtrace");
  unsetenv("XDG_CACHE_HOME");
  setenv("HOME", "/home/u", 1);
  EXPECT_EQ(default_cache_dir(), "/home/u/.cache/vtrace");
  if (old_v) setenv("VTRACE_CACHE_DIR", sv.c_str(), 1);
  if (old_x) setenv("XDG_CACHE_HOME", sx.c_str(), 1);
  if (old_h) setenv("HOME", sh.c_str(), 1);
}

}  // namespace
}  // namespace vtrace::guest
