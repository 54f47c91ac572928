// The schema of a remote database as multidb shows it to an LLM: tables and views, columns, keys,
// comments, row estimates and sampled values; its JSON document and fingerprint (core/schema_text writes the
// prompt's text of several databases).
#pragma once

#include <string>
#include <vector>

namespace multidb {

struct ColumnInfo {
  std::string name;
  std::string type;
  bool nullable = true;
  std::string comment;
  // The few values a short text column takes (from the remote's pg_stats), sorted: they tell a model that the
  // status is 'refunded', not 'Refunded'. At most kMaxCommonValues of at most kMaxCommonValueBytes each.
  std::vector<std::string> common_values;
};

constexpr size_t kMaxCommonValues = 12;
constexpr size_t kMaxCommonValueBytes = 40;

struct ForeignKey {
  std::vector<std::string> columns;
  std::string references;  // "schema.table"
  std::vector<std::string> ref_columns;
};

struct TableInfo {
  std::string schema;
  std::string name;
  std::string kind;  // table, view, materialized view, foreign table, partitioned table
  std::string comment;
  double estimated_rows = -1;
  std::vector<ColumnInfo> columns;
  std::vector<std::string> primary_key;
  std::vector<ForeignKey> foreign_keys;
};

struct DatabaseSchema {
  std::string database;
  std::vector<TableInfo> tables;
};

// Reads the introspection document {"tables": [...]}; throws std::invalid_argument.
DatabaseSchema schema_from_json(const std::string& database, const std::string& json_text);
std::string schema_to_json(const DatabaseSchema& schema);

// 16 hex digits over what the LLM relies on (not row estimates, so ANALYZE does not invalidate caches).
std::string schema_fingerprint(const DatabaseSchema& schema);

}  // namespace multidb
