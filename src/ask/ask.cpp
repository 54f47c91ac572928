// multidb.ask and multidb.plan: a question in plain language -> combined schema -> LLM plan (or the plan
// cache) -> read-only guard -> fan-out -> rows, with one history record written in a transaction of its own;
// multidb.run_plan, catalog_objects, refresh_schema and clear_cache. This file holds the whole ask (its
// arguments, the subtransaction, the history record) and the entry points; each step is in a file of its
// own, listed in ask_internal.hpp.
#include "ask/ask_internal.hpp"
#include "ask/history_writer.hpp"
#include "core/history_record.hpp"
#include "core/plan_parser.hpp"
#include "fanout/progress.hpp"
#include "foundation/entry_point.hpp"
#include "foundation/extension_tables.hpp"
#include "foundation/settings.hpp"

#include <optional>
#include <string>

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/uuid.h"
}

namespace multidb {

double elapsed_ms(instr_time start) {
  instr_time now;
  INSTR_TIME_SET_CURRENT(now);
  INSTR_TIME_SUBTRACT(now, start);
  return INSTR_TIME_GET_MILLISEC(now);
}

ErrorData* in_subtransaction(void (*body)(void*), void* arg) {
  MemoryContext caller_context = CurrentMemoryContext;
  ResourceOwner caller_owner = CurrentResourceOwner;
  ErrorData* error = nullptr;
  BeginInternalSubTransaction(nullptr);
  MemoryContextSwitchTo(caller_context);
  PG_TRY();
  {
    body(arg);
    ReleaseCurrentSubTransaction();
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(caller_context);
    error = CopyErrorData();
    FlushErrorState();
    RollbackAndReleaseCurrentSubTransaction();
  }
  PG_END_TRY();
  MemoryContextSwitchTo(caller_context);
  CurrentResourceOwner = caller_owner;
  return error;
}

void collect_attached_groups(AskState* ask, ArrayType* connections) {
  Datum* elements;
  bool* nulls;
  int n;
  deconstruct_array(connections, TEXTOID, -1, false, TYPALIGN_INT, &elements, &nulls, &n);
  ask->groups = static_cast<AttachedGroup*>(palloc0(sizeof(AttachedGroup) * Max(n, 1)));
  ask->group_count = 0;
  for (int i = 0; i < n; i++) {
    if (nulls[i]) continue;
    const char* element = TextDatumGetCString(elements[i]);
    if (element[0] != '@') continue;
    bool seen = false;
    for (int g = 0; g < ask->group_count; g++) seen |= strcmp(ask->groups[g].name, element + 1) == 0;
    if (seen) continue;
    List* members = group_members(element + 1);
    AttachedGroup* group = &ask->groups[ask->group_count++];
    group->name = element + 1;
    group->member_count = list_length(members);
    group->members = static_cast<const char**>(palloc(sizeof(char*) * Max(group->member_count, 1)));
    for (int m = 0; m < group->member_count; m++) group->members[m] = static_cast<const char*>(list_nth(members, m));
  }
}

namespace {

void load_history(AskState* ask) {
  ask->history_count = 0;
  if (ask->session_id == nullptr || history_turns == 0) return;
  ChatTurns turns = recent_turns(ask->session_id, history_turns);
  ask->history_questions = turns.questions;
  ask->history_answers = turns.answers;
  ask->history_count = turns.count;
}

const char* history_record(const AskState* ask) {
  char* record = nullptr;
  bool database_is_utf8 = GetDatabaseEncoding() == PG_UTF8;
  double total_ms = elapsed_ms(ask->started);
  CppError error = cpp_call([&] {
    auto text = [](const char* value) { return value ? std::optional<std::string>(value) : std::nullopt; };
    AskRecord out;
    out.session_id = text(ask->session_id);
    out.question = ask->question;
    out.status = ask->status ? ask->status : "error";
    out.error = text(ask->error);
    out.plan_json = text(ask->plan_json);
    out.attempts_json = text(ask->attempts_json);
    out.explanation = ask->explanation ? ask->explanation : "";
    for (int i = 0; i < ask->step_count; i++) out.steps.push_back({ask->step_database[i], ask->step_sql[i]});
    out.steps_ran = ask->step_rows != nullptr;
    for (int i = 0; out.steps_ran && i < ask->step_count; i++) {
      out.step_rows.push_back(ask->step_rows[i]);
      out.step_ms.push_back(ask->step_ms[i]);
    }
    out.combine_sql = text(ask->combine_sql);
    out.combined_source = kCombinedSource;
    out.combined_rows = ask->combined_rows;
    out.combine_ms = ask->combine_ms;
    out.llm_ms = ask->llm_ms;
    out.exec_ms = ask->exec_ms;
    out.total_ms = total_ms;
    out.cached = text(ask->cached);
    out.model = text(ask->answered_model ? ask->answered_model : ask->llm.model);
    out.llm_attempts_json = text(ask->llm_attempts_json);
    out.prompt_tokens = ask->prompt_tokens;
    out.completion_tokens = ask->completion_tokens;
    record = malloc_copy(history_record_text(out, database_is_utf8));
  });
  if (error.failed) return nullptr;
  return take(record);
}

// An ask with neither a session nor connections: multidb.default_connections, or, when it is empty, the one
// connection the caller can use. Otherwise an ERROR whose HINT lists the caller's connections. *from_setting says
// whether the list came from the setting (its errors then name it).
ArrayType* default_connection_array(bool* from_setting) {
  List* names = default_connection_names();
  *from_setting = names != NIL;
  if (names != NIL) {
    Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * list_length(names)));
    int n = 0;
    ListCell* cell;
    foreach (cell, names) elements[n++] = CStringGetTextDatum(static_cast<const char*>(lfirst(cell)));
    return construct_array(elements, n, TEXTOID, -1, false, TYPALIGN_INT);
  }
  ArrayType* mine = askable_connection_names();
  int count = ArrayGetNItems(ARR_NDIM(mine), ARR_DIMS(mine));
  if (count == 1) return mine;
  if (count == 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("which databases should multidb ask?"),
                    errdetail("multidb.default_connections is empty and there is no connection you can use."),
                    errhint("There is no connection you can use yet: multidb.add_connection('name', "
                            "'host=... dbname=... user=...') adds one (or ask its owner for USAGE on it and a "
                            "user mapping); then pass connections => ARRAY['name'] or a session.")));
  const char* list = askable_connection_list();
  Datum* elements;
  bool* nulls;
  int n;
  deconstruct_array(mine, TEXTOID, -1, false, TYPALIGN_INT, &elements, &nulls, &n);
  const char* first_name = TextDatumGetCString(elements[0]);
  char* first = quote_literal_cstr(first_name);
  ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("which databases should multidb ask?"),
                  errdetail("multidb.default_connections is empty and you can use %d connections.", count),
                  errhint("Your connections: %s. Pass connections => ARRAY[%s], or a session: "
                          "multidb.create_session('name', ARRAY[%s]) and session => its id, or set the default: "
                          "SET multidb.default_connections = %s (ALTER ROLE ... SET keeps it).",
                          list, first, first, quote_literal_cstr(quote_identifier(first_name)))));
  return nullptr;
}

