// multidb.compare: one read-only query on two connections, merged.
//
// Each side runs as SELECT q.*, <sort text> FROM (<query>) q ORDER BY <sort text> COLLATE "C": the sort
// text is the key columns' text (or the whole row's) built remotely, and both sides sort it bytewise, so
// the caller can merge the two streams with strcmp whatever the servers' collations. The rows travel
// through the fan-out into one tuplestore (spilling to disk past work_mem), read with two pointers.
#include "fanout/fanout_executor.hpp"
#include "foundation/connections.hpp"
#include "foundation/entry_point.hpp"
#include "foundation/sql_guard.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/jsonb.h"
}

using namespace multidb;

namespace {

const char* const kSortColumn = "multidb_sort";

// The user's statement without trailing semicolons and blanks, to be wrapped as a subquery.
char* as_subquery(const char* sql) {
  char* text = pstrdup(sql);
  size_t length = strlen(text);
  while (length > 0 && (text[length - 1] == ';' || isspace(static_cast<unsigned char>(text[length - 1]))))
    text[--length] = '\0';
  return text;
}

const char* wrapped_sql(const char* sql, Datum* key_columns, int key_count) {
  StringInfoData sort;
  initStringInfo(&sort);
  if (key_count == 0) {
    appendStringInfoString(&sort, "q::pg_catalog.text");
  } else {
    appendStringInfoString(&sort, "pg_catalog.jsonb_build_array(");
    for (int i = 0; i < key_count; i++)
      appendStringInfo(&sort, "%sq.%s::pg_catalog.text", i ? ", " : "",
                       quote_identifier(TextDatumGetCString(key_columns[i])));
    appendStringInfoString(&sort, ")::pg_catalog.text");
  }
  // The wrapper's own names are spelled with their schema: the user's statement inside runs with the remote
  // role's search_path, and nothing of it may stand in for them.
  return psprintf("SELECT q.*, %s AS %s FROM (%s) AS q ORDER BY (%s) COLLATE pg_catalog.\"C\"", sort.data,
                  kSortColumn, as_subquery(sql), sort.data);
}

struct Side {
  MemoryContext memory;  // holds the current row; reset when the side advances
  int pointer;
  TupleTableSlot* slot;
  int64 remaining;
  bool has_row;
  char* sort;       // the merge key
  Jsonb* row;       // row_data without the sort column
};

Jsonb* without_key(Jsonb* row, const char* key) {
  return DatumGetJsonbP(DirectFunctionCall2(jsonb_delete, JsonbPGetDatum(row), CStringGetTextDatum(key)));
}

void advance(Tuplestorestate* store, Side* side) {
  side->has_row = false;
  ExecClearTuple(side->slot);  // it may hold a copy in side->memory
  MemoryContextReset(side->memory);
  if (side->remaining == 0) return;
  MemoryContext caller_context = MemoryContextSwitchTo(side->memory);
  tuplestore_select_read_pointer(store, side->pointer);
  if (!tuplestore_gettupleslot(store, true, true, side->slot)) {
    MemoryContextSwitchTo(caller_context);
    return;
  }
  side->remaining--;
  bool is_null;
  Jsonb* data = DatumGetJsonbP(slot_getattr(side->slot, 2, &is_null));
  JsonbValue key;
  key.type = jbvString;
  key.val.string.val = const_cast<char*>(kSortColumn);
  key.val.string.len = strlen(kSortColumn);
  JsonbValue* sort = findJsonbValueFromContainer(&data->root, JB_FOBJECT, &key);
  side->sort = sort != nullptr && sort->type == jbvString ? pnstrdup(sort->val.string.val, sort->val.string.len) : pstrdup("");
  side->row = without_key(data, kSortColumn);
  side->has_row = true;
  MemoryContextSwitchTo(caller_context);
}

Datum key_of(Jsonb* row, Datum* key_columns, int key_count) {
  JsonbParseState* state = nullptr;
  pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
  for (int i = 0; i < key_count; i++) {
    char* name = TextDatumGetCString(key_columns[i]);
    JsonbValue key;
    key.type = jbvString;
    key.val.string.val = name;
    key.val.string.len = strlen(name);
    pushJsonbValue(&state, WJB_KEY, &key);
    JsonbValue* value = findJsonbValueFromContainer(&row->root, JB_FOBJECT, &key);
    JsonbValue null_value;
    null_value.type = jbvNull;
    pushJsonbValue(&state, WJB_VALUE, value ? value : &null_value);
  }
  return JsonbPGetDatum(JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, nullptr)));
}

void emit(ReturnSetInfo* rsinfo, const char* status, Datum key, bool key_null, Jsonb* a, Jsonb* b) {
  Datum values[4] = {CStringGetTextDatum(status), key, a ? JsonbPGetDatum(a) : 0, b ? JsonbPGetDatum(b) : 0};
  bool nulls[4] = {false, key_null, a == nullptr, b == nullptr};
  tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

}  // namespace

