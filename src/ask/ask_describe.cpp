// multidb._describe_answer: the columns an answer would have, described on its databases without running anything.
// A plan {"sql": ...} is one statement on the given connections, its databases' descriptions merged; an ask's plan
// {"queries": [...], "combine": ...} has each step described on its database, and its combine step prepared here
// (never run) over step tables of the described types (and its sets' relations), made as the combine step makes them.
#include "ask/ask_internal.hpp"
#include "core/json_row.hpp"
#include "fanout/describe_targets.hpp"
#include "foundation/entry_point.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/plancache.h"
#include "utils/queryenvironment.h"
}

namespace multidb {

namespace {

struct CombineDescription {
  const AskState* ask;
  const TargetDescription* steps;  // by step
  const char*** step_names;        // by step: its column names made unique, as a run's step tables have them
  int count;
  const char** names;  // out, in the caller's memory
  const char** types;
  MemoryContext caller_context;
};

// The combine step's SQL prepared, never run, over empty step tables of the described columns (typed as a run's
// step tables: local_column_type, no typmod), with the fence's settings of a run (ask_combine.cpp); its result's
// columns, each named by format_type.
void describe_combine_body(void* arg) {
  CombineDescription* call = static_cast<CombineDescription*>(arg);
  const AskState* ask = call->ask;
  int connected = SPI_connect();
  if (connected != SPI_OK_CONNECT) elog(ERROR, "multidb, describing the combine step: SPI_connect failed");
  TupleDesc* step_tables = static_cast<TupleDesc*>(palloc0(sizeof(TupleDesc) * Max(ask->step_count, 1)));
  for (int i = 0; i < ask->step_count; i++) {
    const TargetDescription* step = &call->steps[i];
    TupleDesc columns = CreateTemplateTupleDesc(step->column_count);
    for (int c = 0; c < step->column_count; c++)
      TupleDescInitEntry(columns, c + 1, call->step_names[i][c], local_column_type(step->remote_types[c]), -1, 0);
    step_tables[i] = columns;
    EphemeralNamedRelation relation = static_cast<EphemeralNamedRelation>(palloc0(sizeof(EphemeralNamedRelationData)));
    relation->md.name = pstrdup(ask->step_database[i]);
    relation->md.reliddesc = InvalidOid;
    relation->md.tupdesc = columns;
    relation->md.enrtype = ENR_NAMED_TUPLESTORE;
    relation->md.enrtuples = 0;
    relation->reldata = tuplestore_begin_heap(false, false, work_mem);
    if (SPI_register_relation(relation) != SPI_OK_REL_REGISTER)
      elog(ERROR, "could not expose the description of connection \"%s\" to the combine step", ask->step_database[i]);
  }
  // Each set's relation, as the combine step makes it (ask_combine.cpp): source_db, then its members' columns.
  for (int s = 0; s < ask->set_count; s++) {
    if (ask->set_relation[s] == nullptr) continue;
    int n = ask->set_member_count[s];
    TupleDesc* member_columns = static_cast<TupleDesc*>(palloc0(sizeof(TupleDesc) * Max(n, 1)));
    for (int m = 0; m < n; m++)
      for (int i = 0; i < ask->step_count && member_columns[m] == nullptr; i++)
        if (strcmp(ask->step_database[i], ask->set_members[s][m]) == 0) member_columns[m] = step_tables[i];
    const char* mismatch = nullptr;
    TupleDesc columns = set_relation_columns(ask, s, member_columns, &mismatch);
    if (columns == nullptr)
      ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                      errmsg("the set relation %s cannot hold the rows of its %d databases, whose columns differ: %s",
                             ask->set_relation[s], n, mismatch)));
    EphemeralNamedRelation relation = static_cast<EphemeralNamedRelation>(palloc0(sizeof(EphemeralNamedRelationData)));
    relation->md.name = pstrdup(ask->set_relation[s]);
    relation->md.reliddesc = InvalidOid;
    relation->md.tupdesc = columns;
    relation->md.enrtype = ENR_NAMED_TUPLESTORE;
    relation->md.enrtuples = 0;
    relation->reldata = tuplestore_begin_heap(false, false, work_mem);
    if (SPI_register_relation(relation) != SPI_OK_REL_REGISTER)
      elog(ERROR, "could not expose the description of the relation \"%s\" to the combine step", ask->set_relation[s]);
  }
  int guc_level = NewGUCNestLevel();
  set_config_option("search_path", "pg_catalog", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
  set_config_option("standard_conforming_strings", "on", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
  bool was_read_only = XactReadOnly;
  XactReadOnly = true;
  SPIPlanPtr plan = SPI_prepare(ask->combine_sql, 0, nullptr);
  if (plan == nullptr)
    elog(ERROR, "multidb, describing the combine step: could not prepare it: %s", SPI_result_code_string(SPI_result));
  List* sources = SPI_plan_get_plan_sources(plan);
  if (list_length(sources) != 1) ereport(ERROR, (errcode(ERRCODE_SYNTAX_ERROR), errmsg("the combine step is not one statement")));
  TupleDesc result = static_cast<CachedPlanSource*>(linitial(sources))->resultDesc;
  if (result == nullptr) ereport(ERROR, (errcode(ERRCODE_SYNTAX_ERROR), errmsg("the combine step returns no rows")));
  MemoryContext spi_context = MemoryContextSwitchTo(call->caller_context);
  call->count = result->natts;
  call->names = static_cast<const char**>(palloc0(sizeof(char*) * Max(result->natts, 1)));
  call->types = static_cast<const char**>(palloc0(sizeof(char*) * Max(result->natts, 1)));
  for (int c = 0; c < result->natts; c++) {
    Form_pg_attribute attribute = TupleDescAttr(result, c);
    call->names[c] = pstrdup(NameStr(attribute->attname));
    call->types[c] = format_type_extended(attribute->atttypid, attribute->atttypmod, FORMAT_TYPE_TYPEMOD_GIVEN);
  }
  MemoryContextSwitchTo(spi_context);
  XactReadOnly = was_read_only;
  AtEOXact_GUC(true, guc_level);
  SPI_finish();
}

// "production (id integer, total numeric), ...": the step tables as the combine step would have them.
const char* step_tables_text(const CombineDescription* call) {
  StringInfoData text;
  initStringInfo(&text);
  for (int i = 0; i < call->ask->step_count; i++) {
    const TargetDescription* step = &call->steps[i];
    appendStringInfo(&text, "%s%s (", i > 0 ? ", " : "", quote_identifier(call->ask->step_database[i]));
    for (int c = 0; c < step->column_count; c++)
      appendStringInfo(&text, "%s%s %s", c > 0 ? ", " : "", quote_identifier(step->names[c]),
                       format_type_be(local_column_type(step->remote_types[c])));
    appendStringInfoChar(&text, ')');
  }
  return text.data;
}

// Each step's column names as a run's step table has them (row_sink.cpp: core/json_row.hpp's unique keys).
const char*** unique_step_names(const AskState* ask, const TargetDescription* steps) {
  const char*** names = static_cast<const char***>(palloc0(sizeof(char**) * Max(ask->step_count, 1)));
  for (int i = 0; i < ask->step_count; i++) {
    int n = steps[i].column_count;
    char** unique = static_cast<char**>(palloc0(sizeof(char*) * Max(n, 1)));
    CppError error = cpp_call([&] {
      std::vector<std::string> given(steps[i].names, steps[i].names + n);
      std::vector<std::string> keys = unique_column_keys(given);
      for (int c = 0; c < n; c++) unique[c] = malloc_copy(keys[c]);
    });
    const char** taken = static_cast<const char**>(palloc0(sizeof(char*) * Max(n, 1)));
    for (int c = 0; c < n; c++) taken[c] = take(unique[c]);
    raise_cpp_error(error, "naming the step tables' columns");
    names[i] = taken;
  }
  return names;
}

void describe_combine(CombineDescription* call) {
  call->caller_context = CurrentMemoryContext;
  call->step_names = unique_step_names(call->ask, call->steps);
  ErrorData* error = in_subtransaction(describe_combine_body, call);
  if (error == nullptr) return;
  if (error->sqlerrcode == ERRCODE_QUERY_CANCELED) ReThrowError(error);
  ereport(ERROR, (errcode(error->sqlerrcode), errmsg("the combine step cannot be described: %s", error->message),
                  errdetail("The combine step: %s\nThe tables it could read: %s", call->ask->combine_sql,
                            step_tables_text(call)),
                  error->hint ? errhint("%s", error->hint) : 0));
}

void append_databases_json(StringInfo json, const TargetDescription* descriptions, int count) {
  appendStringInfoString(json, "[");
  for (int i = 0; i < count; i++) {
    appendStringInfoString(json, i > 0 ? ", {\"database\": " : "{\"database\": ");
    escape_json(json, descriptions[i].database);
    appendStringInfoString(json, ", \"columns\": ");
    append_columns_json(json, descriptions[i].column_count, descriptions[i].names, descriptions[i].types);
    appendStringInfoChar(json, '}');
  }
  appendStringInfoChar(json, ']');
}

Datum describe_answer_entry(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0)) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("the plan must not be NULL")));
  const char* plan_text = to_utf8(JsonbToCString(nullptr, &PG_GETARG_JSONB_P(0)->root, 0));
  char* single_sql = nullptr;
  PlanCopy copy{};
  CppError error = cpp_call([&] {
    nlohmann::json plan = nlohmann::json::parse(plan_text);
    if (plan.is_object() && plan.contains("sql")) {
      if (!plan["sql"].is_string()) throw std::invalid_argument("the plan's \"sql\" must be a string");
      single_sql = malloc_copy(plan["sql"].get<std::string>());
      return;
    }
    copy = copy_plan(plan_from_json(plan_text));
  });
  if (error.failed)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s", error.message),
                    errhint("A plan is {\"sql\": \"...\"} with connections, or {\"queries\": [{\"database\": \"...\", "
                            "\"sql\": \"...\"}], \"combine\": \"...\"} as multidb.plan() shows it.")));
  // merge => false: no answer columns ("columns": []) for a drift check, which compares each database on its own,
  // so that databases that no longer agree with each other are differences to list rather than an ERROR.
  const bool merge = PG_NARGS() < 3 || PG_ARGISNULL(2) || PG_GETARG_BOOL(2);
  StringInfoData json;
  initStringInfo(&json);
  if (single_sql != nullptr) {
    const char* sql = from_utf8(take(single_sql), "the plan's SQL");
    if (PG_ARGISNULL(1))
      ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("a plan {\"sql\": ...} needs connections"),
                      errhint("Pass connection names, for example ARRAY['production','backup'].")));
    int count;
    RemoteTarget* targets = resolve_targets(PG_GETARG_ARRAYTYPE_P(1), &count);
    TargetDescription* descriptions = describe_on_targets(sql, nullptr, targets, count);
    MergedColumns merged = merge ? merge_target_descriptions(descriptions, count) : MergedColumns{0, nullptr, nullptr};
    appendStringInfoString(&json, "{\"columns\": ");
    append_columns_json(&json, merged.count, merged.names, merged.types);
    appendStringInfoString(&json, ", \"databases\": ");
    append_databases_json(&json, descriptions, count);
    appendStringInfoChar(&json, '}');
  } else {
    AskState* ask = static_cast<AskState*>(palloc0(sizeof(AskState)));
    adopt_plan(ask, copy);
    if (ask->step_count == 0) ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("the plan has no queries")));
    Datum* names = static_cast<Datum*>(palloc(sizeof(Datum) * ask->step_count));
    for (int i = 0; i < ask->step_count; i++) names[i] = CStringGetTextDatum(ask->step_database[i]);
    ask->targets = resolve_targets(construct_array(names, ask->step_count, TEXTOID, -1, false, TYPALIGN_INT),
                                   &ask->target_count);
    guard_plan(ask);
    RemoteTarget* targets = static_cast<RemoteTarget*>(palloc(sizeof(RemoteTarget) * ask->step_count));
    for (int i = 0; i < ask->step_count; i++)
      for (int t = 0; t < ask->target_count; t++)
        if (strcmp(ask->targets[t].name, ask->step_database[i]) == 0) targets[i] = ask->targets[t];
    TargetDescription* steps = describe_on_targets(nullptr, ask->step_sql, targets, ask->step_count);
    CombineDescription combine{ask, steps, nullptr, 0, nullptr, nullptr, nullptr};
    MergedColumns merged{0, nullptr, nullptr};
    if (ask->combine_sql != nullptr) {
      describe_combine(&combine);
      merged = MergedColumns{combine.count, combine.names, combine.types};
    } else if (merge) {
      merged = merge_target_descriptions(steps, ask->step_count);
    }
    appendStringInfoString(&json, "{\"columns\": ");
    append_columns_json(&json, merged.count, merged.names, merged.types);
    appendStringInfoString(&json, ", \"databases\": ");
    append_databases_json(&json, steps, ask->step_count);
    if (ask->combine_sql != nullptr) {
      appendStringInfoString(&json, ", \"combine\": {\"columns\": ");
      append_columns_json(&json, combine.count, combine.names, combine.types);
      appendStringInfoChar(&json, '}');
    }
    appendStringInfoChar(&json, '}');
  }
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json.data)));
}

}  // namespace

}  // namespace multidb

using namespace multidb;

MULTIDB_FUNCTION(multidb__describe_answer) { return describe_answer_entry(fcinfo); }
