// Statements described on their databases, typed with this coordinator's types, merged (describe_targets.hpp).
#include "fanout/describe_targets.hpp"

#include "core/statement_description.hpp"
#include "fanout/fanout_executor.hpp"
#include "fanout/remote_describe.hpp"
#include "foundation/boundary.hpp"

extern "C" {
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "parser/parse_type.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
}

namespace multidb {

namespace {

// The remote's format_type text read here (parseTypeString, with search_path = pg_catalog as the remote named it),
// in a subtransaction: a hostile server's text that does not parse is a type this database lacks, not an error.
// InvalidOid when there is no such type here.
Oid local_type_named(const char* remote_name, int32* typmod) {
  Oid type = InvalidOid;
  MemoryContext caller_context = CurrentMemoryContext;
  ResourceOwner caller_owner = CurrentResourceOwner;
  BeginInternalSubTransaction(nullptr);
  MemoryContextSwitchTo(caller_context);
  PG_TRY();
  {
    int guc_level = NewGUCNestLevel();
    set_config_option("search_path", "pg_catalog", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
    parseTypeString(remote_name, &type, typmod, true);
    AtEOXact_GUC(true, guc_level);
    ReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(caller_context);
    CurrentResourceOwner = caller_owner;
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(caller_context);
    ErrorData* error = CopyErrorData();
    FlushErrorState();
    RollbackAndReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(caller_context);
    CurrentResourceOwner = caller_owner;
    if (error->sqlerrcode == ERRCODE_QUERY_CANCELED || error->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
        error->sqlerrcode == ERRCODE_OUT_OF_MEMORY)
      ReThrowError(error);
    type = InvalidOid;
  }
  PG_END_TRY();
  return type;
}

// This coordinator's name of a remote column's type. A built-in type (same OID everywhere) keeps the remote's
// format_type text, typmod and all; any other is looked up here by that text and named as this database names it
// (schema-qualified outside pg_catalog); one this database lacks becomes text, and a NOTICE says so.
const char* coordinator_type(const char* database, const char* column, Oid remote_type, const char* remote_name) {
  if (remote_type < FirstGenbkiObjectId && SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(remote_type)))
    return remote_name;
  int32 typmod = -1;
  Oid type = local_type_named(remote_name, &typmod);
  if (OidIsValid(type)) {
    int guc_level = NewGUCNestLevel();
    set_config_option("search_path", "pg_catalog", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
    const char* name = format_type_extended(type, typmod, FORMAT_TYPE_TYPEMOD_GIVEN);
    AtEOXact_GUC(true, guc_level);
    return name;
  }
  ereport(NOTICE, (errmsg("connection \"%s\": column \"%s\" has type %s, which this database lacks; it becomes text",
                          database, column, remote_name),
                   errhint("Create the type here, or cast the column to a type this database has in the statement.")));
  return "text";
}

TargetDescription read_description(const char* database, Tuplestorestate* rows, TupleDesc desc) {
  TargetDescription description{database, 0, nullptr, nullptr, nullptr};
  int64 count = tuplestore_tuple_count(rows);
  description.names = static_cast<const char**>(palloc0(sizeof(char*) * Max(count, 1)));
  description.types = static_cast<const char**>(palloc0(sizeof(char*) * Max(count, 1)));
  Oid* remote_types = static_cast<Oid*>(palloc0(sizeof(Oid) * Max(count, 1)));
  TupleTableSlot* slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
  int c = 0;
  while (c < count && tuplestore_gettupleslot(rows, true, false, slot)) {
    bool nulls[kDescribedColumns];
    Datum values[kDescribedColumns];
    for (int i = 0; i < kDescribedColumns; i++) values[i] = slot_getattr(slot, i + 1, &nulls[i]);
    if (nulls[0] || nulls[1] || nulls[3] || nulls[4] || TupleDescAttr(desc, 1)->atttypid != OIDOID ||
        TupleDescAttr(desc, 4)->atttypid != OIDOID)
      ereport(ERROR, (errcode(ERRCODE_PROTOCOL_VIOLATION),
                      errmsg("connection \"%s\": the remote did not name the described types", database)));
    description.names[c] = TextDatumGetCString(values[0]);
    remote_types[c] = DatumGetObjectId(values[4]);
    description.types[c] =
        coordinator_type(database, description.names[c], DatumGetObjectId(values[1]), TextDatumGetCString(values[3]));
    c++;
  }
  ExecDropSingleTupleTableSlot(slot);
  description.column_count = c;
  description.remote_types = remote_types;
  return description;
}

}  // namespace

TargetDescription* describe_on_targets(const char* sql, const char* const* sqls, const RemoteTarget* targets,
                                       int count) {
  TargetOutcome* outcomes = static_cast<TargetOutcome*>(palloc0(sizeof(TargetOutcome) * Max(count, 1)));
  FanoutRequest request{};
  request.sql = sql;
  request.sqls = sqls;
  request.targets = targets;
  request.target_count = count;
  request.shape = RowShape::kPerTarget;
  request.outcomes = outcomes;
  request.describe_only = true;
  run_fanout(&request);
  for (int i = 0; i < count; i++) {
    const TargetOutcome* outcome = &outcomes[i];
    if (!outcome->failed) continue;
    ereport(ERROR, (errcode(outcome->sqlstate), errmsg_internal("%s", outcome->message),
                    outcome->detail ? errdetail_internal("%s", outcome->detail) : 0,
                    outcome->hint ? errhint("%s", outcome->hint) : 0));
  }
  TargetDescription* descriptions = static_cast<TargetDescription*>(palloc0(sizeof(TargetDescription) * Max(count, 1)));
  for (int i = 0; i < count; i++) {
    if (outcomes[i].columns == nullptr || outcomes[i].columns->natts != kDescribedColumns)
      ereport(ERROR, (errcode(ERRCODE_PROTOCOL_VIOLATION),
                      errmsg("connection \"%s\": the remote did not name the described types", targets[i].name)));
    descriptions[i] = read_description(targets[i].name, outcomes[i].rows_store, outcomes[i].columns);
    tuplestore_end(outcomes[i].rows_store);
  }
  return descriptions;
}

MergedColumns merge_target_descriptions(const TargetDescription* descriptions, int count) {
  MergedColumns merged{0, nullptr, nullptr};
  char* sqlstate = nullptr;
  char* message = nullptr;
  char* detail = nullptr;
  char* hint = nullptr;
  char** names = nullptr;
  char** types = nullptr;
  int merged_count = 0;
  CppError error = cpp_call([&] {
    std::vector<DescribedStatement> statements;
    for (int i = 0; i < count; i++) {
      DescribedStatement statement{descriptions[i].database, {}};
      for (int c = 0; c < descriptions[i].column_count; c++)
        statement.columns.push_back(DescribedColumn{descriptions[i].names[c], descriptions[i].types[c]});
      statements.push_back(std::move(statement));
    }
    DescriptionMerge merge = merge_descriptions(statements);
    if (!merge.ok) {
      sqlstate = malloc_copy(merge.sqlstate);
      message = malloc_copy(merge.message);
      detail = malloc_copy(merge.detail);
      hint = malloc_copy(merge.hint);
      return;
    }
    merged_count = static_cast<int>(merge.columns.size());
    names = static_cast<char**>(calloc(Max(merged_count, 1), sizeof(char*)));
    types = static_cast<char**>(calloc(Max(merged_count, 1), sizeof(char*)));
    if (names == nullptr || types == nullptr) throw std::bad_alloc();
    for (int c = 0; c < merged_count; c++) {
      names[c] = malloc_copy(merge.columns[c].name);
      types[c] = malloc_copy(merge.columns[c].type);
    }
  });
  const char* state = take(sqlstate);
  const char* primary = take(message);
  const char* detail_text = take(detail);
  const char* hint_text = take(hint);
  merged.count = merged_count;
  merged.names = static_cast<const char**>(palloc0(sizeof(char*) * Max(merged_count, 1)));
  merged.types = static_cast<const char**>(palloc0(sizeof(char*) * Max(merged_count, 1)));
  for (int c = 0; names != nullptr && c < merged_count; c++) {
    merged.names[c] = take(names[c]);
    merged.types[c] = take(types[c]);
  }
  free(names);
  free(types);
  raise_cpp_error(error, "merging the databases' descriptions");
  if (primary != nullptr) {
    int code = state != nullptr && strlen(state) == 5 ? MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4])
                                                      : ERRCODE_DATATYPE_MISMATCH;
    ereport(ERROR, (errcode(code), errmsg_internal("%s", primary),
                    detail_text != nullptr && detail_text[0] != '\0' ? errdetail_internal("%s", detail_text) : 0,
                    hint_text != nullptr && hint_text[0] != '\0' ? errhint("%s", hint_text) : 0));
  }
  return merged;
}

void append_columns_json(StringInfo json, int count, const char* const* names, const char* const* types) {
  appendStringInfoChar(json, '[');
  for (int c = 0; c < count; c++) {
    appendStringInfoString(json, c > 0 ? ", {\"name\": " : "{\"name\": ");
    escape_json(json, names[c]);
    appendStringInfoString(json, ", \"type\": ");
    escape_json(json, types[c]);
    appendStringInfoChar(json, '}');
  }
  appendStringInfoChar(json, ']');
}

}  // namespace multidb
