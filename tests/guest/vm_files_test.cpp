// The files behind guests, attacked by another local user (issue: predictable names in /dev/shm
// let anyone plant a VM's channel and RAM, then run commands in the guest and read its memory).
// Each planted directory must be refused with a clear error, never used. No guest boots here.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "guest_test_util.h"

namespace vtrace::guest_test {
namespace {

namespace fs = std::filesystem;
constexpr uid_t kNobody = 65534;

// A directory as another user would plant it: theirs, open to everyone.
std::string plant_dir(const TempDir& t, const std::string& name) {
  const std::string d = t.path + "/" + name;
  fs::create_directory(d);
  chmod(d.c_str(), 0777);
  if (chown(d.c_str(), kNobody, kNobody) != 0) return {};
  return d;
}

class PlantedFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "skipped: needs root to create files owned by nobody";
  }
  TempDir t_{"planted"};
};

TEST_F(PlantedFiles, RuntimeDirectoryOfAnotherUserIsRefused) {
  const std::string run = plant_dir(t_, "run");
  ASSERT_FALSE(run.empty());
  const std::string env = "VTRACE_RUNTIME_DIR=" + run + " VTRACE_CACHE_DIR=" + VTRACE_TEST_CACHE;
  for (const char* cmd : {"vm list", "vm stop --all", "vm exec web1 -- true"}) {
    Result r = run_vtrace(env, cmd);
    EXPECT_EQ(r.status, 1) << cmd << ": " << r.output;
    EXPECT_NE(r.output.find(run + " is owned by uid 65534"), std::string::npos)
        << cmd << ": " << r.output;
    EXPECT_NE(r.output.find("refusing"), std::string::npos) << cmd << ": " << r.output;
  }
  EXPECT_TRUE(fs::is_empty(run)) << "vtrace wrote into a directory another user owns";
  // A trace that does not need guests still runs, and says why it leaves guests out.
  Result plain = run_vtrace(env, "-n 'BEGIN { exit(0); }'");
  EXPECT_EQ(plain.status, 0) << plain.output;
  EXPECT_NE(plain.output.find("not tracing guests"), std::string::npos) << plain.output;
  // One that starts a guest does not.
  Result vm = run_vtrace(env, "--vm web1 -n 'BEGIN { exit(0); }'");
  EXPECT_EQ(vm.status, 1) << vm.output;
  EXPECT_NE(vm.output.find("refusing"), std::string::npos) << vm.output;
}

TEST_F(PlantedFiles, WorldWritableOrSymlinkedRuntimeDirectoryIsRefused) {
  const std::string open_dir = t_.path + "/open";
  fs::create_directory(open_dir);
  chmod(open_dir.c_str(), 01777);
  Result r = run_vtrace("VTRACE_RUNTIME_DIR=" + open_dir, "vm list");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("writable by other users (mode 1777)"), std::string::npos) << r.output;

  const std::string link = t_.path + "/link";
  fs::create_directory_symlink(open_dir, link);
  r = run_vtrace("VTRACE_RUNTIME_DIR=" + link, "vm list");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("not a directory (a symlink or a file)"), std::string::npos) << r.output;
}

TEST_F(PlantedFiles, SharedMemoryDirectoryOfAnotherUserIsRefused) {
  if (std::string why = guest_vm_missing(); !why.empty()) GTEST_SKIP() << "skipped: " << why;
  TempDir run("planted-run");
  const std::string shm = plant_dir(t_, "shm");
  ASSERT_FALSE(shm.empty());
  const std::string env = "VTRACE_RUNTIME_DIR=" + run.path + " VTRACE_SHM_DIR=" + shm +
                          " VTRACE_CACHE_DIR=" + VTRACE_TEST_CACHE;
  Result r = run_vtrace(env, "vm start gp" + std::to_string(getpid()));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(shm + " is owned by uid 65534"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::is_empty(shm)) << "vtrace created a file where another user can reach it";
  run_vtrace(env, "vm stop --all");
}

TEST_F(PlantedFiles, ImageCacheOfAnotherUserIsRefused) {
  const std::string cache = plant_dir(t_, "cache");
  ASSERT_FALSE(cache.empty());
  Result r = run_vtrace("VTRACE_CACHE_DIR=" + cache, "image build");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(cache + " is owned by uid 65534"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::is_empty(cache));
}

}  // namespace
}  // namespace vtrace::guest_test
