// -p: why a process cannot be traced (issue 9: pid 1 and pid 2 said "no such process").
#include "cli/pid_access.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace vtrace::cli {
namespace {

TEST(PidAccess, MessagesSayTheReason) {
  PidFacts gone;
  gone.exists = false;
  EXPECT_EQ(describe_pid_problem(4242, gone), "pid 4242: no such process");

  PidFacts kthread;
  kthread.kernel_thread = true;
  kthread.comm = "kthreadd";
  const std::string k = describe_pid_problem(2, kthread);
  EXPECT_EQ(k.rfind("pid 2 (kthreadd): is a kernel thread and cannot be traced with -p", 0), 0u)
      << k;

  PidFacts other;
  other.permitted = false;
  other.comm = "init";
  const std::string p = describe_pid_problem(1, other);
  EXPECT_EQ(p.rfind("pid 1 (init): permission denied", 0), 0u) << p;

  EXPECT_EQ(describe_pid_problem(100, PidFacts{}), "");
}

TEST(PidAccess, ProbesThisMachine) {
  EXPECT_FALSE(probe_pid(-1).exists);
  EXPECT_FALSE(probe_pid(0x3fffffff).exists);
  const PidFacts self = probe_pid(getpid());
  EXPECT_TRUE(self.exists);
  EXPECT_TRUE(self.permitted);
  EXPECT_FALSE(self.kernel_thread);
  EXPECT_EQ(pid_trace_problem(getpid()), "");
  // pid 2 is kthreadd wherever the pid namespace is the host's.
  std::ifstream comm("/proc/2/comm");
  std::string name;
  if (!(comm >> name) || name != "kthreadd") GTEST_SKIP() << "pid 2 is not kthreadd here";
  const PidFacts k = probe_pid(2);
  EXPECT_TRUE(k.exists);
  EXPECT_TRUE(k.kernel_thread);
  EXPECT_NE(pid_trace_problem(2).find("kernel thread"), std::string::npos);
}

// As another user (nobody), a root process is "permission denied", not "no such process".
TEST(PidAccess, AnotherUsersProcessIsPermissionDenied) {
  const passwd* nobody = getpwnam("nobody");
  if (geteuid() != 0 || nobody == nullptr) GTEST_SKIP() << "needs root and a nobody user";
  const pid_t parent = getpid();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (setgid(nobody->pw_gid) != 0 || setuid(nobody->pw_uid) != 0) _exit(3);
    const std::string msg = pid_trace_problem(parent);
    _exit(msg.find("permission denied") != std::string::npos ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace vtrace::cli