// The targets of multidb.default_connections: an error resolving them (a connection that does not exist, no
// USAGE, no user mapping) names the setting, since the caller named no connection.
RemoteTarget* resolve_default_targets(ArrayType* connections, bool from_setting, int* count) {
  if (!from_setting) return resolve_targets(connections, count);
  RemoteTarget* targets = nullptr;
  MemoryContext caller_context = CurrentMemoryContext;
  PG_TRY();
  {
    targets = resolve_targets(connections, count);
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(caller_context);
    ErrorData* error = CopyErrorData();
    if (error->elevel != ERROR || error->sqlerrcode == ERRCODE_QUERY_CANCELED) PG_RE_THROW();
    FlushErrorState();
    error->message = psprintf("%s (named by multidb.default_connections)", error->message);
    error->hint = psprintf("SHOW multidb.default_connections says what it is; fix it, or RESET it (ALTER ROLE or "
                           "ALTER DATABASE ... SET may have set it).%s%s",
                           error->hint ? " " : "", error->hint ? error->hint : "");
    ReThrowError(error);
  }
  PG_END_TRY();
  return targets;
}

void resolve_scope(AskState* ask, FunctionCallInfo fcinfo) {
  ArrayType* connections = nullptr;
  if (!PG_ARGISNULL(1)) ask->session_id = DatumGetCString(DirectFunctionCall1(uuid_out, PG_GETARG_DATUM(1)));
  if (!PG_ARGISNULL(2)) connections = PG_GETARG_ARRAYTYPE_P(2);
  if (ask->session_id != nullptr && connections != nullptr)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("give a session or connections, not both"),
                    errhint("A session already names its connections; multidb.attach() adds one.")));
  if (ask->session_id == nullptr && connections == nullptr) {
    bool from_setting = false;
    connections = default_connection_array(&from_setting);
    ask->targets = resolve_default_targets(connections, from_setting, &ask->target_count);
    collect_attached_groups(ask, connections);
    return;
  }
  if (connections == nullptr) connections = session_connections(ask->session_id);
  ask->targets = resolve_targets(connections, &ask->target_count);
  collect_attached_groups(ask, connections);
}

