// The one owner of the statements the C++ code runs on multidb's own tables; the contract (one statement
// each, every SPI result checked, results copied out of SPI's memory, the caches as the extension's owner)
// is in extension_tables.hpp.
#include "foundation/extension_tables.hpp"

extern "C" {
#include "catalog/pg_extension.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace multidb {

// ---- SPI, checked --------------------------------------------------------------------------------------

void connect_spi(const char* job) {
  int rc = SPI_connect();
  if (rc != SPI_OK_CONNECT) elog(ERROR, "multidb, %s: SPI_connect failed: %s", job, SPI_result_code_string(rc));
}

void finish_spi(const char* job) {
  int rc = SPI_finish();
  if (rc != SPI_OK_FINISH) elog(ERROR, "multidb, %s: SPI_finish failed: %s", job, SPI_result_code_string(rc));
}

namespace {

// The statements of this file, prepared once per backend: an ask whose plan and rows are cached runs a dozen of
// them, and planning each anew was most of its own time. Found by text and parameter types; every statement here
// is a literal, so the list stays short (past kKeptPlans, statements run unprepared).
constexpr int kKeptPlans = 64;
constexpr int kKeptPlanArgs = 4;

struct KeptPlan {
  const char* sql;
  int nargs;
  Oid types[kKeptPlanArgs];
  SPIPlanPtr plan;
};

KeptPlan kept_plans[kKeptPlans];
int kept_plan_count = 0;

// sql's kept plan, prepared now if it is new; nullptr when it cannot be kept.
SPIPlanPtr kept_plan(const char* job, const char* sql, int nargs, const Oid* types) {
  if (nargs > kKeptPlanArgs) return nullptr;
  for (int i = 0; i < kept_plan_count; i++) {
    const KeptPlan& kept = kept_plans[i];
    if (kept.nargs == nargs && strcmp(kept.sql, sql) == 0 &&
        (nargs == 0 || memcmp(kept.types, types, sizeof(Oid) * nargs) == 0))
      return kept.plan;
  }
  if (kept_plan_count == kKeptPlans) return nullptr;
  // A generic plan, made once: these are look-ups by key on small tables, where a plan per value buys nothing and
  // planning again at every call (the plan cache's first five custom plans, and after) is what this saves.
  SPIPlanPtr plan = SPI_prepare_cursor(sql, nargs, const_cast<Oid*>(types), CURSOR_OPT_GENERIC_PLAN);
  if (plan == nullptr)
    elog(ERROR, "multidb, %s: SPI_prepare failed: %s", job, SPI_result_code_string(SPI_result));
  if (SPI_keepplan(plan) != 0) elog(ERROR, "multidb, %s: SPI_keepplan failed", job);
  KeptPlan& kept = kept_plans[kept_plan_count];
  kept.sql = MemoryContextStrdup(TopMemoryContext, sql);
  kept.nargs = nargs;
  if (nargs > 0) memcpy(kept.types, types, sizeof(Oid) * nargs);
  kept.plan = plan;
  kept_plan_count++;
  return plan;
}

// Runs sql with its parameters (nulls: SPI's ' '/'n' per parameter, nullptr for none), through its kept plan.
int run_kept(const char* job, const char* sql, int nargs, Oid* types, Datum* args, const char* nulls, bool read_only,
             long limit) {
  SPIPlanPtr plan = kept_plan(job, sql, nargs, types);
  if (plan != nullptr) return SPI_execute_plan(plan, args, nulls, read_only, limit);
  return nargs > 0 ? SPI_execute_with_args(sql, nargs, types, args, nulls, read_only, limit)
                   : SPI_execute(sql, read_only, limit);
}

}  // namespace

void run_checked(const char* job, const char* sql, int nargs, Oid* types, Datum* args, bool read_only, long limit,
                 int expected) {
  int rc = run_kept(job, sql, nargs, types, args, nullptr, read_only, limit);
  if (rc != expected)
    elog(ERROR, "multidb, %s: the statement gave %s where %s was expected", job, SPI_result_code_string(rc),
         SPI_result_code_string(expected));
}

namespace {

// Column column of row row of the last result, as text copied into the caller's context; nullptr for NULL.
char* text_out(uint64 row, int column) {
  char* value = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column);
  if (value == nullptr) return nullptr;
  size_t length = strlen(value) + 1;
  char* copy = static_cast<char*>(SPI_palloc(length));
  memcpy(copy, value, length);
  return copy;
}

// A text[] column, copied into the caller's context; nullptr for NULL.
ArrayType* text_array_out(uint64 row, int column) {
  bool is_null;
  Datum value = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column, &is_null);
  if (is_null) return nullptr;
  // Flattened here (an array_agg result may be an expanded object), then copied whole into the caller's context:
  // flattening after a transfer would put the flat copy in SPI's memory, gone at SPI_finish.
  ArrayType* flat = DatumGetArrayTypeP(value);
  Size size = VARSIZE(flat);
  ArrayType* copy = static_cast<ArrayType*>(SPI_palloc(size));
  memcpy(copy, flat, size);
  return copy;
}

