// The engine end to end through its API: compile with lang::compile_source, enable on probes
// added to the catalog, feed synthetic records, read what it writes.
#include "engine/engine.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "lang/compiler.h"
#include "lang/parser.h"
#include "mem_file.h"

namespace vtrace::engine {
namespace {

using vtrace::test::MemFile;

Options quiet_opts() {
  Options o;
  o.quiet = true;
  return o;
}

struct Harness {
  explicit Harness(const std::string& text, Options opts = quiet_opts(),
                   lang::MacroArgs macros = {}) {
    tick = catalog.add("host", "test", "mod", "func", "tick");
    tock = catalog.add("host", "test", "mod", "other", "tock");
    guest_tick = catalog.add("vm1", "test", "mod", "func", "tick");
    src.name = "t.d";
    src.text = text;
    bytecode::Module m = lang::compile_source(src, macros);
    for (const auto& p : m.pragmas) EXPECT_EQ(opts.set(p.name, p.value), "");
    eng = std::make_unique<Engine>(std::move(m), src, opts, catalog);
    eng->set_output(out.file());
    eng->set_error_output(err.file());
    matched = eng->enable();
  }

  Record rec(uint32_t probe, int64_t arg0 = 0, int64_t arg1 = 0, int32_t tid = 100,
             uint32_t target = 0) {
    Record r;
    r.probe = probe;
    r.target = target;
    r.pid = 42;
    r.tid = tid;
    r.cpu = 1;
    r.timestamp = r.raw_timestamp = 1000;
    r.args[0] = arg0;
    r.args[1] = arg1;
    std::snprintf(r.execname, sizeof r.execname, "%s", "app");
    return r;
  }
  void fire(uint32_t probe, int64_t arg0 = 0, int64_t arg1 = 0, int32_t tid = 100,
            uint32_t target = 0) {
    eng->process(rec(probe, arg0, arg1, tid, target));
  }

