// Syscall programs in the running kernel: the raw sys_enter/sys_exit dispatchers run the program
// routed for a syscall's number, which rebuilds the syscalls:sys_enter_NAME / sys_exit_NAME
// record; a syscall nothing is routed for writes nothing.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <set>
#include <string>

#include "bpf/gather_program.h"
#include "bpf/syscall_numbers.h"
#include "bpf/syscall_program.h"
#include "bpf_kernel.h"

namespace vtrace::bpf {
namespace {

// The record sizes of the tracefs formats: __syscall_nr and the 8-byte args (or ret) after it.
constexpr uint32_t kGetppidEnter = 12, kOpenatEnter = 48, kWriteEnter = 40, kExit = 24;

GatherPlan plan_of(uint32_t data_size) {
  GatherPlan p;
  p.data_size = data_size;
  return p;
}

int64_t at(const GatherView& v, uint32_t off, uint32_t size = 8) {
  int64_t x = 0;
  EXPECT_LE(off + size, v.data_len);
  std::memcpy(&x, v.data + off, size);
  return x;
}

// Gather programs routed by syscall number through both dispatchers, into one ring. Sources are
// indexes into plans (the header's probe), routed with route().
struct Syscalls {
  std::vector<GatherPlan> plans;
  std::unique_ptr<GatherRing> ring;
  std::unique_ptr<SyscallDispatch> dispatch[2];
  std::vector<sys::UniqueFd> progs;
  KernelLayout layout;
  std::string err;

