#include "engine/engine.h"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "clock/host_clock.h"
#include "engine/text_consumer.h"
#include "sys/process_facts.h"
#include "sys/process_memory.h"

namespace vtrace::engine {

namespace {

AggDef to_agg_def(const bytecode::AggInfo& a) {
  AggDef d;
  d.name = a.name;
  d.func = static_cast<AggFunc>(a.func);
  d.key_types = a.key_types;
  d.base = a.base, d.limit = a.limit, d.step = a.step;
  d.factor = a.factor, d.low = a.low, d.high = a.high, d.nsteps = a.nsteps;
  return d;
}

inline const char* as_str(int64_t v) {
  return reinterpret_cast<const char*>(v);
}

// The DTRACEFLT_* code ERROR's arg4 carries, as in dtrace's <sys/dtrace.h>: DTRACEFLT_ILLOP (3),
// DTRACEFLT_DIVZERO (4), DTRACEFLT_NOSCRATCH (5); faults dtrace has no code for are
// DTRACEFLT_ILLOP, except a full speculation buffer (a drop in dtrace): DTRACEFLT_UNKNOWN (0).
int64_t dtrace_fault_code(bytecode::Fault f) {
  switch (f) {
    case bytecode::Fault::DivideByZero:
      return 4;
    case bytecode::Fault::OutOfScratch:
      return 5;
    case bytecode::Fault::BadAddress:
      return 1;  // DTRACEFLT_BADADDR
    case bytecode::Fault::SpecExhausted:
    case bytecode::Fault::None:
      return 0;
    default:
      return 3;
  }
}

// printa() of several aggregations joins their rows by key: their keys must be alike
// (dtrace's D_PRINTA_AGGKEY and D_PRINTA_AGGPROTO messages).
std::string joined_keys_error(const bytecode::Module& mod, const bytecode::Action& a) {
  if (a.more_aggs.empty()) return "";
  const bytecode::AggInfo& first = mod.aggs[a.agg];
  for (uint32_t other : a.more_aggs) {
    const bytecode::AggInfo& o = mod.aggs[other];
    auto keys = [](size_t n) { return std::to_string(n) + (n == 1 ? " key" : " keys"); };
    if (o.key_types.size() != first.key_types.size())
      return "printa( ): @" + first.name + " and @" + o.name +
             " do not have matching key signatures: @" + first.name + " has " +
             keys(first.key_types.size()) + ", @" + o.name + " has " + keys(o.key_types.size());
    for (size_t k = 0; k < o.key_types.size(); ++k) {
      const lang::Type &x = first.key_types[k], &y = o.key_types[k];
      if (x.is_string() == y.is_string() && x.is_stack() == y.is_stack()) continue;
      const std::string n = std::to_string(k + 1);
      return "printa( ): @" + o.name + "[ ] key #" + n + " is incompatible with @" + first.name +
             ":\n      " + first.name + " key #" + n + ": " + x.name() + "\n      " + o.name +
             " key #" + n + ": " + y.name();
    }
  }
  return "";
}

// A description in dtrace's provider:module:function:name spelling, with the target when given.
std::string describe(const bytecode::ProbeSpec& s) {
  std::string d = s.provider + ":" + s.module + ":" + s.function + ":" + s.name;
  return s.target.empty() ? d : s.target + ":" + d;
}

// How vtrace spells a tracepoint written as bpftrace would, or "". DTrace fills fewer than four
// fields from the right: tracepoint:syscalls:sys_enter_openat reads as module:function:name.
std::string vtrace_spelling(const bytecode::ProbeSpec& s) {
  if (!s.provider.empty() || s.module != "tracepoint" || s.function.empty()) return "";
  return "tracepoint:" + s.function + "::" + s.name;
}

}  // namespace

Engine::Engine(bytecode::Module module, const lang::Source& src, Options options, Catalog& catalog)
    : mod_(std::move(module)),
      src_(src),
      opts_(options),
      catalog_(catalog),
      text_(std::make_unique<TextConsumer>(*this, stdout)),
      consumer_(text_.get()),
      dynvars_(options.dynvarsize),
      scratch_(std::max<size_t>(64 * 1024, size_t{16} * options.strsize)),
      memory_(options.scratchsize, mod_.global_data_size, mod_.local_data_size) {
  globals_.resize(mod_.globals.size());
  locals_.resize(mod_.locals.size());
  specs_.configure(opts_.nspec, opts_.specsize, opts_.strsize);
  agg_budget_.capacity = opts_.aggsize;
  for (const auto& a : mod_.aggs)
    aggs_.push_back(std::make_unique<Aggregation>(to_agg_def(a), &agg_budget_, &stacks_));
  agg_printed_.assign(aggs_.size(), false);
  ctx_.module = &mod_;
  ctx_.strsize = opts_.strsize;
  ctx_.host = this;
  ctx_.globals = &globals_;
  ctx_.locals = &locals_;
  ctx_.scratch = &scratch_;
  ctx_.memory = &memory_;
}

Engine::~Engine() = default;

std::string Engine::check_buffers() const {
  const auto size = [](uint64_t n) { return std::to_string(n) + " byte" + (n == 1 ? "" : "s"); };
  for (const auto& a : aggs_)
    if (opts_.aggsize < a->smallest_entry())
      return "could not enable tracing: Enabling exceeds size of buffer (an entry of @" +
             a->def().name + " is at least " + size(a->smallest_entry()) + ", aggsize " +
             size(opts_.aggsize) + ")";
  return "";
}

void Engine::set_output(std::FILE* out) {
  text_->set_file(out);
}

void Engine::set_consumer(Consumer* c) {
  consumer_ = c != nullptr ? c : text_.get();
  broken_ = consumer_->error() != 0;
}

std::vector<size_t> Engine::enable() {
  for (const auto& a : mod_.const_allocas)
    if (a.size > opts_.scratchsize)
      throw lang::CompileError(src_, a.loc,
                               "alloca(" + std::to_string(a.size) +
                                   ") size larger than scratchsize " +
                                   std::to_string(opts_.scratchsize));
  formats_.resize(mod_.actions.size());
  for (size_t i = 0; i < mod_.actions.size(); ++i) {
    const bytecode::Action& a = mod_.actions[i];
    std::string err;
    if (a.kind == bytecode::ActionKind::System && !opts_.destructive)
      throw lang::CompileError(
          src_, a.loc, "system( ) is a destructive action: allow destructive actions with -w");
    if (!a.has_format) continue;
    if (!formats_[i].parse(a.format, err)) throw lang::CompileError(src_, a.loc, err);
    bool ok = a.kind == bytecode::ActionKind::Printa
                  ? formats_[i].check_printa(mod_.aggs[a.agg].key_types, err)
                  : formats_[i].check_args(a.arg_types, err);
    if (!ok) throw lang::CompileError(src_, a.loc, err);
    if (std::string e = joined_keys_error(mod_, a); !e.empty())
      throw lang::CompileError(src_, a.loc, e);
  }

  std::vector<size_t> per_clause;
  uint32_t epid = 0;
  for (uint32_t ci = 0; ci < mod_.clauses.size(); ++ci) {
    const bytecode::ClauseCode& c = mod_.clauses[ci];
    std::vector<bool> seen(catalog_.probes().size() + 1, false);
    size_t count = 0;
    for (const auto& spec : c.probes) {
      std::vector<uint32_t> ids = catalog_.match(spec);
      if (ids.empty() && !opts_.zdefs) {
        const std::string spelling = vtrace_spelling(spec);
        throw lang::CompileError(src_, spec.loc,
                                 "probe description " + describe(spec) +
                                     " does not match any probes" +
                                     (spelling.empty() ? "" : "; vtrace spells it " + spelling));
      }
      seen.resize(catalog_.probes().size() + 1, false);
      for (uint32_t id : ids) {
        if (seen[id]) continue;  // a probe named twice by one clause runs it once
        seen[id] = true;
        if (by_probe_.size() <= id) by_probe_.resize(id + 1);
        by_probe_[id].push_back({++epid, ci, id});
        ++count;
      }
    }
    per_clause.push_back(count);
  }
  next_epid_ = epid + 1;
  refresh_names();
  return per_clause;
}

void Engine::refresh_names() {
  // The catalog's strings may have moved (its vector grew): point at the current ones.
  names_.assign(catalog_.probes().size() + 1, {});
  for (const auto& p : catalog_.probes())
    names_[p.id] = {p.vmname.c_str(), p.provider.c_str(), p.module.c_str(), p.function.c_str(),
                    p.name.c_str()};
}

std::vector<uint32_t> Engine::enable_new(uint32_t first_id) {
  std::vector<uint32_t> added;
  const uint32_t end = catalog_.next_id();
  if (first_id >= end) return added;
  if (by_probe_.size() < end) by_probe_.resize(end);
  for (uint32_t ci = 0; ci < mod_.clauses.size(); ++ci) {
    for (uint32_t id = first_id; id < end; ++id) {
      const ProbeInfo& p = catalog_.probe(id);
      for (const auto& spec : mod_.clauses[ci].probes) {
        if (!Catalog::matches(spec, p)) continue;
        if (by_probe_[id].empty()) added.push_back(id);
        by_probe_[id].push_back({next_epid_++, ci, id});
        break;  // a probe named twice by one clause runs it once
      }
    }
  }
  refresh_names();
  std::sort(added.begin(), added.end());
  return added;
}

void Engine::add_aggregation_source(std::vector<uint32_t> aggs, std::function<void()> merge) {
  agg_sources_.push_back({std::move(aggs), std::move(merge)});
}

void Engine::sync_aggregations() {
  for (const AggSource& s : agg_sources_)
    for (uint32_t a : s.aggs)
      if (a < aggs_.size()) aggs_[a]->trunc_all();
  for (const AggSource& s : agg_sources_) s.merge();
}

void Engine::run_at_probe(uint32_t clause) {
  for (auto& ecbs : by_probe_)
    ecbs.erase(std::remove_if(ecbs.begin(), ecbs.end(),
                              [clause](const Ecb& e) { return e.clause == clause; }),
               ecbs.end());
}

std::vector<uint32_t> Engine::clauses_on(uint32_t probe) const {
  std::vector<uint32_t> out;
  if (probe < by_probe_.size())
    for (const Ecb& e : by_probe_[probe]) out.push_back(e.clause);
  return out;
}

std::vector<uint32_t> Engine::enabled_probes() const {
  std::vector<uint32_t> ids;
  for (uint32_t id = 0; id < by_probe_.size(); ++id)
    if (!by_probe_[id].empty()) ids.push_back(id);
  return ids;
}

Record Engine::host_record(uint32_t probe) {
  Record r;
  r.probe = probe;
  r.pid = getpid();
  r.tid = static_cast<int32_t>(syscall(SYS_gettid));
  int cpu = sched_getcpu();
  r.cpu = cpu < 0 ? 0 : cpu;
  r.timestamp = r.raw_timestamp = clock::host_now_ns();
  std::strncpy(r.execname, "vtrace", sizeof(r.execname) - 1);
  return r;
}

void Engine::begin() {
  fire(kProbeBegin, host_record(kProbeBegin));
}

void Engine::process(const Record& rec) {
  if (exited_ || output_broken()) return;
  fire(rec.probe, rec);
}

void Engine::fire(uint32_t probe, const Record& rec) {
  if (probe >= by_probe_.size() || by_probe_[probe].empty()) return;
  if (!mod_.locals.empty()) locals_.clear();  // this-> lives for one probe firing
  if (mod_.local_data_size != 0) memory_.reset_locals();
  ctx_.record = &rec;
  ctx_.names = names_[probe];
  // report_fault() restores these after an ERROR firing, so they hold for every ECB.
  for (const Ecb& ecb : by_probe_[probe]) run_ecb(ecb, rec);
}

void Engine::run_ecb(const Ecb& ecb, const Record& rec) {
  const bytecode::ClauseCode& clause = mod_.clauses[ecb.clause];
  cur_ecb_ = &ecb;
  ctx_.epid = ecb.epid;
  scratch_.reset();
  memory_.reset_scratch();
  firing_.clear();
  committed_.clear();
  line_emitted_ = false;
  spec_id_ = 0;
  bytecode::ExecResult res = bytecode::execute(clause, ctx_);
  if (res.fault != bytecode::Fault::None) {
    report_fault(ecb, rec, res);
    return;
  }
  if (res.predicate_false) return;
  if (!opts_.quiet && clause.prints_probe_line && !line_emitted_ && spec_id_ == 0) begin_data();
  firing_.line_end = line_emitted_;
  if (!firing_.empty() || !committed_.empty()) deliver(ecb, rec);
}

void Engine::deliver(const Ecb& ecb, const Record& rec) {
  // ERROR, fired below for a full buffer, runs clauses of its own: what this clause committed
  // is delivered after it either way.
  std::vector<Firing> committed;
  if (!committed_.empty()) committed.swap(committed_);
  if (!firing_.empty()) stamp(firing_);
  if (spec_id_ > 0) {
    if (!firing_.empty()) {
      firing_.own();
      if (!specs_.append(spec_id_, std::move(firing_))) {
        const bytecode::ClauseCode& clause = mod_.clauses[ecb.clause];
        bytecode::ExecResult full;
        full.fault = bytecode::Fault::SpecExhausted;
        full.pc = static_cast<uint32_t>(clause.code.size() - 1);
        report_fault(ecb, rec, full);
      }
    }
  } else if (spec_id_ < 0) {
    if (!firing_.empty()) specs_.count_drop();
  } else if (!firing_.empty()) {
    to_consumer(firing_);
  }
  for (const Firing& f : committed) to_consumer(f);
}

void Engine::to_consumer(const Firing& f) {
  if (broken_) return;
  consumer_->firing(f);
  broken_ = consumer_->error() != 0;
}

bool Engine::flush_output() {
  broken_ = !consumer_->flush();
  return !broken_;
}

void Engine::stamp(Firing& f) const {
  const Record& rec = *ctx_.record;
  f.epid = cur_ecb_->epid;
  f.clause = cur_ecb_->clause;
  f.probe = cur_ecb_->probe;
  f.target = rec.target;
  f.pid = rec.pid;
  f.tid = rec.tid;
  f.cpu = rec.cpu;
  f.timestamp = rec.timestamp;
  f.clock_bound_ns = rec.clock_bound_ns;
  std::memcpy(f.execname, rec.execname, sizeof f.execname);
}

void Engine::deliver_so_far() {
  if (spec_id_ != 0) return;  // speculated: it all goes to the buffer at the end
  if (!firing_.empty()) {
    stamp(firing_);
    to_consumer(firing_);
  }
  firing_.items.clear();
  firing_.values.clear();
  firing_.probe_line = false;  // delivered: the rest of the firing continues its line
}

namespace {

// "vtrace: 3 aggregation drops" for the count added since `reported` (then updated).
void report_count(std::FILE* err, uint64_t now, uint64_t& reported, const char* what,
                  const char* tail = "") {
  if (now <= reported) return;
  const uint64_t n = now - reported;
  reported = now;
  std::fprintf(err, "vtrace: %llu %s%s%s\n", static_cast<unsigned long long>(n), what,
               n == 1 ? "" : "s", tail);
}

}  // namespace

void Engine::report_drops() {
  report_count(err_, agg_budget_.drops, reported_.agg, "aggregation drop");
  report_count(err_, dynvars_.drops(), reported_.dynvar, "dynamic variable drop");
  report_count(err_, specs_.drops(), reported_.spec, "speculative drop");
  report_count(err_, specs_.unavailable(), reported_.spec_busy, "failed speculation",
               " (no speculative buffer available)");
  std::fflush(err_);
}

void Engine::begin_data() {
  if (opts_.quiet || line_emitted_ || !mod_.clauses[cur_ecb_->clause].prints_probe_line) return;
  line_emitted_ = true;
  firing_.probe_line = true;
}

uint32_t Engine::clause_program_number(const Ecb& ecb) const {
  uint32_t n = 0;
  for (uint32_t c = 0; c < ecb.clause; ++c)
    n += static_cast<uint32_t>(mod_.clauses[c].probes.size());
  // The first description of the clause that names this probe.
  const auto& specs = mod_.clauses[ecb.clause].probes;
  for (uint32_t d = 0; d < specs.size(); ++d)
    if (Catalog::matches(specs[d], catalog_.probe(ecb.probe))) return n + d;
  return n;
}

void Engine::report_fault(const Ecb& ecb, const Record& rec, const bytecode::ExecResult& res) {
  ++errors_;
  const ProbeInfo& p = catalog_.probe(ecb.probe);
  // As dtrace, an invalid address names itself.
  char addr[32] = "";
  if (res.fault == bytecode::Fault::BadAddress)
    std::snprintf(addr, sizeof addr, " (0x%llx)", static_cast<unsigned long long>(res.fault_addr));
  // Oracle's dtrace's line: its clause programs are numbered from 0, one per probe description
  // of each clause (clause_program_number()); the offset is the bytecode's.
  std::fprintf(err_, "vtrace: error in dt_clause_%u for probe ID %u (%s): %s%s at DIF offset %u\n",
               clause_program_number(ecb), p.id, p.full_name().c_str(),
               bytecode::fault_name(res.fault), addr, res.pc);
  if (spec_id_ > 0 && res.fault == bytecode::Fault::SpecExhausted) specs_.discard(spec_id_);
  if (in_error_) return;  // a fault in an ERROR clause does not fire ERROR again
  Record er = host_record(kProbeError);
  er.timestamp = rec.timestamp;
  // As Oracle's dtrace: the faulting probe's id and its clause program's number.
  er.args[1] = ecb.probe;
  er.args[2] = clause_program_number(ecb);
  er.args[3] = res.pc;
  er.args[4] = dtrace_fault_code(res.fault);
  er.args[5] = static_cast<int64_t>(res.fault_addr);
  in_error_ = true;
  // Save the interrupted firing's state: ERROR runs clauses of its own.
  const Record* saved_rec = ctx_.record;
  bytecode::ProbeNames saved_names = ctx_.names;
  fire(kProbeError, er);
  ctx_.record = saved_rec;
  ctx_.names = saved_names;
  in_error_ = false;
}

void Engine::finish() {
  if (!end_fired_) {
    end_fired_ = true;
    bool was_exited = exited_;
    exited_ = false;
    fire(kProbeEnd, host_record(kProbeEnd));
    exited_ = was_exited || exited_;
  }
  // Every aggregation not printed yet goes to the consumer at the end of the run.
  if (!output_finished_) {
    output_finished_ = true;
    sync_aggregations();
    const AggSortOptions sort = agg_sort();
    std::vector<std::shared_ptr<const AggSnapshot>> rest;
    for (size_t i = 0; i < aggs_.size(); ++i)
      if (!agg_printed_[i] && aggs_[i]->size() > 0)
        rest.push_back(aggs_[i]->snapshot(static_cast<uint32_t>(i), sort));
    if (!broken_) consumer_->end(rest);
  }
  flush_output();
  report_drops();
}

// --- bytecode::Host
// -------------------------------------------------------------------------------

bytecode::Fault Engine::builtin(bytecode::Builtin b, int64_t& v) {
  const Record& rec = *ctx_.record;
  v = 0;
  if (b == bytecode::Builtin::Walltimestamp) {
    v = static_cast<int64_t>(clock::wall_now_ns());
    return bytecode::Fault::None;
  }
  if (b != bytecode::Builtin::Vtimestamp && b != bytecode::Builtin::Ppid &&
      b != bytecode::Builtin::Uid && b != bytecode::Builtin::Gid)
    return bytecode::Fault::None;
  // Read at the probe when the record carries its context.
  if (rec.context) {
    if (rec.other_thread) return bytecode::Fault::NotGathered;
    v = b == bytecode::Builtin::Vtimestamp ? static_cast<int64_t>(rec.vtime)
        : b == bytecode::Builtin::Ppid     ? rec.ppid
        : b == bytecode::Builtin::Uid      ? rec.uid
                                           : rec.gid;
    return bytecode::Fault::None;
  }
  if (rec.guest || rec.target != 0 || rec.pid != getpid()) {
    // Another process's record without its context (a probe.h site's): its credentials as
    // /proc has them while it runs (a site does not record them); its CPU time, and anything
    // of a guest's, was not read where it fired.
    if (rec.guest || b == bytecode::Builtin::Vtimestamp) return bytecode::Fault::NotGathered;
    uint32_t uid = 0, gid = 0;
    int32_t ppid = 0;
    if (!sys::read_credentials(rec.pid, uid, gid, ppid)) return bytecode::Fault::NotGathered;
    v = b == bytecode::Builtin::Ppid ? ppid : b == bytecode::Builtin::Uid ? uid : gid;
    return bytecode::Fault::None;
  }
  // The probe fired in vtrace itself (BEGIN, END, tick-N): these are vtrace's own.
  switch (b) {
    case bytecode::Builtin::Vtimestamp:
      v = static_cast<int64_t>(clock::read_ns(CLOCK_THREAD_CPUTIME_ID));
      break;
    case bytecode::Builtin::Ppid:
      v = getppid();
      break;
    case bytecode::Builtin::Uid:
      v = getuid();
      break;
    default:
      v = getgid();
      break;
  }
  return bytecode::Fault::None;
}

const std::string& Engine::dyn_key(uint32_t var, std::string_view tuple) {
  key_buf_.clear();
  key_buf_.append(reinterpret_cast<const char*>(&var), sizeof var);
  if (mod_.dynvars[var].scope == bytecode::VarScope::Thread) {
    // self-> variables are per (target, thread): two guests never share one.
    key_buf_.append(reinterpret_cast<const char*>(&ctx_.record->target), sizeof(uint32_t));
    key_buf_.append(reinterpret_cast<const char*>(&ctx_.record->tid), sizeof(int32_t));
  }
  key_buf_.append(tuple);
  return key_buf_;
}

int64_t Engine::load_dyn(uint32_t var, std::string_view tuple) {
  const DynValue* v = dynvars_.find(dyn_key(var, tuple));
  if (mod_.dynvars[var].type.is_string())
    return reinterpret_cast<int64_t>(v == nullptr ? "" : v->s.c_str());
  return v == nullptr ? 0 : v->i;
}

void Engine::store_dyn(uint32_t var, std::string_view tuple, int64_t value) {
  const std::string& key = dyn_key(var, tuple);
  if (mod_.dynvars[var].type.is_string()) {
    const char* s = as_str(value);
    dynvars_.store_str(key, std::string_view(s, strnlen(s, opts_.strsize - 1)));
  } else {
    dynvars_.store_int(key, value);
  }
}

void Engine::aggregate(uint32_t agg, std::string_view tuple, int64_t value, int64_t incr) {
  aggs_[agg]->update(tuple, value, incr);
}

int64_t Engine::speculation() {
  return specs_.allocate();
}

// The firing process's memory: the string the site copied when addr is that argument, else
// process_vm_readv of the target (vtrace itself for the dtrace provider), never a plain load.
bytecode::Fault Engine::copyinstr(uint64_t addr, size_t max_len, std::string& out) {
  const Record& rec = *ctx_.record;
  if (rec.context) {
    // Only what the probe copied: the memory may have changed since it fired.
    for (uint32_t i = 0; i < rec.ncopies; ++i) {
      const CopiedString& c = rec.copies[i];
      if (c.bytes || c.addr != addr || c.max != max_len) continue;
      if (c.len < 0) return bytecode::Fault::BadAddress;
      out.assign(c.str, static_cast<size_t>(c.len));
      return bytecode::Fault::None;
    }
    return bytecode::Fault::NotGathered;
  }
  const bool at_tail = addr == static_cast<uint64_t>(rec.args[rec.tail_arg % kRecordArgs]);
  if (rec.tail != nullptr && rec.tail_len > 0 && at_tail) {
    out.assign(rec.tail, strnlen(rec.tail, std::min<size_t>(rec.tail_len - 1, max_len)));
    return bytecode::Fault::None;
  }
  // A guest's memory is read only where its probe fired: what it could not read faults, what
  // it was not asked for was not gathered.
  if (rec.guest)
    return rec.tail_read && at_tail ? bytecode::Fault::BadAddress : bytecode::Fault::NotGathered;
  out.resize(max_len + 1);
  size_t n = sys::read_process_memory(rec.pid, addr, out.data(), max_len + 1, true);
  if (n == 0) return bytecode::Fault::BadAddress;
  size_t len = strnlen(out.data(), std::min(n, max_len));
  if (len == n && n < max_len) return bytecode::Fault::BadAddress;  // unreadable before the NUL
  out.resize(len);
  return bytecode::Fault::None;
}

// As copyinstr(): a record read at the probe has only what the probe copied, and copyin() asks
// for bytes no probe copies yet; a process that still runs is read with process_vm_readv.
bytecode::Fault Engine::copyin(uint64_t addr, size_t n, uint8_t* out) {
  const Record& rec = *ctx_.record;
  if (rec.context) {
    // Only what the probe copied (at most strsize - 1 bytes of each copyin()).
    for (uint32_t i = 0; i < rec.ncopies; ++i) {
      const CopiedString& c = rec.copies[i];
      if (!c.bytes || c.addr != addr || c.max != n) continue;
      if (c.len < 0 || static_cast<size_t>(c.len) != n) return bytecode::Fault::BadAddress;
      if (n != 0) std::memcpy(out, c.str, n);
      return bytecode::Fault::None;
    }
    return bytecode::Fault::NotGathered;
  }
  // The string the site copied for its argument holds the bytes there as they were at the probe.
  const uint64_t at = static_cast<uint64_t>(rec.args[rec.tail_arg % kRecordArgs]);
  if (rec.tail != nullptr && addr >= at && addr - at <= rec.tail_len &&
      n <= rec.tail_len - (addr - at)) {
    if (n != 0) std::memcpy(out, rec.tail + (addr - at), n);
    return bytecode::Fault::None;
  }
  if (rec.guest)
    return rec.tail_read && addr == at ? bytecode::Fault::BadAddress : bytecode::Fault::NotGathered;
  if (n == 0) return bytecode::Fault::None;
  if (sys::read_process_memory(rec.pid, addr, out, n, false) != n)
    return bytecode::Fault::BadAddress;
  return bytecode::Fault::None;
}

bytecode::Fault Engine::stack(bool user, uint32_t frames, int64_t& id) {
  const Record& rec = *ctx_.record;
  const GatheredStack& g = user ? rec.ustack : rec.kstack;
  if (rec.other_thread || (g.frames == nullptr && g.n >= 0)) return bytecode::Fault::NotGathered;
  size_t n = g.n > 0 && g.frames != nullptr ? static_cast<size_t>(g.n) : 0;
  if (frames != 0 && frames < n) n = frames;
  id = stacks_.intern(user, {rec.target, rec.pid, g.image}, g.frames, n, g.n < 0 ? g.n : 0);
  return bytecode::Fault::None;
}

bytecode::Fault Engine::symbol(bytecode::Subr which, uint64_t addr, std::string& out) {
  using S = bytecode::Subr;
  const Record& rec = *ctx_.record;
  const bool user = which == S::Ufunc || which == S::Usym || which == S::Umod || which == S::Uaddr;
  const char kind = which == S::Mod || which == S::Umod ? 'm' : 's';
  out = stacks_.symbol_text(kind, user, {rec.target, rec.pid, rec.ustack.image}, addr,
                            which == S::Uaddr);
  return bytecode::Fault::None;
}

void Engine::collect_args(uint32_t action, const int64_t* args, std::vector<FormatArg>& out) {
  const bytecode::Action& a = mod_.actions[action];
  for (size_t i = 0; i < a.arg_types.size(); ++i) {
    const lang::Type& t = a.arg_types[i];
    if (t.is_stack()) {
      out.push_back({t, args[i], {}, &stacks_});  // trace() and %k format the frames
    } else if (t.is_string()) {
      const char* s = as_str(args[i]);
      out.push_back({t, 0, std::string_view(s, strnlen(s, opts_.strsize - 1)), nullptr});
    } else {
      out.push_back({t, lang::narrow(args[i], t), {}, nullptr});
    }
  }
}

void Engine::add_item(FiringItem::Kind kind, uint32_t action, const int64_t* args) {
  begin_data();
  FiringItem it;
  it.kind = kind;
  it.action = action;
  it.first = static_cast<uint32_t>(firing_.values.size());
  if (args != nullptr) collect_args(action, args, firing_.values);
  it.count = static_cast<uint32_t>(firing_.values.size()) - it.first;
  firing_.items.push_back(std::move(it));
}

bytecode::Fault Engine::action(uint32_t index, const int64_t* args) {
  const bytecode::Action& a = mod_.actions[index];
  switch (a.kind) {
    case bytecode::ActionKind::Trace:
      add_item(FiringItem::Kind::Trace, index, args);
      break;
    case bytecode::ActionKind::Printf:
      add_item(FiringItem::Kind::Printf, index, args);
      break;
    case bytecode::ActionKind::Tracemem: {
      // size bytes of D memory; nbytes of them shown (all when absent, negative or larger).
      const uint8_t* p = memory_.at(static_cast<uint64_t>(args[0]), a.mem_size);
      if (p == nullptr) return bytecode::Fault::BadAddress;
      int64_t n = a.arg_types.size() > 1 ? args[1] : a.mem_size;
      if (n < 0 || n > a.mem_size) n = a.mem_size;
      add_item(FiringItem::Kind::Tracemem, index, nullptr);
      FormatArg bytes;
      bytes.type = lang::Type::str();
      bytes.s = std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
      firing_.values.push_back(bytes);
      firing_.items.back().count = 1;
      break;
    }
    case bytecode::ActionKind::Printa: {
      sync_aggregations();
      add_item(FiringItem::Kind::Printa, index, nullptr);
      FiringItem& it = firing_.items.back();
      it.snapshot = static_cast<uint32_t>(firing_.snapshots.size());
      const AggSortOptions sort = agg_sort();
      auto print = [&](uint32_t agg) {
        firing_.snapshots.push_back(aggs_[agg]->snapshot(agg, sort));
        agg_printed_[agg] = true;
        ++it.nsnapshots;
      };
      print(a.agg);
      for (uint32_t agg : a.more_aggs) print(agg);
      break;
    }
    case bytecode::ActionKind::System: {
      fmt_args_.clear();
      collect_args(index, args, fmt_args_);
      std::string cmd;
      formats_[index].format(cmd, fmt_args_);
      // Output so far goes first, so the command's output lands in order.
      deliver_so_far();
      flush_output();
      int rc = std::system(cmd.c_str());
      (void)rc;
      break;
    }
    case bytecode::ActionKind::Exit:
      begin_data();
      // The first exit() decides the status, as in dtrace: later clauses of the same firing
      // (an ERROR clause's exit(1) before them included) do not override it.
      if (!exited_) exit_status_ = static_cast<int>(args[0]);
      exited_ = true;
      break;
    case bytecode::ActionKind::Speculate:
      if (spec_id_ != 0 || !firing_.empty()) return bytecode::Fault::IllegalOp;
      if (args[0] == 0) {
        spec_id_ = -1;  // speculation() found no buffer: this clause's data is dropped
      } else {
        if (!specs_.valid(args[0])) return bytecode::Fault::BadSpeculation;
        // An inactive buffer (committed or discarded): dtrace drops the clause's data.
        spec_id_ = specs_.active(args[0]) ? args[0] : -1;
      }
      break;
    case bytecode::ActionKind::Commit:
    case bytecode::ActionKind::Discard:
      if (args[0] == 0) break;  // the ID of a failed speculation(): nothing to do
      if (!specs_.valid(args[0])) return bytecode::Fault::BadSpeculation;
      if (!specs_.active(args[0])) break;  // committed or discarded already: a no-op in dtrace
      if (a.kind == bytecode::ActionKind::Commit) {
        for (Firing& f : specs_.commit(args[0])) committed_.push_back(std::move(f));
      } else {
        specs_.discard(args[0]);
      }
      break;
    case bytecode::ActionKind::Clear:
      aggs_[a.agg]->clear();
      break;
    case bytecode::ActionKind::Trunc:
      if (a.arg_types.empty()) {
        aggs_[a.agg]->trunc_all();
      } else {
        aggs_[a.agg]->trunc(args[0]);
      }
      break;
    case bytecode::ActionKind::Normalize:
      if (args[0] <= 0) return bytecode::Fault::BadArgument;
      aggs_[a.agg]->normalize(args[0]);
      break;
    case bytecode::ActionKind::Denormalize:
      aggs_[a.agg]->denormalize();
      break;
  }
  return bytecode::Fault::None;
}

}  // namespace vtrace::engine