extern "C" {

MULTIDB_FUNCTION(multidb_compare) {
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("compare needs a query and two connections")));
  const char* sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
  Datum names[2] = {PG_GETARG_DATUM(1), PG_GETARG_DATUM(2)};
  if (strcmp(TextDatumGetCString(names[0]), TextDatumGetCString(names[1])) == 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("compare needs two different connections")));
  Datum* key_columns = nullptr;
  int key_count = 0;
  if (!PG_ARGISNULL(3)) {
    bool* key_nulls;
    deconstruct_array(PG_GETARG_ARRAYTYPE_P(3), TEXTOID, -1, false, TYPALIGN_INT, &key_columns, &key_nulls, &key_count);
    for (int i = 0; i < key_count; i++)
      if (key_nulls[i]) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("a key column is NULL")));
  }
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);

  int count;
  RemoteTarget* targets = resolve_targets(construct_array(names, 2, TEXTOID, -1, false, TYPALIGN_INT), &count);
  if (count != 2)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("compare needs exactly two connections"),
                    errhint("A group name stands for several connections; name two connections.")));
  // The statement as written gets the clearer message; run_fanout judges the wrapped text that is sent.
  require_read_only(sql, describe_targets(targets, count));
  const char* wrapped = wrapped_sql(sql, key_columns, key_count);

  TupleDesc desc = CreateTemplateTupleDesc(2);
  TupleDescInitEntry(desc, 1, "source_db", TEXTOID, -1, 0);
  TupleDescInitEntry(desc, 2, "row_data", JSONBOID, -1, 0);
  Tuplestorestate* rows = tuplestore_begin_heap(false, false, work_mem);
  TargetOutcome outcomes[2] = {};
  FanoutRequest request{};
  request.sql = wrapped;
  request.targets = targets;
  request.target_count = 2;
  request.shape = RowShape::kJson;
  request.result_desc = desc;
  request.result = rows;
  request.outcomes = outcomes;
  run_fanout(&request);
  for (int i = 0; i < 2; i++)
    if (outcomes[i].failed)
      ereport(ERROR, (errcode(outcomes[i].sqlstate), errmsg_internal("%s", outcomes[i].message),
                      errcontext("multidb.compare, query wrapped as: %s", wrapped)));

  // a's rows come first in the store, then b's: two read pointers, b's moved past a's rows.
  Side a{AllocSetContextCreate(CurrentMemoryContext, "multidb compare a", ALLOCSET_DEFAULT_SIZES), 0,
         MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple), outcomes[0].rows, false, nullptr, nullptr};
  Side b{AllocSetContextCreate(CurrentMemoryContext, "multidb compare b", ALLOCSET_DEFAULT_SIZES),
         tuplestore_alloc_read_pointer(rows, 0), MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple), outcomes[1].rows,
         false, nullptr, nullptr};
  // What an emitted row needs (its key, its datums) lives until it is in the result tuplestore.
  MemoryContext emit_memory = AllocSetContextCreate(CurrentMemoryContext, "multidb compare emit", ALLOCSET_DEFAULT_SIZES);
  tuplestore_select_read_pointer(rows, b.pointer);
  tuplestore_skiptuples(rows, outcomes[0].rows, true);
  advance(rows, &a);
  advance(rows, &b);
  while (a.has_row || b.has_row) {
    CHECK_FOR_INTERRUPTS();
    MemoryContextReset(emit_memory);
    MemoryContext loop_context = MemoryContextSwitchTo(emit_memory);
    int order = !a.has_row ? 1 : !b.has_row ? -1 : strcmp(a.sort, b.sort);
    if (order < 0) {
      emit(rsinfo, "only_in_a", key_count ? key_of(a.row, key_columns, key_count) : 0, key_count == 0, a.row, nullptr);
      advance(rows, &a);
    } else if (order > 0) {
      emit(rsinfo, "only_in_b", key_count ? key_of(b.row, key_columns, key_count) : 0, key_count == 0, nullptr, b.row);
      advance(rows, &b);
    } else {
      bool equal = DatumGetBool(DirectFunctionCall2(jsonb_eq, JsonbPGetDatum(a.row), JsonbPGetDatum(b.row)));
      if (!equal) emit(rsinfo, "different", key_count ? key_of(a.row, key_columns, key_count) : 0, key_count == 0, a.row, b.row);
      MemoryContextSwitchTo(loop_context);
      advance(rows, &a);
      advance(rows, &b);
      continue;
    }
    MemoryContextSwitchTo(loop_context);
  }
  ExecDropSingleTupleTableSlot(a.slot);
  ExecDropSingleTupleTableSlot(b.slot);
  tuplestore_end(rows);
  return static_cast<Datum>(0);
}

}  // extern "C"
