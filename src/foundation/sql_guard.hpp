// The read-only guard: Postgres's own parser judges every statement before multidb sends it anywhere (wall 1 of
// docs/security.md), and says which names an allowed one calls, for each remote's own checks. The
// combine step, which runs here, passes this guard and then the fence of combine_fence.hpp.
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
// is pinned to that setting (src/fanout/remote.cpp), so both sides read the same statement.
//
// Refused: anything but one SELECT (WITH, VALUES, set operations included); SELECT INTO; locking
// clauses; data-modifying WITH; a call, in any position or spelling (f(), x.f, (x).f), of a function the
// denylist names (core/function_denylist.hpp); a relation that exposes server files or secrets.
GuardVerdict judge_statement(const char* sql);

// raw_parser's statements for sql, read as judge_statement reads it (standard_conforming_strings = on); a syntax
// error is raised as raw_parser raises it. For the combine fence, which walks the same tree again.
List* parse_as_remote(const char* sql);

// The called names as sql wrote them (each identifier token's text up to the next token: quoted or not, any case,
// any length; function_arguments beside them), for the remote to read with its own rules: its encoding may fold case and cut a long name
// elsewhere than this server's lexer did. Raises 42501 for a name this server may have cut that is not written
// as a plain or quoted identifier (a long U&"..." one).
CalledNames names_as_written(const char* sql, const CalledNames* names);

// Raises the ERROR for a refused statement; targets names the connections it was meant for. Returns the
// allowed statement's verdict (its names).
GuardVerdict require_read_only(const char* sql, const char* targets);

}  // namespace multidb
