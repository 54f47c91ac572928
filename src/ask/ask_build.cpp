// multidb.build_plan and multidb.spec_catalog: the query builder's two entry points on the Postgres side. A query
// spec's connections are resolved as every call resolves them (groups expanded in order; unknown, no USAGE, no user
// mapping are the usual errors), their schemas loaded as an ask loads them (the schema cache, multidb.schema_ttl),
// and the core compiles the spec against them (core/query_compiler) or lists what they have in common
// (core/spec_catalog); every compiled statement and the combine step then pass the guard as a stored plan's do.
// build_sql, build and save_report_spec are SQL over build_plan (sql/multidb--1.0--1.1.sql).
#include "ask/ask_internal.hpp"
#include "core/query_compiler.hpp"
#include "core/query_spec.hpp"
#include "core/spec_catalog.hpp"
#include "foundation/entry_point.hpp"

#include <cstdio>
#include <string>
#include <vector>

extern "C" {
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
}

namespace multidb {
namespace {

// A mistake the core found in a spec, as plain data: kind 1 a SpecError (22023), 2 a SpecSchemaError (a table or
// column a database lacks: 42P01 or 42703). Fixed buffers: it crosses out of cpp_call, where no destructor may run.
struct SpecFailure {
  int kind;
  char sqlstate[6];
  char field[512];
  char database[512];
  char message[2048];
};

void keep_spec_error(SpecFailure* failure, const SpecError& error) {
  failure->kind = 1;
  std::snprintf(failure->field, sizeof(failure->field), "%s", error.field().c_str());
  std::snprintf(failure->message, sizeof(failure->message), "%s", error.what());
}

void keep_schema_error(SpecFailure* failure, const SpecSchemaError& error) {
  failure->kind = 2;
  std::snprintf(failure->sqlstate, sizeof(failure->sqlstate), "%s", error.sqlstate().c_str());
  std::snprintf(failure->field, sizeof(failure->field), "%s", error.field().c_str());
  std::snprintf(failure->database, sizeof(failure->database), "%s", error.database().c_str());
  std::snprintf(failure->message, sizeof(failure->message), "%s", error.what());
}

// ARRAY['production', 'backup']: the chosen databases, for a HINT.
const char* array_literal(const AskState* ask) {
  StringInfoData text;
  initStringInfo(&text);
  appendStringInfoString(&text, "ARRAY[");
  for (int i = 0; i < ask->target_count; i++)
    appendStringInfo(&text, "%s%s", i > 0 ? ", " : "", quote_literal_cstr(ask->targets[i].name));
  appendStringInfoChar(&text, ']');
  return text.data;
}

// The ERROR of a spec the core refused: `invalid query spec: <field>: <what>` (22023), or the table or column a
// database lacks with its SQLSTATE and where to look.
[[noreturn]] void raise_spec_failure(const SpecFailure& failure, const AskState* ask) {
  const char* message = from_utf8(failure.message, "the query spec's error");
  if (failure.kind == 1) {
    const char* prefix = "invalid query spec: ";
    const char* field = from_utf8(failure.field, "the query spec's error");
    size_t field_length = strlen(field);
    const char* text;
    if (strncmp(message, prefix, strlen(prefix)) == 0)
      text = message;
    else if (field_length > 0 && strncmp(message, field, field_length) == 0 && strncmp(message + field_length, ": ", 2) == 0)
      text = psprintf("%s%s", prefix, message);
    else if (field_length > 0)
      text = psprintf("%s%s: %s", prefix, field, message);
    else
      text = psprintf("%s%s", prefix, message);
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s", text),
                    errhint("docs/reference.md, \"Building a query without SQL\", describes the spec.")));
  }
  const char* database = from_utf8(failure.database, "the query spec's error");
  int sqlstate = MAKE_SQLSTATE(failure.sqlstate[0], failure.sqlstate[1], failure.sqlstate[2], failure.sqlstate[3],
                               failure.sqlstate[4]);
  bool table = strcmp(failure.sqlstate, "42P01") == 0;
  ereport(ERROR, (errcode(sqlstate), errmsg("%s", message),
                  errhint("multidb.spec_catalog(%s) lists the %s every chosen database has; after a migration, "
                          "multidb.refresh_schema(%s) reads its schema again.",
                          array_literal(ask), table ? "tables" : "columns",
                          quote_literal_cstr(database[0] != '\0' ? database : ask->targets[0].name))));
  pg_unreachable();
}

// What a spec asks for before its connections are known: the connections as written, and in compare mode the two
// sides (the connections when the spec names none).
struct SpecHead {
  int connection_count;
  char** connections;  // malloc'd, UTF-8
  bool compare;
  char* compare_a;
  char* compare_b;
};

