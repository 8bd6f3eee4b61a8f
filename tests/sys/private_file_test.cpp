// Private files: what another local user plants where vtrace will create its files (a file, a
// symlink, a directory of theirs) is refused, never reused or followed.
#include "sys/private_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using vtrace::sys::create_private_file;
using vtrace::sys::DirUse;
using vtrace::sys::ensure_private_dir;
using vtrace::sys::open_private_file;

namespace {

constexpr uid_t kNobody = 65534;

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/vtrace-private-test.XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() {
    umount2(path.c_str(), MNT_DETACH);
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

unsigned mode_of(const std::string& p) {
  struct stat st {};
  EXPECT_EQ(lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

void write_text(const std::string& p, const std::string& text) {
  std::ofstream(p) << text;
}

std::string read_text(const std::string& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST(PrivateDir, CreatedOwnerOnlyWithParents) {
  TempDir t;
  const std::string d = t.path + "/a/b/run";
  EXPECT_EQ(ensure_private_dir(d), "");
  EXPECT_EQ(mode_of(d), 0700u);
  EXPECT_EQ(ensure_private_dir(d), "");  // an existing private directory is fine
}

TEST(PrivateDir, ReadableDirectoryOfOursIsMadePrivate) {
  TempDir t;
  const std::string d = t.path + "/run";
  ASSERT_EQ(mkdir(d.c_str(), 0755), 0);
  chmod(d.c_str(), 0755);
  EXPECT_EQ(ensure_private_dir(d), "");
  EXPECT_EQ(mode_of(d), 0700u);
  // A cache others may read keeps its mode.
  const std::string c = t.path + "/cache";
  ASSERT_EQ(mkdir(c.c_str(), 0755), 0);
  chmod(c.c_str(), 0755);
  EXPECT_EQ(ensure_private_dir(c, DirUse::kShared), "");
  EXPECT_EQ(mode_of(c), 0755u);
}

TEST(PrivateDir, WorldWritableDirectoryIsRefused) {
  TempDir t;
  const std::string d = t.path + "/run";
  ASSERT_EQ(mkdir(d.c_str(), 0777), 0);
  chmod(d.c_str(), 0777);
  std::string err = ensure_private_dir(d);
  EXPECT_NE(err.find("writable by other users (mode 0777)"), std::string::npos) << err;
  EXPECT_NE(ensure_private_dir(d, DirUse::kShared), "");
}

TEST(PrivateDir, DirectoryOfAnotherUserIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "skipped: needs root to chown a directory to nobody";
  TempDir t;
  const std::string d = t.path + "/run";
  ASSERT_EQ(mkdir(d.c_str(), 0700), 0);
  ASSERT_EQ(chown(d.c_str(), kNobody, kNobody), 0);
  std::string err = ensure_private_dir(d);
  EXPECT_NE(err.find("owned by uid 65534"), std::string::npos) << err;
  EXPECT_NE(err.find("refusing"), std::string::npos) << err;
}

TEST(PrivateDir, SymlinkIsRefused) {
  TempDir t;
  const std::string real = t.path + "/real", link = t.path + "/link";
  ASSERT_EQ(mkdir(real.c_str(), 0700), 0);
  ASSERT_EQ(symlink(real.c_str(), link.c_str()), 0);
  std::string err = ensure_private_dir(link);
  EXPECT_NE(err.find("not a directory"), std::string::npos) << err;
}

TEST(PrivateFile, CreatedExclusivelyOwnerOnly) {
  TempDir t;
  const std::string f = t.path + "/chan";
  std::string err;
  auto fd = create_private_file(f, 8192, true, err);
  ASSERT_TRUE(fd.valid()) << err;
  EXPECT_EQ(mode_of(f), 0600u);
  EXPECT_EQ(fs::file_size(f), 8192u);
  auto again = open_private_file(f, O_RDWR, 8192, err);
  EXPECT_TRUE(again.valid()) << err;
}

TEST(PrivateFile, ExistingFileIsNeverReused) {
  TempDir t;
  const std::string f = t.path + "/chan";
  write_text(f, "planted");
  std::string err;
  EXPECT_FALSE(create_private_file(f, 4096, false, err).valid());
  EXPECT_NE(err.find("already exists"), std::string::npos) << err;
  EXPECT_EQ(read_text(f), "planted");  // not truncated
}

TEST(PrivateFile, SymlinkIsNotFollowed) {
  TempDir t;
  const std::string victim = t.path + "/victim", f = t.path + "/chan";
  write_text(victim, "root's file");
  ASSERT_EQ(symlink(victim.c_str(), f.c_str()), 0);
  std::string err;
  EXPECT_FALSE(create_private_file(f, 4096, false, err).valid());
  EXPECT_FALSE(open_private_file(f, O_RDWR, 0, err).valid());
  EXPECT_NE(err.find("symlink"), std::string::npos) << err;
  EXPECT_EQ(read_text(victim), "root's file");
}

TEST(PrivateFile, OpenChecksOwnerModeAndSize) {
  TempDir t;
  const std::string f = t.path + "/chan";
  std::string err;
  ASSERT_TRUE(create_private_file(f, 4096, false, err).valid()) << err;
  EXPECT_FALSE(open_private_file(f, O_RDWR, 8192, err).valid());
  EXPECT_NE(err.find("has 4096 bytes, not 8192"), std::string::npos) << err;
  chmod(f.c_str(), 0644);
  EXPECT_FALSE(open_private_file(f, O_RDWR, 4096, err).valid());
  EXPECT_NE(err.find("open to other users"), std::string::npos) << err;
  if (geteuid() == 0) {
    chmod(f.c_str(), 0600);
    ASSERT_EQ(chown(f.c_str(), kNobody, kNobody), 0);
    EXPECT_FALSE(open_private_file(f, O_RDWR, 4096, err).valid());
    EXPECT_NE(err.find("owned by uid 65534"), std::string::npos) << err;
  }
}

// A memory file system too small for the file: creating it with `reserve` fails now, with the
// reason, instead of a later SIGBUS in whoever touches the missing pages.
TEST(PrivateFile, ReserveFailsWhenTheFileSystemIsFull) {
  TempDir t;
  if (mount("tmpfs", t.path.c_str(), "tmpfs", 0, "size=1m") != 0)
    GTEST_SKIP() << "skipped: cannot mount a small tmpfs here (" << std::strerror(errno) << ")";
  std::string err;
  EXPECT_FALSE(create_private_file(t.path + "/big", 8u << 20, true, err).valid());
  EXPECT_NE(err.find("No space left"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(t.path + "/big"));
  EXPECT_TRUE(create_private_file(t.path + "/small", 64u << 10, true, err).valid()) << err;
}
