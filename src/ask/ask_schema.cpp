// Each connection's schema for an ask: the introspection query every remote runs (through the fan-out, so
// guarded and in parallel), the schema cache in front of it, and the combined text the prompt shows.
#include "ask/ask_internal.hpp"
#include "core/schema_text.hpp"
#include "foundation/extension_tables.hpp"
#include "foundation/settings.hpp"

#include <string>
#include <unordered_map>
#include <vector>

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
}

namespace multidb {
namespace {

// Runs on each remote (through the fan-out, so in parallel and guarded): one JSON document of the tables and
// views the remote user can read, their columns, keys, comments, row estimates and the few values of short text
// columns from pg_stats (which shows only what the remote user may read) ("tables", for the prompt), and of every catalog object outside extensions with its definition as Postgres prints it
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
                                            'nullable', NOT a.attnotnull, 'comment', col_description(c.oid, a.attnum),
                                            'values', (SELECT s.most_common_vals::text::text[] FROM pg_stats s
                                                        WHERE s.schemaname = n.nspname AND s.tablename = c.relname
                                                          AND s.attname = a.attname AND NOT s.inherited
                                                          AND a.atttypid IN (25, 1042, 1043)
                                                          AND s.avg_width <= 40
                                                          AND CASE WHEN s.n_distinct < 0
                                                                   THEN -s.n_distinct * greatest(c.reltuples, 0)
                                                                   ELSE s.n_distinct END BETWEEN 1 AND 12))
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

// Runs sql (one text column, one row) on targets[i] for which skip[i] is false, in parallel, into out[i], with
// search_path = pg_catalog there: names of other schemas come back qualified.
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
  request.catalog_search_path = true;  // multidb's own catalog reading: no object of the remote role's stands in
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

}  // namespace

void load_schemas(AskState* ask, bool force_refresh, bool verify_catalog) {
  int n = ask->target_count;
  ask->schema_json = static_cast<const char**>(palloc0(sizeof(char*) * n));
  ask->fingerprints = static_cast<const char**>(palloc0(sizeof(char*) * n));
  const char** names = static_cast<const char**>(palloc(sizeof(char*) * n));
  for (int i = 0; i < n; i++) names[i] = ask->targets[i].name;
  const char** cached_versions = static_cast<const char**>(palloc0(sizeof(char*) * n));
  if (!force_refresh) fresh_cached_schemas(names, n, schema_ttl_s, ask->fingerprints, cached_versions);
  bool* fresh = static_cast<bool*>(palloc0(sizeof(bool) * n));
  for (int i = 0; i < n; i++) fresh[i] = ask->fingerprints[i] != nullptr;

  if (verify_catalog) {
    const char** live_versions = static_cast<const char**>(palloc0(sizeof(char*) * n));
    bool* unknown = static_cast<bool*>(palloc(sizeof(bool) * n));
    for (int i = 0; i < n; i++) unknown[i] = !fresh[i];
    fetch_one_text(catalog_probe_sql(), ask->targets, n, unknown, live_versions, "");
    for (int i = 0; i < n; i++)
      if (fresh[i] && strcmp(live_versions[i], cached_versions[i] ? cached_versions[i] : "") != 0) fresh[i] = false;
  }
  fetch_one_text(introspection_sql(), ask->targets, n, fresh, ask->schema_json, "{\"tables\": [], \"objects\": []}");

  for (int i = 0; i < n; i++) {
    if (fresh[i]) continue;
    char* fingerprint = nullptr;
    const char* name = ask->targets[i].name;
    const char* json = ask->schema_json[i];
    const char* name_utf8 = to_utf8(name);
    const char* json_utf8 = to_utf8(json);
    CppError error =
        cpp_call([&] { fingerprint = malloc_copy(schema_fingerprint(schema_from_json(name_utf8, json_utf8))); });
    if (error.failed)
      ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                      errmsg("connection \"%s\": could not read its schema: %s", name, error.message)));
    ask->fingerprints[i] = take(fingerprint);
    // A read-only transaction (BEGIN READ ONLY, a standby) cannot write the cache: the schema just read serves
    // this call, and a later call in a writable transaction stores it.
    if (!XactReadOnly) store_schema(name, ask->fingerprints[i], json);
  }
}

