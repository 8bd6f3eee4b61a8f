#include "cli/preprocess.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace vtrace::cli {

bool preprocess(const std::string& text, const std::vector<std::string>& args, bool traditional,
                std::string& out, std::string& error) {
  // The script from a memory file (no temporary file another user could swap), the output
  // through a pipe read to its end.
  const int in = memfd_create("vtrace-cpp-input", MFD_CLOEXEC);
  int pipefd[2] = {-1, -1};
  if (in < 0 || pipe2(pipefd, O_CLOEXEC) != 0) {
    error = std::string("cannot run cpp: ") + std::strerror(errno);
    if (in >= 0) close(in);
    return false;
  }
  bool written = true;
  for (size_t off = 0; off < text.size() && written;) {
    const ssize_t n = write(in, text.data() + off, text.size() - off);
    written = n > 0;
    off += n > 0 ? static_cast<size_t>(n) : 0;
  }
  lseek(in, 0, SEEK_SET);
  // dtrace's own definitions, then the user's (a later -U undoes them).
  std::vector<std::string> argv_s = {"cpp"};
  if (traditional) argv_s.push_back("-traditional-cpp");
  argv_s.insert(argv_s.end(), {"-D__SUNW_D=1", "-D__SUNW_D_64", "-D__vtrace__=1"});
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  argv_s.push_back("-");
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in, 0);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  pid_t pid = -1;
  const int rc = written ? posix_spawnp(&pid, "cpp", &fa, nullptr, argv.data(), environ) : EIO;
  posix_spawn_file_actions_destroy(&fa);
  close(in);
  close(pipefd[1]);
  if (rc != 0) {
    close(pipefd[0]);
    error = std::string("cannot run cpp (the C preprocessor, for -C): ") + std::strerror(rc);
    return false;
  }
  out.clear();
  char buf[8192];
  for (ssize_t n; (n = read(pipefd[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(pipefd[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    error = "the C preprocessor failed";
    return false;
  }
  return true;
}

}  // namespace vtrace::cli