  Catalog catalog;
  uint32_t tick = 0, tock = 0, guest_tick = 0;
  lang::Source src;
  std::unique_ptr<Engine> eng;
  std::vector<size_t> matched;
  MemFile out, err;
};

TEST(EngineTest, PrintfOutput) {
  Harness h("test:::tick { printf(\"%s %d %s\\n\", probefunc, arg0, execname); }");
  h.fire(h.tick, 5);
  h.fire(h.tick, -3);
  EXPECT_EQ(h.out.text(), "func 5 app\nfunc -3 app\n");
  EXPECT_EQ(h.err.text(), "");
}

TEST(EngineTest, EnableCountsMatchedProbesPerClause) {
  Harness h("test:::tick { } test::: { } vm1:test::: { } test:::tock, test:::tock { }");
  // test:::tick matches the host and the vm1 probe; vm1:test::: (five fields) only vm1's; a
  // probe named twice by one clause counts once.
  EXPECT_EQ(h.matched, (std::vector<size_t>{2, 3, 1, 1}));
  std::vector<uint32_t> enabled = h.eng->enabled_probes();
  EXPECT_EQ(enabled, (std::vector<uint32_t>{h.tick, h.tock, h.guest_tick}));
}

TEST(EngineTest, DescriptionMatchingNothingIsAnError) {
  EXPECT_THROW(Harness("nosuch:::probe { }"), lang::CompileError);
  Options o = quiet_opts();
  o.zdefs = true;
  Harness h("nosuch:::probe { } test:::tick { printf(\"ok\\n\"); }", o);
  EXPECT_EQ(h.matched, (std::vector<size_t>{0, 2}));
  h.fire(h.tick);
  EXPECT_EQ(h.out.text(), "ok\n");
}

TEST(EngineTest, ClausesRunInProgramOrderAndPredicatesFilter) {
  Harness h(R"D(
    test:::tick { printf("a%d ", arg0); }
    test:::tick /arg0 > 1/ { printf("b%d ", arg0); }
    test:::tock { printf("c "); }
    test:::tick { printf("d\n"); }
  )D");
  h.fire(h.tick, 1);
  h.fire(h.tick, 2);
  h.fire(h.tock);
  EXPECT_EQ(h.out.text(), "a1 d\na2 b2 d\nc ");
}

TEST(EngineTest, RecordsOfProbesWithoutClausesAreIgnored) {
  Harness h("test:::tick { printf(\"x\"); }");
  h.fire(h.tock);
  h.fire(9999);  // not even in the catalog
  EXPECT_EQ(h.out.text(), "");
}

Options unquiet_opts(bool testing) {
  Options o;
  o.testing = testing;
  return o;
}

TEST(EngineTest, ProbeLineWhenNotQuiet) {
  Harness h("test:::tick { trace(arg0); }", unquiet_opts(false));
  h.fire(h.tick, 7);
  std::string out = h.out.text();
  EXPECT_NE(out.find("CPU"), std::string::npos) << out;
  EXPECT_NE(out.find("FUNCTION:NAME"), std::string::npos) << out;
  EXPECT_NE(out.find("func:tick"), std::string::npos) << out;
  EXPECT_NE(out.find("7"), std::string::npos) << out;
}

// dtrace(1) under _DTRACE_TESTING (dtrace-utils' test suite) leaves out the CPU and ID columns.
TEST(EngineTest, ProbeLineInTestingModeHasNoCpuOrIdColumn) {
  Harness h("test:::tick { printf(\"seven\"); }", unquiet_opts(true));
  h.fire(h.tick, 7);
  EXPECT_EQ(h.out.text(), std::string(32 - 13, ' ') + "FUNCTION:NAME\n" + std::string(32 - 9, ' ') +
                              "func:tick seven\n");
}

TEST(EngineTest, EmptyClauseUnderQuietPrintsNothing) {
  Harness h("test:::tick { }");
  for (int i = 0; i < 10; ++i) h.fire(h.tick);
  EXPECT_EQ(h.out.text(), "");
}

TEST(EngineTest, SelfVariablesArePerTargetAndThread) {
  Harness h(R"D(test:::tick { self->n++; printf("%s %d %d\n", vmname, tid, self->n); })D");
  h.fire(h.tick, 0, 0, /*tid=*/5, /*target=*/0);
  h.fire(h.guest_tick, 0, 0, /*tid=*/5, /*target=*/1);
  h.fire(h.tick, 0, 0, /*tid=*/5, /*target=*/0);
  h.fire(h.tick, 0, 0, /*tid=*/6, /*target=*/0);
  h.fire(h.guest_tick, 0, 0, /*tid=*/5, /*target=*/1);
  EXPECT_EQ(h.out.text(), "host 5 1\nvm1 5 1\nhost 5 2\nhost 6 1\nvm1 5 2\n");
}

TEST(EngineTest, SameTidDifferentTargetOnSameProbeDoesNotShareSelf) {
  // The record's target decides, not the probe: a transport may deliver one probe id for
  // several targets' threads.
  Harness h(R"D(test:::tick { self->n += arg0; printf("%d\n", self->n); })D");
  h.fire(h.tick, 10, 0, 7, 0);
  h.fire(h.tick, 1, 0, 7, 3);
  h.fire(h.tick, 10, 0, 7, 0);
  EXPECT_EQ(h.out.text(), "10\n1\n20\n");
}

TEST(EngineTest, AssigningZeroFreesSelfAndArrayElements) {
  Harness h(R"D(
    test:::tick { self->x = arg0; a[arg1] = arg0; }
    test:::tock { printf("%d %d\n", self->x, a[arg1]); }
  )D");
  h.fire(h.tick, 5, 1);
  h.fire(h.tock, 0, 1);
  h.fire(h.tick, 0, 1);
  h.fire(h.tock, 0, 1);
  EXPECT_EQ(h.out.text(), "5 5\n0 0\n");
}

TEST(EngineTest, ThisVariablesLiveForOneFiring) {
  Harness h(R"D(
    test:::tick { this->v = this->v + arg0; }
    test:::tick { printf("%d\n", this->v); }
  )D");
  h.fire(h.tick, 3);
  h.fire(h.tick, 4);
  EXPECT_EQ(h.out.text(), "3\n4\n");
}

TEST(EngineTest, ExitStopsProcessing) {
  Harness h("test:::tick { printf(\"t%d\\n\", arg0); } test:::tick /arg0 == 2/ { exit(3); }");
  EXPECT_FALSE(h.eng->exited());
  h.fire(h.tick, 1);
  h.fire(h.tick, 2);
  EXPECT_TRUE(h.eng->exited());
  EXPECT_EQ(h.eng->exit_status(), 3);
  h.fire(h.tick, 3);  // ignored after exit()
  EXPECT_EQ(h.out.text(), "t1\nt2\n");
}

TEST(EngineTest, BeginFiresTheBeginProbe) {
  Harness h("BEGIN { printf(\"hello %s\\n\", execname); exit(0); }");
  h.eng->begin();
  EXPECT_TRUE(h.eng->exited());
  EXPECT_EQ(h.eng->exit_status(), 0);
  EXPECT_EQ(h.out.text(), "hello vtrace\n");
}

TEST(EngineTest, FaultFiresErrorAndTheScriptGoesOn) {
  Harness h(R"D(
    test:::tick { printf("before "); x = arg0 / arg1; printf("after\n"); }
    test:::tick { printf("next %d\n", arg0); }
    ERROR { printf("ERROR probe=%d clause=%d fault=%d\n", arg1, arg2, arg4); }
  )D");
  h.fire(h.tick, 6, 0);
  EXPECT_EQ(h.eng->error_count(), 1u);
  // The faulting clause's output is discarded; ERROR runs (with the probe's id and the clause
  // program's number, as Oracle's dtrace); the next clause still runs.
  const std::string error_line =
      "ERROR probe=" + std::to_string(h.tick) + " clause=0 fault=4\nnext 6\n";
  EXPECT_EQ(h.out.text(), error_line);
  std::string err = h.err.text();
  EXPECT_NE(err.find("vtrace: error in dt_clause_0 for probe ID " + std::to_string(h.tick) +
                     " (test:mod:func:tick): divide-by-zero at DIF offset "),
            std::string::npos)
      << err;
  h.fire(h.tick, 6, 3);
  EXPECT_EQ(h.eng->error_count(), 1u);
  EXPECT_EQ(h.out.text(), error_line + "before after\nnext 6\n");
  EXPECT_FALSE(h.eng->exited());
}

TEST(EngineTest, FaultInPredicateSkipsTheClause) {
  Harness h("test:::tick /(arg0 / arg1)/ { printf(\"x\"); }");
  h.fire(h.tick, 1, 0);
  EXPECT_NE(h.err.text().find("divide-by-zero"), std::string::npos) << h.err.text();
  EXPECT_EQ(h.out.text(), "");
}

TEST(EngineTest, FaultInErrorClauseDoesNotRecurse) {
  Harness h(R"D(
    test:::tick { x = arg0 / arg1; }
    ERROR { y = arg1 / arg0; printf("never\n"); }  /* ERROR's arg0 is 0 */
  )D");
  h.fire(h.tick, 1, 0);
  EXPECT_EQ(h.eng->error_count(), 2u);
  EXPECT_EQ(h.out.text(), "");
}

// A subroutine's fault is named in the error (substr() outside its string is not one: empty,
// as in DTrace).
TEST(EngineTest, SubroutineFaultNamesTheFault) {
  Harness h("test:::tick { trace(lltostr(arg0, 1)); trace(substr(\"abc\", arg0)); }");
  h.fire(h.tick, 10);
  EXPECT_NE(h.err.text().find("error in dt_clause_0"), std::string::npos) << h.err.text();
  EXPECT_EQ(h.err.text().find("substr"), std::string::npos) << h.err.text();
}

TEST(EngineTest, EndAndAggregationsAtFinish) {
  Harness h(R"D(
    test:::tick, test:::tock { @calls[probefunc] = count(); }
    END { printf("end\n"); }
  )D");
  h.fire(h.tick);
  h.fire(h.tick);
  h.fire(h.tock);
  EXPECT_EQ(h.out.text(), "");
  EXPECT_EQ(h.eng->aggregation(0).size(), 2u);
  h.eng->finish();
  // END runs first, then every aggregation not yet printed, sorted by value.
  std::string row_other = "  other" + std::string(50 - 5, ' ') + std::string(16, ' ') + "1\n";
  std::string row_func = "  func" + std::string(50 - 4, ' ') + std::string(16, ' ') + "2\n";
  EXPECT_EQ(h.out.text(), "end\n\n" + row_other + row_func);
}

TEST(EngineTest, FinishFiresEndEvenAfterExit) {
  Harness h("test:::tick { exit(1); } END { printf(\"end\\n\"); }");
  h.fire(h.tick);
  ASSERT_TRUE(h.eng->exited());
  h.eng->finish();
  EXPECT_EQ(h.out.text(), "end\n\n");  // dtrace(1)'s newline at the end of the run
  EXPECT_TRUE(h.eng->exited());
  EXPECT_EQ(h.eng->exit_status(), 1);
  h.eng->finish();  // END fires once, and the newline is printed once
  EXPECT_EQ(h.out.text(), "end\n\n");
}

TEST(EngineTest, PrintedAggregationIsNotPrintedAgainAtFinish) {
  Harness h(R"D(
    test:::tick { @s = sum(arg0); }
    test:::tock { printa("sum=%@d\n", @s); }
  )D");
  h.fire(h.tick, 5);
  h.fire(h.tick, 6);
  h.fire(h.tock);
  h.eng->finish();
  EXPECT_EQ(h.out.text(), "sum=11\n\n");  // the end of the run's newline, no aggregation
}

TEST(EngineTest, QuantizeThroughTheEngine) {
  Harness h("test:::tick { @q = quantize(arg0); }");
  for (int64_t v : {1, 2, 3, 8}) h.fire(h.tick, v);
  h.eng->finish();
  std::string out = h.out.text();
  EXPECT_NE(out.find("value  ------------- Distribution ------------- count"), std::string::npos)
      << out;
  EXPECT_EQ(h.eng->aggregation(0).size(), 1u);
}

TEST(EngineTest, SpeculationCommitAndDiscard) {
  Harness h(R"D(
    test:::tick { self->spec = speculation(); }
    test:::tick { speculate(self->spec); printf("spec %d\n", arg0); }
    test:::tock /arg0 == 1/ { commit(self->spec); self->spec = 0; }
    test:::tock /arg0 == 0/ { discard(self->spec); self->spec = 0; }
  )D");
  h.fire(h.tick, 1);
  EXPECT_EQ(h.out.text(), "");
  h.fire(h.tock, 1);
  EXPECT_EQ(h.out.text(), "spec 1\n");
  h.fire(h.tick, 2);
  h.fire(h.tock, 0);
  EXPECT_EQ(h.out.text(), "spec 1\n");
  EXPECT_EQ(h.eng->error_count(), 0u);
}

TEST(EngineTest, SpeculationBufferExhaustedFiresError) {
  Options o = quiet_opts();
  o.specsize = 16;
  Harness h(R"D(
    test:::tick { self->spec = speculation(); }
    test:::tick { speculate(self->spec); printf("%d\n", 1); }
  )D",
            o);
  h.fire(h.tick);
  EXPECT_EQ(h.eng->error_count(), 1u);
  EXPECT_NE(h.err.text().find("speculation buffer exhausted"), std::string::npos) << h.err.text();
}

TEST(EngineTest, DynvarsizeDropsAreReportedAtFinish) {
  Options o = quiet_opts();
  o.dynvarsize = 1024;
  Harness h("test:::tick { a[arg0] = 1; }", o);
  for (int i = 0; i < 1000; ++i) h.fire(h.tick, i);
  h.eng->finish();
  EXPECT_NE(h.err.text().find("dynamic variable drop"), std::string::npos) << h.err.text();
}

// aggsize bounds aggregations (keys and values of all of them); drops are reported as they
// happen (report_drops(), called by the tracing loop) and at the end, each count once.
TEST(EngineTest, AggsizeDropsAreReportedAsTheyHappenAndAtFinish) {
  Options o = quiet_opts();
  o.aggsize = 4096;
  Harness h("test:::tick { @[arg0] = count(); } test:::tock { @[0] = count(); }", o);
  for (int i = 0; i < 1000; ++i) h.fire(h.tick, i);
  const uint64_t first = h.eng->aggregation_drops();
  EXPECT_GT(first, 800u);
  h.eng->report_drops();
  EXPECT_EQ(h.err.text(), "vtrace: " + std::to_string(first) + " aggregation drops\n");
  h.eng->report_drops();  // nothing new: nothing printed
  EXPECT_EQ(h.err.text(), "vtrace: " + std::to_string(first) + " aggregation drops\n");
  h.fire(h.tick, 5000);
  h.fire(h.tock);  // key 0 is held: it still counts
  h.eng->finish();
  EXPECT_NE(h.err.text().find("\nvtrace: 1 aggregation drop\n"), std::string::npos) << h.err.text();
  EXPECT_NE(h.out.text().find(" 0                2\n"), std::string::npos) << h.out.text();
}

TEST(EngineTest, DefaultAggsizeHoldsManyKeys) {
  Harness h("test:::tick { @[arg0] = count(); }");
  for (int i = 0; i < 20000; ++i) h.fire(h.tick, i);
  EXPECT_EQ(h.eng->aggregation_drops(), 0u);
}

TEST(EngineTest, GlobalsPersistAcrossRecords) {
  Harness h(
      "int n; string last; test:::tick { n += arg0; last = probefunc; } "
      "END { printf(\"%d %s\\n\", n, last); }");
  for (int i = 1; i <= 100; ++i) h.fire(h.tick, i);
  h.eng->finish();
  EXPECT_EQ(h.out.text(), "5050 func\n\n");
}

TEST(EngineTest, PragmaQuietFromTheScript) {
  Harness h("#pragma D option quiet\ntest:::tick { trace(1); }", Options{});
  EXPECT_TRUE(h.eng->options().quiet);
  h.fire(h.tick);
  EXPECT_EQ(h.out.text(), "1");
}

TEST(EngineTest, DestructiveActionNeedsW) {
  EXPECT_THROW(Harness("test:::tick { system(\"true\"); }"), lang::CompileError);
  Options o = quiet_opts();
  o.destructive = true;
  EXPECT_NO_THROW(Harness("test:::tick { system(\"true\"); }", o));
}

TEST(EngineTest, BadPrintfFormatIsACompileError) {
  EXPECT_THROW(Harness("test:::tick { printf(\"%d\\n\", probefunc); }"), lang::CompileError);
}

}  // namespace
}  // namespace vtrace::engine
