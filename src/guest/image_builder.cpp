#include "guest/image_builder.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "guest/cpio_writer.h"
#include "guest/guest_programs.h"
#include "sys/private_file.h"

namespace fs = std::filesystem;

namespace vtrace::guest {

namespace {

// Bump when the layout of the initramfs changes, so existing caches rebuild.
constexpr const char* kBuilderVersion = "vtrace-image-2";

const char* const kInitScript = R"init(#!/bin/sh
# /init of the vtrace guest (written by `vtrace image build`).
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /tmp /run
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
ip link set lo up 2>/dev/null
for arg in $(cat /proc/cmdline); do
  case "$arg" in vtrace.name=*) hostname "${arg#vtrace.name=}" ;; esac
done

# The agent serves the vtrace channel (probes, `vtrace vm exec`); it daemonizes.
if [ -x /sbin/vtrace-agent ]; then
  /sbin/vtrace-agent --daemon || echo "vtrace-guest: vtrace-agent failed to start (exit $?)"
fi

echo "vtrace-guest: ready"
# A shell on the serial console. With `-serial file:` it never gets input and blocks; the loop
# keeps /init (pid 1) alive should the shell ever exit.
while :; do
  setsid cttyhack sh
  sleep 1
done
)init";

std::string shell_quote(const std::string& s) {
  std::string r = "'";
  for (char c : s) {
    if (c == '\'')
      r += "'\\''";
    else
      r += c;
  }
  return r + "'";
}

// Runs `sh -c command`; returns its exit status and (if out) its stdout.
int run_shell(const std::string& command, std::string* out = nullptr) {
  FILE* p = popen(command.c_str(), "r");
  if (!p) return -1;
  std::string data;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) data.append(buf, n);
  int st = pclose(p);
  if (out) *out = data;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// FNV-1a 64: stable across runs and machines (the hash is stored in the cache).
struct Hasher {
  uint64_t h = 0xcbf29ce484222325ull;
  void add(std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 0x100000001b3ull;
    }
    h ^= 0xff;  // field separator
    h *= 0x100000001b3ull;
  }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
  }
};

struct KernelPackage {
  std::string name;     // linux-image-6.1.0-56-amd64
  std::string version;  // 6.1.192-2
  std::string release;  // 6.1.0-56-amd64
};

// The kernel package linux-image-amd64 depends on (the installed one: the metapackage
// pins the exact version).
KernelPackage find_kernel_package() {
  std::string dep;
  if (run_shell("dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null", &dep) != 0 ||
      dep.empty())
    throw std::runtime_error(
        "the guest kernel package is not installed: install linux-image-amd64 (./setup.sh does)");
  // "linux-image-6.1.0-56-amd64 (= 6.1.192-2)" possibly followed by ", other deps"
  dep = dep.substr(0, dep.find(','));
  KernelPackage k;
  auto sp = dep.find(' ');
  k.name = trim(dep.substr(0, sp));
  auto eq = dep.find("(= ");
  if (eq != std::string::npos) k.version = dep.substr(eq + 3, dep.find(')', eq) - eq - 3);
  const std::string prefix = "linux-image-";
  if (k.name.rfind(prefix, 0) != 0)
    throw std::runtime_error("unexpected dependency of linux-image-amd64: " + dep);
  k.release = k.name.substr(prefix.size());
  if (k.version.empty()) {
    std::string v;
    run_shell("dpkg-query -W -f='${Version}' " + shell_quote(k.name) + " 2>/dev/null", &v);
    k.version = trim(v);
  }
  return k;
}

// The .deb of the kernel package: apt's archive cache, else `apt-get download` into cache_dir.
std::string find_kernel_deb(const KernelPackage& k, const std::string& cache_dir,
                            const ImageOptions& o) {
  std::string ver = k.version;
  // Debian file names encode an epoch "1:2.3" as "1%3a2.3".
  if (auto c = ver.find(':'); c != std::string::npos) ver.replace(c, 1, "%3a");
  const std::string file = k.name + "_" + ver + "_amd64.deb";
  const char* archives = std::getenv("VTRACE_APT_ARCHIVES");  // tests: pretend apt's cache is empty
  for (const std::string& dir :
       {std::string(archives ? archives : "/var/cache/apt/archives"), cache_dir + "/debs"}) {
    if (fs::exists(dir + "/" + file)) return dir + "/" + file;
  }
  fs::create_directories(cache_dir + "/debs");
  if (o.log) o.log("downloading " + k.name + "=" + k.version);
  std::string cmd = "cd " + shell_quote(cache_dir + "/debs") + " && apt-get download -q " +
                    shell_quote(k.name + "=" + k.version) + " >/dev/null 2>&1";
  if (run_shell(cmd) != 0 || !fs::exists(cache_dir + "/debs/" + file))
    throw std::runtime_error("cannot get " + file + ": `apt-get download " + k.name + "` failed");
  return cache_dir + "/debs/" + file;
}

