#include "core/schema_shape.hpp"

#include "core/hash.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

using nlohmann::json;

std::string qualified(const TableInfo& table) { return table.schema + "." + table.name; }

std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

std::string key_text(const ForeignKey& key) {
  return "(" + joined(key.columns) + ") -> " + key.references + "(" + joined(key.ref_columns) + ")";
}

std::vector<std::string> key_texts(const TableInfo& table) {
  std::vector<std::string> keys;
  for (const ForeignKey& key : table.foreign_keys) keys.push_back(key_text(key));
  std::sort(keys.begin(), keys.end());
  return keys;
}

// The canonical text of a shape: what is compared, and what the fingerprint hashes.
std::string shape_text(const DatabaseSchema& schema) {
  std::vector<const TableInfo*> tables;
  for (const TableInfo& table : schema.tables) tables.push_back(&table);
  std::stable_sort(tables.begin(), tables.end(), [](const TableInfo* a, const TableInfo* b) {
    return std::tie(a->schema, a->name, a->kind) < std::tie(b->schema, b->name, b->kind);
  });
  json shape = json::array();
  for (const TableInfo* table : tables) {
    json columns = json::array();
    for (const ColumnInfo& c : table->columns) columns.push_back({c.name, c.type, c.nullable, c.comment});
    shape.push_back({table->schema, table->name, table->kind, table->comment, columns, table->primary_key,
                     key_texts(*table)});
  }
  return shape.dump();
}

std::string table_summary(const TableInfo& table) {
  return (table.kind.empty() ? std::string("table") : table.kind) + ", " + std::to_string(table.columns.size()) +
         (table.columns.size() == 1 ? " column" : " columns");
}

std::string nullability(const ColumnInfo& column) { return column.nullable ? "nullable" : "NOT NULL"; }

void table_changes(const TableInfo& base, const TableInfo& variant, std::vector<ShapeDifference>& out) {
  const std::string name = qualified(base);
  auto changed = [&](const std::string& expected, const std::string& found) {
    if (expected != found) out.push_back({"table changed", name, "", expected, found});
  };
  changed("kind " + (base.kind.empty() ? std::string("table") : base.kind),
          "kind " + (variant.kind.empty() ? std::string("table") : variant.kind));
  changed("comment: " + base.comment, "comment: " + variant.comment);
  changed("primary key (" + joined(base.primary_key) + ")", "primary key (" + joined(variant.primary_key) + ")");
  changed("foreign keys " + joined(key_texts(base)), "foreign keys " + joined(key_texts(variant)));

  // Column order, among the columns both have.
  std::set<std::string> in_base, in_variant;
  for (const ColumnInfo& c : base.columns) in_base.insert(c.name);
  for (const ColumnInfo& c : variant.columns) in_variant.insert(c.name);
  std::vector<std::string> base_order, variant_order;
  for (const ColumnInfo& c : base.columns)
    if (in_variant.count(c.name)) base_order.push_back(c.name);
  for (const ColumnInfo& c : variant.columns)
    if (in_base.count(c.name)) variant_order.push_back(c.name);
  changed("column order " + joined(base_order), "column order " + joined(variant_order));

  std::map<std::string, const ColumnInfo*> variant_columns;
  for (const ColumnInfo& c : variant.columns) variant_columns.emplace(c.name, &c);
  std::set<std::string> seen;
  for (const ColumnInfo& column : base.columns) {
    if (!seen.insert(column.name).second) continue;
    auto found = variant_columns.find(column.name);
    if (found == variant_columns.end()) {
      out.push_back({"column missing", name, column.name, column.type, ""});
      continue;
    }
    const ColumnInfo& other = *found->second;
    if (other.type != column.type) {
      out.push_back({"column retyped", name, column.name, column.type, other.type});
      continue;
    }
    if (other.nullable != column.nullable)
      out.push_back({"column changed", name, column.name, nullability(column), nullability(other)});
    if (other.comment != column.comment)
      out.push_back({"column changed", name, column.name, "comment: " + column.comment, "comment: " + other.comment});
  }
  for (const ColumnInfo& column : variant.columns)
    if (!in_base.count(column.name) && seen.insert(column.name).second)
      out.push_back({"column added", name, column.name, "", column.type});
}

}  // namespace

std::string schema_shape_fingerprint(const DatabaseSchema& schema) { return fnv1a_hex(shape_text(schema)); }

std::vector<ShapeDifference> shape_differences(const DatabaseSchema& base, const DatabaseSchema& variant) {
  std::map<std::string, const TableInfo*> base_tables, variant_tables;
  for (const TableInfo& table : base.tables) base_tables.emplace(qualified(table), &table);
  for (const TableInfo& table : variant.tables) variant_tables.emplace(qualified(table), &table);
  std::set<std::string> names;
  for (const auto& entry : base_tables) names.insert(entry.first);
  for (const auto& entry : variant_tables) names.insert(entry.first);

  std::vector<ShapeDifference> differences;
  for (const std::string& name : names) {
    auto in_base = base_tables.find(name);
    auto in_variant = variant_tables.find(name);
    if (in_variant == variant_tables.end()) {
      differences.push_back({"table missing", name, "", table_summary(*in_base->second), ""});
    } else if (in_base == base_tables.end()) {
      differences.push_back({"table added", name, "", "", table_summary(*in_variant->second)});
    } else {
      table_changes(*in_base->second, *in_variant->second, differences);
    }
  }
  return differences;
}

ShapeGroups group_by_shape(const std::vector<DatabaseSchema>& schemas) {
  struct Building {
    ShapeVariant variant;
    std::size_t first = 0;
  };
  std::vector<Building> building;
  std::unordered_map<std::string, std::size_t> by_shape;  // shape text -> index into building
  std::set<std::string> databases;
  for (std::size_t i = 0; i < schemas.size(); i++) {
    if (!databases.insert(schemas[i].database).second) continue;
    std::string text = shape_text(schemas[i]);
    auto found = by_shape.find(text);
    if (found == by_shape.end()) {
      Building next;
      next.variant.fingerprint = fnv1a_hex(text);
      next.variant.representative = i;
      next.first = i;
      found = by_shape.emplace(std::move(text), building.size()).first;
      building.push_back(std::move(next));
    }
    building[found->second].variant.databases.push_back(schemas[i].database);
  }
  std::stable_sort(building.begin(), building.end(), [](const Building& a, const Building& b) {
    if (a.variant.databases.size() != b.variant.databases.size())
      return a.variant.databases.size() > b.variant.databases.size();
    return a.first < b.first;
  });

  ShapeGroups groups;
  for (Building& b : building) groups.variants.push_back(std::move(b.variant));
  for (std::size_t v = 1; v < groups.variants.size(); v++) {
    ShapeVariant& variant = groups.variants[v];
    std::vector<ShapeDifference> all =
        shape_differences(schemas[groups.variants[0].representative], schemas[variant.representative]);
    if (all.size() > kMaxShapeDifferences) {
      variant.more_differences = all.size() - kMaxShapeDifferences;
      all.resize(kMaxShapeDifferences);
    }
    variant.differences = std::move(all);
  }
  return groups;
}

}  // namespace multidb
