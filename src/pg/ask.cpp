// multidb.ask and multidb.plan: a question in plain language -> combined schema -> LLM plan (or the plan
// cache) -> read-only guard -> fan-out -> rows, with one history record written in a transaction of its own.
//
// Every call into the pure C++ core happens inside cpp_call() (pg/boundary.hpp), which returns plain data;
// Postgres calls (SPI, ereport, the fan-out) happen outside it, with no C++ object alive in the frame.
//
// Over 500 lines with a reason: it still holds every step of an ask (sessions, schema cache, prompt and
// plan cache, the LLM call, the guard over a plan, repairs, the combine step, result cache, the history
// record's inputs, run_plan, catalog_objects); splitting it by responsibility is issue 10's next step.
#include "core/history_record.hpp"
#include "core/http_client.hpp"
#include "core/llm_protocol.hpp"
#include "core/plan_parser.hpp"
#include "core/prompt.hpp"
#include "core/repair_policy.hpp"
#include "core/schema_model.hpp"
#include "dispatch/fanout_executor.hpp"
#include "pg/boundary.hpp"
#include "pg/connections.hpp"
#include "pg/entry_point.hpp"
#include "pg/history_writer.hpp"
#include "pg/llm_server.hpp"
#include "pg/settings.hpp"
#include "pg/sql_guard.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <string>
#include <unordered_map>
#include <vector>

extern "C" {
#include "access/xact.h"
#include "catalog/pg_extension.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/queryenvironment.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
}

namespace multidb {
namespace {

double elapsed_ms(instr_time start) {
  instr_time now;
  INSTR_TIME_SET_CURRENT(now);
  INSTR_TIME_SUBTRACT(now, start);
  return INSTR_TIME_GET_MILLISEC(now);
}

bool interrupt_pending() { return QueryCancelPending || ProcDiePending; }

// Runs body(arg) in an internal subtransaction, so that an error in it can be recorded or handled before
// it goes on. Returns nullptr when body succeeded (the subtransaction is committed), or else its error,
// copied into the caller's memory context after the subtransaction rolled back.
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

// ---- one ask's state, plain data ------------------------------------------------------------------------

struct AskState {
  const char* question;
  const char* session_id;  // text form, or nullptr for a one-off ask
  RemoteTarget* targets;
  int target_count;
  const char** fingerprints;  // per target
  const char** schema_json;   // per target, loaded only when a prompt must be built
  const char* combined_schema;
  int history_count;
  const char** history_questions;
  const char** history_answers;
  LlmServer llm;

  // the plan
  int step_count;
  const char** step_database;
  const char** step_sql;
  const char* combine_sql;  // nullptr when the plan has no combine step
  const char* explanation;
  const char* plan_json;
  const char* reply_text;  // the LLM's last reply, for a repair round
  const char* cache_key;
  const char* cached;      // nullptr, "plan"
  const char* attempts_json;

  // outcome
  const char* status;
  const char* error;
  int64* step_rows;
  double* step_ms;
  TupleDesc* step_columns;          // with a combine step: each database's result, kept for it
  Tuplestorestate** step_results;
  int64 combined_rows;
  double combine_ms;
  bool repairs_allowed;             // false when a stored plan runs (multidb.run_plan): no LLM then
  double llm_ms;
  double exec_ms;
  long prompt_tokens;
  long completion_tokens;
  instr_time started;
};

// ---- reading the catalog and our tables ------------------------------------------------------------------

Oid extension_owner() {
  // Remembered per backend, keyed by the extension's OID (a re-created extension has a new one).
  static Oid known_extension = InvalidOid;
  static Oid known_owner = InvalidOid;
  Oid extension = get_extension_oid("multidb", false);
  if (extension == known_extension) return known_owner;
  SPI_connect();
  Datum arg = ObjectIdGetDatum(extension);
  Oid types[1] = {OIDOID};
  SPI_execute_with_args("SELECT extowner FROM pg_catalog.pg_extension WHERE oid = $1", 1, types, &arg, nullptr, true, 1);
  bool is_null;
  Oid owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &is_null));
  SPI_finish();
  known_extension = extension;
  known_owner = owner;
  return owner;
}

// The caches are multidb's own: read and written as the extension's owner, never by the asking role.
struct OwnerScope {
  Oid saved_user;
  int saved_context;
};
OwnerScope become_extension_owner() {
  OwnerScope scope;
  GetUserIdAndSecContext(&scope.saved_user, &scope.saved_context);
  SetUserIdAndSecContext(extension_owner(), scope.saved_context | SECURITY_LOCAL_USERID_CHANGE);
  return scope;
}
void restore_user(OwnerScope scope) { SetUserIdAndSecContext(scope.saved_user, scope.saved_context); }

ArrayType* session_connections(const char* session_id) {
  SPI_connect();
  Oid types[1] = {TEXTOID};
  Datum arg = CStringGetTextDatum(session_id);
  SPI_execute_with_args("SELECT connections FROM multidb.chat_sessions WHERE id = $1::uuid", 1, types, &arg, nullptr,
                        true, 1);
  if (SPI_processed == 0)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("chat session %s does not exist", session_id),
                    errhint("SELECT id, name FROM multidb.chat_sessions lists yours; "
                            "multidb.create_session() makes one.")));
  bool is_null;
  Datum value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &is_null);
  ArrayType* connections = DatumGetArrayTypePCopy(value);
  SPI_finish();
  if (ArrayGetNItems(ARR_NDIM(connections), ARR_DIMS(connections)) == 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("chat session %s has no connections attached", session_id),
                    errhint("multidb.attach('%s', 'connection name') adds one.", session_id)));
  return connections;
}

void load_history(AskState* ask) {
  ask->history_count = 0;
  if (ask->session_id == nullptr || history_turns == 0) return;
  SPI_connect();
  Oid types[2] = {TEXTOID, INT4OID};
  Datum args[2] = {CStringGetTextDatum(ask->session_id), Int32GetDatum(history_turns)};
  // The newest exchanges, oldest first: a user message and the assistant message of the same ask.
  SPI_execute_with_args(
      "SELECT u.content, a.content FROM multidb.chat_messages u "
      "JOIN multidb.chat_messages a ON a.query_id = u.query_id AND a.role = 'assistant' "
      "WHERE u.session_id = $1::uuid AND u.role = 'user' "
      "ORDER BY u.id DESC LIMIT $2",
      2, types, args, nullptr, true, 0);
  int n = SPI_processed;
  ask->history_questions = static_cast<const char**>(MemoryContextAlloc(TopTransactionContext, sizeof(char*) * Max(n, 1)));
  ask->history_answers = static_cast<const char**>(MemoryContextAlloc(TopTransactionContext, sizeof(char*) * Max(n, 1)));
  for (int i = 0; i < n; i++) {
    HeapTuple tuple = SPI_tuptable->vals[n - 1 - i];
    ask->history_questions[i] = MemoryContextStrdup(TopTransactionContext, SPI_getvalue(tuple, SPI_tuptable->tupdesc, 1));
    ask->history_answers[i] = MemoryContextStrdup(TopTransactionContext, SPI_getvalue(tuple, SPI_tuptable->tupdesc, 2));
  }
  ask->history_count = n;
  SPI_finish();
}

// ---- schemas --------------------------------------------------------------------------------------------

