// Symbols for stacks: the kernel's from kallsyms (canned text, and the running kernel's), a
// process's from its mappings and ELF symbol tables (this test binary and libc), also once the
// process has exited; and dtrace's text for them, against the expected outputs of Oracle's
// dtrace-utils tests (test/unittest/..., branch devel).
#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <vector>

#include "sys/elf_symbols.h"
#include "sys/kallsyms.h"
#include "sys/stack_format.h"

namespace vtrace::sys {
namespace {

TEST(Kallsyms, FindsTheFunctionAndOffset) {
  Kallsyms k;
  k.load_text(
      "ffffffff81000000 T _stext\n"
      "ffffffff81001000 t do_thing\n"
      "ffffffff81002000 D some_data\n"
      "ffffffffc0001000 t mod_fn\t[kvm]\n");
  SymbolAt s = k.lookup(0xffffffff81001010);
  EXPECT_EQ(s.module, "vmlinux");
  EXPECT_EQ(s.name, "do_thing");
  EXPECT_EQ(s.offset, 0x10u);
  s = k.lookup(0xffffffffc0001004);
  EXPECT_EQ(s.module, "kvm");
  EXPECT_EQ(s.name, "mod_fn");
  EXPECT_TRUE(k.lookup(0x1000).name.empty());
}

TEST(Kallsyms, HiddenAddressesAreSaidSo) {
  Kallsyms k;
  k.load_text("0000000000000000 T _stext\n0000000000000000 t do_thing\n");
  std::string why;
  EXPECT_FALSE(k.usable(why));
  EXPECT_NE(why.find("run as root"), std::string::npos);
}

__attribute__((noinline)) int symbols_test_function(int x) {
  return x * 3 + 1;
}

TEST(ProcessSymbols, OwnFunctionAndLibc) {
  ProcessSymbols p;
  const auto own = reinterpret_cast<uint64_t>(&symbols_test_function) + 2;
  UserSymbol s = p.lookup(getpid(), own);
  EXPECT_EQ(s.module, "sys_test");
  EXPECT_NE(s.name.find("symbols_test_function"), std::string::npos) << s.name;
  EXPECT_EQ(s.offset, 2u);
  void* fn = dlsym(RTLD_DEFAULT, "getppid");
  ASSERT_NE(fn, nullptr);
  s = p.lookup(getpid(), reinterpret_cast<uint64_t>(fn));
  EXPECT_EQ(s.module.rfind("libc.so", 0), 0u) << s.module;
  EXPECT_NE(s.name.find("getppid"), std::string::npos) << s.name;
}

TEST(ProcessSymbols, AnExitedProcessStillSymbolizesFromItsSnapshot) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  if (child == 0) {
    close(fds[1]);
    char c;
    (void)!read(fds[0], &c, 1);
    _exit(0);
  }
  ProcessSymbols p;
  p.snapshot(child);  // while it runs (a fork: the same mappings as ours)
  close(fds[1]);
  waitpid(child, nullptr, 0);
  UserSymbol s = p.lookup(child, reinterpret_cast<uint64_t>(&symbols_test_function));
  EXPECT_NE(s.name.find("symbols_test_function"), std::string::npos) << s.name;
  EXPECT_TRUE(p.lookup(child, 0x10).module.empty());
}

// A library the process maps after its first snapshot (dlopen; or libc, mapped after a stack
// taken while ld.so ran): a stack with its addresses takes the snapshot again, so it still
// symbolizes once the process is gone.
TEST(ProcessSymbols, AStackOutsideTheSnapshotTakesItAgain) {
  int go[2], back[2];
  ASSERT_EQ(pipe(go), 0);
  ASSERT_EQ(pipe(back), 0);
  pid_t child = fork();
  if (child == 0) {
    char c;
    (void)!read(go[0], &c, 1);
    void* lib = dlopen("libcrypt.so.1", RTLD_NOW);
    uint64_t addr = lib != nullptr ? reinterpret_cast<uint64_t>(dlsym(lib, "crypt")) : 0;
    (void)!write(back[1], &addr, sizeof addr);
    pause();
    _exit(0);
  }
  ProcessSymbols p;
  p.snapshot(child);  // before libcrypt is mapped
  ASSERT_EQ(write(go[1], "x", 1), 1);
  uint64_t addr = 0;
  ASSERT_EQ(read(back[0], &addr, sizeof addr), static_cast<ssize_t>(sizeof addr));
  if (addr == 0) {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    GTEST_SKIP() << "skipped: no libcrypt.so.1 to dlopen";
  }
  p.snapshot(child, &addr, 1);  // a stack through the new library
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  UserSymbol s = p.lookup(child, addr);
  EXPECT_EQ(s.module.rfind("libcrypt.so.1", 0), 0u) << s.module;
  EXPECT_NE(s.name.find("crypt"), std::string::npos) << s.name;
}

// This test binary's path, as its maps show it.
std::string base_of_self_path() {
  char path[4096];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  return n > 0 ? std::string(path, static_cast<size_t>(n)) : std::string();
}

// The load address of the first mapping of `path` in pid (its ELF header), or 0.
uint64_t base_of(pid_t pid, const std::string& path) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  for (std::string line; std::getline(maps, line);)
    if (line.size() > path.size() &&
        line.compare(line.size() - path.size(), path.size(), path) == 0)
      return std::stoull(line.substr(0, line.find('-')), nullptr, 16);
  return 0;
}

