// USDT probes of unmodified binaries as vtrace probes. Discovery reads the `.note.stapsdt` notes
// of a process's executable and mapped libraries (-p), of a program about to run and the
// libraries it needs (-c), or of a file named by a description (`usdt:/path/to/bin:prov:name`,
// as bpftrace spells it). A process's probes are "pidPID:PROVIDER:MODULE:FUNCTION:NAME" (the
// process name works as the target too; `PROVIDER$target` / "postgresql1234" names them as
// DTrace does); a file's are "host:usdt:/path/to/bin:PROVIDER:NAME" and fire in every process.
// Attaching opens one uprobe perf event per (probe site, process), inherited by the process's
// children, or one system-wide for a file's probe, with the site's semaphore counted by the
// kernel (ref_ctr_offset). A BPF program on it (bpf/usdt_program.h) evaluates the arguments from
// the probed thread's registers and memory and gathers the strings copyinstr() will ask for and
// the stacks, while the thread is stopped at the probe, into one BPF ring; poll() turns those
// records into vtrace::Records.
#pragma once
#include <sys/types.h>

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "bpf/clause_needs.h"
#include "bpf/clause_program.h"
#include "bpf/gather_parse.h"
#include "bpf/gather_plan.h"
#include "bpf/gather_ring.h"
#include "bpf/kernel_layout.h"
#include "engine/catalog.h"
#include "sys/elf_symbols.h"
#include "sys/perf_ring.h"
#include "sys/unique_fd.h"
#include "targets/host/gathered_context.h"
#include "targets/host/usdt_args.h"
#include "targets/host/usdt_notes.h"
#include "targets/target.h"
#include "transport/record.h"

namespace vtrace::targets::host {

// One probe site in one file.
struct UsdtSite {
  std::string path;
  uint64_t offset = 0;          // file offset of the probe's nop (a function's first instruction)
  uint64_t ref_ctr_offset = 0;  // file offset of the semaphore; 0 = none
  std::vector<UsdtArg> args;
  bool args_ok = true;    // false: the spec did not parse; arguments read as 0
  bool retprobe = false;  // a uretprobe: fires when the function returns (pid provider :return)
  // Arguments no program can read here, as Record::unread_args bits (a pid return probe's arg0,
  // DTrace's offset of the returning instruction, which a uretprobe does not see).
  uint16_t unknown_args = 0;
};

// A catalog probe: its sites and where it fires.
struct UsdtProbe {
  uint32_t id = 0;
  pid_t pid = 0;  // the process; 0 = every process (a file's probe)
  uint32_t target_index = 0;
  std::vector<size_t> sites;  // indices into UsdtTargets' sites
};

struct UsdtStats {
  uint64_t samples = 0, lost = 0, malformed = 0;
  uint64_t bad_specs = 0;
};

class UsdtTargets : public Target {
 public:
  UsdtTargets();
  ~UsdtTargets();
  UsdtTargets(const UsdtTargets&) = delete;
  UsdtTargets& operator=(const UsdtTargets&) = delete;

  // The probes of a live process: its executable and every shared library it maps.
  // False with `error` when the process cannot be read.
  bool add_process(pid_t pid, engine::Catalog& catalog, std::string& error);
  // The probes of a program about to run as `pid` (held before exec): `path` and the libraries
  // it needs (DT_NEEDED, searched in its run path and the system directories).
  bool add_command(pid_t pid, const std::string& path, engine::Catalog& catalog,
                   std::string& error);
  // Lets descriptions name a file's probes: "usdt:/path/to/bin:provider:name". A file that
  // cannot be read or has no notes is a compile error.
  void install_on_demand(engine::Catalog& catalog);

  // What the clauses enabled on a probe need gathered where it fires.
  using NeedsFn = std::function<bpf::ClauseNeeds(uint32_t probe)>;
  // Attaches every probe in `enabled` that is ours, gathering what `needs` says (strings of
  // `strsize` bytes) into a ring of `bufsize` bytes. False with `error` (a BPF or
  // perf_event_open failure, with its cause and fix).
  bool enable(const std::vector<uint32_t>& enabled, const NeedsFn& needs, uint64_t bufsize,
              uint32_t strsize, std::string& error);
  const char* name() const override { return "usdt"; }
  bool enable(const EnableRequest& req, std::string& error) override;
  bool active() const override { return ring_ != nullptr; }
  // Reads every record waiting in the ring into `sink`.
  size_t poll(RecordSink& sink, uint64_t now_ns) override;
  // All stamped before the last poll began, but for a record a CPU was writing then.
  uint64_t watermark() const override { return watermark_; }
  // One BPF ring for every CPU: records come in reservation order, not quite time order.
  bool ordered() const override { return false; }
  // Reads what is left, then disables and closes every event (the kernel drops the semaphore
  // counts).
  void drain(RecordSink& sink) override;
  // Lost samples and decoding problems, as lines for stderr.
  void report(std::FILE* err) const override;

