// The probe catalog: ids, matching of descriptions (empty fields, globs, the target field) and
// probes made on demand by the profile provider.
#include "engine/catalog.h"

#include <gtest/gtest.h>

#include "engine/profile_provider.h"

namespace vtrace::engine {
namespace {

bytecode::ProbeSpec spec(std::string target, std::string provider, std::string module,
                   std::string function, std::string name) {
  bytecode::ProbeSpec s;
  s.target = std::move(target);
  s.provider = std::move(provider);
  s.module = std::move(module);
  s.function = std::move(function);
  s.name = std::move(name);
  return s;
}

TEST(CatalogTest, RegistersTheDtraceProvider) {
  Catalog c;
  ASSERT_EQ(c.probes().size(), 3u);
  EXPECT_EQ(c.probe(kProbeBegin).name, "BEGIN");
  EXPECT_EQ(c.probe(kProbeEnd).name, "END");
  EXPECT_EQ(c.probe(kProbeError).name, "ERROR");
  EXPECT_EQ(c.probe(kProbeBegin).provider, "dtrace");
  EXPECT_EQ(c.probe(kProbeBegin).target, "host");
  EXPECT_EQ(c.probe(kProbeError).full_name(), "dtrace:::ERROR");
  EXPECT_EQ(c.next_id(), 4u);
}

TEST(CatalogTest, AddAssignsConsecutiveIds) {
  Catalog c;
  uint32_t a = c.add("host", "test", "mod", "func", "tick");
  uint32_t b = c.add("vm1", "syscall", "", "read", "entry");
  EXPECT_EQ(a, 4u);
  EXPECT_EQ(b, 5u);
  EXPECT_EQ(c.probe(a).id, a);
  EXPECT_EQ(c.probe(b).target, "vm1");
  EXPECT_EQ(c.probe(a).full_name(), "test:mod:func:tick");
  EXPECT_TRUE(c.valid(b));
  EXPECT_FALSE(c.valid(0));
  EXPECT_FALSE(c.valid(6));
}

TEST(CatalogTest, EmptyFieldsMatchAnything) {
  Catalog c;
  uint32_t a = c.add("host", "test", "mod", "func", "tick");
  std::vector<uint32_t> all = c.match(spec("", "", "", "", ""));
  EXPECT_EQ(all, (std::vector<uint32_t>{1, 2, 3, a}));
  EXPECT_EQ(c.match(spec("", "test", "", "", "")), std::vector<uint32_t>{a});
  EXPECT_EQ(c.match(spec("", "", "mod", "", "")), std::vector<uint32_t>{a});
  EXPECT_EQ(c.match(spec("", "", "", "func", "")), std::vector<uint32_t>{a});
  EXPECT_EQ(c.match(spec("", "", "", "", "tick")), std::vector<uint32_t>{a});
  EXPECT_TRUE(c.match(spec("", "test", "", "", "tock")).empty());
  // The dtrace probes have empty module and function: only an empty or "*" field matches them.
  EXPECT_EQ(c.match(spec("", "dtrace", "*", "*", "BEGIN")), std::vector<uint32_t>{kProbeBegin});
  EXPECT_TRUE(c.match(spec("", "dtrace", "x", "", "BEGIN")).empty());
}

TEST(CatalogTest, GlobsInEveryField) {
  Catalog c;
  uint32_t r = c.add("host", "syscall", "kernel", "read", "entry");
  uint32_t w = c.add("host", "syscall", "kernel", "write", "entry");
  uint32_t rr = c.add("host", "syscall", "kernel", "read", "return");
  EXPECT_EQ(c.match(spec("", "sys*", "", "", "entry")), (std::vector<uint32_t>{r, w}));
  EXPECT_EQ(c.match(spec("", "", "k?rnel", "[rw]*", "ret*")), std::vector<uint32_t>{rr});
  EXPECT_EQ(c.match(spec("h*", "syscall", "", "read", "")), (std::vector<uint32_t>{r, rr}));
}

TEST(CatalogTest, TargetField) {
  Catalog c;
  uint32_t h = c.add("host", "syscall", "", "read", "entry");
  uint32_t w1 = c.add("web1", "syscall", "", "read", "entry");
  uint32_t w2 = c.add("web2", "syscall", "", "read", "entry");
  uint32_t db = c.add("db1", "syscall", "", "read", "entry");
  uint32_t p = c.add("pid4242", "app", "", "main", "go");
  EXPECT_EQ(c.match(spec("", "syscall", "", "read", "entry")),
            (std::vector<uint32_t>{h, w1, w2, db}));
  EXPECT_EQ(c.match(spec("web*", "syscall", "", "read", "entry")), (std::vector<uint32_t>{w1, w2}));
  EXPECT_EQ(c.match(spec("db1", "", "", "", "")), std::vector<uint32_t>{db});
  EXPECT_EQ(c.match(spec("host", "syscall", "", "", "")), std::vector<uint32_t>{h});
  EXPECT_EQ(c.match(spec("pid4242", "", "", "", "")), std::vector<uint32_t>{p});
  EXPECT_TRUE(c.match(spec("web3", "", "", "", "")).empty());
  EXPECT_TRUE(Catalog::matches(spec("web?", "", "", "", ""), c.probe(w2)));
  EXPECT_FALSE(Catalog::matches(spec("web?", "", "", "", ""), c.probe(db)));
}

TEST(CatalogTest, OnDemandHookRunsBeforeMatching) {
  Catalog c;
  int calls = 0;
  c.add_on_demand([&](const bytecode::ProbeSpec& s, Catalog& cat) {
    ++calls;
    if (s.provider == "lazy" && calls == 1) cat.add("host", "lazy", "", "", "x");
  });
  std::vector<uint32_t> ids = c.match(spec("", "lazy", "", "", "x"));
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(c.probe(ids[0]).provider, "lazy");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(c.match(spec("", "lazy", "", "", "x")), ids);
  EXPECT_EQ(calls, 2);
}

TEST(CatalogTest, ProfileProbesAreMadeOnDemand) {
  Catalog c;
  ProfileProvider prof(c);
  const size_t base = c.probes().size();
  // The usual probes are listed already.
  EXPECT_EQ(c.match(spec("", "profile", "", "", "tick-1sec")).size(), 1u);
  EXPECT_EQ(c.match(spec("", "profile", "", "", "profile-97")).size(), 1u);
  EXPECT_EQ(c.probes().size(), base);

  // A new literal name makes a probe, once.
  std::vector<uint32_t> a = c.match(spec("", "profile", "", "", "tick-3ms"));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(c.probe(a[0]).name, "tick-3ms");
  EXPECT_EQ(c.probe(a[0]).target, "host");
  EXPECT_EQ(c.probes().size(), base + 1);
  EXPECT_EQ(c.match(spec("", "profile", "", "", "tick-3ms")), a);
  EXPECT_EQ(c.probes().size(), base + 1);

  // An omitted or globbed provider may still mean profile.
  EXPECT_EQ(c.match(spec("", "", "", "", "tick-7ms")).size(), 1u);
  EXPECT_EQ(c.match(spec("", "prof*", "", "", "tick-9ms")).size(), 1u);
  EXPECT_EQ(c.probes().size(), base + 3);

  // Not made: another provider, a module or function, a glob in the name, a bad period.
  EXPECT_TRUE(c.match(spec("", "syscall", "", "", "tick-11ms")).empty());
  EXPECT_TRUE(c.match(spec("", "profile", "m", "", "tick-12ms")).empty());
  EXPECT_TRUE(c.match(spec("", "profile", "", "f", "tick-13ms")).empty());
  EXPECT_TRUE(c.match(spec("", "profile", "", "", "tick-1*ms")).empty());
  EXPECT_TRUE(c.match(spec("", "profile", "", "", "tick-0")).empty());
  EXPECT_TRUE(c.match(spec("", "profile", "", "", "tick-1ns")).empty());  // below 10us
  EXPECT_TRUE(c.match(spec("", "profile", "", "", "tock-1s")).empty());
  EXPECT_EQ(c.probes().size(), base + 3);
}

}  // namespace
}  // namespace vtrace::engine