// A program that exited and whose file was then replaced at its path still symbolizes with the
// file it ran (read when its mappings were snapshotted), never with the new file's symbols.
TEST(ProcessSymbols, AReplacedBinaryIsNotReadForAnExitedProcess) {
  char dir[] = "/tmp/vtrace-symbols-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string copy = std::string(dir) + "/prog";
  ASSERT_EQ(std::system(("cp /proc/" + std::to_string(getpid()) + "/exe " + copy).c_str()), 0);
  pid_t child = fork();
  if (child == 0) {  // this test binary, busy in one quick test until killed
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(copy.c_str(), copy.c_str(), "--gtest_filter=Kallsyms.FindsTheFunctionAndOffset",
          "--gtest_repeat=-1", nullptr);
    _exit(127);
  }
  uint64_t base = 0;
  for (int i = 0; i < 200 && base == 0; ++i, usleep(10000)) base = base_of(child, copy);
  ASSERT_NE(base, 0u);
  const uint64_t own = reinterpret_cast<uint64_t>(&symbols_test_function);
  const uint64_t there = base + (own - base_of(getpid(), base_of_self_path()));
  ProcessSymbols p;
  p.snapshot(child);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  ASSERT_EQ(std::system(("cp /bin/true " + copy + ".new && mv " + copy + ".new " + copy).c_str()),
            0);
  UserSymbol s = p.lookup(child, there + 1);
  EXPECT_EQ(s.module, "prog");
  EXPECT_NE(s.name.find("symbols_test_function"), std::string::npos) << s.name;
  EXPECT_EQ(s.offset, 1u);
  std::system(("rm -rf " + std::string(dir)).c_str());
}

// A stripped library's static functions come from its debug file (found by build id): libc's
// __libc_start_call_main is in no dynamic symbol table. Skipped without libc6-dbg (setup.sh
// installs it).
TEST(ElfSymbols, AStrippedLibrarysDebugFileGivesItsStaticFunctions) {
  void* fn = dlsym(RTLD_DEFAULT, "getppid");
  Dl_info info;
  ASSERT_NE(fn, nullptr);
  ASSERT_NE(dladdr(fn, &info), 0);
  std::string id;
  FILE* p = popen(("readelf -n " + std::string(info.dli_fname) + " 2>/dev/null").c_str(), "r");
  ASSERT_NE(p, nullptr);
  char line[512];
  while (std::fgets(line, sizeof line, p) != nullptr)
    if (const char* at = std::strstr(line, "Build ID: ")) id = std::string(at + 10);
  pclose(p);
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  const std::string debug = std::string(ElfSymbols::kDebugDir) + id.substr(0, 2) + "/" +
                            (id.size() > 2 ? id.substr(2) : "") + ".debug";
  if (id.size() < 3 || access(debug.c_str(), R_OK) != 0)
    GTEST_SKIP() << "skipped: no debug file for libc (" << debug << "): install libc6-dbg";
  p = popen(("readelf -Ws " + debug + " 2>/dev/null").c_str(), "r");
  ASSERT_NE(p, nullptr);
  uint64_t addr = 0;
  while (std::fgets(line, sizeof line, p) != nullptr)
    if (std::strstr(line, " __libc_start_call_main\n") != nullptr)
      std::sscanf(line, " %*[0-9]: %lx", &addr);
  pclose(p);
  ASSERT_NE(addr, 0u) << "no __libc_start_call_main in " << debug;
  ElfSymbols e(info.dli_fname);
  std::string name;
  uint64_t off = 0;
  ASSERT_TRUE(e.lookup(addr + 3, name, off));
  EXPECT_EQ(name, "__libc_start_call_main");
  EXPECT_EQ(off, 3u);
}