// Runs on each remote (through the fan-out, so in parallel and guarded): one JSON document of the tables and
// views the remote user can read, their columns, keys, comments and row estimates ("tables", for the
// prompt), and of every catalog object outside extensions with its definition as Postgres prints it
// ("objects", for schema_diff).
//
// "catalog_version" changes with any change to the catalogs the document is made of (a row inserted,
// updated or deleted changes its table's count or sum of xmin), so a cached document can be checked
// against the live catalogs by a cheap probe instead of being read again.
const char* const kCatalogVersionSql = R"SQL(md5(concat_ws(',',
  (SELECT count(*) || ':' || sum(xmin::text::bigint) FROM pg_class),
  (SELECT count(*) || ':' || sum(xmin::text::bigint) FROM pg_attribute),
  (SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_attrdef),
  (SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_constraint),
  (SELECT count(*) || ':' || sum(xmin::text::bigint) FROM pg_index),
  (SELECT count(*) || ':' || sum(xmin::text::bigint) FROM pg_proc),
  (SELECT count(*) || ':' || sum(xmin::text::bigint) FROM pg_rewrite),
  (SELECT count(*) || ':' || sum(xmin::text::bigint) FROM pg_type),
  (SELECT count(*) || ':' || sum(xmin::text::bigint) FROM pg_namespace),
  (SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_description))))SQL";

const char* const kIntrospectionSqlHead = R"SQL(
SELECT json_build_object(
  'catalog_version', )SQL";
const char* const kIntrospectionSqlTail = R"SQL(,
  'tables', (SELECT coalesce(json_agg(t ORDER BY t.schema, t.name), '[]') FROM (
  SELECT n.nspname AS schema, c.relname AS name,
         CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                        WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' END AS kind,
         obj_description(c.oid, 'pg_class') AS comment,
         CASE WHEN c.reltuples < 0 THEN -1 ELSE c.reltuples END AS rows,
         (SELECT json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
                                            'nullable', NOT a.attnotnull, 'comment', col_description(c.oid, a.attnum))
                          ORDER BY a.attnum)
            FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
         (SELECT json_agg(a.attname ORDER BY k.ord)
            FROM pg_constraint pk CROSS JOIN unnest(pk.conkey) WITH ORDINALITY k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = pk.conrelid AND a.attnum = k.attnum
           WHERE pk.conrelid = c.oid AND pk.contype = 'p') AS primary_key,
         (SELECT json_agg(json_build_object(
                   'columns', (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(fk.conkey) WITH ORDINALITY k(attnum, ord)
                                 JOIN pg_attribute a ON a.attrelid = fk.conrelid AND a.attnum = k.attnum),
                   'references', fn.nspname || '.' || fc.relname,
                   'ref_columns', (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(fk.confkey) WITH ORDINALITY k(attnum, ord)
                                     JOIN pg_attribute a ON a.attrelid = fk.confrelid AND a.attnum = k.attnum)))
            FROM pg_constraint fk JOIN pg_class fc ON fc.oid = fk.confrelid JOIN pg_namespace fn ON fn.oid = fc.relnamespace
           WHERE fk.conrelid = c.oid AND fk.contype = 'f') AS foreign_keys
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p') AND NOT c.relispartition
     AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
     AND n.nspname NOT LIKE 'pg\_temp%' AND has_table_privilege(c.oid, 'SELECT')
  ) t),
  'objects', (SELECT coalesce(json_agg(o ORDER BY o.kind, o.name), '[]') FROM (
      WITH user_namespaces AS (
        SELECT oid, nspname FROM pg_namespace
         WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_toast%'
           AND nspname NOT LIKE 'pg\_temp%'),
      extension_members AS (SELECT objid FROM pg_depend WHERE deptype = 'e')
      SELECT 'table' AS kind, n.nspname || '.' || c.relname AS name,
             CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'f' THEN 'foreign table'
                            WHEN 'm' THEN 'materialized view' END AS definition
        FROM pg_class c JOIN user_namespaces n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'f', 'm') AND c.oid NOT IN (SELECT objid FROM extension_members)
      UNION ALL
      SELECT 'column', n.nspname || '.' || c.relname || '.' || a.attname,
             format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
               || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN user_namespaces n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f', 'm', 'v')
         AND c.oid NOT IN (SELECT objid FROM extension_members)
      UNION ALL
      SELECT 'index', n.nspname || '.' || ci.relname, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid JOIN user_namespaces n ON n.oid = ci.relnamespace
       WHERE i.indrelid NOT IN (SELECT objid FROM extension_members)
      UNION ALL
      SELECT 'constraint', n.nspname || '.' || c.relname || '.' || con.conname, pg_get_constraintdef(con.oid)
        FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN user_namespaces n ON n.oid = c.relnamespace
       WHERE c.oid NOT IN (SELECT objid FROM extension_members)
      UNION ALL
      SELECT 'view', n.nspname || '.' || c.relname, pg_get_viewdef(c.oid)
        FROM pg_class c JOIN user_namespaces n ON n.oid = c.relnamespace
       WHERE c.relkind = 'v' AND c.oid NOT IN (SELECT objid FROM extension_members)
      UNION ALL
      SELECT 'function', n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
             pg_get_functiondef(p.oid)
        FROM pg_proc p JOIN user_namespaces n ON n.oid = p.pronamespace
       WHERE p.prokind IN ('f', 'p') AND p.oid NOT IN (SELECT objid FROM extension_members)
  ) o)
)::text AS schema)SQL";

const char* introspection_sql() {
  static char* sql = nullptr;
  if (sql == nullptr)
    sql = MemoryContextStrdup(TopMemoryContext,
                              psprintf("%s%s%s", kIntrospectionSqlHead, kCatalogVersionSql, kIntrospectionSqlTail));
  return sql;
}

const char* catalog_probe_sql() {
  static char* sql = nullptr;
  if (sql == nullptr)
    sql = MemoryContextStrdup(TopMemoryContext, psprintf("SELECT %s AS catalog_version", kCatalogVersionSql));
  return sql;
}

// Runs sql (one text column, one row) on targets[i] for which skip[i] is false, in parallel, into out[i].
void fetch_one_text(const char* sql, RemoteTarget* targets, int count, const bool* skip, const char** out,
                    const char* if_null) {
  int stale = 0;
  RemoteTarget* stale_targets = static_cast<RemoteTarget*>(palloc(sizeof(RemoteTarget) * count));
  int* stale_index = static_cast<int*>(palloc(sizeof(int) * count));
  for (int i = 0; i < count; i++) {
    if (skip[i]) continue;
    stale_index[stale] = i;
    stale_targets[stale++] = targets[i];
  }
  if (stale == 0) return;

  TupleDesc desc = CreateTemplateTupleDesc(2);
  TupleDescInitEntry(desc, 1, "source_db", TEXTOID, -1, 0);
  TupleDescInitEntry(desc, 2, "schema", TEXTOID, -1, 0);
  Tuplestorestate* rows = tuplestore_begin_heap(false, false, work_mem);
  FanoutRequest request{};
  request.sql = sql;
  request.targets = stale_targets;
  request.target_count = stale;
  request.shape = RowShape::kTyped;
  request.result_desc = desc;
  request.result = rows;
  run_fanout(&request);

  TupleTableSlot* slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
  int row = 0;
  while (tuplestore_gettupleslot(rows, true, false, slot) && row < stale) {
    bool is_null;
    Datum value = slot_getattr(slot, 2, &is_null);
    out[stale_index[row++]] = is_null ? if_null : TextDatumGetCString(value);
  }
  ExecDropSingleTupleTableSlot(slot);
  tuplestore_end(rows);
}