  // Where probe `id` fires, for clauses that run there (at_probe_clauses.h): one target per
  // (site, process), its arguments evaluated from the registers. False, with `why`, when `id`
  // is not a USDT probe or an argument of a site cannot be evaluated there.
  struct ClauseSite {
    size_t site = 0;
    pid_t pid = 0;
    bpf::ClauseTarget target;
  };
  bool clause_sites(uint32_t id, std::vector<ClauseSite>& out, std::string& why) const;
  // Opens the uprobe event of (site, pid), as enable() does for its own programs, carrying
  // program `prog` (BPF_PROG_TYPE_KPROBE). The event closes with `event`.
  bool attach_clause(size_t site, pid_t pid, int prog, sys::PerfRing& event, std::string& error);

  bool has_process(pid_t pid) const;
  // Every catalog probe of a process (for -l -p).
  std::vector<uint32_t> probe_ids(pid_t pid) const;
  bool owns(uint32_t id) const { return by_id_.count(id) != 0; }
  const UsdtStats& stats() const;

 private:
  struct NoteRef {
    std::string provider, module, function, name;
    size_t probe;  // probes_ index
  };
  struct Proc {
    pid_t pid = 0;
    uint32_t index = 0;  // Record::target of its records
    std::string target, comm;
    std::vector<uint32_t> ids;
    std::vector<NoteRef> notes;
    std::set<std::string> suffixed;    // providers also registered as PROVIDERpid
    std::vector<std::string> objects;  // its executable, then its shared libraries
    std::set<std::string> functions;   // pid provider probes made: "path offset name kind"
  };
  // The sites' programs: one per (site, process) enabled, its records' source index.
  struct Source {
    size_t site = 0;
    pid_t pid = 0;  // the traced process; 0 = any
    uint32_t target_index = 0;
    std::vector<uint32_t> probe_ids;
    bpf::GatherPlan plan;
    sys::UniqueFd prog;
    sys::PerfRing event;  // the uprobe perf event carrying the program (no ring of its own)
  };

  Proc& new_proc(pid_t pid);
  void add_file(Proc& proc, const UsdtFile& file, engine::Catalog& catalog);
  void on_demand(const bytecode::ProbeSpec& spec, engine::Catalog& catalog);
  size_t add_site(const std::string& path, const UsdtNote& n);
  // The pid provider (function_probes.h): probes for the functions `spec` names in process
  // pidN, made on demand.
  void add_function_probes(const bytecode::ProbeSpec& spec, pid_t pid, engine::Catalog& catalog);
  // `inside`: an instruction inside a function (an offset probe), whose arguments are unknown.
  size_t add_function_site(const std::string& path, uint64_t offset, bool retprobe,
                           bool inside = false);
  bool open_source(Source& src, const bpf::KernelLayout& layout, std::string& error);
  // The uprobe perf event of (site, pid), carrying `prog`: false with `error`; true with the
  // event closed when the process has exited.
  bool open_event(size_t site, pid_t pid, int prog, sys::PerfRing& event, std::string& error);
  // pmu_type_, the tracefs events and the kernel layout, once: false with `error`.
  bool prepare(std::string& error);
  void emit(uint32_t source, const uint8_t* bytes, size_t len, RecordSink& sink);
  void shutdown();
  void create_tracefs_uprobe(size_t site);
  bool write_uprobe_events(const std::string& line);
  void sweep_stale_uprobes();

  std::vector<UsdtSite> sites_;
  std::vector<UsdtProbe> probes_;
  std::unordered_map<uint32_t, size_t> by_id_;  // catalog id -> probes_ index
  std::vector<std::unique_ptr<Proc>> procs_;
  std::vector<std::string> paths_done_;  // files named by usdt:PATH descriptions
  std::map<std::string, std::unique_ptr<sys::ElfSymbols>> symbols_;  // the pid provider's files
  std::vector<std::unique_ptr<Source>> sources_;
  std::unique_ptr<bpf::GatherRing> ring_;
  bpf::GatherView view_;           // the record being emitted
  GatheredContext context_;        // its context, strings and stacks, for the engine
  std::vector<std::string> late_;  // strings the probe could not read, read at poll()
  uint64_t watermark_ = 0;
  mutable UsdtStats stats_;
  int pmu_type_ = -1;
  std::vector<uint64_t> site_tp_;  // site -> its uprobe trace event's id; 0 = the uprobe PMU
  std::string tracefs_root_, group_;
  std::vector<std::string> created_;  // events this run added to uprobe_events
  bool tracefs_failed_ = false;
  std::optional<bpf::KernelLayout> layout_;
};

}  // namespace vtrace::targets::host
