// Which built-in functions the combine step may call: functions on values, nothing else. The combine step runs
// here, in the asking backend, over the step tables; a function that reads this server's catalog, statistics,
// settings or other sessions, its files, sizes, privileges, transaction ids or version could put what it read
// into the answer, or into an error that a repair request shows the LLM. The combine step's fence
// (src/foundation/combine_fence.cpp) reads each pg_proc entry a name could resolve to and asks here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace multidb {

// What the guard reads of one pg_catalog function (the combine step names no other schema).
struct BuiltinFunction {
  std::string_view name;
  char volatility;        // pg_proc.provolatile: 'i', 's' or 'v'
  char kind;              // pg_proc.prokind: 'f', 'a' (aggregate), 'w' (window), 'p'
  bool volatile_support;  // an aggregate with a VOLATILE transition, final, combine, (de)serial or moving function
  bool catalog_type;      // takes or returns a type whose input or output reads the catalog: regclass, regproc,
                          // regprocedure, regoper, regoperator, regtype, regrole, regnamespace, regconfig,
                          // regdictionary, regcollation, aclitem, or an array of one (the guard knows them by OID)
};

enum class CombineCall {
  kAllowed,
  kVolatile,          // VOLATILE, and not one of volatile_value_functions()
  kNotValueFunction,  // STABLE, and not one of stable_value_functions()
  kServerState,       // one of server_state_function_patterns(), whatever its volatility
  kCatalogType,       // takes or returns reg* or aclitem
  kVolatileSupport,   // an aggregate whose support function is VOLATILE
};

// A function the combine step calls by name — f(), x.f, (x).f, in FROM — allowed when it is, in this order:
// not one of server_state_function_patterns(); of no catalog type (pg_typeof, whose regtype only names the
// type of a value, aside); an aggregate or window function neither VOLATILE nor with a VOLATILE support
// function; IMMUTABLE; STABLE and one of stable_value_functions(); VOLATILE and one of volatile_value_functions().
CombineCall judge_combine_function(const BuiltinFunction& function);

// A function an operator runs: its volatility alone (IMMUTABLE, or STABLE and one of stable_value_functions()).
// An operator works on the values it is given, and the values a combine step can make are the ones the
// functions and casts it may use make; the catalog types' operators only compare them.
CombineCall judge_operator_function(const BuiltinFunction& function);

// The refusal's words after "which is " (calls) or after the function's name (operators): "STABLE and not one
// of the functions on values".
const char* combine_call_reason(CombineCall verdict);

// The STABLE functions that work on the values they are given and read nothing else (STABLE only because
// they follow the session's TimeZone, DateStyle or lc_monetary, or call a type's output function): date and
// time arithmetic and formatting, text formatting, JSON construction and processing, arrays, casts between
// ordinary types, pg_typeof. Names; every overload of a name counts.
const std::vector<std::string>& stable_value_functions();

// The VOLATILE functions that make a value from nothing and read nothing: random(), clock_timestamp(),
// gen_random_uuid().
const std::vector<std::string>& volatile_value_functions();

// Functions refused whatever their volatility, because they read the server rather than a value — some are
// IMMUTABLE all the same (pg_partition_root, ts_parse, txid_snapshot_xmin, satisfies_hash_partition):
// patterns as in multidb.denied_functions().
const std::vector<std::string>& server_state_function_patterns();

}  // namespace multidb
