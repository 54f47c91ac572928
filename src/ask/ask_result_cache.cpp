// The result cache (opt-in, multidb.result_cache_ttl): an ask's rows kept by plan and asking role, so that
// the same plan within the TTL answers without touching a remote.
#include "ask/ask_internal.hpp"
#include "foundation/extension_tables.hpp"
#include "foundation/settings.hpp"

extern "C" {
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
}

namespace multidb {
namespace {

// Rows are cached per plan and per asking role: another role may reach the same connections through a
// different remote identity, with different rights.
// SHA-256 of the asking role and the plan: no plan can be crafted to reach another role's rows.
const char* result_cache_key(const AskState* ask) {
  return sha256_hex(psprintf("%u:%s", GetUserId(), ask->plan_json), "result cache key");
}

}  // namespace

bool results_from_cache(AskState* ask, Tuplestorestate* result, TupleDesc desc) {
  bool hit = put_cached_results(result_cache_key(ask), result_cache_ttl_s, result, desc);
  if (hit) ask->cached = "result";
  return hit;
}

void store_results_in_cache(const AskState* ask, Tuplestorestate* result, TupleDesc desc) {
  StringInfoData rows, counts;
  initStringInfo(&rows);
  initStringInfo(&counts);
  appendStringInfoChar(&rows, '[');
  TupleTableSlot* slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
  bool first = true;
  while (tuplestore_gettupleslot(result, true, false, slot)) {
    bool is_null;
    appendStringInfoString(&rows, first ? "[" : ", [");
    escape_json(&rows, TextDatumGetCString(slot_getattr(slot, 1, &is_null)));
    appendStringInfoString(&rows, ", ");
    Datum data = slot_getattr(slot, 2, &is_null);
    appendStringInfoString(&rows, is_null ? "null" : JsonbToCString(nullptr, &DatumGetJsonbP(data)->root, 0));
    appendStringInfoChar(&rows, ']');
    first = false;
  }
  appendStringInfoChar(&rows, ']');
  ExecDropSingleTupleTableSlot(slot);
  tuplestore_rescan(result);  // the executor reads the result from its start
  appendStringInfoChar(&counts, '{');
  for (int i = 0; i < ask->step_count; i++) {
    if (i > 0) appendStringInfoString(&counts, ", ");
    escape_json(&counts, ask->step_database[i]);
    appendStringInfo(&counts, ": %ld", static_cast<long>(ask->step_rows ? ask->step_rows[i] : 0));
  }
  appendStringInfoChar(&counts, '}');

  store_results(result_cache_key(ask), rows.data, counts.data);
}

}  // namespace multidb