// Cached schemas younger than multidb.schema_ttl are used as they are (with verify_catalog, only if a probe
// finds the remote catalogs unchanged since); the others are read again and stored.
void load_schemas(AskState* ask, bool force_refresh, bool verify_catalog = false) {
  int n = ask->target_count;
  ask->schema_json = static_cast<const char**>(palloc0(sizeof(char*) * n));
  ask->fingerprints = static_cast<const char**>(palloc0(sizeof(char*) * n));
  bool* fresh = static_cast<bool*>(palloc0(sizeof(bool) * n));
  const char** cached_versions = static_cast<const char**>(palloc0(sizeof(char*) * n));

  OwnerScope owner = become_extension_owner();
  if (!force_refresh) {
    // One look-up for all targets: the fresh fingerprints.
    Datum* names = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    for (int i = 0; i < n; i++) names[i] = CStringGetTextDatum(ask->targets[i].name);
    SPI_connect();
    Oid types[2] = {TEXTARRAYOID, INT4OID};
    Datum args[2] = {PointerGetDatum(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT)),
                     Int32GetDatum(schema_ttl_s)};
    // A row without catalog_version predates schema_diff's use of the cache: read again. The columns are
    // read, never the document: a large schema would be detoasted on every ask.
    SPI_execute_with_args("SELECT connection, fingerprint, catalog_version FROM multidb.schema_cache "
                          "WHERE connection = ANY ($1) AND fetched_at > now() - make_interval(secs => $2) "
                          "AND catalog_version IS NOT NULL",
                          2, types, args, nullptr, true, 0);
    for (uint64 row = 0; row < SPI_processed; row++) {
      char* connection = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, 1);
      for (int i = 0; i < n; i++) {
        if (strcmp(connection, ask->targets[i].name) != 0) continue;
        ask->fingerprints[i] = MemoryContextStrdup(
            TopTransactionContext, SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, 2));
        char* version = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, 3);
        cached_versions[i] = version ? MemoryContextStrdup(TopTransactionContext, version) : "";
        fresh[i] = true;
      }
    }
    SPI_finish();
  }
  restore_user(owner);

  if (verify_catalog) {
    const char** live_versions = static_cast<const char**>(palloc0(sizeof(char*) * n));
    bool* unknown = static_cast<bool*>(palloc(sizeof(bool) * n));
    for (int i = 0; i < n; i++) unknown[i] = !fresh[i];
    fetch_one_text(catalog_probe_sql(), ask->targets, n, unknown, live_versions, "");
    for (int i = 0; i < n; i++)
      if (fresh[i] && strcmp(live_versions[i], cached_versions[i]) != 0) fresh[i] = false;
  }
  fetch_one_text(introspection_sql(), ask->targets, n, fresh, ask->schema_json, "{\"tables\": [], \"objects\": []}");

  for (int i = 0; i < n; i++) {
    if (fresh[i]) continue;
    char* fingerprint = nullptr;
    const char* name = ask->targets[i].name;
    const char* json = ask->schema_json[i];
    CppError error = cpp_call([&] { fingerprint = malloc_copy(schema_fingerprint(schema_from_json(name, json))); });
    if (error.failed)
      ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                      errmsg("connection \"%s\": could not read its schema: %s", name, error.message)));
    char* fingerprint_text = take(fingerprint);
    ask->fingerprints[i] = fingerprint_text;
    owner = become_extension_owner();
    SPI_connect();
    Oid types[3] = {TEXTOID, TEXTOID, TEXTOID};
    Datum args[3] = {CStringGetTextDatum(name), CStringGetTextDatum(fingerprint_text), CStringGetTextDatum(json)};
    SPI_execute_with_args(
        "INSERT INTO multidb.schema_cache (connection, fingerprint, schema, catalog_version, fetched_at) "
        "SELECT $1, $2, d, d->>'catalog_version', now() FROM (SELECT $3::jsonb AS d) doc "
        "ON CONFLICT (connection) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, schema = EXCLUDED.schema, "
        "catalog_version = EXCLUDED.catalog_version, fetched_at = EXCLUDED.fetched_at",
        3, types, args, nullptr, false, 0);
    SPI_finish();
    restore_user(owner);
  }
}

// ---- planning ---------------------------------------------------------------------------------------------

PromptInput prompt_input(const AskState* ask) {
  PromptInput input;
  for (int i = 0; i < ask->target_count; i++) input.databases.emplace_back(ask->targets[i].name);
  input.combined_schema = ask->combined_schema;
  for (int i = 0; i < ask->history_count; i++) input.history.push_back({ask->history_questions[i], ask->history_answers[i]});
  input.question = ask->question;
  return input;
}

LlmConfig llm_config(const AskState* ask) {
  LlmConfig config;
  config.provider = ask->llm.provider;
  config.url = ask->llm.url;
  config.model = ask->llm.model;
  config.api_key = ask->llm.api_key;
  config.timeout_ms = ask->llm.timeout_ms;
  config.max_tokens = ask->llm.max_tokens;
  return config;
}

// Plain-data copy of a parsed plan, made inside the core scope.
struct PlanCopy {
  int count;
  char** databases;
  char** sqls;
  char* combine;
  char* explanation;
  char* json;
};

PlanCopy copy_plan(const Plan& plan) {
  PlanCopy copy{};
  copy.count = static_cast<int>(plan.queries.size());
  copy.databases = static_cast<char**>(calloc(copy.count + 1, sizeof(char*)));
  copy.sqls = static_cast<char**>(calloc(copy.count + 1, sizeof(char*)));
  if (!copy.databases || !copy.sqls) throw std::bad_alloc();
  for (int i = 0; i < copy.count; i++) {
    copy.databases[i] = malloc_copy(plan.queries[i].database);
    copy.sqls[i] = malloc_copy(plan.queries[i].sql);
  }
  copy.combine = malloc_copy(plan.combine);
  copy.explanation = malloc_copy(plan.explanation);
  copy.json = malloc_copy(plan_to_json(plan));
  return copy;
}

void adopt_plan(AskState* ask, PlanCopy copy) {
  ask->step_count = copy.count;
  ask->step_database = static_cast<const char**>(palloc0(sizeof(char*) * Max(copy.count, 1)));
  ask->step_sql = static_cast<const char**>(palloc0(sizeof(char*) * Max(copy.count, 1)));
  for (int i = 0; i < copy.count; i++) {
    ask->step_database[i] = take(copy.databases[i]);
    ask->step_sql[i] = take(copy.sqls[i]);
  }
  free(copy.databases);
  free(copy.sqls);
  const char* combine = take(copy.combine);
  ask->combine_sql = combine[0] != '\0' ? combine : nullptr;
  ask->explanation = take(copy.explanation);
  ask->plan_json = take(copy.json);
}

// The plan as it stands after a repair merged new statements into the old ones: what the plan cache keeps
// and what history shows.
void refresh_plan_json(AskState* ask) {
  char* json = nullptr;
  CppError error = cpp_call([&] {
    Plan plan;
    for (int i = 0; i < ask->step_count; i++) plan.queries.push_back({ask->step_database[i], ask->step_sql[i]});
    plan.combine = ask->combine_sql ? ask->combine_sql : "";
    plan.explanation = ask->explanation ? ask->explanation : "";
    json = malloc_copy(plan_to_json(plan));
  });
  if (!error.failed) ask->plan_json = take(json);
}

// Core text is UTF-8 (made valid there: core/text.hpp); this database may use another encoding. What it
// cannot hold becomes '?', so that showing or storing a reply's text never fails.
const char* utf8_to_database(const char* text) {
  if (GetDatabaseEncoding() == PG_UTF8) return text;
  MemoryContext caller_context = CurrentMemoryContext;
  const char* converted = nullptr;
  PG_TRY();
  {
    converted = pg_any_to_server(text, strlen(text), PG_UTF8);
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(caller_context);
    FlushErrorState();
    char* ascii = pstrdup(text);
    char* out = ascii;
    for (const unsigned char* in = reinterpret_cast<const unsigned char*>(text); *in != '\0'; in++)
      if (*in < 0x80) *out++ = static_cast<char>(*in);
      else if ((*in & 0xC0) != 0x80) *out++ = '?';
    *out = '\0';
    converted = ascii;
  }
  PG_END_TRY();
  return converted;
}

void raise_core_error(const AskState* ask, const CppError& error) {
  if (error.interrupted) CHECK_FOR_INTERRUPTS();
  ereport(ERROR, (errcode(error.sqlstate), errmsg("%s", utf8_to_database(error.message)),
                  error.sqlstate == ERRCODE_EXTERNAL_ROUTINE_EXCEPTION
                      ? errcontext("LLM server \"%s\" (provider %s, model %s)", ask->llm.server_name,
                                   ask->llm.provider, ask->llm.model)
                      : 0));
}