ArrayType* text_array(const char* const* values, int count) {
  Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * (count > 0 ? count : 1)));
  for (int i = 0; i < count; i++) elements[i] = CStringGetTextDatum(values[i]);
  // Built element by element: a name holding " or \ cannot change what is stored.
  return construct_array(elements, count, TEXTOID, -1, false, TYPALIGN_INT);
}

// ---- the extension's owner -------------------------------------------------------------------------------

namespace {

// What tells one installation of the extension from another, for the facts remembered per backend: the OID of its
// table query_history, a member of the extension made by its first script, so a re-created extension has a new one.
// Two syscache look-ups, where get_extension_oid() scans pg_extension at every call. InvalidOid: not installed.
Oid installed_extension_key() {
  Oid schema = get_namespace_oid("multidb", true);
  return OidIsValid(schema) ? get_relname_relid("query_history", schema) : InvalidOid;
}

}  // namespace

Oid extension_owner() {
  // Remembered per backend, for one installation of the extension.
  static Oid known_installation = InvalidOid;
  static Oid known_owner = InvalidOid;
  Oid installation = installed_extension_key();
  if (OidIsValid(installation) && installation == known_installation) return known_owner;
  Oid extension = get_extension_oid("multidb", false);
  const char* job = "finding the extension's owner";
  connect_spi(job);
  Oid types[1] = {OIDOID};
  Datum args[1] = {ObjectIdGetDatum(extension)};
  run_checked(job, "SELECT extowner FROM pg_catalog.pg_extension WHERE oid = $1", 1, types, args, true, 1,
              SPI_OK_SELECT);
  if (SPI_processed != 1) elog(ERROR, "multidb, %s: extension %u is not in pg_extension", job, extension);
  bool is_null;
  Oid owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &is_null));
  finish_spi(job);
  known_installation = installation;
  known_owner = owner;
  return owner;
}

// The caches are multidb's own: read and written as the extension's owner, never as the asking role. An
// error on the way is no problem: the (sub)transaction's abort restores the user.
struct OwnerScope {
  Oid saved_user;
  int saved_context;
};

OwnerScope become_extension_owner() {
  OwnerScope scope;
  Oid owner = extension_owner();
  GetUserIdAndSecContext(&scope.saved_user, &scope.saved_context);
  SetUserIdAndSecContext(owner, scope.saved_context | SECURITY_LOCAL_USERID_CHANGE);
  return scope;
}

void restore_user(OwnerScope scope) { SetUserIdAndSecContext(scope.saved_user, scope.saved_context); }

// One of multidb's own statements as the extension's owner, inside its own SPI connection.
OwnerScope begin_as_owner(const char* job) {
  OwnerScope owner = become_extension_owner();
  connect_spi(job);
  return owner;
}

void end_as_owner(const char* job, OwnerScope owner) {
  finish_spi(job);
  restore_user(owner);
}

// A statement on a cache whose result nobody reads: run as the extension's owner, its result code checked.
void write_cache(const char* job, const char* sql, int nargs, Oid* types, Datum* args, int expected) {
  OwnerScope owner = begin_as_owner(job);
  run_checked(job, sql, nargs, types, args, false, 0, expected);
  end_as_owner(job, owner);
}

}  // namespace

