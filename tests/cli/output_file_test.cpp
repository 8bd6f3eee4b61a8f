// -o in a shared directory: another user's symlink or file is refused, ours is appended to.
#include "cli/output_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using vtrace::cli::open_output_file;

namespace {

constexpr uid_t kNobody = 65534;

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/vtrace-output-test.XXXXXX";
    path = mkdtemp(tmpl);
    chmod(path.c_str(), 01777);  // like /tmp
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string read_text(const std::string& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST(OutputFile, CreatesAndAppends) {
  TempDir t;
  const std::string f = t.path + "/out";
  for (const char* text : {"one\n", "two\n"}) {
    std::string err;
    std::FILE* out = open_output_file(f, err);
    ASSERT_NE(out, nullptr) << err;
    std::fputs(text, out);
    std::fclose(out);
  }
  EXPECT_EQ(read_text(f), "one\ntwo\n");
  std::string err;
  std::FILE* dev = open_output_file("/dev/null", err);  // devices are fine
  ASSERT_NE(dev, nullptr) << err;
  std::fclose(dev);
}

TEST(OutputFile, AnotherUsersSymlinkOrFileIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "skipped: needs root to make files owned by nobody";
  TempDir t;
  const std::string victim = t.path + "/victim", link = t.path + "/out", theirs = t.path + "/f";
  std::ofstream(victim) << "root's\n";
  ASSERT_EQ(symlink(victim.c_str(), link.c_str()), 0);
  ASSERT_EQ(lchown(link.c_str(), kNobody, kNobody), 0);
  std::string err;
  EXPECT_EQ(open_output_file(link, err), nullptr);
  EXPECT_NE(err.find("symlink of uid 65534"), std::string::npos) << err;
  EXPECT_EQ(read_text(victim), "root's\n");

  std::ofstream(theirs) << "theirs\n";
  ASSERT_EQ(chown(theirs.c_str(), kNobody, kNobody), 0);
  EXPECT_EQ(open_output_file(theirs, err), nullptr);
  EXPECT_NE(err.find("belongs to uid 65534"), std::string::npos) << err;
  EXPECT_EQ(read_text(theirs), "theirs\n");
}