// Parsed schemas kept by this backend, by connection and fingerprint: a large schema is read from the cache
// table and parsed once per backend, not once per ask.
std::unordered_map<std::string, DatabaseSchema>* parsed_schemas = nullptr;
constexpr size_t kParsedSchemasKept = 64;

std::string parsed_schema_key(const char* connection, const char* fingerprint) {
  return std::string(connection) + '\x1f' + fingerprint;
}

// SHA-256 as hex, with Postgres's own implementation (OpenSSL's when built with it).
const char* sha256_hex(const char* text) {
  pg_cryptohash_ctx* context = pg_cryptohash_create(PG_SHA256);
  uint8 digest[PG_SHA256_DIGEST_LENGTH];
  if (context == nullptr || pg_cryptohash_init(context) < 0 ||
      pg_cryptohash_update(context, reinterpret_cast<const uint8*>(text), strlen(text)) < 0 ||
      pg_cryptohash_final(context, digest, sizeof(digest)) < 0) {
    const char* why = context != nullptr ? pg_cryptohash_error(context) : "out of memory";
    pg_cryptohash_free(context);
    ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not compute the plan cache key: %s", why)));
  }
  pg_cryptohash_free(context);
  char* hex = static_cast<char*>(palloc(PG_SHA256_DIGEST_LENGTH * 2 + 1));
  hex_encode(reinterpret_cast<const char*>(digest), PG_SHA256_DIGEST_LENGTH, hex);
  hex[PG_SHA256_DIGEST_LENGTH * 2] = '\0';
  return hex;
}

// The cache key of a plan: everything the prompt is made of — schema fingerprints instead of the schema
// text, so that a cache hit needs no schema at all.
void prepare_cache_key(AskState* ask) {
  char* key = nullptr;
  CppError error = cpp_call([&] {
    std::vector<ChatMessage> identity;
    identity.push_back({"system", "multidb prompt v2, max_prompt_tables " + std::to_string(max_prompt_tables)});
    for (int i = 0; i < ask->target_count; i++)
      identity.push_back({"schema", std::string(ask->targets[i].name) + ":" + ask->fingerprints[i]});
    for (int i = 0; i < ask->history_count; i++) {
      identity.push_back({"user", ask->history_questions[i]});
      identity.push_back({"assistant", ask->history_answers[i]});
    }
    identity.push_back({"user", ask->question});
    key = malloc_copy(plan_cache_key_material(identity, ask->llm.model));
  });
  if (error.failed) raise_core_error(ask, error);
  ask->cache_key = sha256_hex(take(key));
}

bool schema_parsed_already(const AskState* ask, int i) {
  bool found = false;
  CppError error = cpp_call([&] {
    found = parsed_schemas != nullptr &&
            parsed_schemas->count(parsed_schema_key(ask->targets[i].name, ask->fingerprints[i])) != 0;
  });
  return !error.failed && found;
}

// The combined schema text for the prompt (only when the LLM is to be called).
void prepare_prompt(AskState* ask) {
  if (ask->combined_schema != nullptr) return;
  // Schema documents this backend has not parsed yet come from the cache table.
  OwnerScope owner = become_extension_owner();
  SPI_connect();
  for (int i = 0; i < ask->target_count; i++) {
    if (ask->schema_json[i] != nullptr || schema_parsed_already(ask, i)) continue;
    Oid types[1] = {TEXTOID};
    Datum args[1] = {CStringGetTextDatum(ask->targets[i].name)};
    SPI_execute_with_args("SELECT schema::text FROM multidb.schema_cache WHERE connection = $1", 1, types, args,
                          nullptr, true, 1);
    ask->schema_json[i] = SPI_processed == 1
                              ? MemoryContextStrdup(TopTransactionContext,
                                                    SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1))
                              : "{\"tables\": []}";
  }
  SPI_finish();
  restore_user(owner);

  char* combined = nullptr;
  CppError error = cpp_call([&] {
    if (parsed_schemas == nullptr) parsed_schemas = new std::unordered_map<std::string, DatabaseSchema>();
    std::vector<DatabaseSchema> schemas;
    for (int i = 0; i < ask->target_count; i++) {
      std::string key = parsed_schema_key(ask->targets[i].name, ask->fingerprints[i]);
      auto found = parsed_schemas->find(key);
      if (found == parsed_schemas->end()) {
        if (parsed_schemas->size() >= kParsedSchemasKept) parsed_schemas->clear();
        found = parsed_schemas->emplace(key, schema_from_json(ask->targets[i].name, ask->schema_json[i])).first;
      }
      schemas.push_back(found->second);
    }
    combined = malloc_copy(format_combined_schema(schemas, ask->question, static_cast<size_t>(max_prompt_tables)));
  });
  if (error.failed) raise_core_error(ask, error);
  ask->combined_schema = take(combined);
}

bool plan_from_cache(AskState* ask) {
  OwnerScope owner = become_extension_owner();
  SPI_connect();
  Oid types[1] = {TEXTOID};
  Datum args[1] = {CStringGetTextDatum(ask->cache_key)};
  SPI_execute_with_args("UPDATE multidb.plan_cache SET hits = hits + 1 WHERE key = $1 RETURNING plan::text", 1, types,
                        args, nullptr, false, 1);
  char* json = SPI_processed == 1 ? MemoryContextStrdup(TopTransactionContext,
                                                        SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1))
                                  : nullptr;
  SPI_finish();
  restore_user(owner);
  if (json == nullptr) return false;
  PlanCopy copy{};
  CppError error = cpp_call([&] { copy = copy_plan(plan_from_json(json)); });
  if (error.failed) return false;  // an unreadable cached plan is simply not used
  adopt_plan(ask, copy);
  ask->cached = "plan";
  return true;
}

void store_plan_in_cache(const AskState* ask) {
  OwnerScope owner = become_extension_owner();
  SPI_connect();
  Oid types[4] = {TEXTOID, TEXTARRAYOID, TEXTOID, TEXTOID};
  // An array built element by element: a name holding " or \ cannot change what is stored.
  Datum* names = static_cast<Datum*>(palloc(sizeof(Datum) * Max(ask->target_count, 1)));
  for (int i = 0; i < ask->target_count; i++) names[i] = CStringGetTextDatum(ask->targets[i].name);
  ArrayType* connections = construct_array(names, ask->target_count, TEXTOID, -1, false, TYPALIGN_INT);
  Datum args[4] = {CStringGetTextDatum(ask->cache_key), PointerGetDatum(connections),
                   CStringGetTextDatum(ask->plan_json), CStringGetTextDatum(ask->llm.model)};
  SPI_execute_with_args("INSERT INTO multidb.plan_cache (key, connections, plan, model) VALUES ($1, $2, $3::jsonb, $4) "
                        "ON CONFLICT (key) DO UPDATE SET plan = EXCLUDED.plan, created_at = now()",
                        4, types, args, nullptr, false, 0);
  SPI_finish();
  restore_user(owner);
}

// Token counts of several LLM rounds: unknown (-1) if any round's is, and never past what the history's
// integer columns hold.
long add_token_counts(long so_far, long more) {
  if (so_far < 0 || more < 0 || so_far > INT_MAX - more) return -1;
  return so_far + more;
}

