#include "core/schema_model.hpp"

#include "core/text.hpp"

#include "core/hash.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <stdexcept>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

using nlohmann::json;

std::string text_or_empty(const json& object, const char* key) {
  auto found = object.find(key);
  return found == object.end() || found->is_null() ? std::string() : found->get<std::string>();
}

std::vector<std::string> strings_or_empty(const json& object, const char* key) {
  auto found = object.find(key);
  if (found == object.end() || found->is_null()) return {};
  return found->get<std::vector<std::string>>();
}

std::string qualified(const TableInfo& table) { return table.schema + "." + table.name; }

// The common values as the remote gave them, bounded and sorted (their order by frequency changes with every
// ANALYZE; sorted, the fingerprint changes only when the set does). A column with too many, or too long, shows none.
std::vector<std::string> common_values(const json& column) {
  std::vector<std::string> values;
  auto found = column.find("values");
  if (found == column.end() || !found->is_array() || found->size() > kMaxCommonValues) return values;
  for (const json& value : *found) {
    if (!value.is_string() || value.get_ref<const std::string&>().size() > kMaxCommonValueBytes) return {};
    values.push_back(value.get<std::string>());
  }
  std::sort(values.begin(), values.end());
  return values;
}

}  // namespace

DatabaseSchema schema_from_json(const std::string& database, const std::string& json_text) {
  DatabaseSchema schema;
  schema.database = database;
  try {
    json document = json::parse(json_text);
    for (const json& t : document.at("tables")) {
      TableInfo table;
      table.schema = text_or_empty(t, "schema");
      table.name = t.at("name").get<std::string>();
      table.kind = text_or_empty(t, "kind");
      table.comment = text_or_empty(t, "comment");
      auto rows = t.find("rows");
      // A remote's statistics can say anything (2e19, NaN): an estimate that is no count is no estimate.
      if (rows != t.end() && rows->is_number())
        table.estimated_rows = static_cast<double>(bounded_count(rows->get<double>(), 1LL << 53));
      auto columns = t.find("columns");
      if (columns != t.end() && columns->is_array())
        for (const json& c : *columns) {
          ColumnInfo column;
          column.name = c.at("name").get<std::string>();
          column.type = text_or_empty(c, "type");
          auto nullable = c.find("nullable");
          column.nullable = nullable == c.end() || !nullable->is_boolean() || nullable->get<bool>();
          column.comment = text_or_empty(c, "comment");
          column.common_values = common_values(c);
          table.columns.push_back(column);
        }
      table.primary_key = strings_or_empty(t, "primary_key");
      auto keys = t.find("foreign_keys");
      if (keys != t.end() && keys->is_array())
        for (const json& k : *keys)
          table.foreign_keys.push_back(
              {strings_or_empty(k, "columns"), text_or_empty(k, "references"), strings_or_empty(k, "ref_columns")});
      schema.tables.push_back(table);
    }
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("the schema document is not what multidb expects: ") + e.what());
  }
  return schema;
}

std::string schema_to_json(const DatabaseSchema& schema) {
  json tables = json::array();
  for (const TableInfo& table : schema.tables) {
    json columns = json::array();
    for (const ColumnInfo& c : table.columns)
      columns.push_back({{"name", c.name}, {"type", c.type}, {"nullable", c.nullable},
                         {"comment", c.comment.empty() ? json() : json(c.comment)},
                         {"values", c.common_values.empty() ? json() : json(c.common_values)}});
    json keys = json::array();
    for (const ForeignKey& k : table.foreign_keys)
      keys.push_back({{"columns", k.columns}, {"references", k.references}, {"ref_columns", k.ref_columns}});
    tables.push_back({{"schema", table.schema}, {"name", table.name}, {"kind", table.kind},
                      {"comment", table.comment.empty() ? json() : json(table.comment)},
                      {"rows", table.estimated_rows}, {"columns", columns}, {"primary_key", table.primary_key},
                      {"foreign_keys", keys}});
  }
  return json{{"tables", tables}}.dump();
}

std::string schema_fingerprint(const DatabaseSchema& schema) {
  std::vector<TableInfo> tables = schema.tables;
  for (TableInfo& table : tables) table.estimated_rows = -1;
  std::sort(tables.begin(), tables.end(),
            [](const TableInfo& a, const TableInfo& b) { return qualified(a) < qualified(b); });
  return fnv1a_hex(schema_to_json({schema.database, tables}));
}

}  // namespace multidb