// ---- sessions, messages, groups ---------------------------------------------------------------------------

ArrayType* session_connections(const char* session_id) {
  const char* job = "reading a chat session";
  connect_spi(job);
  Oid types[1] = {TEXTOID};
  Datum args[1] = {CStringGetTextDatum(session_id)};
  run_checked(job, "SELECT connections FROM multidb.chat_sessions WHERE id = $1::uuid", 1, types, args, true, 1,
              SPI_OK_SELECT);
  ArrayType* connections = SPI_processed == 1 ? text_array_out(0, 1) : nullptr;
  bool found = SPI_processed == 1;
  finish_spi(job);
  if (!found)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("chat session %s does not exist", session_id),
                    errhint("SELECT id, name FROM multidb.chat_sessions lists yours; "
                            "multidb.create_session() makes one.")));
  if (connections == nullptr || ArrayGetNItems(ARR_NDIM(connections), ARR_DIMS(connections)) == 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("chat session %s has no connections attached", session_id),
                    errhint("multidb.attach('%s', 'connection name') adds one.", session_id)));
  return connections;
}

ChatTurns recent_turns(const char* session_id, int limit) {
  const char* job = "reading a chat session's messages";
  ChatTurns turns{};
  connect_spi(job);
  Oid types[2] = {TEXTOID, INT4OID};
  Datum args[2] = {CStringGetTextDatum(session_id), Int32GetDatum(limit)};
  // The newest answered exchanges: a user message and the assistant message of the same ask, whose history
  // row says it was answered. "Failed: ..." of an ask that failed is no earlier turn the LLM should build on.
  run_checked(job,
              "SELECT u.content, a.content FROM multidb.chat_messages u "
              "JOIN multidb.chat_messages a ON a.query_id = u.query_id AND a.role = 'assistant' "
              "JOIN multidb.query_history h ON h.id = u.query_id AND h.status IN ('ok', 'partial') "
              "WHERE u.session_id = $1::uuid AND u.role = 'user' "
              "ORDER BY u.id DESC LIMIT $2",
              2, types, args, true, 0, SPI_OK_SELECT);
  int n = static_cast<int>(SPI_processed);
  turns.questions = static_cast<const char**>(SPI_palloc(sizeof(char*) * (n > 0 ? n : 1)));
  turns.answers = static_cast<const char**>(SPI_palloc(sizeof(char*) * (n > 0 ? n : 1)));
  for (int i = 0; i < n; i++) {  // oldest first
    turns.questions[i] = text_out(n - 1 - i, 1);
    turns.answers[i] = text_out(n - 1 - i, 2);
  }
  turns.count = n;
  finish_spi(job);
  return turns;
}

List* group_members(const char* group) {
  const char* job = "reading a connection group";
  connect_spi(job);
  Oid types[1] = {TEXTOID};
  Datum args[1] = {CStringGetTextDatum(group)};
  run_checked(job, "SELECT connections FROM multidb.connection_groups WHERE name = $1", 1, types, args, true, 1,
              SPI_OK_SELECT);
  bool found = SPI_processed == 1;
  ArrayType* members = found ? text_array_out(0, 1) : nullptr;
  finish_spi(job);
  if (!found)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("connection group \"%s\" does not exist", group),
                    errhint("SELECT name, connections FROM multidb.connection_groups lists them; "
                            "multidb.create_group() makes one.")));
  List* names = NIL;
  if (members == nullptr) return names;
  Datum* elements;
  bool* nulls;
  int n;
  deconstruct_array(members, TEXTOID, -1, false, TYPALIGN_INT, &elements, &nulls, &n);
  for (int i = 0; i < n; i++)
    if (!nulls[i]) names = lappend(names, TextDatumGetCString(elements[i]));
  return names;
}