// Asks the LLM: the plan prompt, or (with failures) the repair prompt after the previous reply.
void plan_with_llm(AskState* ask, int failure_count, const char** failed_databases, const char** failed_sqls,
                   const char** failure_messages, const char* combine_error = nullptr,
                   const char* combine_tables = nullptr) {
  PlanCopy copy{};
  char* reply = nullptr;
  char* model = nullptr;
  long prompt_tokens = -1, completion_tokens = -1;
  instr_time start;
  INSTR_TIME_SET_CURRENT(start);
  CppError error = cpp_call([&] {
    PromptInput input = prompt_input(ask);
    std::vector<ChatMessage> messages;
    if (combine_error != nullptr) {
      messages = build_combine_repair_prompt(input, ask->reply_text ? ask->reply_text : "", ask->combine_sql,
                                             combine_error, combine_tables);
    } else if (failure_count == 0) {
      messages = build_plan_prompt(input);
    } else {
      std::vector<std::pair<PlannedQuery, std::string>> failures;
      for (int i = 0; i < failure_count; i++)
        failures.push_back({PlannedQuery{failed_databases[i], failed_sqls[i]}, failure_messages[i]});
      messages = build_repair_prompt(input, ask->reply_text ? ask->reply_text : "", failures);
    }
    LlmConfig config = llm_config(ask);
    HttpRequest request = build_llm_request(config, messages);
    HttpResponse response = http_post(request.url, request.headers, request.body, config.timeout_ms,
                                      static_cast<size_t>(llm_max_reply_kb) * 1024, interrupt_pending);
    LlmReply answer = parse_llm_reply(config, response.status, response.body);
    reply = malloc_copy(answer.text);
    model = malloc_copy(answer.model.empty() ? config.model : answer.model);
    prompt_tokens = answer.prompt_tokens;
    completion_tokens = answer.completion_tokens;
    std::vector<std::string> attached;
    for (int i = 0; i < ask->target_count; i++) attached.emplace_back(ask->targets[i].name);
    copy = copy_plan(parse_plan(answer.text, attached));
  });
  ask->llm_ms += elapsed_ms(start);
  if (reply != nullptr) ask->reply_text = take(reply);
  if (model != nullptr) ask->llm.model = take(model);
  ask->prompt_tokens = add_token_counts(ask->prompt_tokens, prompt_tokens);
  ask->completion_tokens = add_token_counts(ask->completion_tokens, completion_tokens);
  if (error.failed) raise_core_error(ask, error);
  adopt_plan(ask, copy);
}

// Whose plan is judged: an ask's comes from the LLM, multidb.run_plan's from a table.
const char* plan_author(const AskState* ask) { return ask->repairs_allowed ? "the LLM's" : "the plan's"; }

const char* refusal_hint(const AskState* ask) {
  return ask->repairs_allowed ? "Nothing was sent. The refusal is recorded in multidb.query_history."
                              : "Nothing was sent.";
}

// Every planned statement passes the guard before anything runs; a refusal names the database.
void guard_plan(AskState* ask) {
  for (int i = 0; i < ask->step_count; i++) {
    GuardVerdict verdict = judge_statement(ask->step_sql[i]);
    if (verdict.allowed) continue;
    ask->status = "refused";
    ereport(ERROR, (errcode(verdict.sqlstate),
                    errmsg("multidb refused %s statement for connection \"%s\": %s", plan_author(ask),
                           ask->step_database[i], verdict.reason),
                    errdetail("The statement: %s", ask->step_sql[i]), errhint("%s", refusal_hint(ask))));
  }
  if (ask->combine_sql == nullptr) return;
  GuardVerdict verdict = judge_combine(ask->combine_sql, ask->step_database, ask->step_count);
  if (verdict.allowed) return;
  ask->status = "refused";
  ereport(ERROR, (errcode(verdict.sqlstate), errmsg("multidb refused %s combine step: %s", plan_author(ask), verdict.reason),
                  errdetail("The combine step: %s", ask->combine_sql), errhint("%s", refusal_hint(ask))));
}

// ---- running the plan ------------------------------------------------------------------------------------

RemoteTarget* target_named(AskState* ask, const char* name) {
  for (int i = 0; i < ask->target_count; i++)
    if (strcmp(ask->targets[i].name, name) == 0) return &ask->targets[i];
  ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("planned database \"%s\" is not attached", name)));
  return nullptr;
}

// Runs the steps listed in which[] (indexes into the plan), in attached order, and returns their outcomes
// indexed like which[]. Without a combine step the rows go into result; with one, each step's rows are kept
// in a tuplestore of its own (outcome.rows_store), typed as its remote columns.
TargetOutcome* run_steps(AskState* ask, const int* which, int count, Tuplestorestate* result, TupleDesc desc) {
  if (count == 0) return static_cast<TargetOutcome*>(palloc0(sizeof(TargetOutcome)));  // all carried over
  // Rows come back in the order the connections are attached, whatever order the LLM listed them in.
  int* order = static_cast<int*>(palloc(sizeof(int) * count));
  int ordered = 0;
  for (int t = 0; t < ask->target_count; t++)
    for (int k = 0; k < count; k++)
      if (strcmp(ask->step_database[which[k]], ask->targets[t].name) == 0) order[ordered++] = which[k];
  RemoteTarget* targets = static_cast<RemoteTarget*>(palloc(sizeof(RemoteTarget) * count));
  const char** sqls = static_cast<const char**>(palloc(sizeof(char*) * count));
  for (int k = 0; k < ordered; k++) {
    targets[k] = *target_named(ask, ask->step_database[order[k]]);
    sqls[k] = ask->step_sql[order[k]];
  }
  TargetOutcome* outcomes = static_cast<TargetOutcome*>(palloc0(sizeof(TargetOutcome) * Max(ordered, 1)));
  FanoutRequest request{};
  request.sqls = sqls;
  request.targets = targets;
  request.target_count = ordered;
  if (ask->combine_sql != nullptr) {
    request.shape = RowShape::kPerTarget;
  } else {
    request.shape = RowShape::kJson;
    request.result_desc = desc;
    request.result = result;
  }
  request.outcomes = outcomes;
  instr_time start;
  INSTR_TIME_SET_CURRENT(start);
  run_fanout(&request);
  ask->exec_ms += elapsed_ms(start);
  TargetOutcome* by_step = static_cast<TargetOutcome*>(palloc0(sizeof(TargetOutcome) * Max(count, 1)));
  for (int k = 0; k < ordered; k++)
    for (int j = 0; j < count; j++)
      if (which[j] == order[k]) by_step[j] = outcomes[k];
  return by_step;
}

void append_attempt(AskState* ask, int failure_count, const char** databases, const char** messages) {
  char* attempts = nullptr;
  const char* previous = ask->attempts_json;
  const char* plan = ask->plan_json;
  CppError error = cpp_call([&] {
    nlohmann::json all = previous ? nlohmann::json::parse(previous) : nlohmann::json::array();
    nlohmann::json attempt = {{"plan", nlohmann::json::parse(plan)}};
    nlohmann::json failures = nlohmann::json::array();
    for (int i = 0; i < failure_count; i++) failures.push_back({{"database", databases[i]}, {"error", messages[i]}});
    attempt["failures"] = failures;
    all.push_back(attempt);
    attempts = malloc_copy(all.dump());
  });
  if (!error.failed) ask->attempts_json = take(attempts);
}

// ---- the combine step -------------------------------------------------------------------------------------

// "production (id integer, total numeric), backup (...)": the tables the combine step had, for messages.
const char* describe_step_tables(const AskState* ask) {
  StringInfoData text;
  initStringInfo(&text);
  for (int i = 0; i < ask->step_count; i++) {
    appendStringInfo(&text, "%s%s (", i > 0 ? ", " : "", quote_identifier(ask->step_database[i]));
    TupleDesc columns = ask->step_columns[i];
    for (int c = 0; columns != nullptr && c < columns->natts; c++)
      appendStringInfo(&text, "%s%s %s", c > 0 ? ", " : "", quote_identifier(NameStr(TupleDescAttr(columns, c)->attname)),
                       format_type_be(TupleDescAttr(columns, c)->atttypid));
    appendStringInfoChar(&text, ')');
  }
  return text.data;
}

