// End to end against a real PostgreSQL server (Debian's postgresql package, whose binary carries
// 72 USDT probes): a throwaway cluster in a temp dir (unix socket only), vtrace -p on the
// postmaster, N queries with psql, each query text seen once by postgresql*:::query-start (with
// pauses, and back to back).
// Skipped with the reason when not root or when the server binaries are missing.
#include <glob.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace {

std::string pg_bindir() {
  glob_t g;
  std::string dir;
  if (glob("/usr/lib/postgresql/*/bin/postgres", 0, nullptr, &g) == 0 && g.gl_pathc > 0) {
    std::string p = g.gl_pathv[g.gl_pathc - 1];  // the newest version
    dir = p.substr(0, p.rfind('/'));
  }
  globfree(&g);
  return dir;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int sh(const std::string& cmd) {
  int st = std::system(cmd.c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string as_postgres(const std::string& cmd) {
  std::string q = "'";
  for (char c : cmd) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return "su postgres -s /bin/sh -c " + q + "'";
}

class Postgres : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "skipped: needs root (uprobes, and su to postgres)";
    bin_ = pg_bindir();
    if (bin_.empty())
      GTEST_SKIP() << "skipped: PostgreSQL server binaries missing (apt-get install postgresql)";
    if (getpwnam("postgres") == nullptr) GTEST_SKIP() << "skipped: no postgres user";
    char tmpl[] = "/tmp/vtrace-pg-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    port_ = std::to_string(40000 + getpid() % 20000);
    ASSERT_EQ(sh("chown postgres " + dir_), 0);
    ASSERT_EQ(sh(as_postgres(bin_ + "/initdb -D " + dir_ + "/data -A trust >" + dir_ +
                             "/initdb.log 2>&1")),
              0)
        << slurp(dir_ + "/initdb.log");
    ASSERT_EQ(
        sh(as_postgres(bin_ + "/pg_ctl -D " + dir_ + "/data -o \"-k " + dir_ + " -p " + port_ +
                       " -c listen_addresses=''\" -l " + dir_ + "/server.log -w start >/dev/null")),
        0)
        << slurp(dir_ + "/server.log");
    started_ = true;
  }

  void TearDown() override {
    if (started_) stop();
    if (!dir_.empty()) sh("rm -rf " + dir_);
  }

  void stop() {
    sh(as_postgres(bin_ + "/pg_ctl -D " + dir_ + "/data -m fast -w stop >/dev/null 2>&1"));
    started_ = false;
  }

  pid_t postmaster() {
    std::ifstream in(dir_ + "/data/postmaster.pid");
    long pid = 0;
    in >> pid;
    return static_cast<pid_t>(pid);
  }

  void expect_every_query(int n, const std::string& tail);

  std::string bin_, dir_, port_;
  bool started_ = false;
};

// vtrace -p on the postmaster counts copyinstr(arg0) of query-start; every one of n queries
// ("SELECT 'vtrace-qI'<tail>;") must come back exactly once.
void Postgres::expect_every_query(int n, const std::string& tail) {
  pid_t pm = postmaster();
  ASSERT_GT(pm, 0);
  const std::string out = dir_ + "/vtrace.out", err = dir_ + "/vtrace.err";
  pid_t vt = fork();
  ASSERT_GE(vt, 0);
  if (vt == 0) {
    std::string cmd = std::string(VTRACE_BINARY) +
                      " -q -n 'postgresql*:::query-start { @[copyinstr(arg0)] = count(); }' -p " +
                      std::to_string(pm) + " >" + out + " 2>" + err;
    execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
    _exit(127);
  }
  sleep(1);  // attached
  std::string queries;
  for (int i = 0; i < n; ++i)
    queries += "SELECT 'vtrace-q" + std::to_string(i) + "'" + tail + ";\n";
  std::ofstream(dir_ + "/q.sql") << queries;
  sh("chmod 644 " + dir_ + "/q.sql");
  EXPECT_EQ(sh(as_postgres("psql -X -q -t -h " + dir_ + " -p " + port_ + " -d postgres -f " + dir_ +
                           "/q.sql >/dev/null")),
            0);
  stop();  // the postmaster exits: vtrace -p ends and prints
  int st = -1;
  for (int i = 0; i < 300 && waitpid(vt, &st, WNOHANG) == 0; ++i) usleep(100000);
  if (!WIFEXITED(st)) {
    kill(vt, SIGKILL);
    waitpid(vt, &st, 0);
    FAIL() << "vtrace did not exit after the server stopped\n" << slurp(err);
  }
  EXPECT_EQ(WEXITSTATUS(st), 0) << slurp(err);
  std::string text = slurp(out);
  for (int i = 0; i < n; ++i) {
    std::string q = "SELECT 'vtrace-q" + std::to_string(i) + "'" + tail + ";";
    size_t at = text.find(q + " ");
    ASSERT_NE(at, std::string::npos) << q << " missing in:\n" << text << slurp(err);
    std::istringstream rest(text.substr(at + q.size()));
    long count = 0;
    rest >> count;
    EXPECT_EQ(count, 1) << q;
  }
}

TEST_F(Postgres, QueryStartSeesEveryQueryText) {
  expect_every_query(10, ", pg_sleep(0.03)");
}

// The backend reuses its query buffer at once: the text must be read at the probe (BPF), not
// from the process after the sample (which saw the next query's text, or garbage).
TEST_F(Postgres, QueryStartSeesEveryQueryTextWithoutPauses) {
  expect_every_query(300, "");
}

}  // namespace
