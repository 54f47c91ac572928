// Writes the query builder's catalog of several databases' schemas (core/spec_catalog.hpp): each table with the
// databases that have it and lack it, and each of its columns with every database's type and family, so that a
// UI offers only what every chosen database can answer and says where and why the others differ.
#include "core/spec_catalog.hpp"

#include "core/column_type_family.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

using ordered_json = nlohmann::ordered_json;

struct ColumnEntry {
  std::string name;
  std::vector<std::pair<size_t, std::string>> types;  // database index, type
};

struct TableEntry {
  std::vector<size_t> present;  // database indexes, in order
  std::vector<ColumnEntry> columns;
  std::map<std::string, size_t> column_index;
};

ordered_json names_of(const std::vector<DatabaseSchema>& databases, const std::vector<bool>& present, bool wanted) {
  ordered_json names = ordered_json::array();
  for (size_t d = 0; d < databases.size(); d++)
    if (present[d] == wanted) names.push_back(databases[d].database);
  return names;
}

}  // namespace

std::string spec_catalog_json(const std::vector<DatabaseSchema>& databases) {
  std::map<std::pair<std::string, std::string>, TableEntry> tables;  // sorted by schema, then name
  for (size_t d = 0; d < databases.size(); d++)
    for (const TableInfo& table : databases[d].tables) {
      TableEntry& entry = tables[{table.schema, table.name}];
      if (!entry.present.empty() && entry.present.back() == d) continue;  // a table listed twice: the first
      entry.present.push_back(d);
      for (const ColumnInfo& column : table.columns) {
        auto found = entry.column_index.find(column.name);
        if (found == entry.column_index.end()) {
          entry.column_index.emplace(column.name, entry.columns.size());
          entry.columns.push_back({column.name, {}});
          found = entry.column_index.find(column.name);
        }
        ColumnEntry& c = entry.columns[found->second];
        if (c.types.empty() || c.types.back().first != d) c.types.push_back({d, column.type});
      }
    }
  ordered_json out_databases = ordered_json::array();
  for (const DatabaseSchema& db : databases) out_databases.push_back(db.database);
  ordered_json out_tables = ordered_json::array();
  for (const auto& [key, entry] : tables) {
    std::vector<bool> table_present(databases.size(), false);
    for (size_t d : entry.present) table_present[d] = true;
    ordered_json columns = ordered_json::array();
    for (const ColumnEntry& column : entry.columns) {
      std::vector<bool> present(databases.size(), false);
      ordered_json types = ordered_json::object();
      std::string family;
      bool differs = false;
      for (const auto& [d, type] : column.types) {
        present[d] = true;
        types[databases[d].database] = type;
        std::string f = type_family_name(column_type_family(type));
        if (family.empty()) family = f;
        else if (f != family) differs = true;
      }
      // Absent where the table is absent too: the column is missing only from databases that have the table.
      ordered_json missing = ordered_json::array();
      for (size_t d = 0; d < databases.size(); d++)
        if (table_present[d] && !present[d]) missing.push_back(databases[d].database);
      columns.push_back({{"name", column.name},
                         {"types", types},
                         {"family", differs ? std::string("mixed") : family},
                         {"present_in", names_of(databases, present, true)},
                         {"missing_from", missing},
                         {"type_differs", differs}});
    }
    out_tables.push_back({{"schema", key.first},
                          {"name", key.second},
                          {"present_in", names_of(databases, table_present, true)},
                          {"missing_from", names_of(databases, table_present, false)},
                          {"columns", columns}});
  }
  return ordered_json{{"databases", out_databases}, {"tables", out_tables}}.dump();
}

}  // namespace multidb