// Runs the combine SQL over the step results, each registered as an ephemeral named relation (the
// mechanism of trigger transition tables: no catalog entry, so nothing is written, not even in a read-only
// transaction) named after its database. Search path pg_catalog and a read-only transaction state for the
// duration: the guard allowed no other relation, and nothing it calls may write. Rows go into combined.
void run_combine_query(AskState* ask, Tuplestorestate* combined, TupleDesc desc) {
  SPI_connect();
  for (int i = 0; i < ask->step_count; i++) {
    if (ask->step_columns[i] == nullptr || ask->step_results[i] == nullptr)
      elog(ERROR, "connection \"%s\" gave the combine step no result", ask->step_database[i]);
    EphemeralNamedRelation relation = static_cast<EphemeralNamedRelation>(palloc0(sizeof(EphemeralNamedRelationData)));
    relation->md.name = pstrdup(ask->step_database[i]);
    relation->md.reliddesc = InvalidOid;
    relation->md.tupdesc = ask->step_columns[i];
    relation->md.enrtype = ENR_NAMED_TUPLESTORE;
    relation->md.enrtuples = static_cast<double>(tuplestore_tuple_count(ask->step_results[i]));
    relation->reldata = ask->step_results[i];
    int registered = SPI_register_relation(relation);
    if (registered != SPI_OK_REL_REGISTER)
      elog(ERROR, "could not expose the result of connection \"%s\" to the combine step: %s", ask->step_database[i],
           SPI_result_code_string(registered));
  }
  int guc_level = NewGUCNestLevel();
  set_config_option("search_path", "pg_catalog", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
  // Read as the guard read it (sql_guard.hpp), whatever this session's setting.
  set_config_option("standard_conforming_strings", "on", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
  bool was_read_only = XactReadOnly;
  XactReadOnly = true;

  Portal portal = SPI_cursor_open_with_args(nullptr, ask->combine_sql, 0, nullptr, nullptr, nullptr, false, 0);
  JsonRowLayout* layout = nullptr;
  char** values = nullptr;
  Datum source = CStringGetTextDatum(kCombinedSource);
  MemoryContext batch_context = AllocSetContextCreate(CurrentMemoryContext, "multidb combine rows", ALLOCSET_DEFAULT_SIZES);
  for (;;) {
    SPI_cursor_fetch(portal, true, 1000);
    if (SPI_processed == 0) break;
    TupleDesc columns = SPI_tuptable->tupdesc;
    if (layout == nullptr) {
      layout = json_row_layout(columns);
      values = static_cast<char**>(palloc(sizeof(char*) * Max(columns->natts, 1)));
    }
    MemoryContext spi_context = MemoryContextSwitchTo(batch_context);
    for (uint64 row = 0; row < SPI_processed; row++) {
      for (int c = 0; c < columns->natts; c++) values[c] = SPI_getvalue(SPI_tuptable->vals[row], columns, c + 1);
      Datum out[2] = {source, json_row(layout, values)};
      bool nulls[2] = {false, false};
      tuplestore_putvalues(combined, desc, out, nulls);
      ask->combined_rows++;
    }
    MemoryContextSwitchTo(spi_context);
    MemoryContextReset(batch_context);
    SPI_freetuptable(SPI_tuptable);
    CHECK_FOR_INTERRUPTS();
  }
  SPI_cursor_close(portal);

  XactReadOnly = was_read_only;
  AtEOXact_GUC(true, guc_level);
  SPI_finish();
}

struct CombineFailure {
  bool failed;
  bool repairable;  // an error in the SQL itself (a wrong column, a bad cast): the LLM may fix it
  ErrorData* error;
};

struct CombineCall {
  AskState* ask;
  Tuplestorestate* combined;
  TupleDesc desc;
};

void combine_body(void* arg) {
  CombineCall* call = static_cast<CombineCall*>(arg);
  run_combine_query(call->ask, call->combined, call->desc);
}

// The combine step in a subtransaction of its own, so that an error in its SQL can go back to the LLM; its
// rows reach result only when it succeeded.
CombineFailure run_combine(AskState* ask, Tuplestorestate* result, TupleDesc desc) {
  CombineFailure failure{};
  Tuplestorestate* combined = tuplestore_begin_heap(false, false, work_mem);
  ask->combined_rows = 0;
  instr_time start;
  INSTR_TIME_SET_CURRENT(start);
  CombineCall call{ask, combined, desc};
  ErrorData* error = in_subtransaction(combine_body, &call);
  ask->combine_ms = elapsed_ms(start);
  if (error != nullptr) {
    // A cancel or a statement_timeout ends the ask as it would any statement.
    if (error->sqlerrcode == ERRCODE_QUERY_CANCELED) ReThrowError(error);
    // The store's files went with the subtransaction; its memory goes with ours.
    failure.failed = true;
    failure.error = error;
    failure.repairable = llm_may_repair(unpack_sql_state(error->sqlerrcode), FailedStep::kCombineStep, false);
    return failure;
  }

  TupleTableSlot* slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
  while (tuplestore_gettupleslot(combined, true, false, slot)) tuplestore_puttupleslot(result, slot);
  ExecDropSingleTupleTableSlot(slot);
  tuplestore_end(combined);
  return failure;
}

[[noreturn]] void raise_combine_failure(AskState* ask, const CombineFailure& failure, bool after_repairs) {
  ask->status = "error";
  ErrorData* error = failure.error;
  ereport(ERROR, (errcode(error->sqlerrcode), errmsg("the combine step failed: %s", error->message),
                  errdetail("The combine step: %s\nThe tables it could read: %s", ask->combine_sql,
                            describe_step_tables(ask)),
                  after_repairs ? errhint("The LLM's repair rounds (multidb.max_repairs = %d) did not fix it.", max_repairs)
                                : (error->hint ? errhint("%s", error->hint) : 0)));
  pg_unreachable();
}

// ---- running the plan ---------------------------------------------------------------------------------------

bool names_one_of(const char* name, const char** names, int count) {
  for (int i = 0; i < count; i++)
    if (strcmp(name, names[i]) == 0) return true;
  return false;
}

void allocate_step_outcomes(AskState* ask) {
  int n = Max(ask->step_count, 1);
  ask->step_rows = static_cast<int64*>(palloc0(sizeof(int64) * n));
  ask->step_ms = static_cast<double*>(palloc0(sizeof(double) * n));
  ask->step_columns = static_cast<TupleDesc*>(palloc0(sizeof(TupleDesc) * n));
  ask->step_results = static_cast<Tuplestorestate**>(palloc0(sizeof(Tuplestorestate*) * n));
}

// After the LLM repaired the combine step it gives a whole plan: a statement it left as it was keeps the
// result it already has; the others run again. Returns how many must run (their indexes in pending).
int carry_over_results(AskState* ask, int old_count, const char** old_databases, const char** old_sqls,
                       const bool* old_failed, int64* old_rows, double* old_ms, TupleDesc* old_columns,
                       Tuplestorestate** old_results, int* pending) {
  allocate_step_outcomes(ask);
  int pending_count = 0;
  for (int i = 0; i < ask->step_count; i++) {
    int same = -1;
    for (int j = 0; j < old_count && same < 0; j++)
      if (!(old_failed && old_failed[j]) && strcmp(old_databases[j], ask->step_database[i]) == 0 &&
          strcmp(old_sqls[j], ask->step_sql[i]) == 0)
        same = j;
    if (same < 0) {
      pending[pending_count++] = i;
      continue;
    }
    ask->step_rows[i] = old_rows[same];
    ask->step_ms[i] = old_ms[same];
    ask->step_columns[i] = old_columns[same];
    ask->step_results[i] = old_results[same];
  }
  return pending_count;
}

// Runs the plan; remote SQL errors and combine errors go back to the LLM for at most multidb.max_repairs
// rounds.
void execute_plan(AskState* ask, Tuplestorestate* result, TupleDesc desc) {
  allocate_step_outcomes(ask);
  int* pending = static_cast<int*>(palloc(sizeof(int) * Max(ask->step_count, 1)));
  int pending_count = ask->step_count;
  for (int i = 0; i < pending_count; i++) pending[i] = i;

  for (int round = 0;; round++) {
    bool may_repair = ask->repairs_allowed && round < max_repairs;
    TargetOutcome* outcomes = run_steps(ask, pending, pending_count, result, desc);
    int failed = 0, repairable = 0;
    const char** failed_databases = static_cast<const char**>(palloc(sizeof(char*) * Max(pending_count, 1)));
    const char** failed_sqls = static_cast<const char**>(palloc(sizeof(char*) * Max(pending_count, 1)));
    const char** failed_messages = static_cast<const char**>(palloc(sizeof(char*) * Max(pending_count, 1)));
    int first_failed_sqlstate = 0;
    for (int k = 0; k < pending_count; k++) {
      int step = pending[k];
      ask->step_rows[step] = outcomes[k].rows;
      ask->step_ms[step] = outcomes[k].elapsed_ms;
      ask->step_columns[step] = outcomes[k].columns;
      ask->step_results[step] = outcomes[k].rows_store;
      if (!outcomes[k].failed) continue;
      if (failed == 0) first_failed_sqlstate = outcomes[k].sqlstate;
      failed_databases[failed] = ask->step_database[step];
      failed_sqls[failed] = ask->step_sql[step];
      failed_messages[failed] = outcomes[k].message;
      failed++;
      if (llm_may_repair(unpack_sql_state(outcomes[k].sqlstate), FailedStep::kRemoteStatement, outcomes[k].refused))
        repairable++;
    }

    if (failed > 0) {
      append_attempt(ask, failed, failed_databases, failed_messages);
      // A remote's own checks refused a statement before it ran: recorded and raised like the guard's refusal.
      for (int k = 0; k < pending_count; k++) {
        if (!outcomes[k].refused) continue;
        ask->status = "refused";
        ask->error = outcomes[k].message;
        ereport(ERROR, (errcode(outcomes[k].sqlstate), errmsg_internal("%s", outcomes[k].message),
                        errdetail("The statement: %s", ask->step_sql[pending[k]]), errhint("%s", refusal_hint(ask))));
      }
      if (repairable == failed && may_repair) {
        // A new plan for the failed databases only; the others' results stand.
        const char** kept_databases = ask->step_database;
        const char** kept_sqls = ask->step_sql;
        const char* kept_combine = ask->combine_sql;
        const char* kept_explanation = ask->explanation;
        int kept_count = ask->step_count;
        int64* kept_rows = ask->step_rows;
        double* kept_ms = ask->step_ms;
        TupleDesc* kept_columns = ask->step_columns;
        Tuplestorestate** kept_results = ask->step_results;
        prepare_prompt(ask);  // a cached plan that fails needs the prompt after all
        plan_with_llm(ask, failed, failed_databases, failed_sqls, failed_messages);
        if (ask->combine_sql == nullptr) ask->combine_sql = kept_combine;  // "only the failed databases"
        if (ask->explanation == nullptr || ask->explanation[0] == '\0') ask->explanation = kept_explanation;
        // Merge: the steps that ran stay as they are; the repaired statements replace the failed ones.
        bool* kept_failed = static_cast<bool*>(palloc0(sizeof(bool) * kept_count));
        for (int i = 0; i < kept_count; i++) kept_failed[i] = names_one_of(kept_databases[i], failed_databases, failed);
        int total = kept_count + ask->step_count;
        const char** merged_databases = static_cast<const char**>(palloc(sizeof(char*) * total));
        const char** merged_sqls = static_cast<const char**>(palloc(sizeof(char*) * total));
        int merged = 0;
        for (int i = 0; i < kept_count; i++) {
          if (kept_failed[i]) continue;
          merged_databases[merged] = kept_databases[i];
          merged_sqls[merged++] = kept_sqls[i];
        }
        int first_new = merged;
        for (int i = 0; i < ask->step_count; i++) {
          if (!names_one_of(ask->step_database[i], failed_databases, failed)) continue;
          merged_databases[merged] = ask->step_database[i];
          merged_sqls[merged++] = ask->step_sql[i];
        }
        if (merged == first_new)
          ereport(ERROR, (errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
                          errmsg("the LLM's repaired plan gives no statement for connection \"%s\"", failed_databases[0])));
        ask->step_database = merged_databases;
        ask->step_sql = merged_sqls;
        ask->step_count = merged;
        refresh_plan_json(ask);
        guard_plan(ask);
        pending = static_cast<int*>(palloc(sizeof(int) * merged));
        pending_count = carry_over_results(ask, kept_count, kept_databases, kept_sqls, kept_failed, kept_rows, kept_ms,
                                           kept_columns, kept_results, pending);
        continue;
      }

      if (ask->combine_sql == nullptr && on_error == static_cast<int>(OnError::kWarn) && failed < ask->step_count) {
        for (int f = 0; f < failed; f++) ereport(WARNING, (errmsg_internal("%s", failed_messages[f])));
        ask->status = "partial";
        ask->error = failed_messages[0];
        return;
      }
      ask->status = "error";
      ereport(ERROR, (errcode(first_failed_sqlstate), errmsg_internal("%s", failed_messages[0]),
                      errdetail("The statement: %s", failed_sqls[0]),
                      ask->combine_sql != nullptr && on_error == static_cast<int>(OnError::kWarn)
                          ? errhint("A plan with a combine step needs every database's result: multidb.on_error = "
                                    "warn does not apply to it.")
                      : repairable == failed && ask->repairs_allowed
                          ? errhint("The LLM's repair rounds (multidb.max_repairs = %d) did not fix it.", max_repairs)
                          : 0));
    }

    if (ask->combine_sql == nullptr) {
      append_attempt(ask, 0, nullptr, nullptr);
      return;
    }
    CombineFailure combine = run_combine(ask, result, desc);
    if (!combine.failed) {
      append_attempt(ask, 0, nullptr, nullptr);
      return;
    }
    const char* combine_failure = psprintf("the combine step failed: %s", combine.error->message);
    const char* combine_name = kCombinedSource;
    append_attempt(ask, 1, &combine_name, &combine_failure);
    if (!combine.repairable || !may_repair) raise_combine_failure(ask, combine, combine.repairable && ask->repairs_allowed);

    const char** old_databases = ask->step_database;
    const char** old_sqls = ask->step_sql;
    int old_count = ask->step_count;
    int64* old_rows = ask->step_rows;
    double* old_ms = ask->step_ms;
    TupleDesc* old_columns = ask->step_columns;
    Tuplestorestate** old_results = ask->step_results;
    prepare_prompt(ask);
    plan_with_llm(ask, 0, nullptr, nullptr, nullptr, combine.error->message, describe_step_tables(ask));
    if (ask->combine_sql == nullptr)
      ereport(ERROR, (errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
                      errmsg("the LLM's repaired plan has no combine step"),
                      errdetail("The combine step failed: %s", combine.error->message)));
    guard_plan(ask);
    pending = static_cast<int*>(palloc(sizeof(int) * Max(ask->step_count, 1)));
    pending_count = carry_over_results(ask, old_count, old_databases, old_sqls, nullptr, old_rows, old_ms,
                                       old_columns, old_results, pending);
  }
}

// ---- the result cache (opt-in) ------------------------------------------------------------------------------

// Rows are cached per plan and per asking role: another role may reach the same connections through a
// different remote identity, with different rights.
// SHA-256 of the asking role and the plan: no plan can be crafted to reach another role's rows.
const char* result_cache_key(const AskState* ask) { return sha256_hex(psprintf("%u:%s", GetUserId(), ask->plan_json)); }

bool results_from_cache(AskState* ask, Tuplestorestate* result, TupleDesc desc) {
  OwnerScope owner = become_extension_owner();
  SPI_connect();
  Oid types[2] = {TEXTOID, INT4OID};
  Datum args[2] = {CStringGetTextDatum(result_cache_key(ask)), Int32GetDatum(result_cache_ttl_s)};
  SPI_execute_with_args(
      "SELECT r.value->>0, r.value->1 FROM multidb.result_cache c, jsonb_array_elements(c.rows) r "
      "WHERE c.key = $1 AND c.created_at > now() - make_interval(secs => $2)",
      2, types, args, nullptr, true, 0);
  bool hit = SPI_processed > 0;
  for (uint64 i = 0; i < SPI_processed; i++) {
    bool nulls[2] = {false, false};
    Datum values[2];
    values[0] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &nulls[0]);
    values[1] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &nulls[1]);
    tuplestore_putvalues(result, desc, values, nulls);
  }
  if (!hit) {
    // An empty result is cached as a row count map only.
    SPI_execute_with_args("SELECT 1 FROM multidb.result_cache WHERE key = $1 AND jsonb_array_length(rows) = 0 "
                          "AND created_at > now() - make_interval(secs => $2)",
                          2, types, args, nullptr, true, 1);
    hit = SPI_processed > 0;
  }
  SPI_finish();
  restore_user(owner);
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

  OwnerScope owner = become_extension_owner();
  SPI_connect();
  Oid types[3] = {TEXTOID, TEXTOID, TEXTOID};
  Datum args[3] = {CStringGetTextDatum(result_cache_key(ask)), CStringGetTextDatum(rows.data),
                   CStringGetTextDatum(counts.data)};
  SPI_execute_with_args("INSERT INTO multidb.result_cache (key, rows, row_counts) VALUES ($1, $2::jsonb, $3::jsonb) "
                        "ON CONFLICT (key) DO UPDATE SET rows = EXCLUDED.rows, row_counts = EXCLUDED.row_counts, "
                        "created_at = now()",
                        3, types, args, nullptr, false, 0);
  SPI_finish();
  restore_user(owner);
}

