// The read-only guard: Postgres's own parser judges every statement before multidb sends it anywhere.
#pragma once

#include "foundation/postgres.hpp"

extern "C" {
#include "nodes/pg_list.h"
}

namespace multidb {

// The names an allowed statement may call through (palloc'd Lists of char*, as this server's lexer read them),
// for the remote's own judgement of them (core/remote_checks.hpp): what only that remote's catalog can tell.
// What it reaches without naming it (casts, operators, types, domains) the remote judges whatever the statement.
struct CalledNames {
  List* functions;          // f(...)
  List* function_arguments;  // an int List beside functions: how many arguments each call passes (-1: VARIADIC)
  List* attribute_calls;    // x.f and (x).f, a call of f(x) when f is no column of x
};

struct GuardVerdict {
  bool allowed;
  int sqlstate;        // 42501 for a refusal, 42601 for SQL that does not parse
  const char* reason;  // palloc'd, for errdetail; nullptr when allowed
  CalledNames names;   // when allowed
};

// Judges sql without raising; syntax errors come back as a verdict too. The text is read as a server
// with standard_conforming_strings = on reads it, whatever this session's setting: every remote session
// is pinned to that setting (src/dispatch/remote.cpp), so both sides read the same statement.
//
// Refused: anything but one SELECT (WITH, VALUES, set operations included); SELECT INTO; locking
// clauses; data-modifying WITH; a call, in any position or spelling (f(), x.f, (x).f), of a function the
// denylist names (core/function_denylist.hpp); a relation that exposes server files or secrets.
GuardVerdict judge_statement(const char* sql);

// The combine step's SQL, run here over the per-database results: the same judgement, and besides it reads
// no relation but the step tables (tables[], unqualified) and its own WITH queries in scope, names no function,
// operator or type outside pg_catalog, and calls only functions on values (core/combine_functions.hpp): every
// pg_catalog function each called name could resolve to, and every function each operator name could run, is
// judged; no cast to a type whose input reads the catalog (reg*, aclitem); no CURRENT_USER and its kin. Run it
// with search_path = pg_catalog, so that the unqualified names it uses resolve there too.
GuardVerdict judge_combine(const char* sql, const char* const* tables, int table_count);

// The called names as sql wrote them (each identifier token's text up to the next token: quoted or not, any case,
// any length; function_arguments beside them), for the remote to read with its own rules: its encoding may fold case and cut a long name
// elsewhere than this server's lexer did. Raises 42501 for a name this server may have cut that is not written
// as a plain or quoted identifier (a long U&"..." one).
CalledNames names_as_written(const char* sql, const CalledNames* names);

// Whether a value of this type reads this server's catalog when it is read in or written out: the reg* types
// (a name looked up, an OID printed as a name), aclitem (role names), pg_catalog's composite types (the
// catalogs' row types, whose columns are of those types), and arrays of them.
bool type_reads_catalog(Oid type);

// Raises the ERROR for a refused statement; targets names the connections it was meant for. Returns the
// allowed statement's verdict (its names).
GuardVerdict require_read_only(const char* sql, const char* targets);

}  // namespace multidb