ArrayType* usable_connection_names() {
  const char* job = "listing the usable connections";
  connect_spi(job);
  run_checked(job, "SELECT coalesce(array_agg(name ORDER BY name), '{}') FROM multidb.connections WHERE usable", 0,
              nullptr, nullptr, true, 0, SPI_OK_SELECT);
  if (SPI_processed != 1) elog(ERROR, "multidb, %s: %lu rows where one was expected", job, static_cast<unsigned long>(SPI_processed));
  ArrayType* names = text_array_out(0, 1);
  finish_spi(job);
  return names;
}

const char* askable_connection_list() {
  const char* job = "listing the connections the caller can ask";
  connect_spi(job);
  run_checked(job,
              "SELECT string_agg(c.name, ', ' ORDER BY c.name) FROM multidb.connections c "
              "WHERE c.usable AND EXISTS (SELECT 1 FROM pg_catalog.pg_user_mappings m "
              "WHERE m.srvname = c.name AND m.usename IN (current_user, 'public'))",
              0, nullptr, nullptr, true, 0, SPI_OK_SELECT);
  if (SPI_processed != 1) elog(ERROR, "multidb, %s: %lu rows where one was expected", job, static_cast<unsigned long>(SPI_processed));
  char* list = text_out(0, 1);
  finish_spi(job);
  return list;
}

ArrayType* askable_connection_names() {
  const char* job = "listing the connections the caller can ask";
  connect_spi(job);
  run_checked(job,
              "SELECT coalesce(array_agg(c.name::text ORDER BY c.name), '{}'::text[]) FROM multidb.connections c "
              "WHERE c.usable AND EXISTS (SELECT 1 FROM pg_catalog.pg_user_mappings m "
              "WHERE m.srvname = c.name AND m.usename IN (current_user, 'public'))",
              0, nullptr, nullptr, true, 0, SPI_OK_SELECT);
  if (SPI_processed != 1) elog(ERROR, "multidb, %s: %lu rows where one was expected", job, static_cast<unsigned long>(SPI_processed));
  ArrayType* names = text_array_out(0, 1);
  finish_spi(job);
  return names;
}

bool history_takes_cancelled() {
  // Once the installed version takes them, it always will (an extension is only updated forward): asked again only
  // while it does not, or for an extension made anew.
  static Oid takes_in = InvalidOid;
  Oid installation = installed_extension_key();
  if (OidIsValid(installation) && installation == takes_in) return true;
  const char* job = "reading the extension's version";
  connect_spi(job);
  run_checked(job,
              "SELECT pg_catalog.string_to_array(extversion, '.')::int[] >= '{0,8}' FROM pg_catalog.pg_extension "
              "WHERE extname = 'multidb'",
              0, nullptr, nullptr, true, 1, SPI_OK_SELECT);
  bool is_null = true;
  bool takes = SPI_processed == 1 &&
               DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &is_null)) && !is_null;
  finish_spi(job);
  if (takes) takes_in = installation;
  return takes;
}

// ---- schema_cache -------------------------------------------------------------------------------------------

void fresh_cached_schemas(const char* const* names, int count, int ttl_s, const char** fingerprints,
                          const char** catalog_versions) {
  const char* job = "reading the schema cache";
  for (int i = 0; i < count; i++) fingerprints[i] = catalog_versions[i] = nullptr;
  OwnerScope owner = begin_as_owner(job);
  Oid types[2] = {TEXTARRAYOID, INT4OID};
  Datum args[2] = {PointerGetDatum(text_array(names, count)), Int32GetDatum(ttl_s)};
  // A row without catalog_version predates schema_diff's use of the cache: read again. The columns are read,
  // never the document: a large schema would be detoasted on every ask.
  run_checked(job,
              "SELECT connection, fingerprint, catalog_version FROM multidb.schema_cache "
              "WHERE connection = ANY ($1) AND fetched_at > now() - make_interval(secs => $2) "
              "AND catalog_version IS NOT NULL",
              2, types, args, true, 0, SPI_OK_SELECT);
  for (uint64 row = 0; row < SPI_processed; row++) {
    char* connection = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, 1);
    for (int i = 0; i < count; i++) {
      if (connection == nullptr || strcmp(connection, names[i]) != 0) continue;
      fingerprints[i] = text_out(row, 2);
      catalog_versions[i] = text_out(row, 3);
    }
  }
  end_as_owner(job, owner);
}

