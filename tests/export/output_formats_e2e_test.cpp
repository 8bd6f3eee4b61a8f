// -x oformat through the vtrace binary: a CTF trace read back by babeltrace2 (the same events,
// with their fields), JSON lines to an -o file, and the refusals (a CTF directory that exists).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "../targets/run_vtrace.h"

namespace vtrace::exporters {
namespace {

using test::quote;
using test::run_bash;
using test::run_vtrace;

// 50 firings of one printf, and an aggregation of 3 keys printed at the end.
const char* kScript =
    "BEGIN { i = 0; } tick-1ms /i < 50/ { printf(\"%d %s\\n\", i, \"s\"); @c[i % 3] = count(); "
    "i++; } tick-1ms /i == 50/ { exit(0); }";

std::string temp_dir() {
  char tmpl[] = "/tmp/vtrace-export-XXXXXX";
  const char* d = mkdtemp(tmpl);
  return d != nullptr ? d : "";
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(OutputFormats, CtfIsReadBackByBabeltrace2WithEveryEventAndItsFields) {
  if (system("command -v babeltrace2 >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "skipped: babeltrace2 is not installed (setup.sh installs it)";
  const std::string parent = temp_dir();
  const std::string dir = parent + "/trace";
  test::VtraceRun r = run_vtrace("-q -x oformat=ctf -o " + dir + " -n " + quote(kScript));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");  // everything went to the trace
  test::VtraceRun bt = run_bash("babeltrace2 " + dir + " 2>@ERR@");
  ASSERT_EQ(bt.status, 0) << bt.err;
  EXPECT_EQ(count(bt.out, "printf@1:"), 50u) << bt.out;
  EXPECT_EQ(count(bt.out, "aggregation@c:"), 3u) << bt.out;
  EXPECT_NE(bt.out.find("arg0 = 7, arg1 = \"s\", text = \"7 s\\n\""), std::string::npos) << bt.out;
  EXPECT_NE(bt.out.find("probe = \"profile:::tick-1ms\""), std::string::npos);
  EXPECT_NE(bt.out.find("key0 = 2, value = 16"), std::string::npos) << bt.out;
  EXPECT_EQ(count(bt.out, "vmname = \"host\""), 53u);
  system(("rm -rf " + quote(parent)).c_str());
}

TEST(OutputFormats, CtfNeedsANewDirectory) {
  const std::string dir = temp_dir();  // exists
  test::VtraceRun r = run_vtrace("-q -x oformat=ctf -o " + dir + " -n 'BEGIN { exit(0); }'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("cannot create CTF trace directory " + dir + ": File exists"),
            std::string::npos)
      << r.err;
  test::VtraceRun none = run_vtrace("-q -x oformat=ctf -n 'BEGIN { exit(0); }'");
  EXPECT_EQ(none.status, 1);
  EXPECT_NE(none.err.find("name it with -o DIR"), std::string::npos) << none.err;
  rmdir(dir.c_str());
}

TEST(OutputFormats, JsonLinesGoToTheOutputFile) {
  const std::string dir = temp_dir();
  const std::string file = dir + "/out.json";
  test::VtraceRun r = run_vtrace("-q -x oformat=json -o " + file + " -n " + quote(kScript));
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream in(file);
  size_t firings = 0, aggs = 0;
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json j = nlohmann::json::parse(line);
    if (j["type"] == "firing") {
      EXPECT_EQ(j["items"][0]["text"], std::to_string(firings) + " s\n");
      ++firings;
    }
    if (j["type"] == "aggregation") aggs += j["rows"].size();
  }
  EXPECT_EQ(firings, 50u);
  EXPECT_EQ(aggs, 3u);
  system(("rm -rf " + quote(dir)).c_str());
}

TEST(OutputFormats, AnUnknownFormatIsRefused) {
  test::VtraceRun r = run_vtrace("-x oformat=xml -n 'BEGIN { exit(0); }'");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("option oformat must be text, json, perfetto, ctf or folded"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace vtrace::exporters