  bool create() {
    auto l = read_kernel_layout(err);
    if (!l) return false;
    layout = *l;
    ring = GatherRing::create(1 << 20, err);
    if (!ring) return false;
    for (SyscallSide side : {SyscallSide::Enter, SyscallSide::Exit})
      if (!(dispatch[static_cast<int>(side)] = SyscallDispatch::create(side, layout, err)))
        return false;
    return true;
  }
  // Syscall `name` on `side` gathers with `plan` (its probe becomes the source index).
  bool route(SyscallSide side, const char* name, GatherPlan plan) {
    auto nr = syscall_number(name);
    if (!nr) {
      err = std::string("no number for ") + name;
      return false;
    }
    SyscallDispatch& d = *dispatch[static_cast<int>(side)];
    plan.probe = static_cast<uint32_t>(plans.size());
    GatherPlan shared = plan;
    shared.probe = 0;
    sys::UniqueFd prog =
        load_gather_program(shared, layout, ring->ring_fd(), ring->drops_fd(), name, err,
                            GatherSource::of_syscall(side, d.sources_fd()));
    if (!prog.valid() || !d.route(*nr, prog.get(), plan.probe, err)) return false;
    progs.push_back(std::move(prog));
    plans.push_back(plan);
    return true;
  }
  bool attach() {
    for (auto& d : dispatch)
      if (d->routed() && !d->attach(err)) return false;
    return true;
  }
  void detach() {
    for (auto& d : dispatch) d->detach();
  }
  // This process's records, by source; a record that does not parse fails the test.
  std::multimap<uint32_t, GatherView> records(std::vector<std::vector<uint8_t>>& keep) {
    std::multimap<uint32_t, GatherView> out;
    std::string e;
    keep.reserve(1 << 16);
    ring->consume(
        [&](const uint8_t* p, size_t n) {
          GatherHeader h;
          ASSERT_GE(n, sizeof h);
          std::memcpy(&h, p, sizeof h);
          ASSERT_LT(h.probe, plans.size());
          if (h.pid != static_cast<uint32_t>(getpid())) return;
          keep.emplace_back(p, p + n);
          GatherView v;
          EXPECT_TRUE(parse_gather_record(keep.back().data(), n, plans[h.probe], v));
          out.emplace(h.probe, v);
        },
        e);
    EXPECT_EQ(e, "");
    return out;
  }
};

TEST(SyscallNumbers, TracepointNamesResolve) {
  EXPECT_EQ(syscall_number("read"), SYS_read);
  EXPECT_EQ(syscall_number("openat"), SYS_openat);
  EXPECT_EQ(syscall_number("pread64"), SYS_pread64);
  EXPECT_EQ(syscall_number("newfstatat"), SYS_newfstatat);
  // The tracepoint spells these by their SYSCALL_DEFINE name.
  EXPECT_EQ(syscall_number("newfstat"), SYS_fstat);
  EXPECT_EQ(syscall_number("newuname"), SYS_uname);
  EXPECT_EQ(syscall_number("umount"), SYS_umount2);
  EXPECT_EQ(syscall_number("no_such_syscall"), std::nullopt);
}

// The numbers that do not come from the build's <asm/unistd_64.h> (renamed tracepoints, syscalls
// newer than linux-libc-dev 6.1) are the running kernel's: calling the number (with arguments
// every one of these refuses, in a child) fires that name's own tracepoint with that number.
TEST(SyscallNumbers, NumbersNotFromTheHeaderAreTheKernels) {
  SKIP_WITHOUT_BPF();
  const char* names[] = {"newstat",
                         "newfstat",
                         "newlstat",
                         "newuname",
                         "sendfile64",
                         "umount",
                         "cachestat",
                         "fchmodat2",
                         "futex_wake",
                         "futex_wait",
                         "futex_requeue",
                         "statmount",
                         "listmount",
                         "lsm_get_self_attr",
                         "lsm_set_self_attr",
                         "lsm_list_modules",
                         "mseal",
                         "setxattrat",
                         "getxattrat",
                         "listxattrat",
                         "removexattrat",
                         "open_tree_attr",
                         "file_getattr",
                         "file_setattr",
                         "uretprobe",
                         "uprobe"};
  int checked = 0;
  for (const char* name : names) {
    const std::string event = std::string("sys_enter_") + name;
    if (test::tracepoint_id("syscalls", event) == 0) continue;  // older kernel
    auto nr = syscall_number(name);
    ASSERT_TRUE(nr) << name;
    test::Gatherer g;
    GatherPlan plan = plan_of(kGetppidEnter);
    ASSERT_TRUE(g.start(plan, "syscalls", event)) << g.err;
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // umount(-1 as a path) and newuname(-1 as a buffer) fault, the rest refuse fd -1, and
      // uprobe/uretprobe outside their trampoline kill the child after the tracepoint fired.
      syscall(*nr, -1L, 0L, 0L, 0L, 0L, 0L);
      _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    g.stop();
    std::vector<std::vector<uint8_t>> keep;
    int fired = 0;
    for (const GatherView& v : g.records(plan, keep)) {
      if (v.header.pid != static_cast<uint32_t>(child)) continue;
      ++fired;
      EXPECT_EQ(at(v, 8, 4), static_cast<int64_t>(*nr)) << name;
    }
    EXPECT_EQ(fired, 1) << name << " is not syscall " << *nr << " on this kernel";
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "no syscall tracepoints to check against";
}

TEST(SyscallProgram, ProgramsLoad) {
  SKIP_WITHOUT_BPF();
  Syscalls s;
  ASSERT_TRUE(s.create()) << s.err;
  GatherPlan strings = plan_of(kOpenatEnter);
  strings.strings.push_back({{{ExprOp::Field, 0, 24, 8, false}}, {}});
  strings.kernel_frames = 4;
  strings.user_frames = 4;
  ASSERT_TRUE(s.route(SyscallSide::Enter, "openat", strings)) << s.err;
  ASSERT_TRUE(s.route(SyscallSide::Enter, "getppid", plan_of(kGetppidEnter))) << s.err;
  ASSERT_TRUE(s.route(SyscallSide::Exit, "openat", plan_of(kExit))) << s.err;
  ASSERT_TRUE(s.attach()) << s.err;
  // A plan the record cannot have is refused before loading.
  std::string err;
  EXPECT_TRUE(
      emit_gather_program(plan_of(20), s.layout, s.ring->ring_fd(), s.ring->drops_fd(), err,
                          GatherSource::of_syscall(SyscallSide::Enter, s.dispatch[0]->sources_fd()))
          .empty());
  EXPECT_NE(err.find("syscall record"), std::string::npos) << err;
}

TEST(SyscallProgram, ArgsAndNumbersOfEnterAndExit) {
  SKIP_WITHOUT_BPF();
  Syscalls s;
  ASSERT_TRUE(s.create()) << s.err;
  GatherPlan openat = plan_of(kOpenatEnter);
  openat.strings.push_back({{{ExprOp::Field, 0, 24, 8, false}}, {}});
  ASSERT_TRUE(s.route(SyscallSide::Enter, "getppid", plan_of(kGetppidEnter))) << s.err;  // 0
  ASSERT_TRUE(s.route(SyscallSide::Enter, "openat", openat)) << s.err;                   // 1
  ASSERT_TRUE(s.route(SyscallSide::Enter, "write", plan_of(kWriteEnter))) << s.err;      // 2
  ASSERT_TRUE(s.route(SyscallSide::Exit, "getppid", plan_of(kExit))) << s.err;           // 3
  ASSERT_TRUE(s.route(SyscallSide::Exit, "openat", plan_of(kExit))) << s.err;            // 4
  ASSERT_TRUE(s.attach()) << s.err;
  const std::string path = "/tmp/vtrace-syscall-test-" + std::to_string(getpid());
  const long ppid = syscall(SYS_getppid);
  const int flags = O_RDONLY | O_CREAT | O_CLOEXEC;
  const long fd = syscall(SYS_openat, AT_FDCWD, path.c_str(), flags, 0640);
  ASSERT_GE(fd, 0) << path << ": " << strerror(errno);
  close(static_cast<int>(fd));
  unlink(path.c_str());
  int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(null, 0);
  char buf[] = "0123456789";
  ASSERT_EQ(write(null, buf, 7), 7);
  close(null);
  s.detach();

  std::vector<std::vector<uint8_t>> keep;
  auto recs = s.records(keep);
  ASSERT_EQ(recs.count(0), 1u);
  const GatherView& gp = recs.find(0)->second;
  EXPECT_EQ(gp.data_len, kGetppidEnter);
  EXPECT_EQ(at(gp, 0), 0);  // no common_* fields (nor a kernel pointer) leak
  EXPECT_EQ(at(gp, 8, 4), SYS_getppid);
  EXPECT_EQ(gp.header.tid, static_cast<uint32_t>(gettid()));

  bool seen_open = false;
  for (auto [it, end] = recs.equal_range(1); it != end; ++it) {
    const GatherView& v = it->second;
    if (v.strings.at(0).str != path) continue;  // the test's own loader may open files too
    EXPECT_FALSE(seen_open) << "the openat came back twice";
    seen_open = true;
    EXPECT_EQ(at(v, 8, 4), SYS_openat);
    EXPECT_EQ(static_cast<int32_t>(at(v, 16)), AT_FDCWD);
    EXPECT_EQ(at(v, 24), reinterpret_cast<int64_t>(path.c_str()));
    EXPECT_EQ(at(v, 32), flags);
    EXPECT_EQ(at(v, 40), 0640);
  }
  EXPECT_TRUE(seen_open);

  bool seen_write = false;
  for (auto [it, end] = recs.equal_range(2); it != end; ++it) {
    const GatherView& v = it->second;
    if (at(v, 24) != reinterpret_cast<int64_t>(buf)) continue;
    seen_write = true;
    EXPECT_EQ(at(v, 8, 4), SYS_write);
    EXPECT_EQ(at(v, 32), 7);
  }
  EXPECT_TRUE(seen_write);

  ASSERT_EQ(recs.count(3), 1u);
  const GatherView& ret = recs.find(3)->second;
  EXPECT_EQ(ret.data_len, kExit);
  EXPECT_EQ(at(ret, 8, 4), SYS_getppid);
  EXPECT_EQ(at(ret, 16), ppid);
  std::set<int64_t> open_rets;
  for (auto [it, end] = recs.equal_range(4); it != end; ++it) open_rets.insert(at(it->second, 16));
  EXPECT_TRUE(open_rets.count(fd)) << "openat returned " << fd;
}

TEST(SyscallProgram, UnroutedSyscallsWriteNothing) {
  SKIP_WITHOUT_BPF();
  Syscalls s;
  ASSERT_TRUE(s.create()) << s.err;
  ASSERT_TRUE(s.route(SyscallSide::Enter, "getppid", plan_of(kGetppidEnter))) << s.err;
  ASSERT_TRUE(s.attach()) << s.err;
  for (int i = 0; i < 100; ++i) {
    syscall(SYS_getpid);
    syscall(SYS_gettid);
  }
  syscall(SYS_getppid);
  s.detach();
  std::vector<std::vector<uint8_t>> keep;
  auto recs = s.records(keep);
  EXPECT_EQ(recs.size(), 1u);  // the one getppid: nothing for getpid, gettid or the exits
  // And nothing from any other process's syscalls either: only source 0 exists.
  std::string e;
  size_t others = 0;
  s.ring->consume([&](const uint8_t*, size_t) { ++others; }, e);
  EXPECT_EQ(others, 0u);
}

}  // namespace
}  // namespace vtrace::bpf