const char* cached_schema_document(const char* connection) {
  const char* job = "reading a cached schema";
  OwnerScope owner = begin_as_owner(job);
  Oid types[1] = {TEXTOID};
  Datum args[1] = {CStringGetTextDatum(connection)};
  run_checked(job, "SELECT schema::text FROM multidb.schema_cache WHERE connection = $1", 1, types, args, true, 1,
              SPI_OK_SELECT);
  const char* document = SPI_processed == 1 ? text_out(0, 1) : nullptr;
  end_as_owner(job, owner);
  return document;
}

void store_schema(const char* connection, const char* fingerprint, const char* schema_json) {
  Oid types[3] = {TEXTOID, TEXTOID, TEXTOID};
  Datum args[3] = {CStringGetTextDatum(connection), CStringGetTextDatum(fingerprint), CStringGetTextDatum(schema_json)};
  write_cache("storing a schema in the cache",
              "INSERT INTO multidb.schema_cache (connection, fingerprint, schema, catalog_version, fetched_at) "
              "SELECT $1, $2, d, d->>'catalog_version', now() FROM (SELECT $3::jsonb AS d) doc "
              "ON CONFLICT (connection) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, schema = EXCLUDED.schema, "
              "catalog_version = EXCLUDED.catalog_version, fetched_at = EXCLUDED.fetched_at",
              3, types, args, SPI_OK_INSERT);
}

void put_cached_catalog_objects(const char* connection, Tuplestorestate* result, TupleDesc desc) {
  const char* job = "reading the catalog objects of a cached schema";
  OwnerScope owner = begin_as_owner(job);
  Oid types[1] = {TEXTOID};
  Datum args[1] = {CStringGetTextDatum(connection)};
  // Not read-only, so that it sees what store_schema wrote in this statement.
  run_checked(job,
              "SELECT c.connection, o->>'kind', o->>'name', o->>'definition' "
              "FROM multidb.schema_cache c, jsonb_array_elements(c.schema->'objects') o "
              "WHERE c.connection = $1",
              1, types, args, false, 0, SPI_OK_SELECT);
  for (uint64 row = 0; row < SPI_processed; row++) {
    Datum values[4];
    bool nulls[4];
    for (int c = 0; c < 4; c++) values[c] = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, c + 1, &nulls[c]);
    tuplestore_putvalues(result, desc, values, nulls);  // copied into the store's own memory
  }
  end_as_owner(job, owner);
}

// ---- plan_cache and result_cache ---------------------------------------------------------------------------

const char* take_cached_plan(const char* key, bool count_hit) {
  const char* job = "reading the plan cache";
  OwnerScope owner = begin_as_owner(job);
  Oid types[1] = {TEXTOID};
  Datum args[1] = {CStringGetTextDatum(key)};
  if (count_hit)
    run_checked(job, "UPDATE multidb.plan_cache SET hits = hits + 1 WHERE key = $1 RETURNING plan::text", 1, types,
                args, false, 1, SPI_OK_UPDATE_RETURNING);
  else
    run_checked(job, "SELECT plan::text FROM multidb.plan_cache WHERE key = $1", 1, types, args, true, 1,
                SPI_OK_SELECT);
  const char* plan = SPI_processed == 1 ? text_out(0, 1) : nullptr;
  end_as_owner(job, owner);
  return plan;
}

void count_plan_hit(const char* key) {
  const char* job = "counting a plan cache hit";
  OwnerScope owner = begin_as_owner(job);
  Oid types[1] = {TEXTOID};
  Datum args[1] = {CStringGetTextDatum(key)};
  // Never waiting for the row: the asking transaction may still hold it (it stored that plan over an older one, or
  // multidb.plan counted a hit, earlier in the same transaction), and its next ask's record queues behind this count.
  // Such a hit goes uncounted.
  run_checked(job,
              "UPDATE multidb.plan_cache SET hits = hits + 1 WHERE key = (SELECT key FROM multidb.plan_cache "
              "WHERE key = $1 FOR UPDATE SKIP LOCKED)",
              1, types, args, false, 0, SPI_OK_UPDATE);
  end_as_owner(job, owner);
}

