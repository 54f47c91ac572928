// SQL-callable entry points of describing: multidb.describe (each database's description of a statement, without
// running it) and multidb._description_drift (a stored description against one made now).
#include "core/statement_description.hpp"
#include "fanout/describe_targets.hpp"
#include "fanout/fanout_executor.hpp"
#include "foundation/boundary.hpp"
#include "foundation/entry_point.hpp"

#include <nlohmann/json.hpp>

extern "C" {
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
}

using namespace multidb;

namespace {

Datum describe_entry(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("argument sql must not be NULL")));
  if (PG_ARGISNULL(1))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("argument connections must not be NULL"),
                    errhint("Pass connection names, for example ARRAY['production','backup'].")));
  const char* sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  int count;
  RemoteTarget* targets = resolve_targets(PG_GETARG_ARRAYTYPE_P(1), &count);
  TargetDescription* descriptions = describe_on_targets(sql, nullptr, targets, count);
  for (int i = 0; i < count; i++) {
    for (int c = 0; c < descriptions[i].column_count; c++) {
      Datum values[3] = {CStringGetTextDatum(descriptions[i].database), CStringGetTextDatum(descriptions[i].names[c]),
                         CStringGetTextDatum(descriptions[i].types[c])};
      bool nulls[3] = {false, false, false};
      tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
  }
  return static_cast<Datum>(0);
}

const char* jsonb_argument_utf8(FunctionCallInfo fcinfo, int n, const char* name) {
  if (PG_ARGISNULL(n))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("argument %s must not be NULL", name)));
  const char* text = JsonbToCString(nullptr, &PG_GETARG_JSONB_P(n)->root, 0);
  return GetDatabaseEncoding() == PG_UTF8 ? text : pg_server_to_any(text, strlen(text), PG_UTF8);
}

const char* from_utf8_text(const char* text) {
  return GetDatabaseEncoding() == PG_UTF8 ? text : pg_any_to_server(text, strlen(text), PG_UTF8);
}

std::vector<DescribedColumn> columns_of(const nlohmann::json& list) {
  std::vector<DescribedColumn> columns;
  if (!list.is_array()) throw std::invalid_argument("\"columns\" must be an array of {\"name\", \"type\"}");
  for (const nlohmann::json& column : list) {
    if (!column.is_object() || !column.contains("name") || !column.contains("type") || !column["name"].is_string() ||
        !column["type"].is_string())
      throw std::invalid_argument("each column must be {\"name\": text, \"type\": text}");
    columns.push_back(DescribedColumn{column["name"].get<std::string>(), column["type"].get<std::string>()});
  }
  return columns;
}

std::vector<DescribedStatement> databases_of(const nlohmann::json& document) {
  std::vector<DescribedStatement> databases;
  if (!document.contains("databases") || !document["databases"].is_array())
    throw std::invalid_argument("a description has \"databases\": [{\"database\", \"columns\"}]");
  for (const nlohmann::json& database : document["databases"]) {
    if (!database.is_object() || !database.contains("database") || !database["database"].is_string() ||
        !database.contains("columns"))
      throw std::invalid_argument("each database must be {\"database\": text, \"columns\": [...]}");
    databases.push_back(DescribedStatement{database["database"].get<std::string>(), columns_of(database["columns"])});
  }
  return databases;
}

// Drift of the stored description from the one made now (both as _describe_answer returns them). Without a
// combine step: the stored answer's columns against each database's now. With one: each database's step against
// its stored step, then the combine step's columns against the stored ones (as database "combined").
std::vector<DriftItem> drift_between(const char* stored_text, const char* now_text) {
  nlohmann::json stored = nlohmann::json::parse(stored_text);
  nlohmann::json now = nlohmann::json::parse(now_text);
  if (!stored.is_object() || !now.is_object() || !stored.contains("columns") || !now.contains("columns"))
    throw std::invalid_argument("a description is {\"columns\": [...], \"databases\": [...]}");
  std::vector<DescribedStatement> now_databases = databases_of(now);
  bool combined = stored.contains("combine") || now.contains("combine");
  if (!combined) return description_drift(columns_of(stored["columns"]), now_databases);
  std::vector<DriftItem> drift;
  std::vector<DescribedStatement> stored_databases = databases_of(stored);
  for (const DescribedStatement& database : now_databases) {
    std::vector<DescribedColumn> stored_columns;
    for (const DescribedStatement& old : stored_databases)
      if (old.database == database.database) stored_columns = old.columns;
    for (DriftItem& item : description_drift(stored_columns, {database})) drift.push_back(item);
  }
  std::vector<DescribedStatement> combine_now{DescribedStatement{kCombinedSource, columns_of(now["columns"])}};
  for (DriftItem& item : description_drift(columns_of(stored["columns"]), combine_now)) drift.push_back(item);
  return drift;
}

Datum description_drift_entry(FunctionCallInfo fcinfo) {
  const char* stored = jsonb_argument_utf8(fcinfo, 0, "stored");
  const char* now = jsonb_argument_utf8(fcinfo, 1, "now");
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  constexpr int kFields = 5;
  char** rows = nullptr;  // kFields texts per item, malloc'd
  int count = 0;
  CppError error = cpp_call([&] {
    std::vector<DriftItem> drift = drift_between(stored, now);
    rows = static_cast<char**>(calloc(Max(drift.size(), size_t{1}) * kFields, sizeof(char*)));
    if (rows == nullptr) throw std::bad_alloc();
    for (const DriftItem& item : drift) {
      const std::string fields[kFields] = {drift_kind_name(item.kind), item.column, item.database, item.expected,
                                           item.found};
      for (int f = 0; f < kFields; f++) rows[count * kFields + f] = malloc_copy(fields[f]);
      count++;
    }
  });
  const char** texts = static_cast<const char**>(palloc0(sizeof(char*) * Max(count, 1) * kFields));
  for (int i = 0; rows != nullptr && i < count * kFields; i++) texts[i] = take(rows[i]);
  free(rows);
  raise_cpp_error(error, "comparing descriptions");
  for (int i = 0; i < count; i++) {
    Datum values[kFields];
    bool nulls[kFields];
    for (int f = 0; f < kFields; f++) {
      const char* field = texts[i * kFields + f];
      nulls[f] = field[0] == '\0' && f >= 3;  // no expected type (added), no found type (removed)
      values[f] = nulls[f] ? static_cast<Datum>(0) : CStringGetTextDatum(from_utf8_text(field));
    }
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  return static_cast<Datum>(0);
}

}  // namespace

MULTIDB_FUNCTION(multidb_describe) { return describe_entry(fcinfo); }

MULTIDB_FUNCTION(multidb__description_drift) { return description_drift_entry(fcinfo); }