void plan_ask(AskState* ask, bool force_llm) {
  load_schemas(ask, false, false);
  load_history(ask);
  ask->llm = resolve_llm_server();
  prepare_cache_key(ask);
  if (force_llm || !plan_from_cache(ask)) {
    prepare_prompt(ask);
    plan_with_llm(ask);
  }
  guard_plan(ask);
}

struct AskCall {
  AskState* ask;
  ReturnSetInfo* rsinfo;
};

void ask_body(void* arg) {
  AskState* ask = static_cast<AskCall*>(arg)->ask;
  ReturnSetInfo* rsinfo = static_cast<AskCall*>(arg)->rsinfo;
  plan_ask(ask, false);
  report_plan(ask);
  if (result_cache_ttl_s > 0 && results_from_cache(ask, rsinfo->setResult, rsinfo->setDesc)) {
    ask->status = "ok";
    return;
  }
  const char* cached_before = ask->cached;
  execute_plan(ask, rsinfo->setResult, rsinfo->setDesc);
  if (ask->status == nullptr) ask->status = "ok";
  if (cached_before == nullptr && strcmp(ask->status, "ok") == 0) store_plan_in_cache(ask);
  if (result_cache_ttl_s > 0 && strcmp(ask->status, "ok") == 0)
    store_results_in_cache(ask, rsinfo->setResult, rsinfo->setDesc);
}

Datum ask_entry(FunctionCallInfo fcinfo, bool dry_run) {
  if (PG_ARGISNULL(0))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("the question must not be NULL")));
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  AskState* ask = static_cast<AskState*>(palloc0(sizeof(AskState)));
  INSTR_TIME_SET_CURRENT(ask->started);
  ask->repairs_allowed = true;
  ask->question = text_to_cstring(PG_GETARG_TEXT_PP(0));
  resolve_scope(ask, fcinfo);

  if (dry_run) {
    plan_ask(ask, false);
    for (int i = 0; i < ask->step_count; i++) {
      Datum values[2] = {CStringGetTextDatum(ask->step_database[i]), CStringGetTextDatum(ask->step_sql[i])};
      bool nulls[2] = {false, false};
      tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    if (ask->combine_sql != nullptr) {
      Datum values[2] = {CStringGetTextDatum(kCombinedSource), CStringGetTextDatum(ask->combine_sql)};
      bool nulls[2] = {false, false};
      tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    if (ask->cached == nullptr) store_plan_in_cache(ask);
    return static_cast<Datum>(0);
  }

  // The ask runs in a subtransaction so that, if it fails, its history can still be written (by the history
  // writer, in a transaction of its own) before the error goes on. The writer starts now, outside the
  // subtransaction, so that its start-up overlaps the LLM call and the remote queries. It holds the record of
  // the ask as cancelled, which it writes if this backend ends before the ask does.
  const char* cancelled = history_takes_cancelled() ? "cancelled" : "error";
  ask->status = cancelled;
  ask->error = "the ask's backend ended before the ask did (pg_terminate_backend, its client gone, or a FATAL error)";
  const char* record_if_ended = history_record(ask);
  ask->status = nullptr;
  ask->error = nullptr;
  HistoryWriter* writer = start_history_writer(record_if_ended);
  ask->plan_hit_by_history = true;
  AskCall call{ask, rsinfo};
  progress_begin();
  ErrorData* error = in_subtransaction(ask_body, &call);
  if (error != nullptr) {
    if (ask->status == nullptr || strcmp(ask->status, "ok") == 0) ask->status = "error";
    // Stopped from here — pg_cancel_backend, Ctrl-C, statement_timeout: Postgres's own interrupt, not a remote's
    // error of the same SQLSTATE (those come from multidb's code).
    if (error->sqlerrcode == ERRCODE_QUERY_CANCELED && error->funcname != nullptr &&
        strcmp(error->funcname, "ProcessInterrupts") == 0)
      ask->status = cancelled;
    ask->error = error->message;
  }
  const char* record = history_record(ask);
  finish_history_writer(writer, record ? record : "{}", ask->cached != nullptr ? ask->cache_key : nullptr);
  progress_end(ask->status, error != nullptr ? 0 : static_cast<int64>(tuplestore_tuple_count(rsinfo->setResult)),
               elapsed_ms(ask->started));
  if (error != nullptr) ReThrowError(error);
  return static_cast<Datum>(0);
}

// multidb._plan_json: the dry run's plan as one document, the sets included (a report or a view freezes it).
Datum plan_json_entry(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("the question must not be NULL")));
  AskState* ask = static_cast<AskState*>(palloc0(sizeof(AskState)));
  INSTR_TIME_SET_CURRENT(ask->started);
  ask->repairs_allowed = true;
  ask->question = text_to_cstring(PG_GETARG_TEXT_PP(0));
  resolve_scope(ask, fcinfo);
  plan_ask(ask, false);
  if (ask->cached == nullptr) store_plan_in_cache(ask);
  const char* json = from_utf8(ask->plan_json, "the plan");
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