void store_plan(const char* key, const char* const* connections, int connection_count, const char* plan_json,
                const char* model) {
  Oid types[4] = {TEXTOID, TEXTARRAYOID, TEXTOID, TEXTOID};
  Datum args[4] = {CStringGetTextDatum(key), PointerGetDatum(text_array(connections, connection_count)),
                   CStringGetTextDatum(plan_json), CStringGetTextDatum(model)};
  write_cache("storing a plan in the cache",
              "INSERT INTO multidb.plan_cache (key, connections, plan, model) VALUES ($1, $2, $3::jsonb, $4) "
              "ON CONFLICT (key) DO UPDATE SET plan = EXCLUDED.plan, created_at = now()",
              4, types, args, SPI_OK_INSERT);
}

bool put_cached_results(const char* key, int ttl_s, Tuplestorestate* result, TupleDesc desc) {
  const char* job = "reading the result cache";
  OwnerScope owner = begin_as_owner(job);
  Oid types[2] = {TEXTOID, INT4OID};
  Datum args[2] = {CStringGetTextDatum(key), Int32GetDatum(ttl_s)};
  // One statement for both answers: a row per cached row, or one row of NULLs for a cached empty result.
  run_checked(job,
              "SELECT r.value->>0, r.value->1 FROM multidb.result_cache c "
              "LEFT JOIN LATERAL jsonb_array_elements(c.rows) WITH ORDINALITY r(value, n) ON true "
              "WHERE c.key = $1 AND c.created_at > now() - make_interval(secs => $2) ORDER BY r.n",
              2, types, args, true, 0, SPI_OK_SELECT);
  bool hit = SPI_processed > 0;
  for (uint64 i = 0; i < SPI_processed; i++) {
    bool nulls[2];
    Datum values[2];
    values[0] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &nulls[0]);
    values[1] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &nulls[1]);
    if (nulls[0]) continue;  // the empty result's row
    tuplestore_putvalues(result, desc, values, nulls);
  }
  end_as_owner(job, owner);
  return hit;
}

void store_results(const char* key, const char* rows_json, const char* row_counts_json) {
  Oid types[3] = {TEXTOID, TEXTOID, TEXTOID};
  Datum args[3] = {CStringGetTextDatum(key), CStringGetTextDatum(rows_json), CStringGetTextDatum(row_counts_json)};
  write_cache("storing rows in the result cache",
              "INSERT INTO multidb.result_cache (key, rows, row_counts) VALUES ($1, $2::jsonb, $3::jsonb) "
              "ON CONFLICT (key) DO UPDATE SET rows = EXCLUDED.rows, row_counts = EXCLUDED.row_counts, "
              "created_at = now()",
              3, types, args, SPI_OK_INSERT);
}

void clear_caches() {
  write_cache("clearing the plan cache", "DELETE FROM multidb.plan_cache", 0, nullptr, nullptr, SPI_OK_DELETE);
  write_cache("clearing the result cache", "DELETE FROM multidb.result_cache", 0, nullptr, nullptr, SPI_OK_DELETE);
}

// ---- query_history and chat_messages ---------------------------------------------------------------------

void record_ask(const char* record_json) {
  const char* job = "recording an ask";
  connect_spi(job);
  Oid types[1] = {TEXTOID};
  Datum args[1] = {record_json ? CStringGetTextDatum(record_json) : static_cast<Datum>(0)};
  char nulls[1] = {record_json ? ' ' : 'n'};
  int rc = run_kept(job, "SELECT multidb._record_ask($1::jsonb)", 1, types, args, nulls, false, 0);
  if (rc != SPI_OK_SELECT)
    elog(ERROR, "multidb, %s: the statement gave %s where %s was expected", job, SPI_result_code_string(rc),
         SPI_result_code_string(SPI_OK_SELECT));
  finish_spi(job);
}

}  // namespace multidb
