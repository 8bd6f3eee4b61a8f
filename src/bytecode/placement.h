// Where a clause runs: in the engine, or where its probe fires (a BPF program in the kernel, site
// ops in a probe.h process) with its aggregations kept there as partial states the engine merges
// when it prints them. Shared by every target that can take clauses away from the engine.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bytecode/module.h"

namespace vtrace::bytecode {

// The aggregations `clause` updates (Agg instructions), in code order, with repeats.
std::vector<uint32_t> aggregations_of(const ClauseCode& clause);

// Per aggregation: true unless an action resets or rescales it (clear, trunc, normalize,
// denormalize). Only those may be kept outside the engine.
std::vector<bool> aggregations_kept_whole(const Module& mod);

// What may still be kept outside the engine, as the placement goes: aggregations (no action
// resets them), self-> variables (thread-local: scalar, per thread) and this-> variables (they
// live for one firing, shared by the clauses of the probe).
struct Kept {
  std::vector<bool> aggs;         // per aggregation
  std::vector<bool> thread_vars;  // per dynamic variable: a self-> scalar
  std::vector<bool> locals;       // per this-> variable
};

// The self-> scalars `clause` reads or writes (indexes into mod.dynvars), with repeats.
std::vector<uint32_t> thread_vars_of(const Module& mod, const ClauseCode& clause);

// The this-> variables `clause` reads or writes (indexes into mod.locals), with repeats.
std::vector<uint32_t> locals_of(const ClauseCode& clause);

// Decides which clauses leave the engine. `why_not(c, kept)` says why clause c cannot ("" when
// it can), given what may still be kept outside. Every update of a kept aggregation, and every
// use of a kept self-> or this-> variable, must happen where it is kept, so a clause that stays
// takes its aggregations and variables with it, which may keep another clause in the engine:
// repeated until nothing changes. Returns per clause "" (it leaves) or the first reason found (the
// clause's own; later ones follow from it).
std::vector<std::string> place_clauses(
    const Module& mod,
    const std::function<std::string(uint32_t clause, const Kept& kept)>& why_not);

}  // namespace vtrace::bytecode