// Extracts boot/vmlinuz-<release> from the package into <cache>/kernel/<release>/ (once).
std::string extract_kernel(const KernelPackage& k, const std::string& cache_dir,
                           const ImageOptions& o) {
  const std::string dir = cache_dir + "/kernel/" + k.release + "_" + k.version;
  const std::string vmlinuz = dir + "/boot/vmlinuz-" + k.release;
  if (fs::exists(vmlinuz)) return vmlinuz;
  std::string deb = find_kernel_deb(k, cache_dir, o);
  if (o.log) o.log("extracting vmlinuz-" + k.release + " from " + deb);
  // Extract into a private directory and rename it: concurrent builds never see half a file.
  const std::string tmp = dir + ".tmp" + std::to_string(getpid());
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  std::string cmd = "dpkg-deb --fsys-tarfile " + shell_quote(deb) + " | tar -x -C " +
                    shell_quote(tmp) + " ./boot/vmlinuz-" + k.release + " 2>&1";
  std::string out;
  if (run_shell(cmd, &out) != 0 || !fs::exists(tmp + "/boot/vmlinuz-" + k.release)) {
    fs::remove_all(tmp);
    throw std::runtime_error("cannot extract the kernel from " + deb + ": " + trim(out));
  }
  std::error_code ec;
  fs::rename(tmp, dir, ec);  // fails harmlessly when a concurrent build got there first
  fs::remove_all(tmp, ec);
  if (!fs::exists(vmlinuz)) throw std::runtime_error("cannot extract the kernel into " + dir);
  return vmlinuz;
}

std::string find_busybox() {
  if (const char* e = std::getenv("VTRACE_BUSYBOX"); e && *e) return e;
  for (const char* p : {"/usr/bin/busybox", "/bin/busybox"})
    if (fs::exists(p)) return p;
  throw std::runtime_error("busybox not found: install busybox-static (./setup.sh does)");
}

// busybox --list-full: "usr/bin/[", "bin/sh", ...
std::vector<std::string> busybox_applets(const std::string& busybox) {
  std::string out;
  if (run_shell(shell_quote(busybox) + " --list-full", &out) != 0)
    throw std::runtime_error(busybox + " --list-full failed (is it busybox-static?)");
  std::vector<std::string> applets;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line.find("..") == std::string::npos) applets.push_back(line);
  return applets;
}

void atomic_write(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) throw std::runtime_error("cannot write " + tmp);
  }
  fs::rename(tmp, path);
}

struct ExtraFile {
  std::string guest_path;  // relative, e.g. sbin/vtrace-agent
  std::string data;
  uint32_t mode;
};

std::string build_initramfs(const std::string& busybox_data,
                            const std::vector<std::string>& applets,
                            const std::vector<ExtraFile>& extras) {
  CpioWriter w;
  for (const char* d : {"bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp",
                        "run", "etc", "root", "mnt"})
    w.add_directory(d, std::string_view(d) == "tmp" ? 01777 : 0755);
  w.add_char_device("dev/console", 5, 1, 0600);
  w.add_char_device("dev/null", 1, 3, 0666);
  w.add_char_device("dev/ttyS0", 4, 64, 0600);
  w.add_file("bin/busybox", busybox_data, 0755);
  for (const std::string& a : applets) {
    if (a == "bin/busybox") continue;
    // Relative target: ../../bin/busybox from usr/bin, ../bin/busybox from sbin.
    std::string up;
    for (char c : a)
      if (c == '/') up += "../";
    w.add_symlink(a, up + "bin/busybox");
  }
  w.add_file("etc/hostname", "vtrace-guest\n");
  w.add_file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  w.add_file("etc/group", "root:x:0:\n");
  w.add_file("init", kInitScript, 0755);
  std::vector<std::string> made = {"bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc",
                                   "sys", "tmp",  "run", "etc",     "root",     "mnt"};
  for (const ExtraFile& e : extras) {
    // Parent directories first (the kernel's unpacker does not create them).
    for (size_t slash = e.guest_path.find('/'); slash != std::string::npos;
         slash = e.guest_path.find('/', slash + 1)) {
      std::string parent = e.guest_path.substr(0, slash);
      if (std::find(made.begin(), made.end(), parent) == made.end()) {
        w.add_directory(parent);
        made.push_back(parent);
      }
    }
    w.add_file(e.guest_path, e.data, e.mode);
  }
  return w.finish();
}

}  // namespace

