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

// Raises the ERROR for a refused statement; targets names the connections it was meant for.
void require_read_only(const char* sql, const char* targets);

}  // namespace multidb
