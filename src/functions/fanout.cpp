// SQL-callable entry points: fanout, fanout_rows, check_sql, and the guard's lists (denied_functions,
// denied_relations, allowed_volatile_functions, remote_check_sql).
#include "fanout/fanout_executor.hpp"
#include "fanout/progress.hpp"
#include "foundation/connections.hpp"
#include "foundation/entry_point.hpp"
#include "foundation/settings.hpp"
#include "foundation/sql_guard.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/timestamp.h"
}

using namespace multidb;

namespace {

const char* required_text_argument(FunctionCallInfo fcinfo, int n, const char* name) {
  if (PG_ARGISNULL(n))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("argument %s must not be NULL", name)));
  return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

Datum fanout_entry(FunctionCallInfo fcinfo, RowShape shape) {
  const char* sql = required_text_argument(fcinfo, 0, "sql");
  if (PG_ARGISNULL(1))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("argument connections must not be NULL"),
                    errhint("Pass connection names, for example ARRAY['production','backup'].")));
  ArrayType* names = PG_GETARG_ARRAYTYPE_P(1);

  InitMaterializedSRF(fcinfo, shape == RowShape::kTyped ? MAT_SRF_USE_EXPECTED_DESC : 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  if (shape == RowShape::kTyped &&
      (rsinfo->setDesc->natts < 1 || TupleDescAttr(rsinfo->setDesc, 0)->atttypid != TEXTOID))
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("the first column of fanout_rows's column definition list must be of type text"),
                    errhint("Write it as: AS t(source_db text, <the statement's columns>).")));

  int count;
  RemoteTarget* targets = resolve_targets(names, &count);

  FanoutRequest request{};
  request.sql = sql;
  request.targets = targets;
  request.target_count = count;
  request.shape = shape;
  request.result_desc = rsinfo->setDesc;
  request.result = rsinfo->setResult;
  request.sqls = nullptr;
  request.outcomes = nullptr;
  request.report_progress = true;
  progress_begin();
  TimestampTz started = progress_on() ? GetCurrentTimestamp() : 0;
  run_fanout(&request);
  if (progress_on())
    progress_end("ok", static_cast<int64>(tuplestore_tuple_count(rsinfo->setResult)),
                 (GetCurrentTimestamp() - started) / 1000.0);
  return static_cast<Datum>(0);
}

// One text row per entry of a list, for the SETOF text functions that show the guard's lists.
Datum return_texts(FunctionCallInfo fcinfo, const std::vector<std::string>& entries) {
  InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  for (const std::string& entry : entries) {
    Datum value = CStringGetTextDatum(entry.c_str());
    bool is_null = false;
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &is_null);
  }
  return static_cast<Datum>(0);
}

}  // namespace

extern "C" {

MULTIDB_FUNCTION(multidb_fanout) { return fanout_entry(fcinfo, RowShape::kJson); }

MULTIDB_FUNCTION(multidb_fanout_rows) { return fanout_entry(fcinfo, RowShape::kTyped); }

MULTIDB_FUNCTION(multidb_check_sql) {
  require_read_only(text_to_cstring(PG_GETARG_TEXT_PP(0)), "any connection");
  PG_RETURN_VOID();
}

MULTIDB_FUNCTION(multidb_denied_functions) { return return_texts(fcinfo, current_denylist().patterns()); }

MULTIDB_FUNCTION(multidb_remote_check_sql) {
  PG_RETURN_TEXT_P(cstring_to_text(remote_check_sql_for(text_to_cstring(PG_GETARG_TEXT_PP(0)))));
}

MULTIDB_FUNCTION(multidb_allowed_volatile_functions) {
  return return_texts(fcinfo, current_volatile_allowlist().patterns());
}

MULTIDB_FUNCTION(multidb_denied_relations) { return return_texts(fcinfo, builtin_denied_relations()); }

}  // extern "C"