// ---- history ----------------------------------------------------------------------------------------------

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
    out.model = text(ask->llm.model);
    out.prompt_tokens = ask->prompt_tokens;
    out.completion_tokens = ask->completion_tokens;
    record = malloc_copy(history_record_text(out, database_is_utf8));
  });
  if (error.failed) return nullptr;
  return take(record);
}

// ---- the whole ask ------------------------------------------------------------------------------------------

void resolve_scope(AskState* ask, FunctionCallInfo fcinfo) {
  ArrayType* connections = nullptr;
  if (!PG_ARGISNULL(1)) ask->session_id = DatumGetCString(DirectFunctionCall1(uuid_out, PG_GETARG_DATUM(1)));
  if (!PG_ARGISNULL(2)) connections = PG_GETARG_ARRAYTYPE_P(2);
  if (ask->session_id != nullptr && connections != nullptr)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("give a session or connections, not both"),
                    errhint("A session already names its connections; multidb.attach() adds one.")));
  if (ask->session_id == nullptr && connections == nullptr)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("which databases should multidb ask?"),
                    errhint("Pass a session (multidb.create_session('name', ARRAY['production','backup'])) or "
                            "connections => ARRAY['production'].")));
  if (connections == nullptr) connections = session_connections(ask->session_id);
  ask->targets = resolve_targets(connections, &ask->target_count);
}

