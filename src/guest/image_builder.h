// The guest image: Debian's kernel (extracted from the linux-image package, never the host's
// /boot) and an initramfs the project builds: busybox-static, /init (which starts
// /sbin/vtrace-agent), the static vtrace-agent and the guest workloads (guest_programs.h). The
// image lives in a cache directory, never in the repository, and is rebuilt only when its inputs
// change: a hash of the inputs is stored next to it (image/inputs).
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace vtrace::guest {

struct ImageOptions {
  std::string cache_dir;                        // empty: default_cache_dir()
  bool force = false;                           // rebuild even when the inputs are unchanged
  std::function<void(const std::string&)> log;  // progress lines (may be empty)
  // Add the vtrace-agent and the guest workloads (find_guest_programs); an error when there is
  // no static agent. Off: an image with busybox and /init only.
  bool guest_programs = true;
  // Extra host files put into the initramfs: {host path, guest path}; they win over a guest
  // program of the same guest path. Their contents are image inputs.
  std::vector<std::pair<std::string, std::string>> extra_files;
};

struct GuestImage {
  std::string dir;             // <cache>/image
  std::string kernel;          // <cache>/image/vmlinuz
  std::string initrd;          // <cache>/image/initramfs.cpio.gz
  std::string kernel_version;  // e.g. 6.1.0-56-amd64
  std::string inputs_hash;     // hex
  bool rebuilt = false;        // false: the image was already up to date
};

// $VTRACE_CACHE_DIR, else $XDG_CACHE_HOME/vtrace, else ~/.cache/vtrace.
std::string default_cache_dir();

// Builds (or finds up to date) the guest image. Throws std::runtime_error with a message that
// says what is missing (e.g. "install linux-image-amd64") when an input is not available.
GuestImage build_image(const ImageOptions& options);

// The image's paths, without building (to check whether one exists).
GuestImage image_paths(const std::string& cache_dir);

// The /init script put into the initramfs (exposed for tests).
const char* init_script();

// Marker /init prints on the console once the guest is up; `vtrace vm start` waits for it.
inline constexpr const char* kReadyMarker = "vtrace-guest: ready";

}  // namespace vtrace::guest
