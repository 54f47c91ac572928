#include "core/schema_model.hpp"

#include "core/text.hpp"

#include "core/hash.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <set>
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

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> result;
  std::string word;
  auto flush = [&] {
    if (word.size() > 1 && word.back() == 's') word.pop_back();  // orders ~ order
    if (word.size() > 1) result.push_back(word);
    word.clear();
  };
  for (unsigned char c : text) {
    if (std::isalnum(c)) {
      word.push_back(static_cast<char>(std::tolower(c)));
    } else {
      flush();
    }
  }
  flush();
  return result;
}

std::string qualified(const TableInfo& table) { return table.schema + "." + table.name; }

std::string sql_literal(const std::string& value) {
  std::string quoted = "'";
  for (char c : value) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return quoted + "'";
}

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

std::string describe_table(const std::string& database, const TableInfo& table) {
  std::string text = "database \"" + database + "\", " + (table.kind.empty() ? "table" : table.kind) + " " +
                     qualified(table);
  if (table.estimated_rows >= 0) text += " (about " + std::to_string(static_cast<long long>(table.estimated_rows)) + " rows)";
  if (!table.comment.empty()) text += " -- " + table.comment;
  text += "\n  ";
  for (size_t i = 0; i < table.columns.size(); i++) {
    const ColumnInfo& column = table.columns[i];
    if (i > 0) text += ", ";
    text += column.name + " " + column.type;
    if (!column.nullable) text += " NOT NULL";
    if (std::find(table.primary_key.begin(), table.primary_key.end(), column.name) != table.primary_key.end())
      text += " PK";
    for (const ForeignKey& key : table.foreign_keys)
      if (key.columns.size() == 1 && key.columns[0] == column.name)
        text += " -> " + key.references + "(" + (key.ref_columns.empty() ? "" : key.ref_columns[0]) + ")";
    if (!column.comment.empty()) text += " /* " + column.comment + " */";
    if (!column.common_values.empty()) {
      text += " (values:";
      for (size_t v = 0; v < column.common_values.size(); v++) text += (v ? ", " : " ") + sql_literal(column.common_values[v]);
      text += ")";
    }
  }
  text += "\n";
  for (const ForeignKey& key : table.foreign_keys) {
    if (key.columns.size() <= 1) continue;
    std::string from, to;
    for (const auto& c : key.columns) from += (from.empty() ? "" : ", ") + c;
    for (const auto& c : key.ref_columns) to += (to.empty() ? "" : ", ") + c;
    text += "  (" + from + ") -> " + key.references + "(" + to + ")\n";
  }
  return text;
}

std::string with_thousands(size_t number) {
  std::string digits = std::to_string(number), out;
  for (size_t i = 0; i < digits.size(); i++) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
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

std::string format_combined_schema(const std::vector<DatabaseSchema>& schemas, const std::string& question,
                                   size_t max_tables) {
  struct Ref {
    size_t db, table;
  };
  std::vector<Ref> all;
  for (size_t d = 0; d < schemas.size(); d++)
    for (size_t t = 0; t < schemas[d].tables.size(); t++) all.push_back({d, t});

  std::set<std::pair<size_t, size_t>> kept;
  if (all.size() <= max_tables) {
    for (const Ref& r : all) kept.insert({r.db, r.table});
  } else {
    std::set<std::string> asked;
    for (const std::string& w : words(question)) asked.insert(w);
    std::vector<std::pair<int, size_t>> scored;  // (score, index into all)
    for (size_t i = 0; i < all.size(); i++) {
      const TableInfo& table = schemas[all[i].db].tables[all[i].table];
      int score = 0;
      for (const std::string& w : words(table.name)) score += asked.count(w) * 3;
      for (const ColumnInfo& c : table.columns)
        for (const std::string& w : words(c.name)) score += asked.count(w);
      for (const std::string& w : words(table.comment)) score += asked.count(w);
      scored.push_back({score, i});
    }
    std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    size_t core = std::max<size_t>(1, max_tables * 2 / 3);  // leave room for foreign-key neighbours
    for (size_t i = 0; i < scored.size() && kept.size() < core && scored[i].first > 0; i++)
      kept.insert({all[scored[i].second].db, all[scored[i].second].table});
    // neighbours: tables the kept ones reference, or that reference them, in the same database
    std::set<std::pair<size_t, size_t>> chosen = kept;
    for (size_t i = 0; i < all.size() && kept.size() < max_tables; i++) {
      const TableInfo& candidate = schemas[all[i].db].tables[all[i].table];
      if (kept.count({all[i].db, all[i].table})) continue;
      bool neighbour = false;
      for (const auto& c : chosen) {
        if (c.first != all[i].db) continue;
        const TableInfo& table = schemas[c.first].tables[c.second];
        for (const ForeignKey& k : table.foreign_keys) neighbour |= k.references == qualified(candidate);
        for (const ForeignKey& k : candidate.foreign_keys) neighbour |= k.references == qualified(table);
      }
      if (neighbour) kept.insert({all[i].db, all[i].table});
    }
    for (size_t i = 0; i < scored.size() && kept.size() < max_tables; i++)
      kept.insert({all[scored[i].second].db, all[scored[i].second].table});
  }

  std::string text;
  std::map<std::string, size_t> left_out;
  for (const Ref& r : all) {
    if (kept.count({r.db, r.table})) {
      text += describe_table(schemas[r.db].database, schemas[r.db].tables[r.table]);
    } else {
      left_out[schemas[r.db].database]++;
    }
  }
  if (!left_out.empty()) {
    size_t total = 0;
    std::string per_database;
    for (const DatabaseSchema& s : schemas) {
      auto found = left_out.find(s.database);
      if (found == left_out.end()) continue;
      total += found->second;
      per_database += (per_database.empty() ? "" : ", ") + s.database + ": " + with_thousands(found->second);
    }
    text += "-- " + with_thousands(total) + " more tables not shown (" + per_database + "); ask about them by name\n";
  }
  return text;
}

}  // namespace multidb