void plan_ask(AskState* ask, bool force_llm) {
  load_schemas(ask, false);
  load_history(ask);
  ask->llm = resolve_llm_server();
  prepare_cache_key(ask);
  if (force_llm || !plan_from_cache(ask)) {
    prepare_prompt(ask);
    plan_with_llm(ask, 0, nullptr, nullptr, nullptr);
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
  // subtransaction, so that its start-up overlaps the LLM call and the remote queries.
  HistoryWriter* writer = start_history_writer();
  AskCall call{ask, rsinfo};
  ErrorData* error = in_subtransaction(ask_body, &call);
  if (error != nullptr) {
    if (ask->status == nullptr || strcmp(ask->status, "ok") == 0) ask->status = "error";
    ask->error = error->message;
  }
  const char* record = history_record(ask);
  finish_history_writer(writer, record ? record : "{}");
  if (error != nullptr) ReThrowError(error);
  return static_cast<Datum>(0);
}

// A stored plan (a saved report's, or one from multidb.query_history) runs as the ask would run it, without
// the LLM: guarded again, each statement on its database in parallel, then the combine step.
Datum run_plan_entry(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0)) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("the plan must not be NULL")));
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  AskState* ask = static_cast<AskState*>(palloc0(sizeof(AskState)));
  INSTR_TIME_SET_CURRENT(ask->started);
  const char* plan_text = JsonbToCString(nullptr, &PG_GETARG_JSONB_P(0)->root, 0);
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
  guard_plan(ask);
  execute_plan(ask, rsinfo->setResult, rsinfo->setDesc);
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
  OwnerScope owner = become_extension_owner();
  SPI_connect();
  for (int i = 0; i < ask->target_count; i++) {
    Oid types[1] = {TEXTOID};
    Datum args[1] = {CStringGetTextDatum(ask->targets[i].name)};
    SPI_execute_with_args("SELECT c.connection, o->>'kind', o->>'name', o->>'definition' "
                          "FROM multidb.schema_cache c, jsonb_array_elements(c.schema->'objects') o "
                          "WHERE c.connection = $1",
                          1, types, args, nullptr, false, 0);  // not read-only: sees what load_schemas just wrote
    for (uint64 row = 0; row < SPI_processed; row++) {
      Datum values[4];
      bool nulls[4];
      for (int c = 0; c < 4; c++) values[c] = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, c + 1, &nulls[c]);
      tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
  }
  SPI_finish();
  restore_user(owner);
  return static_cast<Datum>(0);
}

}  // namespace
}  // namespace multidb

using namespace multidb;

extern "C" {

MULTIDB_FUNCTION(multidb_ask) { return ask_entry(fcinfo, false); }

MULTIDB_FUNCTION(multidb_plan) { return ask_entry(fcinfo, true); }

MULTIDB_FUNCTION(multidb_catalog_objects) { return catalog_objects_entry(fcinfo); }

MULTIDB_FUNCTION(multidb_run_plan) { return run_plan_entry(fcinfo); }

MULTIDB_FUNCTION(multidb_refresh_schema) {
  ArrayType* names;
  if (PG_ARGISNULL(0)) {
    // every connection the caller may use
    SPI_connect();
    SPI_execute("SELECT coalesce(array_agg(name ORDER BY name), '{}') FROM multidb.connections WHERE usable", true, 0);
    bool is_null;
    names = DatumGetArrayTypePCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &is_null));
    SPI_finish();
    if (ArrayGetNItems(ARR_NDIM(names), ARR_DIMS(names)) == 0) PG_RETURN_VOID();
  } else {
    Datum name = PG_GETARG_DATUM(0);
    names = construct_array(&name, 1, TEXTOID, -1, false, TYPALIGN_INT);
  }
  AskState* ask = static_cast<AskState*>(palloc0(sizeof(AskState)));
  ask->targets = resolve_targets(names, &ask->target_count);
  load_schemas(ask, true);
  PG_RETURN_VOID();
}

MULTIDB_FUNCTION(multidb_clear_cache) {
  OwnerScope owner = become_extension_owner();
  SPI_connect();
  SPI_execute("DELETE FROM multidb.plan_cache", false, 0);
  SPI_execute("DELETE FROM multidb.result_cache", false, 0);
  SPI_finish();
  restore_user(owner);
  PG_RETURN_VOID();
}

}  // extern "C"