ArrayType* spec_connection_array(const char* spec_utf8, SpecFailure* failure) {
  SpecHead head{};
  CppError error = cpp_call([&] {
    try {
      QuerySpec spec = parse_query_spec(spec_utf8);
      head.connections = static_cast<char**>(std::calloc(spec.connections.size() + 1, sizeof(char*)));
      if (head.connections == nullptr) throw std::bad_alloc();
      for (const std::string& name : spec.connections) head.connections[head.connection_count++] = malloc_copy(name);
      head.compare = spec.mode == SpecMode::kCompare;
      head.compare_a = malloc_copy(spec.compare_a);
      head.compare_b = malloc_copy(spec.compare_b);
    } catch (const SpecError& e) {
      keep_spec_error(failure, e);
    }
  });
  if (error.failed) raise_cpp_error(error, "reading the query spec");
  if (failure->kind != 0) return nullptr;
  int count = head.connection_count;
  Datum* names = static_cast<Datum*>(palloc(sizeof(Datum) * Max(count, 2)));
  for (int i = 0; i < count; i++) names[i] = CStringGetTextDatum(from_utf8(take(head.connections[i]), "a connection of the spec"));
  std::free(head.connections);
  const char* a = from_utf8(take(head.compare_a), "compare.a");
  const char* b = from_utf8(take(head.compare_b), "compare.b");
  if (count == 0 && head.compare) {
    names[0] = CStringGetTextDatum(a);
    names[1] = CStringGetTextDatum(b);
    count = 2;
  }
  if (count == 0) {
    failure->kind = 1;
    std::snprintf(failure->field, sizeof(failure->field), "connections");
    std::snprintf(failure->message, sizeof(failure->message),
                  "name at least one connection or @group (or, in compare mode, compare.a and compare.b)");
    return nullptr;
  }
  return construct_array(names, count, TEXTOID, -1, false, TYPALIGN_INT);
}

// The compiled spec as plain data (UTF-8, malloc'd), out of cpp_call.
struct CompiledCopy {
  int query_count;
  char** databases;
  char** sqls;
  char* combine;  // "" when none
  int column_count;
  char** columns;
  int key_count;
  char** key;
  char* mode;
  char* compare_a;
  char* compare_b;
  char* description;
  char* spec_json;  // canonical
};

char** malloc_strings(const std::vector<std::string>& values) {
  char** out = static_cast<char**>(std::calloc(values.size() + 1, sizeof(char*)));
  if (out == nullptr) throw std::bad_alloc();
  for (size_t i = 0; i < values.size(); i++) out[i] = malloc_copy(values[i]);
  return out;
}

const char** taken_strings(char** values, int count, const char* what) {
  const char** out = static_cast<const char**>(palloc0(sizeof(char*) * Max(count, 1)));
  for (int i = 0; i < count; i++) out[i] = from_utf8(take(values[i]), what);
  std::free(values);
  return out;
}

void append_json_string_array(StringInfo out, const char* const* values, int count) {
  appendStringInfoChar(out, '[');
  for (int i = 0; i < count; i++) {
    if (i > 0) appendStringInfoString(out, ", ");
    escape_json(out, values[i]);
  }
  appendStringInfoChar(out, ']');
}

