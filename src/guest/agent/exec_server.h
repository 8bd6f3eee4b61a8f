// `vtrace vm exec`: a thread that runs the host's command requests (guest_abi.h's exec area)
// one at a time: fork+exec with stdout and stderr into one pipe, output cut at output_cap, exit
// status as a shell reports it. A `traced` request starts the program held, as vtrace -c does:
// its channel exists before it runs, and it waits at the gate until the host has enabled its
// probes, so no firing is missed.
#pragma once
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "guest/agent/symbol_server.h"
#include "transport/guest_channel.h"

namespace vtrace::guest {

// What the exec server needs from the agent to trace a held child.
class TraceHooks {
 public:
  virtual ~TraceHooks() = default;
  virtual bool host_attached() = 0;
  // Creates the channel of the held child `pid`. False when it cannot be traced.
  virtual bool begin_traced(pid_t pid) = 0;
  // The pid the child wrote into its channel once it mapped it (0 before).
  virtual uint32_t traced_client(pid_t pid) = 0;
  // Discovers the child's probes and publishes them. The table_gen the host has to see (0 on
  // failure).
  virtual uint32_t register_traced(pid_t pid) = 0;
  // Applies the host's enable bytes to the child's sites.
  virtual void enable_traced(pid_t pid) = 0;
  // Lets the child run.
  virtual void open_gate(pid_t pid) = 0;
};

// The outcome of one command.
struct ExecResult {
  int status = 127;
  std::string output;  // at most `cap` bytes
  bool truncated = false;
};

// Runs argv[0] (searched in PATH) with `argv`, stdin /dev/null, stdout+stderr captured up to
// `cap` bytes (the rest read and discarded). `hooks` non-null: start it held and traced.
// `stop` set (the agent is exiting) kills the command.
ExecResult run_command(const std::vector<std::string>& argv, size_t cap, TraceHooks* hooks,
                       const vtrace_guest_header* h, const std::atomic<bool>* stop = nullptr);

// Splits the request's argv area (argc NUL-terminated strings within argv_len). "" or why not.
std::string parse_argv(const vtrace_guest_exec& ex, std::vector<std::string>& argv);

class ExecServer {
 public:
  // `symbols` answers the host's symbol requests (SymbolServer::kCommand), if not null.
  ExecServer(void* base, const transport::GuestLayout& layout, TraceHooks* hooks,
             SymbolServer* symbols = nullptr)
      : base_(base), layout_(layout), hooks_(hooks), symbols_(symbols) {}
  ~ExecServer() { stop(); }
  void start();
  void stop();

 private:
  void run();
  void serve(uint32_t request);

  void* base_;
  transport::GuestLayout layout_;
  TraceHooks* hooks_;
  SymbolServer* symbols_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace vtrace::guest