// The running kernel: a syscall's address from /proc/kallsyms, looked up 5 bytes in.
TEST(Kallsyms, TheRunningKernelsFunctionAtAnOffset) {
  std::ifstream in("/proc/kallsyms");
  uint64_t addr = 0;
  bool hidden = false;
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string a, type, name;
    f >> a >> type >> name;
    if (name != "__x64_sys_getppid" && name != "do_sys_openat2") continue;
    addr = std::stoull(a, nullptr, 16);
    hidden = addr == 0;
    break;
  }
  Kallsyms k;
  std::string why;
  if (hidden) {
    EXPECT_FALSE(k.usable(why));
    EXPECT_NE(why.find("run as root"), std::string::npos) << why;
    GTEST_SKIP() << "kernel addresses are hidden (kptr_restrict): run as root";
  }
  if (addr == 0) GTEST_SKIP() << "neither __x64_sys_getppid nor do_sys_openat2 in kallsyms";
  ASSERT_TRUE(k.usable(why)) << why;
  // Aliases share the address (__do_sys_getppid, __ia32_sys_getppid): any of them is right.
  std::set<std::string> names;
  std::ifstream again("/proc/kallsyms");
  for (std::string line; std::getline(again, line);) {
    std::istringstream f(line);
    std::string a, type, name;
    f >> a >> type >> name;
    if (std::stoull(a, nullptr, 16) == addr) names.insert(name);
  }
  SymbolAt s = k.lookup(addr + 5);
  EXPECT_EQ(s.module, "vmlinux");
  EXPECT_TRUE(names.count(std::string(s.name))) << s.name;
  EXPECT_EQ(s.offset, 5u);
  EXPECT_EQ(format_frame({addr + 5, s.module, s.name, s.offset}, true),
            "vmlinux`" + std::string(s.name) + "+0x5");
}

TEST(ProcessSymbols, OwnFunctionFormatsAsAFrame) {
  ProcessSymbols p;
  const auto addr = reinterpret_cast<uint64_t>(&symbols_test_function) + 2;
  UserSymbol s = p.lookup(getpid(), addr);
  ASSERT_FALSE(s.name.empty());
  const Symbol sym{addr, s.module, s.name, s.offset};
  EXPECT_EQ(format_frame(sym, true), "sys_test`" + s.name + "+0x2");
  EXPECT_EQ(format_frame(sym, false), "sys_test`" + s.name);
  EXPECT_EQ(format_module(sym), "sys_test");
  // An address no mapping holds prints as the address alone.
  UserSymbol none = p.lookup(getpid(), 0x10);
  EXPECT_EQ(format_frame({0x10, none.module, none.name, none.offset}, true), "0x10");
}

// What dtrace-utils' runtest.sh does to outputs before comparing them with the .r files.
std::string ptr_masked(const std::string& s) {
  static const std::regex hex("0x[0-9a-f]+");
  return std::regex_replace(s, hex, "{ptr}");
}

