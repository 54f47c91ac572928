// The read-only guard: Postgres's own parser judges every statement before multidb sends it anywhere.
#pragma once

#include "pg/postgres.hpp"

namespace multidb {

struct GuardVerdict {
  bool allowed;
  int sqlstate;        // 42501 for a refusal, 42601 for SQL that does not parse
  const char* reason;  // palloc'd, for errdetail; nullptr when allowed
};

// Judges sql without raising; syntax errors come back as a verdict too.
GuardVerdict judge_statement(const char* sql);

// The combine step's SQL, run here over the per-database results: the same judgement, and besides it reads
// no relation but the step tables (tables[], unqualified) and its own WITH queries in scope, and names no
// function, operator or type outside pg_catalog. Run it with search_path = pg_catalog, so that the
// unqualified names it uses resolve there too.
GuardVerdict judge_combine(const char* sql, const char* const* tables, int table_count);

// Raises the ERROR for a refused statement; targets names the connections it was meant for.
void require_read_only(const char* sql, const char* targets);

}  // namespace multidb