const char* init_script() {
  return kInitScript;
}

std::string default_cache_dir() {
  if (const char* e = std::getenv("VTRACE_CACHE_DIR"); e && *e) return e;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/vtrace";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/root") + "/.cache/vtrace";
}

GuestImage image_paths(const std::string& cache_dir) {
  GuestImage img;
  std::string cache = cache_dir.empty() ? default_cache_dir() : cache_dir;
  img.dir = cache + "/image";
  img.kernel = img.dir + "/vmlinuz";
  img.initrd = img.dir + "/initramfs.cpio.gz";
  return img;
}

GuestImage build_image(const ImageOptions& o) {
  const std::string cache = o.cache_dir.empty() ? default_cache_dir() : o.cache_dir;
  GuestImage img = image_paths(cache);
  // Root boots what is in the cache and writes files there: another user's directory (or one
  // others can write) would let them swap the guest or plant symlinks.
  if (std::string e = sys::ensure_private_dir(cache, sys::DirUse::kShared); !e.empty())
    throw std::runtime_error("guest image cache: " + e);
  fs::create_directories(img.dir);

  KernelPackage k = find_kernel_package();
  img.kernel_version = k.release;
  const std::string busybox = find_busybox();
  const std::string busybox_data = read_file(busybox);

  std::vector<std::pair<std::string, std::string>> files;
  std::string programs_note;
  if (o.guest_programs) files = find_guest_programs(&programs_note);
  for (const auto& f : o.extra_files) {
    auto rel = [](std::string_view g) {
      return g.substr(std::min(g.find_first_not_of('/'), g.size()));
    };
    auto same = [&](const auto& g) { return rel(g.second) == rel(f.second); };
    files.erase(std::remove_if(files.begin(), files.end(), same), files.end());
    files.push_back(f);
  }
  std::vector<ExtraFile> extras;
  for (const auto& [host, guest] : files) {
    std::string rel = guest;
    while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
    if (rel.empty() || rel.find("..") != std::string::npos)
      throw std::runtime_error("bad guest path for " + host + ": '" + guest + "'");
    struct stat st {};
    if (stat(host.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      throw std::runtime_error("no such file: " + host);
    extras.push_back({rel, read_file(host), static_cast<uint32_t>(st.st_mode & 0777)});
  }

  Hasher h;
  h.add(kBuilderVersion);
  for (const ExtraFile& e : extras) {
    h.add(e.guest_path);
    h.add(e.data);
    h.add(std::to_string(e.mode));
  }
  h.add(k.name);
  h.add(k.version);
  h.add(busybox_data);
  h.add(kInitScript);
  img.inputs_hash = h.hex();

  const std::string inputs_file = img.dir + "/inputs";
  std::string stored;
  if (fs::exists(inputs_file)) stored = trim(read_file(inputs_file));
  if (!o.force && stored == img.inputs_hash && fs::exists(img.kernel) && fs::exists(img.initrd))
    return img;

  const std::string vmlinuz = extract_kernel(k, cache, o);
  if (o.log) o.log("building initramfs (busybox " + busybox + ")");
  if (o.log && !programs_note.empty()) o.log(programs_note);
  fs::remove(inputs_file);  // an interrupted build is never taken as up to date
  // Temporary names per process, renamed into place: a concurrent build or a running VM never
  // sees a half-written file.
  const std::string suffix = ".tmp" + std::to_string(getpid());
  fs::copy_file(vmlinuz, img.kernel + suffix, fs::copy_options::overwrite_existing);
  fs::rename(img.kernel + suffix, img.kernel);
  write_gzip_file(img.initrd + suffix,
                  build_initramfs(busybox_data, busybox_applets(busybox), extras));
  fs::rename(img.initrd + suffix, img.initrd);
  atomic_write(inputs_file, img.inputs_hash + "\n");
  img.rebuilt = true;
  return img;
}

}  // namespace vtrace::guest
