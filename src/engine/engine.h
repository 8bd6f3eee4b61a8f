// The engine: runs a compiled D program against the stream of records from every target.
// It holds all D state (variables, aggregations, speculations), runs the enabled clauses of
// each record's probe in program order, and hands each firing's typed output to its consumer
// (consumer.h): dtrace(1)'s text by default, an exporter when one is set.
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bytecode/interpreter.h"
#include "bytecode/module.h"
#include "engine/aggregation.h"
#include "engine/catalog.h"
#include "engine/consumer.h"
#include "engine/dynvars.h"
#include "engine/options.h"
#include "engine/printf_format.h"
#include "engine/speculation.h"
#include "engine/stack_table.h"
#include "engine/symbolizer.h"
#include "lang/source.h"
#include "transport/record.h"

namespace vtrace::engine {

class Engine : public bytecode::Host {
 public:
  // `src` must outlive the engine (errors point into it).
  Engine(bytecode::Module module, const lang::Source& src, Options options, Catalog& catalog);
  ~Engine() override;

  // Checks formats and destructive actions, and enables every clause on the probes its
  // descriptions match. Throws lang::CompileError. Returns the number of enabled probes
  // (clause, probe) for each clause.
  std::vector<size_t> enable();
  // Clause `clause` runs where its probes fire (in the kernel, bpf/clause_program.h): the engine
  // no longer runs it for their records.
  void run_at_probe(uint32_t clause);
  // A source of partial aggregations kept where probes fire (the kernel's maps, a process's
  // shared memory): before aggregations print (printa, the end of the run), the engine empties
  // every aggregation some source holds and calls every source's `merge`, which adds its partial
  // states with aggregation(i).merge_partial(). A source holds every update of its aggregations
  // (the clauses that update them run only there).
  void add_aggregation_source(std::vector<uint32_t> aggs, std::function<void()> merge);
  // The clauses enabled on `probe`, in program order (indexes into module().clauses).
  std::vector<uint32_t> clauses_on(uint32_t probe) const;
  // Every probe some clause is enabled on.
  std::vector<uint32_t> enabled_probes() const;
  // Enables the clauses on probes the catalog gained since enable() (ids >= first_id: a guest
  // process that started after the script). Returns the newly enabled probe ids.
  std::vector<uint32_t> enable_new(uint32_t first_id);

  // Where dtrace(1)'s text goes (stdout by default).
  void set_output(std::FILE* out);
  // Another consumer instead of the text (an exporter, outliving the engine's output); nullptr
  // goes back to the text.
  void set_consumer(Consumer* c);
  // Who turns gathered addresses into symbols (stack(), ustack(), func(), ...); without one
  // they print as hex addresses. Must outlive the engine's output.
  void set_symbolizer(Symbolizer* s) { stacks_.set_symbolizer(s); }
  void set_error_output(std::FILE* err) { err_ = err; }

  // Fires dtrace:::BEGIN.
  void begin();
  // Runs the clauses enabled on rec.probe (nothing once exit() has run).
  void process(const Record& rec);
  // Fires dtrace:::END, prints the aggregations not printed yet and reports drops.
  void finish();

  // Prints the drops counted since the last report ("vtrace: N aggregation drops", dynamic
  // variable and speculative drops) on the error output. dtrace reports drops as it sees them
  // while tracing and at the end: the tracing loop calls this about once a second, finish() last.
  void report_drops();

  // Flushes the trace output. False once it cannot be written (the reader of a pipe went away,
  // as with `vtrace ... | head -1`, or a full disk): tracing should then stop. output_error() is
  // the errno of the failed write.
  bool flush_output();
  bool output_broken() const { return broken_; }
  int output_error() const { return consumer_->error(); }
  uint64_t aggregation_drops() const { return agg_budget_.drops; }
  // As dtrace's "Enabling exceeds size of buffer": "" when aggsize holds an entry of every
  // aggregation, else why tracing cannot start. (Any bufsize works: rings have at least 16
  // records whatever it says, transport::slots_for_bufsize.)
  std::string check_buffers() const;

  bool exited() const { return exited_; }
  int exit_status() const { return exit_status_; }
  uint64_t error_count() const { return errors_; }
  const Options& options() const { return opts_; }
  // The order aggregations print in (-x aggsortkey, aggsortrev, aggsortkeypos).
  AggSortOptions agg_sort() const {
    return {opts_.aggsortkey, opts_.aggsortrev, opts_.aggsortkeypos};
  }
  Catalog& catalog() { return catalog_; }
  const Catalog& catalog() const { return catalog_; }
  const bytecode::Module& module() const { return mod_; }
  // The parsed format of action `action` (printf, printa with a format); after enable().
  const PrintfFormat& format(uint32_t action) const { return formats_[action]; }
  Aggregation& aggregation(size_t i) { return *aggs_[i]; }