std::string printf_string(const char* fmt, long long v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// The frames of test/triggers/ustack-tst-basic, innermost first (the offsets are made up).
std::vector<Symbol> basic_frames() {
  std::vector<Symbol> v;
  for (std::string_view fn : {"myfunc_z", "myfunc_y", "myfunc_x", "myfunc_w", "myfunc_v"})
    v.push_back({0x401000 + v.size() * 0x40, "ustack-tst-basic", fn, 0x1b});
  return v;
}

TEST(StackFormat, FramesAndTheirFallbacks) {
  EXPECT_EQ(format_frame({0xffffffff81001010, "vmlinux", "do_thing", 0x10}, true),
            "vmlinux`do_thing+0x10");
  // The function's first instruction: no "+0x0" (test/unittest/printf/tst.sym.r).
  EXPECT_EQ("symbol = " + format_frame({0xffffffff82000000, "vmlinux", "max_pfn", 0}, true),
            "symbol = vmlinux`max_pfn");
  EXPECT_EQ(format_frame({0x7f3a1c02b1d0, "libc.so.6", "", 0}, true), "libc.so.6`0x7f3a1c02b1d0");
  EXPECT_EQ(format_frame({0x7f3a1c02b1d0, "", "", 0}, false), "0x7f3a1c02b1d0");
  EXPECT_EQ(format_module({0x7f3a1c02b1d0, "", "", 0}), "0x7f3a1c02b1d0");
  EXPECT_EQ(format_module({0xffffffffc0001004, "kvm", "mod_fn", 4}), "kvm");
}

// test/unittest/ustack/tst.ufunc.r, tst.usym.r, tst.uaddr.r: "  %-50s" in trace().
TEST(StackFormat, UserSymbolFieldsAsTraceThem) {
  const Symbol y{0x401149, "ustack-tst-basic", "myfunc_y", 0x9};
  EXPECT_EQ(symbol_field(format_frame(y, false)),
            "  ustack-tst-basic`myfunc_y                         ");
  EXPECT_EQ(ptr_masked(symbol_field(format_frame(y, true))),
            "  ustack-tst-basic`myfunc_y+{ptr}                     ");
  EXPECT_EQ(symbol_field(format_module(y)), "  ustack-tst-basic                                  ");
}

// test/unittest/stack/tst.stack_fbt.x86_64.r: trace(stack()) after the probe line.
TEST(StackFormat, TraceOfAKernelStack) {
  std::vector<Symbol> frames;
  for (std::string_view fn :
       {"__vfs_write", "ksys_write", "__x64_sys_write", "do_syscall_64", "entry_SYSCALL_64"})
    frames.push_back({0xffffffff81000000 + frames.size() * 0x100, "vmlinux", fn, 0x2a});
  frames.push_back({0, "", "", 0});  // a zero pc ends the stack
  const std::string out =
      "               __vfs_write:entry " + format_stack(frames, StackLayout{}) + "\n";
  EXPECT_EQ(ptr_masked(out),
            "               __vfs_write:entry \n"
            "              vmlinux`__vfs_write+{ptr}\n"
            "              vmlinux`ksys_write+{ptr}\n"
            "              vmlinux`__x64_sys_write+{ptr}\n"
            "              vmlinux`do_syscall_64+{ptr}\n"
            "              vmlinux`entry_SYSCALL_64+{ptr}\n"
            "\n");
}

// test/unittest/aggs/tst.ustack.r: @['a', uaddr(), ufunc(), umod(), usym(), ustack(5), 4] =
// sum(): each symbol key a "  %-50s" field, the stack on lines of its own, then the rest.
TEST(StackFormat, AggregationKeysWithAStack) {
  const Symbol y{0x401149, "ustack-tst-basic", "myfunc_y", 0x9};
  std::string out = printf_string(" %8lld", 'a');
  out += symbol_field(format_frame(y, true)) + symbol_field(format_frame(y, false)) +
         symbol_field(format_module(y)) + symbol_field(format_frame(y, false));
  out += format_stack(basic_frames(), StackLayout{});
  out += printf_string(" %8lld", 4) + printf_string(" %16lld", 1234) + "\n";
  EXPECT_EQ(ptr_masked(out),
            "       97  ustack-tst-basic`myfunc_y+{ptr}                       "
            "ustack-tst-basic`myfunc_y                           ustack-tst-basic        "
            "                            ustack-tst-basic`myfunc_y                         \n"
            "              ustack-tst-basic`myfunc_z+{ptr}\n"
            "              ustack-tst-basic`myfunc_y+{ptr}\n"
            "              ustack-tst-basic`myfunc_x+{ptr}\n"
            "              ustack-tst-basic`myfunc_w+{ptr}\n"
            "              ustack-tst-basic`myfunc_v+{ptr}\n"
            "        4             1234\n");
}

// test/unittest/profile-n/tst.ufuncsort.r: @[ufunc(...)] = count(), printed at exit.
TEST(StackFormat, AggregationKeyUfunc) {
  EXPECT_EQ(symbol_field(format_frame({0x401126, "profile-tst-ufuncsort", "f_a", 0}, false)) +
                printf_string(" %16lld", 3),
            "  profile-tst-ufuncsort`f_a                                         3");
}

// test/unittest/ustack/tst.spin.sh: printa("START%kEND\n", @stacks) puts the frames on lines of
// their own, not indented. printa/tst.stack.d: "%-20k" indents by 20, "%60k" right-aligns.
TEST(StackFormat, PrintfPercentK) {
  std::vector<Symbol> f;
  for (std::string_view fn : {"baz", "bar", "foo", "main"})
    f.push_back({0x401100 + f.size() * 0x20, "ustack-tst-spin", fn, 0x8});
  EXPECT_EQ("START" + format_stack(f, printf_stack_layout(0, false)) + "END\n",
            "START\nustack-tst-spin`baz+0x8\nustack-tst-spin`bar+0x8\n"
            "ustack-tst-spin`foo+0x8\nustack-tst-spin`main+0x8\nEND\n");
  const std::vector<Symbol> one{{0x401108, "spin", "baz", 0x8}};
  EXPECT_EQ(format_stack(one, printf_stack_layout(20, true)),
            "\n" + std::string(20, ' ') + "spin`baz+0x8\n");
  EXPECT_EQ(format_stack(one, printf_stack_layout(20, false)),
            "\n" + std::string(8, ' ') + "spin`baz+0x8\n");
}

// What dtrace does not do: a stack that could not be unwound says so, indented as its frames.
TEST(StackFormat, UnwindFailuresAreSaid) {
  EXPECT_EQ(unwind_note(true, 0, 3), "");
  EXPECT_EQ(format_stack({}, StackLayout{}, unwind_note(false, -EFAULT, 0)),
            "\n              <kernel stack not unwound: Bad address>\n");
  const std::vector<Symbol> one{{0x401108, "spin", "baz", 0x8}};
  EXPECT_EQ(
      format_stack(one, StackLayout{}, unwind_note(true, -EFAULT, 1)),
      "\n              spin`baz+0x8\n              <user stack unwind stopped: Bad address>\n");
}

}  // namespace
}  // namespace vtrace::sys
