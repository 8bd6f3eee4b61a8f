// Symbols for stacks: the kernel's from kallsyms text, a process's from its mappings and ELF
// symbol tables (this test binary and libc), also once the process has exited.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys/elf_symbols.h"
#include "sys/kallsyms.h"

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

}  // namespace
}  // namespace vtrace::sys
