// The D conformance suite runner (format: tests/d/README.md).
//
// Every NAME.d in VTRACE_D_DIR becomes one GoogleTest, d.NAME, registered at start-up from a
// sorted directory listing. A test runs the real vtrace binary (VTRACE_BINARY) with cwd =
// VTRACE_D_DIR, through fork/exec, capturing stdout and stderr separately, under a timeout, and
// compares the exit status, stdout (NAME.out, exact) and stderr (NAME.err, ordered regexes).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#ifndef VTRACE_BINARY
#error "VTRACE_BINARY must name the vtrace executable"
#endif
#ifndef VTRACE_D_DIR
#error "VTRACE_D_DIR must name the directory of the D conformance scripts"
#endif

namespace {

namespace fs = std::filesystem;

constexpr double kDefaultTimeout = 20.0;                  // seconds
constexpr size_t kMaxOutput = 16 * 1024 * 1024;           // per stream; more is a failure
constexpr const char kValueFlags[] = "bcDILnopPmfsxXiU";  // dtrace(1) flags that take a value

// ---------------------------------------------------------------------------------------------
// Files and strings

std::optional<std::string> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  std::string cur;
  for (char c : s) {
    if (c == '\n') {
      if (!cur.empty() && cur.back() == '\r') cur.pop_back();
      lines.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) lines.push_back(cur);
  return lines;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
}

// Split a command line as a POSIX shell would split words: blanks separate words; '...' is
// literal; "..." allows \" \\ \$ \`; a backslash outside quotes escapes the next character.
// Returns false (with a message) on an unterminated quote.
bool split_words(const std::string& s, std::vector<std::string>& out, std::string& err) {
  std::string cur;
  bool in_word = false;
  for (size_t i = 0; i < s.size(); i++) {
    char c = s[i];
    if (c == ' ' || c == '\t') {
      if (in_word) out.push_back(cur);
      cur.clear();
      in_word = false;
    } else if (c == '\'') {
      size_t e = s.find('\'', i + 1);
      if (e == std::string::npos) {
        err = "unterminated ' in @args";
        return false;
      }
      cur += s.substr(i + 1, e - i - 1);
      i = e;
      in_word = true;
    } else if (c == '"') {
      size_t j = i + 1;
      for (; j < s.size() && s[j] != '"'; j++) {
        if (s[j] == '\\' && j + 1 < s.size() && std::strchr("\"\\$`", s[j + 1])) j++;
        cur += s[j];
      }
      if (j >= s.size()) {
        err = "unterminated \" in @args";
        return false;
      }
      i = j;
      in_word = true;
    } else if (c == '\\' && i + 1 < s.size()) {
      cur += s[++i];
      in_word = true;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (in_word) out.push_back(cur);
  return true;
}

// \n \t \r \\ \0 in @stdin text.
std::string decode_escapes(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    switch (char c = s[++i]) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case '0':
        out += '\0';
        break;
      default:
        out += c;
        break;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Directives: ` * @name: value` or `// @name: value` lines in the comments at the top of a script.

struct Spec {
  std::string name;    // NAME (base name without .d)
  std::string script;  // NAME.d
  std::vector<std::string> args;
  int exit_status = 0;
  double timeout = kDefaultTimeout;
  std::optional<std::string> stdin_text;
  std::vector<std::string> env;  // NAME=value added to vtrace's environment (@env)
  std::string error;             // non-empty: the script's directives are invalid
};

Spec read_spec(const fs::path& dir, const std::string& script) {
  Spec spec;
  spec.script = script;
  spec.name = fs::path(script).stem().string();
  std::optional<std::string> text = read_file(dir / script);
  if (!text) {
    spec.error = "cannot read " + script;
    return spec;
  }

  std::map<std::string, std::string> directives;
  bool in_block = false;
  for (const std::string& raw : split_lines(*text)) {
    std::string line = trim(raw);
    std::string body;
    if (in_block) {
      body = line;
    } else if (line.empty()) {
      continue;
    } else if (line.rfind("//", 0) == 0) {
      body = line.substr(2);
    } else if (line.rfind("/*", 0) == 0) {
      in_block = true;
      body = line.substr(2);
    } else {
      break;  // the first line of code ends the header
    }
    if (in_block) {
      size_t end = body.find("*/");
      if (end != std::string::npos) {
        in_block = false;
        body.erase(end);
      }
      body = trim(body);
      if (!body.empty() && body[0] == '*') body.erase(0, 1);
    }
    body = trim(body);
    if (body.empty() || body[0] != '@') continue;
    size_t colon = body.find(':');
    std::string key = body.substr(1, colon == std::string::npos ? std::string::npos : colon - 1);
    if (colon == std::string::npos || key.empty() ||
        key.find_first_of(" \t") != std::string::npos) {
      continue;  // not a directive (e.g. "@foo" in prose)
    }
    if (key != "args" && key != "exit" && key != "timeout" && key != "stdin" && key != "env") {
      spec.error = "unknown directive @" + key + " (known: @args @exit @timeout @stdin @env)";
      return spec;
    }
    if (directives.count(key)) {
      spec.error = "directive @" + key + " given twice";
      return spec;
    }
    directives[key] = trim(body.substr(colon + 1));
  }

  std::vector<std::string> args;
  if (auto it = directives.find("args"); it != directives.end()) {
    if (!split_words(it->second, args, spec.error)) return spec;
  }
  bool has_script = false, has_n = false;
  bool value_next = false;  // this word is the value of the previous flag (-x quiet)
  for (std::string& a : args) {
    if (a.find("{script}") != std::string::npos) has_script = true;
    if (value_next) {
      value_next = false;
    } else if (a.size() > 1 && a[0] == '-' && a[1] != '-') {
      // dtrace(1) flags combine (-qn); the first one that takes a value ends the word.
      for (size_t i = 1; i < a.size(); i++) {
        if (std::strchr(kValueFlags, a[i]) == nullptr) continue;
        if (a[i] == 'n') has_n = true;
        value_next = i + 1 == a.size();
        break;
      }
    }
    replace_all(a, "{script}", script);
  }
  if (!has_script && !has_n) args.insert(args.begin(), {"-s", script});
  spec.args = std::move(args);

  if (auto it = directives.find("exit"); it != directives.end()) {
    char* end = nullptr;
    long v = std::strtol(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0' || v < 0 || v > 255) {
      spec.error = "@exit must be an integer 0..255, not \"" + it->second + "\"";
      return spec;
    }
    spec.exit_status = static_cast<int>(v);
  }
  if (auto it = directives.find("timeout"); it != directives.end()) {
    char* end = nullptr;
    double v = std::strtod(it->second.c_str(), &end);
    if (it->second.empty() || *end != '\0' || !(v > 0)) {
      spec.error = "@timeout must be a positive number of seconds, not \"" + it->second + "\"";
      return spec;
    }
    spec.timeout = v;
  }
  if (auto it = directives.find("env"); it != directives.end()) {
    std::istringstream words(it->second);
    for (std::string w; words >> w;) {
      if (w.find('=') == std::string::npos || w[0] == '=') {
        spec.error = "@env takes NAME=value words, not \"" + w + "\"";
        return spec;
      }
      spec.env.push_back(w);
    }
  }
  if (auto it = directives.find("stdin"); it != directives.end()) {
    spec.stdin_text = decode_escapes(it->second);
  }
  return spec;
}

// ---------------------------------------------------------------------------------------------
// Running a command

struct Result {
  std::string out, err;
  bool exited = false;  // exited normally (status valid)
  int status = 0;       // exit status, or the signal number when !exited
  bool timed_out = false;
  bool too_much_output = false;
  std::string spawn_error;  // exec failed etc.
};

std::string describe(const Result& r) {
  if (!r.spawn_error.empty()) return r.spawn_error;
  if (r.timed_out) return "timed out (killed)";
  if (r.too_much_output) return "produced more than 16 MiB of output (killed)";
  if (r.exited) return "exited with status " + std::to_string(r.status);
  return "killed by signal " + std::to_string(r.status) + " (" + strsignal(r.status) + ")";
}

void set_nonblock(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// Run argv[0] (a path) with argv, in cwd, feeding stdin_text (or /dev/null), for at most
// timeout seconds. The child leads its own process group, and the whole group is killed on
// timeout, so processes it started (-c) go too.
Result run(const std::vector<std::string>& argv, const std::string& cwd,
           const std::optional<std::string>& stdin_text, double timeout,
           const std::vector<std::string>& env = {}) {
  Result r;
  int out_p[2], err_p[2], in_p[2] = {-1, -1};
  if (pipe2(out_p, O_CLOEXEC) != 0 || pipe2(err_p, O_CLOEXEC) != 0 ||
      (stdin_text && pipe2(in_p, O_CLOEXEC) != 0)) {
    r.spawn_error = std::string("pipe: ") + strerror(errno);
    return r;
  }
  // exec errors travel back through this pipe (closed on a successful exec).
  int status_p[2];
  if (pipe2(status_p, O_CLOEXEC) != 0) {
    r.spawn_error = std::string("pipe: ") + strerror(errno);
    return r;
  }

  std::vector<char*> cargv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<char*> cenv;  // @env first: getenv() finds the first of a name
  for (const std::string& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  for (char** e = environ; *e != nullptr; ++e) cenv.push_back(*e);
  cenv.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) {
    r.spawn_error = std::string("fork: ") + strerror(errno);
    return r;
  }
  if (pid == 0) {
    setpgid(0, 0);
    int in_fd = stdin_text ? in_p[0] : open("/dev/null", O_RDONLY);
    if (in_fd < 0 || dup2(in_fd, 0) < 0 || dup2(out_p[1], 1) < 0 || dup2(err_p[1], 2) < 0 ||
        chdir(cwd.c_str()) != 0) {
      int e = errno;
      (void)!write(status_p[1], &e, sizeof e);
      _exit(127);
    }
    signal(SIGPIPE, SIG_DFL);
    execve(cargv[0], cargv.data(), cenv.data());
    int e = errno;
    (void)!write(status_p[1], &e, sizeof e);
    _exit(127);
  }
  setpgid(pid, pid);  // as the child does: no race with kill(-pid) below
  close(out_p[1]);
  close(err_p[1]);
  close(status_p[1]);
  if (stdin_text) close(in_p[0]);

  int child_errno = 0;
  if (read(status_p[0], &child_errno, sizeof child_errno) == sizeof child_errno) {
    r.spawn_error = "cannot run " + argv[0] + ": " + strerror(child_errno);
  }
  close(status_p[0]);

  set_nonblock(out_p[0]);
  set_nonblock(err_p[0]);
  int in_fd = -1;
  size_t in_off = 0;
  if (stdin_text) {
    in_fd = in_p[1];
    set_nonblock(in_fd);
    if (stdin_text->empty()) {
      close(in_fd);
      in_fd = -1;
    }
  }

  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                      std::chrono::duration<double>(timeout));
  int out_fd = out_p[0], err_fd = err_p[0];
  bool killed = false;
  while (out_fd >= 0 || err_fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      r.timed_out = true;
      break;
    }
    pollfd fds[3];
    int n = 0;
    int out_i = -1, err_i = -1, in_i = -1;
    if (out_fd >= 0) {
      out_i = n;
      fds[n++] = {out_fd, POLLIN, 0};
    }
    if (err_fd >= 0) {
      err_i = n;
      fds[n++] = {err_fd, POLLIN, 0};
    }
    if (in_fd >= 0) {
      in_i = n;
      fds[n++] = {in_fd, POLLOUT, 0};
    }
    int rc = poll(fds, n, static_cast<int>(std::min<long long>(left, 1000)));
    if (rc < 0) {
      if (errno == EINTR) continue;
      r.spawn_error = std::string("poll: ") + strerror(errno);
      break;
    }
    auto drain = [&](int idx, int& fd, std::string& into) {
      if (idx < 0 || !(fds[idx].revents & (POLLIN | POLLHUP | POLLERR))) return;
      char buf[65536];
      for (;;) {
        ssize_t got = read(fd, buf, sizeof buf);
        if (got > 0) {
          into.append(buf, static_cast<size_t>(got));
          if (into.size() > kMaxOutput) {
            r.too_much_output = true;
            return;
          }
          continue;
        }
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
        close(fd);  // EOF or error
        fd = -1;
        return;
      }
    };
    drain(out_i, out_fd, r.out);
    drain(err_i, err_fd, r.err);
    if (r.too_much_output) break;
    if (in_i >= 0 && (fds[in_i].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t put = write(in_fd, stdin_text->data() + in_off, stdin_text->size() - in_off);
      if (put > 0) in_off += static_cast<size_t>(put);
      if ((put < 0 && errno != EAGAIN && errno != EINTR) || in_off == stdin_text->size()) {
        close(in_fd);  // done, or the child does not read its input
        in_fd = -1;
      }
    }
  }
  if (r.timed_out || r.too_much_output || !r.spawn_error.empty()) {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    killed = true;
  }
  for (int fd : {out_fd, err_fd, in_fd}) {
    if (fd >= 0) close(fd);
  }

  // Both pipes are closed: the child has exited or is about to. Wait for it (still bounded)
  // without reaping, kill what is left of its process group while the zombie still holds the
  // group id (processes it started must not linger), then reap it.
  for (;;) {
    siginfo_t info{};
    int w =
        waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT | (killed ? 0 : WNOHANG));
    if (w == 0 && info.si_pid == pid) break;
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      r.timed_out = true;
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      killed = true;
    } else {
      usleep(2000);
    }
  }
  kill(-pid, SIGKILL);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(wstatus)) {
    r.exited = true;
    r.status = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    r.status = WTERMSIG(wstatus);
  }
  return r;
}

// At most kShown bytes of a text for a failure message.
constexpr size_t kShown = 16 * 1024;
std::string clip(const std::string& s) {
  if (s.size() <= kShown) return s;
  return s.substr(0, kShown) + "\n[... " + std::to_string(s.size() - kShown) + " more bytes]\n";
}

// A unified diff of two texts, by diff -u on temporary files.
std::string unified_diff(const std::string& expected, const std::string& actual,
                         const std::string& expected_label) {
  char dir_tmpl[] = "/tmp/vtrace-d-diff.XXXXXX";
  const char* dir = mkdtemp(dir_tmpl);
  if (dir == nullptr) return "(mkdtemp failed; cannot show a diff)";
  std::string a = std::string(dir) + "/expected", b = std::string(dir) + "/actual";
  std::ofstream(a, std::ios::binary) << expected;
  std::ofstream(b, std::ios::binary) << actual;
  Result d =
      run({"/usr/bin/diff", "-u", "--label", expected_label, "--label", "stdout (actual)", a, b},
          "/", std::nullopt, 10.0);
  unlink(a.c_str());
  unlink(b.c_str());
  rmdir(dir);
  if (!d.spawn_error.empty()) return "(" + d.spawn_error + ")";
  return clip(d.out);
}

std::string indent(const std::string& s) {
  if (s.empty()) return "    (empty)\n";
  std::string out;
  for (const std::string& l : split_lines(clip(s))) out += "    " + l + "\n";
  return out;
}

// ---------------------------------------------------------------------------------------------
// One conformance test

class ScriptTest : public testing::Test {
 public:
  explicit ScriptTest(std::string script) : script_(std::move(script)) {}