  // A record for a probe fired by the consumer itself (BEGIN, END, ERROR, profile ticks).
  static Record host_record(uint32_t probe);

 private:
  struct Ecb {
    uint32_t epid;
    uint32_t clause;
    uint32_t probe;
  };

  // bytecode::Host
  bytecode::Fault builtin(bytecode::Builtin b, int64_t& value) override;
  int64_t load_dyn(uint32_t var, std::string_view tuple) override;
  void store_dyn(uint32_t var, std::string_view tuple, int64_t value) override;
  bytecode::Fault action(uint32_t index, const int64_t* args) override;
  void aggregate(uint32_t agg, std::string_view tuple, int64_t value, int64_t incr) override;
  int64_t speculation() override;
  bytecode::Fault copyinstr(uint64_t addr, size_t max_len, std::string& out) override;
  bytecode::Fault copyin(uint64_t addr, size_t n, uint8_t* out) override;
  bytecode::Fault stack(bool user, uint32_t frames, int64_t& id) override;
  bytecode::Fault symbol(bytecode::Subr which, uint64_t addr, std::string& out) override;

  void fire(uint32_t probe, const Record& rec);
  void run_ecb(const Ecb& ecb, const Record& rec);
  // The number Oracle's dtrace gives the program of this enabling's clause and description.
  uint32_t clause_program_number(const Ecb& ecb) const;
  void report_fault(const Ecb& ecb, const Record& rec, const bytecode::ExecResult& res);
  void begin_data();  // before an action's output: the probe line when not quiet
  // Hands the firing so far to the consumer (before system(), whose output must come after it).
  void deliver_so_far();
  // The end of a clause that printed or committed something (out of run_ecb's hot path).
  __attribute__((noinline)) void deliver(const Ecb& ecb, const Record& rec);
  void to_consumer(const Firing& f);
  // Fills in the running clause's probe and its record's target, time and context.
  void stamp(Firing& f) const;
  const std::string& dyn_key(uint32_t var, std::string_view tuple);
  // Appends the action's arguments, typed, to `out`.
  void collect_args(uint32_t action, const int64_t* args, std::vector<FormatArg>& out);
  void add_item(FiringItem::Kind kind, uint32_t action, const int64_t* args);

  bytecode::Module mod_;
  const lang::Source& src_;
  Options opts_;
  Catalog& catalog_;
  std::unique_ptr<class TextConsumer> text_;
  Consumer* consumer_;
  bool broken_ = false;  // the consumer's output failed (consumer_->error() after a call)
  std::FILE* err_ = stderr;

  std::vector<std::vector<Ecb>> by_probe_;   // probe id -> ECBs in program order
  std::vector<bytecode::ProbeNames> names_;  // probe id -> names for built-ins
  uint32_t next_epid_ = 1;
  void refresh_names();
  AggBudget agg_budget_;  // aggsize, shared by every aggregation (declared before them)
  struct AggSource {
    std::vector<uint32_t> aggs;
    std::function<void()> merge;
  };
  std::vector<AggSource> agg_sources_;
  void sync_aggregations();
  StackTable stacks_;  // stack() values, which aggregations print (declared before them)
  std::vector<std::unique_ptr<Aggregation>> aggs_;
  std::vector<bool> agg_printed_;
  std::vector<PrintfFormat> formats_;  // per action (printf, printa with format, system)

  bytecode::VarStore globals_, locals_;
  DynVarStore dynvars_;
  Speculations specs_;
  bytecode::Scratch scratch_;
  bytecode::DataMemory memory_;
  bytecode::ExecContext ctx_;
  std::string key_buf_;
  std::vector<FormatArg> fmt_args_;

  // Output of the clause now running, handed to the consumer when it completes without a fault.
  const Ecb* cur_ecb_ = nullptr;
  Firing firing_;
  std::vector<Firing> committed_;  // commit()ted by the running clause: delivered after it
  bool line_emitted_ = false;      // the firing has its probe line (maybe delivered already)
  int64_t spec_id_ = 0;            // speculate(id) of the running clause; -1 = speculate(0)

  bool exited_ = false;
  bool end_fired_ = false;
  bool output_finished_ = false;  // finish() printed its newline and aggregations
  bool in_error_ = false;
  int exit_status_ = 0;
  uint64_t errors_ = 0;

  // Drop counts already reported by report_drops().
  struct Reported {
    uint64_t agg = 0, dynvar = 0, spec = 0, spec_busy = 0;
  } reported_;
};

}  // namespace vtrace::engine