namespace {

// Parsed schemas kept by this backend, by connection and fingerprint: a large schema is read from the cache
// table and parsed once per backend, not once per ask. Bounded by count and by the size of the documents they
// were parsed from (a fleet of a thousand small tenant schemas fits; a few huge ones do not crowd out memory);
// when an ask's new schemas would pass either bound, the whole cache is dropped first, never during an ask.
struct ParsedSchemas {
  std::unordered_map<std::string, DatabaseSchema> schemas;
  size_t document_bytes = 0;
};
ParsedSchemas* parsed_schemas = nullptr;
constexpr size_t kParsedSchemasKept = 4096;
constexpr size_t kParsedSchemaBytesKept = 64 * 1024 * 1024;

std::string parsed_schema_key(const char* connection, const char* fingerprint) {
  return std::string(connection) + '\x1f' + fingerprint;
}

// Which targets this backend has parsed already; drops the cache first when the others would not fit in it.
bool* schemas_parsed_already(const AskState* ask) {
  bool* parsed = static_cast<bool*>(palloc0(sizeof(bool) * Max(ask->target_count, 1)));
  CppError error = cpp_call([&] {
    if (parsed_schemas == nullptr) parsed_schemas = new ParsedSchemas();
    size_t missing = 0;
    for (int i = 0; i < ask->target_count; i++) {
      parsed[i] = parsed_schemas->schemas.count(parsed_schema_key(ask->targets[i].name, ask->fingerprints[i])) != 0;
      missing += !parsed[i];
    }
    if (missing > 0 && parsed_schemas->schemas.size() + missing > kParsedSchemasKept) {
      parsed_schemas->schemas.clear();
      parsed_schemas->document_bytes = 0;
      for (int i = 0; i < ask->target_count; i++) parsed[i] = false;
    }
  });
  if (error.failed) raise_core_error(ask, error);
  return parsed;
}

// The attached groups in UTF-8, as the prompt names them.
AttachedGroup* groups_utf8(const AskState* ask) {
  AttachedGroup* groups = static_cast<AttachedGroup*>(palloc0(sizeof(AttachedGroup) * Max(ask->group_count, 1)));
  for (int g = 0; g < ask->group_count; g++) {
    groups[g].name = to_utf8(ask->groups[g].name);
    groups[g].member_count = ask->groups[g].member_count;
    groups[g].members = to_utf8_all(ask->groups[g].members, ask->groups[g].member_count);
  }
  return groups;
}

}  // namespace

SchemaDocuments schema_documents(AskState* ask) {
  // Schema documents this backend has not parsed yet come from the cache table.
  SchemaDocuments out{};
  out.parsed = schemas_parsed_already(ask);
  for (int i = 0; i < ask->target_count; i++) {
    if (ask->schema_json[i] != nullptr || out.parsed[i]) continue;
    const char* document = cached_schema_document(ask->targets[i].name);
    ask->schema_json[i] = document != nullptr ? document : "{\"tables\": []}";
  }
  // The core reads UTF-8; the documents and names are this database's text.
  out.names = target_names_utf8(ask);
  out.documents = static_cast<const char**>(palloc0(sizeof(char*) * Max(ask->target_count, 1)));
  for (int i = 0; i < ask->target_count; i++)
    if (!out.parsed[i]) out.documents[i] = to_utf8(ask->schema_json[i]);
  return out;
}

std::vector<DatabaseSchema> parsed_schemas_of(const AskState* ask, const SchemaDocuments& documents) {
  std::vector<DatabaseSchema> schemas;
  schemas.reserve(ask->target_count);
  for (int i = 0; i < ask->target_count; i++) {
    std::string key = parsed_schema_key(ask->targets[i].name, ask->fingerprints[i]);
    auto found = parsed_schemas->schemas.find(key);
    if (found != parsed_schemas->schemas.end()) {
      schemas.push_back(found->second);
      continue;
    }
    schemas.push_back(schema_from_json(documents.names[i], documents.documents[i]));
    size_t bytes = strlen(documents.documents[i]);
    if (parsed_schemas->schemas.size() < kParsedSchemasKept &&
        parsed_schemas->document_bytes + bytes <= kParsedSchemaBytesKept) {
      parsed_schemas->schemas.emplace(key, schemas.back());
      parsed_schemas->document_bytes += bytes;
    }
  }
  return schemas;
}

void prepare_prompt(AskState* ask) {
  if (ask->combined_schema != nullptr) return;
  SchemaDocuments documents = schema_documents(ask);
  const char* question = to_utf8(ask->question);
  ask->prompt_groups = groups_utf8(ask);
  char* combined = nullptr;
  CppError error = cpp_call([&] {
    std::vector<DatabaseSchema> schemas = parsed_schemas_of(ask, documents);
    if (!prompt_common_values)
      for (DatabaseSchema& schema : schemas)
        for (TableInfo& table : schema.tables)
          for (ColumnInfo& column : table.columns) column.common_values.clear();
    std::vector<DatabaseGroup> groups;
    for (int g = 0; g < ask->group_count; g++)
      groups.push_back({ask->prompt_groups[g].name,
                        std::vector<std::string>(ask->prompt_groups[g].members,
                                                 ask->prompt_groups[g].members + ask->prompt_groups[g].member_count)});
    combined =
        malloc_copy(format_combined_schema(schemas, question, static_cast<size_t>(max_prompt_tables), groups));
  });
  if (error.failed) raise_core_error(ask, error);
  ask->combined_schema = take(combined);
}

}  // namespace multidb