// A stored plan (a saved report's, or one from multidb.query_history) runs as the ask would run it, without
// the LLM: guarded again, each statement on its database in parallel, then the combine step.
Datum run_plan_entry(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0)) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("the plan must not be NULL")));
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  AskState* ask = static_cast<AskState*>(palloc0(sizeof(AskState)));
  INSTR_TIME_SET_CURRENT(ask->started);
  const char* plan_text = to_utf8(JsonbToCString(nullptr, &PG_GETARG_JSONB_P(0)->root, 0));
  PlanCopy copy{};
  CppError error = cpp_call([&] { copy = copy_plan(plan_from_json(plan_text)); });
  if (error.failed)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s", error.message),
                    errhint("A plan is {\"queries\": [{\"database\": \"...\", \"sql\": \"...\"}], \"combine\": "
                            "\"...\"}, as multidb.plan() and multidb.query_history.plan show it.")));
  adopt_plan(ask, copy);
  if (ask->step_count == 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("the plan has no queries")));
  Datum* names = static_cast<Datum*>(palloc(sizeof(Datum) * ask->step_count));
  for (int i = 0; i < ask->step_count; i++) names[i] = CStringGetTextDatum(ask->step_database[i]);
  ask->targets = resolve_targets(construct_array(names, ask->step_count, TEXTOID, -1, false, TYPALIGN_INT),
                                 &ask->target_count);
  progress_begin();
  guard_plan(ask);
  report_plan(ask);
  execute_plan(ask, rsinfo->setResult, rsinfo->setDesc);
  progress_end(ask->status ? ask->status : "ok", static_cast<int64>(tuplestore_tuple_count(rsinfo->setResult)),
               elapsed_ms(ask->started));
  return static_cast<Datum>(0);
}

// The catalog objects schema_diff compares, per connection: from the schema cache while it is fresh (or
// read again now with refresh), through the same introspection as asking.
Datum catalog_objects_entry(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("the connection list must not be NULL")));
  bool refresh = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  AskState* ask = static_cast<AskState*>(palloc0(sizeof(AskState)));
  ask->targets = resolve_targets(PG_GETARG_ARRAYTYPE_P(0), &ask->target_count);
  load_schemas(ask, refresh, true);
  for (int i = 0; i < ask->target_count; i++)
    put_cached_catalog_objects(ask->targets[i].name, rsinfo->setResult, rsinfo->setDesc);
  return static_cast<Datum>(0);
}

}  // namespace
}  // namespace multidb

using namespace multidb;

extern "C" {


MULTIDB_FUNCTION(multidb_ask) { return ask_entry(fcinfo, false); }

MULTIDB_FUNCTION(multidb_plan) { return ask_entry(fcinfo, true); }

MULTIDB_FUNCTION(multidb__plan_json) { return plan_json_entry(fcinfo); }

MULTIDB_FUNCTION(multidb_catalog_objects) { return catalog_objects_entry(fcinfo); }

MULTIDB_FUNCTION(multidb_run_plan) { return run_plan_entry(fcinfo); }

MULTIDB_FUNCTION(multidb_refresh_schema) {
  ArrayType* names;
  if (PG_ARGISNULL(0)) {
    names = usable_connection_names();  // every connection the caller may use
    if (ArrayGetNItems(ARR_NDIM(names), ARR_DIMS(names)) == 0) PG_RETURN_VOID();
  } else {
    Datum name = PG_GETARG_DATUM(0);
    names = construct_array(&name, 1, TEXTOID, -1, false, TYPALIGN_INT);
  }
  AskState* ask = static_cast<AskState*>(palloc0(sizeof(AskState)));
  ask->targets = resolve_targets(names, &ask->target_count);
  load_schemas(ask, true, false);
  PG_RETURN_VOID();
}

// The connections an ask given neither a session nor connections would use (multidb.default_connections, or the
// one usable connection), checked as the ask checks them; the same ERROR as the ask's when there is none.
MULTIDB_FUNCTION(multidb_default_connections) {
  bool from_setting = false;
  ArrayType* names = default_connection_array(&from_setting);
  int count;
  resolve_default_targets(names, from_setting, &count);
  PG_RETURN_ARRAYTYPE_P(names);
}

MULTIDB_FUNCTION(multidb_clear_cache) {
  clear_caches();
  PG_RETURN_VOID();
}

}  // extern "C"
