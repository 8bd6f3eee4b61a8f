// `vtrace image build`: the kernel comes out of the linux-image package, the initramfs holds
// busybox with its applet links and /init, and a second build with unchanged inputs is a no-op.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "guest/guest_programs.h"
#include "guest_test_util.h"

namespace vtrace::guest_test {
namespace {

namespace fs = std::filesystem;

// name -> (mode, data) of a gzip'd newc archive.
std::map<std::string, std::pair<uint32_t, std::string>> read_initramfs(const std::string& path) {
  std::string a;
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return {};
  char buf[65536];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) a.append(buf, static_cast<size_t>(n));
  gzclose(f);
  std::map<std::string, std::pair<uint32_t, std::string>> entries;
  size_t off = 0;
  auto field = [&](int i) {
    return static_cast<uint32_t>(std::stoul(a.substr(off + 6 + 8 * i, 8), nullptr, 16));
  };
  while (off + 110 <= a.size() && a.compare(off, 6, "070701") == 0) {
    uint32_t mode = field(1), filesize = field(6), namesize = field(11);
    std::string name = a.substr(off + 110, namesize - 1);
    size_t data = (off + 110 + namesize + 3) & ~size_t(3);
    if (name == "TRAILER!!!") break;
    entries[name] = {mode, a.substr(data, filesize)};
    off = (data + filesize + 3) & ~size_t(3);
  }
  return entries;
}

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// A sanitizer build's agent is dynamic and refused; its static guest workloads stand in for it.
const std::string kEnv =
    VTRACE_SANITIZED ? std::string("VTRACE_AGENT=") + GUEST_BIN_DIR + "/order_send" : "";

TEST(ImageBuild, BuildsKernelAndInitramfsThenIsIncremental) {
  if (std::string why = image_prerequisites_missing(); !why.empty())
    GTEST_SKIP() << "skipped: " << why;
  TempDir cache("image-cache");
  Result first = run_vtrace(kEnv, "image build --cache " + cache.path);
  ASSERT_EQ(first.status, 0) << first.output;
  EXPECT_NE(first.output.find("built " + cache.path + "/image"), std::string::npos) << first.output;

  const std::string img = cache.path + "/image";
  ASSERT_TRUE(fs::exists(img + "/vmlinuz"));
  ASSERT_TRUE(fs::exists(img + "/inputs"));
  EXPECT_GT(fs::file_size(img + "/vmlinuz"), 1u << 20);
  // A bzImage: "HdrS" at offset 0x202.
  {
    FILE* k = fopen((img + "/vmlinuz").c_str(), "rb");
    ASSERT_NE(k, nullptr);
    char magic[4] = {};
    fseek(k, 0x202, SEEK_SET);
    ASSERT_EQ(fread(magic, 1, 4, k), 4u);
    fclose(k);
    EXPECT_EQ(std::string(magic, 4), "HdrS");
  }

  auto entries = read_initramfs(img + "/initramfs.cpio.gz");
  ASSERT_TRUE(entries.count("init"));
  EXPECT_NE(entries["init"].second.find("vtrace-guest: ready"), std::string::npos);
  EXPECT_EQ(entries["init"].first & 0777, 0755u);
  ASSERT_TRUE(entries.count("bin/busybox"));
  EXPECT_GT(entries["bin/busybox"].second.size(), 500000u);
  for (const char* applet : {"bin/sh", "bin/mount", "bin/cat"}) {
    ASSERT_TRUE(entries.count(applet)) << applet;
    EXPECT_TRUE(S_ISLNK(entries[applet].first)) << applet;
    EXPECT_EQ(entries[applet].second, "../bin/busybox") << applet;
  }
  // The static agent, started by /init before it says the guest is ready, and the workloads.
  ASSERT_TRUE(entries.count("sbin/vtrace-agent"));
  EXPECT_EQ(entries["sbin/vtrace-agent"].first & 0777, 0755u);
#if defined(AGENT_BINARY)
  if (!VTRACE_SANITIZED) {
    EXPECT_TRUE(entries["sbin/vtrace-agent"].second == file_text(AGENT_BINARY));
  }
#endif
  const std::string& init = entries["init"].second;
  ASSERT_NE(init.find("/sbin/vtrace-agent --daemon"), std::string::npos) << init;
  EXPECT_LT(init.find("/sbin/vtrace-agent --daemon"), init.find("echo \"vtrace-guest: ready\""));
  for (const char* w : {"order_send", "order_recv", "guest_garbage"}) {
    ASSERT_TRUE(entries.count(std::string("bin/") + w)) << w;
    EXPECT_TRUE(entries[std::string("bin/") + w].second ==
                file_text(std::string(GUEST_BIN_DIR) + "/" + w))
        << w;
  }
  ASSERT_TRUE(entries.count("bin/reqloop"));  // reqloop-static
  EXPECT_TRUE(entries["bin/reqloop"].second ==
              file_text(std::string(GUEST_BIN_DIR) + "/reqloop-static"));
  ASSERT_TRUE(entries.count("dev/console"));
  EXPECT_TRUE(S_ISCHR(entries["dev/console"].first));

  auto mtime = fs::last_write_time(img + "/initramfs.cpio.gz");
  Result second = run_vtrace(kEnv, "image build --cache " + cache.path);
  ASSERT_EQ(second.status, 0) << second.output;
  EXPECT_NE(second.output.find("up to date"), std::string::npos) << second.output;
  EXPECT_EQ(fs::last_write_time(img + "/initramfs.cpio.gz"), mtime);

  // A changed input (here: the stored hash no longer matches) rebuilds.
  {
    FILE* f = fopen((img + "/inputs").c_str(), "w");
    fputs("0000000000000000\n", f);
    fclose(f);
  }
  Result third = run_vtrace(kEnv, "image build --cache " + cache.path);
  ASSERT_EQ(third.status, 0) << third.output;
  EXPECT_NE(third.output.find("built "), std::string::npos) << third.output;

  // Extra files (the agent, the examples) go in with their parent directories; they are inputs.
  const std::string extra = cache.path + "/hello.sh";
  {
    FILE* f = fopen(extra.c_str(), "w");
    fputs("#!/bin/sh\necho hello\n", f);
    fclose(f);
    chmod(extra.c_str(), 0755);
  }
  const std::string add = " --add " + extra + "=/opt/vtrace/bin/hello";
  Result with_extra = run_vtrace(kEnv, "image build --cache " + cache.path + add);
  ASSERT_EQ(with_extra.status, 0) << with_extra.output;
  EXPECT_NE(with_extra.output.find("built "), std::string::npos) << with_extra.output;
  entries = read_initramfs(img + "/initramfs.cpio.gz");
  ASSERT_TRUE(entries.count("opt/vtrace"));
  EXPECT_TRUE(S_ISDIR(entries["opt/vtrace"].first));
  ASSERT_TRUE(entries.count("opt/vtrace/bin/hello"));
  EXPECT_EQ(entries["opt/vtrace/bin/hello"].second, "#!/bin/sh\necho hello\n");
  EXPECT_EQ(entries["opt/vtrace/bin/hello"].first & 0777, 0755u);
  EXPECT_NE(run_vtrace(kEnv, "image build --cache " + cache.path + add).output.find("up to date"),
            std::string::npos);
  {
    FILE* f = fopen(extra.c_str(), "a");
    fputs("echo world\n", f);
    fclose(f);
  }
  EXPECT_NE(run_vtrace(kEnv, "image build --cache " + cache.path + add).output.find("built "),
            std::string::npos);
  Result missing = run_vtrace(kEnv, "image build --cache " + cache.path + " --add /nonexistent=/x");
  EXPECT_EQ(missing.status, 1) << missing.output;
  EXPECT_NE(missing.output.find("no such file: /nonexistent"), std::string::npos) << missing.output;
}

TEST(ImageBuild, TheAgentMustBeThereAndStatic) {
  if (std::string why = image_prerequisites_missing(); !why.empty())
    GTEST_SKIP() << "skipped: " << why;
  TempDir cache("image-cache");
  Result dynamic = run_vtrace("VTRACE_AGENT=/bin/ls", "image build --cache " + cache.path);
  EXPECT_EQ(dynamic.status, 1) << dynamic.output;
  EXPECT_NE(
      dynamic.output.find("the guest agent /bin/ls cannot run in a guest: dynamically linked"),
      std::string::npos)
      << dynamic.output;
  Result none = run_vtrace("VTRACE_AGENT=/nonexistent/agent", "image build --cache " + cache.path);
  EXPECT_EQ(none.status, 1) << none.output;
  EXPECT_NE(none.output.find("$VTRACE_AGENT names no file: /nonexistent/agent"), std::string::npos)
      << none.output;
  // A vtrace binary without an agent next to it says how to build one.
  const std::string lone = cache.path + "/bin/vtrace";
  fs::create_directories(cache.path + "/bin");
  fs::copy_file(VTRACE_BINARY, lone);
  std::string out;
  FILE* p = popen((lone + " image build --cache " + cache.path + " 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  EXPECT_EQ(WEXITSTATUS(pclose(p)), 1) << out;
  EXPECT_NE(
      out.find("the guest agent was not found (looked for " + cache.path + "/bin/vtrace-agent)"),
      std::string::npos)
      << out;
  EXPECT_NE(out.find("--target vtrace-agent"), std::string::npos) << out;
  // The file check itself.
  EXPECT_EQ(guest::static_elf_problem(std::string(GUEST_BIN_DIR) + "/order_send"), "");
  EXPECT_NE(guest::static_elf_problem("/bin/sh").find("dynamically linked"), std::string::npos);
  EXPECT_EQ(guest::static_elf_problem(lone + "-missing"), "cannot read it");
  std::ofstream(cache.path + "/text") << "#!/bin/sh\n";
  EXPECT_EQ(guest::static_elf_problem(cache.path + "/text"), "not an ELF file");
}

TEST(ImageBuild, UnknownArgumentIsAUsageError) {
  Result r = run_vtrace(kEnv, "image build --bogus");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("unknown argument"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace vtrace::guest_test
