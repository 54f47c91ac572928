// multidb.compare: one read-only query on two connections, merged.
//
// Each side runs as SELECT q.*, <sort text> FROM (<query>) q ORDER BY <sort text> COLLATE "C": the sort
// text is the key columns' text (or the whole row's) built remotely, and both sides sort it bytewise, so
// the caller can merge the two streams with strcmp whatever the servers' collations. The rows travel
// through the fan-out into one tuplestore (spilling to disk past work_mem), read with two pointers.
//
// The two sides must return the same columns (names, and types where both are built-in): otherwise every row
// would differ, so it is an ERROR listing what differs, unless columns => 'common', which first asks each side
// for its columns (LIMIT 0) and compares only those both have with the same type. A key that is no column of the
// result is named with the statement's columns (learnt the same way, only when the wrapped statement failed with
// 42703).
#include "fanout/fanout_executor.hpp"
#include "fanout/progress.hpp"
#include "foundation/connections.hpp"
#include "foundation/entry_point.hpp"
#include "foundation/sql_guard.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
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

// One side's result columns, as its remote described them (the sort column left out).
struct Columns {
  int count;
  const char* const* names;
  const Oid* types;
};

Columns columns_of(const TargetOutcome& outcome, bool without_sort) {
  Columns columns{outcome.column_count, outcome.column_names, outcome.column_types};
  if (without_sort && columns.count > 0 && strcmp(columns.names[columns.count - 1], kSortColumn) == 0) columns.count--;
  return columns;
}

int column_index(const Columns& columns, const char* name) {
  for (int i = 0; i < columns.count; i++)
    if (strcmp(columns.names[i], name) == 0) return i;
  return -1;
}

// A type of a remote's own has an OID of that remote's: two of them cannot be told apart from here.
bool same_type(Oid a, Oid b) { return a == b || (is_remote_own_type(a) && is_remote_own_type(b)); }

const char* column_list(const Columns& columns) {
  StringInfoData text;
  initStringInfo(&text);
  for (int i = 0; i < columns.count; i++)
    appendStringInfo(&text, "%s%s", i ? ", " : "", describe_remote_column(columns.names[i], columns.types[i]));
  return text.data;
}

// What differs between the two sides' columns, as a DETAIL; nullptr when nothing does.
const char* column_difference(const char* a_name, const Columns& a, const char* b_name, const Columns& b) {
  StringInfoData only_a, only_b, types;
  initStringInfo(&only_a);
  initStringInfo(&only_b);
  initStringInfo(&types);
  for (int i = 0; i < a.count; i++) {
    int j = column_index(b, a.names[i]);
    if (j < 0) {
      appendStringInfo(&only_a, "%s%s", only_a.len ? ", " : "", describe_remote_column(a.names[i], a.types[i]));
    } else if (!same_type(a.types[i], b.types[j])) {
      appendStringInfo(&types, "%s%s is %s on \"%s\", %s on \"%s\"", types.len ? "; " : "",
                       quote_identifier(a.names[i]), remote_type_name(a.types[i]), a_name,
                       remote_type_name(b.types[j]), b_name);
    }
  }
  for (int j = 0; j < b.count; j++)
    if (column_index(a, b.names[j]) < 0)
      appendStringInfo(&only_b, "%s%s", only_b.len ? ", " : "", describe_remote_column(b.names[j], b.types[j]));
  if (only_a.len == 0 && only_b.len == 0 && types.len == 0) return nullptr;
  StringInfoData detail;
  initStringInfo(&detail);
  if (only_a.len) appendStringInfo(&detail, "Only \"%s\" (a) has: %s.", a_name, only_a.data);
  if (only_b.len) appendStringInfo(&detail, "%sOnly \"%s\" (b) has: %s.", detail.len ? " " : "", b_name, only_b.data);
  if (types.len) appendStringInfo(&detail, "%sTypes differ: %s.", detail.len ? " " : "", types.data);
  return detail.data;
}

// Both sides' result columns without their rows: the statement run as SELECT q.* FROM (...) q LIMIT 0.
void probe_columns(const char* sql, const RemoteTarget* targets, Columns* columns) {
  TupleDesc desc = CreateTemplateTupleDesc(2);
  TupleDescInitEntry(desc, 1, "source_db", TEXTOID, -1, 0);
  TupleDescInitEntry(desc, 2, "row_data", JSONBOID, -1, 0);
  Tuplestorestate* rows = tuplestore_begin_heap(false, false, work_mem);
  TargetOutcome outcomes[2] = {};
  FanoutRequest request{};
  request.sql = psprintf("SELECT q.* FROM (%s) AS q LIMIT 0", as_subquery(sql));
  request.targets = targets;
  request.target_count = 2;
  request.shape = RowShape::kJson;
  request.result_desc = desc;
  request.result = rows;
  request.outcomes = outcomes;
  run_fanout(&request);
  for (int i = 0; i < 2; i++) {
    if (outcomes[i].failed)
      ereport(ERROR, (errcode(outcomes[i].sqlstate), errmsg_internal("%s", outcomes[i].message),
                      outcomes[i].detail ? errdetail_internal("%s", outcomes[i].detail) : 0,
                      outcomes[i].hint ? errhint("%s", outcomes[i].hint) : 0,
                      errcontext("multidb.compare, asking for the statement's columns")));
    columns[i] = columns_of(outcomes[i], false);
  }
  tuplestore_end(rows);
}