  void TestBody() override {
    const fs::path dir = VTRACE_D_DIR;
    Spec spec = read_spec(dir, script_);
    ASSERT_TRUE(spec.error.empty()) << script_ << ": " << spec.error;

    std::vector<std::string> argv = {VTRACE_BINARY};
    argv.insert(argv.end(), spec.args.begin(), spec.args.end());
    std::string shown = "vtrace";
    for (size_t i = 1; i < argv.size(); i++) shown += " '" + argv[i] + "'";
    RecordProperty("command", shown);

    Result r = run(argv, dir.string(), spec.stdin_text, spec.timeout, spec.env);
    std::string context =
        "command (cwd " + dir.string() + "): " + shown + "\n" + "result: " + describe(r) + "\n";
    ASSERT_TRUE(r.spawn_error.empty()) << context;

    std::string streams = "stdout:\n" + indent(r.out) + "stderr:\n" + indent(r.err);
    ASSERT_FALSE(r.timed_out) << context << "timeout: " << spec.timeout << " s (@timeout)\n"
                              << streams;
    ASSERT_FALSE(r.too_much_output) << context << streams;
    ASSERT_TRUE(r.exited) << context << streams;
    EXPECT_EQ(r.status, spec.exit_status)
        << context << "expected exit status " << spec.exit_status << " (@exit)\n"
        << streams;

    const std::string out_file = spec.name + ".out";
    if (std::optional<std::string> expected = read_file(dir / out_file)) {
      EXPECT_TRUE(r.out == *expected) << context << "stdout differs from " << out_file << ":\n"
                                      << unified_diff(*expected, r.out, out_file) << "stderr:\n"
                                      << indent(r.err);
    }

    const std::string err_file = spec.name + ".err";
    if (std::optional<std::string> patterns = read_file(dir / err_file)) {
      std::vector<std::string> lines = split_lines(r.err);
      size_t next = 0;  // patterns match stderr lines in order
      for (const std::string& pat : split_lines(*patterns)) {
        if (trim(pat).empty()) continue;
        std::regex re;
        try {
          re = std::regex(pat, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
          ADD_FAILURE() << err_file << ": invalid regex /" << pat << "/: " << e.what();
          break;
        }
        size_t i = next;
        while (i < lines.size() && !std::regex_search(lines[i], re)) i++;
        if (i == lines.size()) {
          ADD_FAILURE() << context << err_file << ": no line of stderr"
                        << (next ? " after line " + std::to_string(next) : std::string())
                        << " matches /" << pat << "/\n"
                        << streams;
          break;
        }
        next = i + 1;
      }
    }
  }

 private:
  std::string script_;
};

// gtest names: [A-Za-z0-9_] only ('-' would read as a negative --gtest_filter pattern).
std::string test_name(const std::string& stem) {
  std::string n = stem;
  for (char& c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  return n;
}

// Registers d.NAME for every NAME.d, at static-initialization time like TEST() does, so the
// suite works with gtest_main and with gtest_discover_tests.
bool register_scripts() {
  std::vector<std::string> scripts;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(VTRACE_D_DIR, ec)) {
    if (e.path().extension() == ".d" && e.is_regular_file()) {
      scripts.push_back(e.path().filename().string());
    }
  }
  if (ec) {
    std::string msg = std::string("cannot list ") + VTRACE_D_DIR + ": " + ec.message();
    testing::RegisterTest("d", "directory", nullptr, nullptr, __FILE__, __LINE__,
                          [msg]() -> testing::Test* {
                            struct Fail : testing::Test {
                              std::string m;
                              explicit Fail(std::string s) : m(std::move(s)) {}
                              void TestBody() override { FAIL() << m; }
                            };
                            return new Fail(msg);
                          });
    return false;
  }
  std::sort(scripts.begin(), scripts.end());
  for (const std::string& s : scripts) {
    std::string file = std::string(VTRACE_D_DIR) + "/" + s;
    testing::RegisterTest("d", test_name(fs::path(s).stem().string()).c_str(), nullptr, nullptr,
                          file.c_str(), 1, [s]() -> testing::Test* { return new ScriptTest(s); });
  }
  return true;
}

[[maybe_unused]] const bool registered = register_scripts();

}  // namespace
