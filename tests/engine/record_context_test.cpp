// What a record that does not carry its probe's context gives (transport/record.h): a guest's
// string argument only as its probe read it, and no credentials or CPU time of a guest's
// thread (they were not read where it fired: said, never vtrace's own in their place).
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>

#include "engine/engine.h"
#include "lang/compiler.h"
#include "lang/parser.h"
#include "mem_file.h"

namespace vtrace::engine {
namespace {

using vtrace::test::MemFile;

struct GuestHarness {
  explicit GuestHarness(const std::string& text) {
    probe = catalog.add("web1", "syscall", "", "openat", "entry", "", "web1");
    src.name = "t.d";
    src.text = text;
    Options opts;
    opts.quiet = true;
    eng = std::make_unique<Engine>(lang::compile_source(src, {}), src, opts, catalog);
    eng->set_output(out.file());
    eng->set_error_output(err.file());
    eng->enable();
  }
  // An openat of the guest's process 77: `path` read at arg1 when it fired (nullptr: it could
  // not be read), or nothing asked (read = false).
  void fire(const char* path, bool read = true) {
    Record r;
    r.probe = probe;
    r.target = 1;  // a target other than the host
    r.guest = true;
    r.pid = r.tid = 77;
    r.args[0] = -100;
    r.args[1] = 0x7ffd0000;
    std::snprintf(r.execname, sizeof r.execname, "%s", "cat");
    if (read) {
      r.tail_arg = 1;
      r.tail_read = true;
      if (path != nullptr) {
        r.tail = path;
        r.tail_len = static_cast<uint16_t>(std::strlen(path) + 1);
      }
    }
    eng->process(r);
  }

  Catalog catalog;
  uint32_t probe = 0;
  lang::Source src;
  std::unique_ptr<Engine> eng;
  MemFile out, err;
};

TEST(RecordContext, AGuestStringArgumentIsWhatItsProbeRead) {
  GuestHarness h("web1:syscall::openat:entry { printf(\"%s\\n\", copyinstr(arg1)); }");
  h.fire("/etc/hostname");
  EXPECT_EQ(h.out.text(), "/etc/hostname\n");
  h.fire(nullptr);  // the probe could not read it: the address is bad
  EXPECT_NE(h.err.text().find("invalid address (0x7ffd0000)"), std::string::npos) << h.err.text();
  h.fire(nullptr, false);  // not asked of the probe: not gathered, not guessed
  EXPECT_NE(h.err.text().find("not gathered at the probe"), std::string::npos) << h.err.text();
}

TEST(RecordContext, AGuestThreadsCredentialsAreNotVtraces) {
  for (const char* b : {"uid", "gid", "ppid", "vtimestamp"}) {
    GuestHarness h(std::string("web1:syscall::openat:entry { trace(") + b + "); }");
    h.fire("/x");
    EXPECT_EQ(h.out.text(), "") << b;
    EXPECT_NE(h.err.text().find("not gathered at the probe"), std::string::npos)
        << b << ": " << h.err.text();
  }
}

}  // namespace
}  // namespace vtrace::engine
