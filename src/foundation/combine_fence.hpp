// The combine step's fence: what the combine step's SQL, run on this server over the per-database results, may
// read and call. It stands on the read-only guard (sql_guard.hpp) and narrows it: the guard keeps every statement
// read-only and away from denied names; the fence keeps the combine step to the values it is given, so that it
// cannot read this server's catalog, statistics, settings, activity or files into an answer (or into an error a
// repair request shows the LLM). Which built-in functions are functions on values is the core's
// (core/combine_functions.hpp).
#pragma once

#include "foundation/sql_guard.hpp"

namespace multidb {

// The combine step's SQL, run here over the per-database results: the guard's judgement (judge_statement), and
// besides it reads no relation but the step tables (tables[], unqualified) and its own WITH queries in scope,
// names no function, operator or type outside pg_catalog, and calls only functions on values
// (core/combine_functions.hpp): every pg_catalog function each called name could resolve to, and every function
// each operator name could run, is judged; no cast to a type whose input reads the catalog (reg*, aclitem); no
// CURRENT_USER and its kin. Run it with search_path = pg_catalog, so that the unqualified names it uses resolve
// there too.
GuardVerdict judge_combine(const char* sql, const char* const* tables, int table_count);

// Whether a value of this type reads this server's catalog when it is read in or written out: the reg* types
// (a name looked up, an OID printed as a name), aclitem (role names), pg_catalog's composite types (the
// catalogs' row types, whose columns are of those types), and arrays of them.
bool type_reads_catalog(Oid type);

}  // namespace multidb