// A key column that is no column of a side's result: an ERROR naming it and that side's columns.
void check_keys(const RemoteTarget* targets, const Columns* columns, Datum* key_columns, int key_count) {
  for (int side = 0; side < 2; side++)
    for (int k = 0; k < key_count; k++) {
      const char* key = TextDatumGetCString(key_columns[k]);
      if (column_index(columns[side], key) >= 0) continue;
      ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                      errmsg("key column \"%s\" is not a column of the statement's result on connection \"%s\"",
                             key, targets[side].name),
                      errdetail("The statement's columns there: %s.", column_list(columns[side])),
                      errhint("A key names columns of the SELECT list (by their output names): add it there, or "
                              "pick key columns from that list.")));
    }
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
  const char* column_mode = PG_NARGS() > 4 && !PG_ARGISNULL(4) ? text_to_cstring(PG_GETARG_TEXT_PP(4)) : "same";
  bool common_columns = strcmp(column_mode, "common") == 0;
  if (!common_columns && strcmp(column_mode, "same") != 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("invalid columns => '%s' for compare", column_mode),
                    errhint("'same' (the default) requires both sides to return the same columns; 'common' "
                            "compares the columns both have.")));
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);

  int count;
  RemoteTarget* targets = resolve_targets(construct_array(names, 2, TEXTOID, -1, false, TYPALIGN_INT), &count);
  if (count != 2)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("compare needs exactly two connections"),
                    errhint("A group name stands for several connections; name two connections.")));
  // The statement as written gets the clearer message; run_fanout judges the wrapped text that is sent.
  require_read_only(sql, describe_targets(targets, count));
  if (common_columns) {
    // Ask each side for its columns first, then compare only the ones both have (in a's order).
    Columns sides[2];
    probe_columns(sql, targets, sides);
    StringInfoData select, left_out;
    initStringInfo(&select);
    initStringInfo(&left_out);
    for (int i = 0; i < sides[0].count; i++) {
      int j = column_index(sides[1], sides[0].names[i]);
      if (j < 0 || !same_type(sides[0].types[i], sides[1].types[j])) continue;
      appendStringInfo(&select, "%sq.%s", select.len ? ", " : "", quote_identifier(sides[0].names[i]));
    }
    if (select.len == 0)
      ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                      errmsg("connections \"%s\" and \"%s\" return no column of the same name and type",
                             targets[0].name, targets[1].name),
                      errdetail("%s", column_difference(targets[0].name, sides[0], targets[1].name, sides[1]))));
    const char* difference = column_difference(targets[0].name, sides[0], targets[1].name, sides[1]);
    if (difference != nullptr)
      ereport(NOTICE, (errmsg("compare compares only the columns both sides have, of the same type"),
                       errdetail("Left out: %s", difference)));
    check_keys(targets, sides, key_columns, key_count);
    sql = psprintf("SELECT %s FROM (%s) AS q", select.data, as_subquery(sql));
  }
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
  request.report_progress = true;
  progress_begin();
  TimestampTz started = progress_on() ? GetCurrentTimestamp() : 0;
  run_fanout(&request);
  for (int i = 0; i < 2; i++) {
    if (!outcomes[i].failed) continue;
    // The wrapped statement names the key columns as q.<key>: one that is not in the SELECT list fails there.
    if (outcomes[i].sqlstate == ERRCODE_UNDEFINED_COLUMN && key_count > 0) {
      Columns sides[2];
      probe_columns(sql, targets, sides);
      check_keys(targets, sides, key_columns, key_count);
    }
    ereport(ERROR, (errcode(outcomes[i].sqlstate), errmsg_internal("%s", outcomes[i].message),
                    errcontext("multidb.compare, query wrapped as: %s", wrapped)));
  }
  // Different columns would make every row differ: say which instead.
  Columns a_columns = columns_of(outcomes[0], true), b_columns = columns_of(outcomes[1], true);
  const char* difference = outcomes[0].column_count > 0 && outcomes[1].column_count > 0
                               ? column_difference(targets[0].name, a_columns, targets[1].name, b_columns)
                               : nullptr;
  if (difference != nullptr)
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("connections \"%s\" and \"%s\" return different columns for this statement",
                           targets[0].name, targets[1].name),
                    errdetail("%s", difference),
                    errhint("multidb.compare(..., columns => 'common') compares only the columns both have (same "
                            "name and type); or list the same columns, with casts, in the SELECT.")));

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
  if (progress_on())
    progress_end("ok", static_cast<int64>(tuplestore_tuple_count(rsinfo->setResult)),
                 (GetCurrentTimestamp() - started) / 1000.0);
  return static_cast<Datum>(0);
}

}  // extern "C"