Datum build_plan_entry(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("the query spec must not be NULL")));
  const char* spec_utf8 = to_utf8(JsonbToCString(nullptr, &PG_GETARG_JSONB_P(0)->root, 0));
  AskState* ask = static_cast<AskState*>(palloc0(sizeof(AskState)));
  INSTR_TIME_SET_CURRENT(ask->started);
  ask->repairs_allowed = false;  // a compiled plan is judged as a stored plan: "the plan's statement"
  SpecFailure* failure = static_cast<SpecFailure*>(palloc0(sizeof(SpecFailure)));

  ArrayType* connections = spec_connection_array(spec_utf8, failure);
  if (failure->kind != 0) raise_spec_failure(*failure, ask);
  ask->targets = resolve_targets(connections, &ask->target_count);
  load_schemas(ask, false, false);
  SchemaDocuments documents = schema_documents(ask);

  CompiledCopy copy{};
  CppError error = cpp_call([&] {
    try {
      std::vector<DatabaseSchema> schemas = parsed_schemas_of(ask, documents);
      QuerySpec spec = parse_query_spec(spec_utf8);
      CompiledSpec compiled = compile_query_spec(spec, schemas);
      std::vector<std::string> databases, sqls;
      for (const CompiledQuery& query : compiled.queries) {
        databases.push_back(query.database);
        sqls.push_back(query.sql);
      }
      copy.query_count = static_cast<int>(compiled.queries.size());
      copy.databases = malloc_strings(databases);
      copy.sqls = malloc_strings(sqls);
      copy.combine = malloc_copy(compiled.combine);
      copy.column_count = static_cast<int>(compiled.output_columns.size());
      copy.columns = malloc_strings(compiled.output_columns);
      copy.key_count = static_cast<int>(compiled.compare_key.size());
      copy.key = malloc_strings(compiled.compare_key);
      copy.mode = malloc_copy(compiled.mode == SpecMode::kTotals    ? "totals"
                              : compiled.mode == SpecMode::kCompare ? "compare"
                                                                    : "fanout");
      copy.compare_a = malloc_copy(compiled.compare_a);
      copy.compare_b = malloc_copy(compiled.compare_b);
      copy.description = malloc_copy(compiled.description);
      copy.spec_json = malloc_copy(query_spec_to_json(spec));
    } catch (const SpecError& e) {
      keep_spec_error(failure, e);
    } catch (const SpecSchemaError& e) {
      keep_schema_error(failure, e);
    }
  });
  if (error.failed) raise_cpp_error(error, "compiling the query spec");
  if (failure->kind != 0) raise_spec_failure(*failure, ask);

  // Guarded as a stored plan is (run_plan): each statement, then the combine step over the databases' relations.
  ask->step_count = copy.query_count;
  ask->step_database = taken_strings(copy.databases, copy.query_count, "a database name of the compiled spec");
  ask->step_sql = taken_strings(copy.sqls, copy.query_count, "the compiled spec's SQL");
  const char* combine = from_utf8(take(copy.combine), "the compiled spec's combine step");
  ask->combine_sql = combine[0] != '\0' ? combine : nullptr;
  ask->set_count = 0;
  guard_plan(ask);

  const char** columns = taken_strings(copy.columns, copy.column_count, "the compiled spec's columns");
  const char** key = taken_strings(copy.key, copy.key_count, "compare.key");
  const char* mode = take(copy.mode);
  const char* compare_a = from_utf8(take(copy.compare_a), "compare.a");
  const char* compare_b = from_utf8(take(copy.compare_b), "compare.b");
  const char* description = from_utf8(take(copy.description), "the compiled spec's description");
  const char* spec_json = from_utf8(take(copy.spec_json), "the canonical spec");

  StringInfoData out;
  initStringInfo(&out);
  appendStringInfoString(&out, "{\"mode\": ");
  escape_json(&out, mode);
  appendStringInfoString(&out, ", \"queries\": [");
  for (int i = 0; i < ask->step_count; i++) {
    appendStringInfoString(&out, i > 0 ? ", {\"database\": " : "{\"database\": ");
    escape_json(&out, ask->step_database[i]);
    appendStringInfoString(&out, ", \"sql\": ");
    escape_json(&out, ask->step_sql[i]);
    appendStringInfoChar(&out, '}');
  }
  appendStringInfoString(&out, "], \"combine\": ");
  if (ask->combine_sql != nullptr)
    escape_json(&out, ask->combine_sql);
  else
    appendStringInfoString(&out, "null");
  appendStringInfoString(&out, ", \"compare\": ");
  if (strcmp(mode, "compare") == 0) {
    appendStringInfoString(&out, "{\"a\": ");
    escape_json(&out, compare_a);
    appendStringInfoString(&out, ", \"b\": ");
    escape_json(&out, compare_b);
    appendStringInfoString(&out, ", \"key\": ");
    append_json_string_array(&out, key, copy.key_count);
    appendStringInfoChar(&out, '}');
  } else {
    appendStringInfoString(&out, "null");
  }
  appendStringInfoString(&out, ", \"columns\": ");
  append_json_string_array(&out, columns, copy.column_count);
  appendStringInfoString(&out, ", \"description\": ");
  escape_json(&out, description);
  appendStringInfoString(&out, ", \"spec\": ");
  appendStringInfoString(&out, spec_json);
  appendStringInfoChar(&out, '}');
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}

Datum spec_catalog_entry(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("the connection list must not be NULL")));
  AskState* ask = static_cast<AskState*>(palloc0(sizeof(AskState)));
  ask->targets = resolve_targets(PG_GETARG_ARRAYTYPE_P(0), &ask->target_count);
  load_schemas(ask, false, false);
  SchemaDocuments documents = schema_documents(ask);
  char* catalog = nullptr;
  CppError error = cpp_call([&] { catalog = malloc_copy(spec_catalog_json(parsed_schemas_of(ask, documents))); });
  if (error.failed) raise_cpp_error(error, "listing the connections' tables");
  const char* json = from_utf8(take(catalog), "the catalog of the connections");
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

}  // namespace
}  // namespace multidb

using namespace multidb;

MULTIDB_FUNCTION(multidb_build_plan) { return build_plan_entry(fcinfo); }

MULTIDB_FUNCTION(multidb_spec_catalog) { return spec_catalog_entry(fcinfo); }
