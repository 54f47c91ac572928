#include "core/schema_text.hpp"

#include "core/schema_shape.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <unordered_map>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

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

std::string rows_text(double low, double high, bool each) {
  if (low < 0) return "";
  std::string text = " (about " + std::to_string(static_cast<long long>(low));
  if (high > low) text += " to " + std::to_string(static_cast<long long>(high));
  return text + (each ? " rows each)" : " rows)");
}

// The columns line(s) of a table, each line after indent.
std::string describe_columns(const TableInfo& table, const std::string& indent) {
  std::string text = indent;
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
      for (size_t v = 0; v < column.common_values.size(); v++)
        text += (v ? ", " : " ") + sql_literal(column.common_values[v]);
      text += ")";
    }
  }
  text += "\n";
  for (const ForeignKey& key : table.foreign_keys) {
    if (key.columns.size() <= 1) continue;
    std::string from, to;
    for (const auto& c : key.columns) from += (from.empty() ? "" : ", ") + c;
    for (const auto& c : key.ref_columns) to += (to.empty() ? "" : ", ") + c;
    text += indent + "(" + from + ") -> " + key.references + "(" + to + ")\n";
  }
  return text;
}

// "table public.orders (about 600 rows) -- one purchase", after prefix ("database \"x\", " or nothing).
std::string table_line(const std::string& prefix, const TableInfo& table, const std::string& rows) {
  std::string text = prefix + (table.kind.empty() ? "table" : table.kind) + " " + qualified(table) + rows;
  if (!table.comment.empty()) text += " -- " + table.comment;
  return text + "\n";
}

// The names of a shape's databases, compactly, and whether they are exactly one of the groups.
struct ShapeLabel {
  std::string names;  // "t0001 … t1000", without the group's suffix
  std::string count;  // "1,000; group @tenants" or "997"
  size_t databases = 0;
};

ShapeLabel label_of(const std::vector<std::string>& databases, const std::vector<DatabaseGroup>& groups) {
  CompactNames compact;
  bool found = false;
  for (const DatabaseGroup& group : groups) {
    if (group.name.empty()) continue;
    compact = compact_database_names(databases, group, kMaxShapeNamesBytes);
    if (compact.is_group) {
      found = true;
      break;
    }
  }
  if (!found) compact = compact_database_names(databases, {}, kMaxShapeNamesBytes);
  ShapeLabel label;
  label.names = compact.text;
  label.databases = compact.count;
  label.count = with_thousands_separator(compact.count);
  if (compact.is_group) {
    std::string suffix = " (group " + compact.group + ")";
    if (label.names.size() >= suffix.size() &&
        label.names.compare(label.names.size() - suffix.size(), suffix.size(), suffix) == 0)
      label.names.resize(label.names.size() - suffix.size());
    label.count += "; group " + compact.group;
  }
  return label;
}

// One shape as the prompt shows it.
struct Block {
  const ShapeVariant* variant = nullptr;
  std::vector<size_t> members;  // indices into the input, in the variant's order
  bool as_differences = false;
  ShapeLabel label;
  const DatabaseSchema* representative = nullptr;
  DatabaseSchema merged;             // full blocks of several members: sampled values merged
  std::vector<double> low_rows, high_rows;  // full blocks: per table of the representative
};

// One table of a full block, or a variant's differences on one table: what max_tables counts.
struct Unit {
  size_t block = 0;
  const TableInfo* table = nullptr;  // the table it is about (the variant's, else the base's): for relevance
  std::string name;                  // qualified
  size_t table_index = 0;            // full blocks: index into the block's tables
  std::vector<const ShapeDifference*> differences;  // variant blocks
};

std::string difference_line(const ShapeDifference& d, const DatabaseSchema& variant) {
  if (d.change == "table added") {
    std::string text = "  - " + d.table + " added (" + d.found + "):\n";
    for (const TableInfo& table : variant.tables)
      if (qualified(table) == d.table) {
        text += describe_columns(table, "      ");
        break;
      }
    return text;
  }
  if (d.change == "table missing") return "  - " + d.table + " missing (" + d.expected + ")\n";
  if (d.change == "table changed") return "  - " + d.table + ": " + d.found + ", not " + d.expected + "\n";
  if (d.change == "column added") return "  - " + d.table + ": column " + d.column + " " + d.found + " added\n";
  if (d.change == "column missing") return "  - " + d.table + ": column " + d.column + " " + d.expected + " missing\n";
  return "  - " + d.table + ": column " + d.column + " " + d.found + ", not " + d.expected + "\n";
}

// Full blocks of several members: each column's sampled values are the union of the members', and the row
// estimates a range.
void merge_members(Block& block, const std::vector<DatabaseSchema>& schemas) {
  const DatabaseSchema& representative = *block.representative;
  block.merged = representative;
  size_t tables = representative.tables.size();
  block.low_rows.assign(tables, -1);
  block.high_rows.assign(tables, -1);
  std::unordered_map<std::string, size_t> index;
  for (size_t t = 0; t < tables; t++) index.emplace(qualified(representative.tables[t]), t);
  std::vector<std::vector<std::set<std::string>>> values(tables);
  for (size_t t = 0; t < tables; t++) values[t].resize(representative.tables[t].columns.size());
  for (size_t member : block.members) {
    for (const TableInfo& table : schemas[member].tables) {
      auto found = index.find(qualified(table));
      if (found == index.end()) continue;  // not in one shape: cannot happen
      size_t t = found->second;
      if (table.estimated_rows >= 0) {
        if (block.low_rows[t] < 0 || table.estimated_rows < block.low_rows[t]) block.low_rows[t] = table.estimated_rows;
        if (table.estimated_rows > block.high_rows[t]) block.high_rows[t] = table.estimated_rows;
      }
      for (size_t c = 0; c < table.columns.size() && c < values[t].size(); c++) {
        std::set<std::string>& merged = values[t][c];
        if (merged.size() > kMaxCommonValues) continue;  // too many already: none will be shown
        merged.insert(table.columns[c].common_values.begin(), table.columns[c].common_values.end());
      }
    }
  }
  for (size_t t = 0; t < tables; t++)
    for (size_t c = 0; c < values[t].size(); c++) {
      std::vector<std::string>& shown = block.merged.tables[t].columns[c].common_values;
      shown.clear();
      if (values[t][c].size() <= kMaxCommonValues) shown.assign(values[t][c].begin(), values[t][c].end());
    }
}

bool use_differences(const ShapeVariant& variant, const DatabaseSchema& base) {
  if (variant.more_differences > 0 || variant.differences.empty()) return false;
  std::set<std::string> touched;
  for (const ShapeDifference& d : variant.differences) touched.insert(d.table);
  size_t kept = 0;
  for (const TableInfo& table : base.tables) kept += touched.count(qualified(table)) == 0;
  return kept > 0 && kept * 2 >= base.tables.size();
}

int relevance(const TableInfo& table, const std::set<std::string>& asked) {
  int score = 0;
  for (const std::string& w : words(table.name)) score += asked.count(w) * 3;
  for (const ColumnInfo& c : table.columns)
    for (const std::string& w : words(c.name)) score += asked.count(w);
  for (const std::string& w : words(table.comment)) score += asked.count(w);
  return score;
}

// By foreign key: two tables of one full shape, one referencing the other.
bool key_neighbours(const Unit& a, const Unit& b, const std::vector<Block>& blocks) {
  if (a.block != b.block || blocks[a.block].as_differences || a.table == nullptr || b.table == nullptr) return false;
  for (const ForeignKey& k : a.table->foreign_keys)
    if (k.references == b.name) return true;
  for (const ForeignKey& k : b.table->foreign_keys)
    if (k.references == a.name) return true;
  return false;
}

// By name: a table of the largest shape and a variant's differences on it.
bool table_neighbours(const Unit& a, const Unit& b, const std::vector<Block>& blocks) {
  if (a.name != b.name || a.block == b.block || (a.block != 0 && b.block != 0)) return false;
  return blocks[a.block == 0 ? b.block : a.block].as_differences;
}

// Which units to show: all when they fit; else the relevant ones, their neighbours, then the rest by relevance.
std::vector<bool> select_units(const std::vector<Unit>& units, const std::vector<Block>& blocks,
                               const std::string& question, size_t max_tables) {
  std::vector<bool> kept(units.size(), units.size() <= max_tables);
  if (units.size() <= max_tables) return kept;
  std::set<std::string> asked;
  for (const std::string& w : words(question)) asked.insert(w);
  std::vector<std::pair<int, size_t>> scored;  // (score, unit)
  for (size_t i = 0; i < units.size(); i++)
    scored.push_back({units[i].table != nullptr ? relevance(*units[i].table, asked) : 0, i});
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  size_t count = 0;
  auto keep = [&](size_t i) {
    if (!kept[i]) {
      kept[i] = true;
      count++;
    }
  };
  size_t core = std::max<size_t>(1, max_tables * 2 / 3);  // leave room for the neighbours
  std::vector<size_t> chosen;
  for (size_t i = 0; i < scored.size() && count < core && scored[i].first > 0; i++) {
    keep(scored[i].second);
    chosen.push_back(scored[i].second);
  }
  // First what the variants change in the chosen tables, then the tables they reference or are referenced by.
  for (auto related : {table_neighbours, key_neighbours})
    for (size_t i = 0; i < units.size() && count < max_tables; i++) {
      if (kept[i]) continue;
      for (size_t c : chosen)
        if (related(units[c], units[i], blocks)) {
          keep(i);
          break;
        }
    }
  for (size_t i = 0; i < scored.size() && count < max_tables; i++) keep(scored[i].second);
  return kept;
}

}  // namespace

std::string format_combined_schema(const std::vector<DatabaseSchema>& schemas, const std::string& question,
                                   size_t max_tables, const std::vector<DatabaseGroup>& groups) {
  ShapeGroups shapes = group_by_shape(schemas);
  std::unordered_map<std::string, size_t> first_index;  // database -> its first place in the input
  for (size_t i = 0; i < schemas.size(); i++) first_index.emplace(schemas[i].database, i);

  std::vector<Block> blocks(shapes.variants.size());
  std::vector<Unit> units;
  for (size_t v = 0; v < shapes.variants.size(); v++) {
    Block& block = blocks[v];
    const ShapeVariant& variant = shapes.variants[v];
    block.variant = &variant;
    for (const std::string& name : variant.databases) block.members.push_back(first_index.at(name));
    block.representative = &schemas[variant.representative];
    block.label = label_of(variant.databases, groups);
    block.as_differences = v > 0 && use_differences(variant, *blocks[0].representative);
    if (block.as_differences) {
      std::map<std::string, size_t> unit_of_table;  // keeps the differences' order: by table
      for (const ShapeDifference& d : variant.differences) {
        auto found = unit_of_table.find(d.table);
        if (found == unit_of_table.end()) {
          Unit unit;
          unit.block = v;
          unit.name = d.table;
          for (const TableInfo& table : block.representative->tables)
            if (qualified(table) == d.table) unit.table = &table;
          if (unit.table == nullptr)
            for (const TableInfo& table : blocks[0].representative->tables)
              if (qualified(table) == d.table) unit.table = &table;
          found = unit_of_table.emplace(d.table, units.size()).first;
          units.push_back(std::move(unit));
        }
        units[found->second].differences.push_back(&d);
      }
      continue;
    }
    if (block.members.size() > 1) {
      merge_members(block, schemas);
    } else {
      block.merged = *block.representative;
    }
    for (size_t t = 0; t < block.merged.tables.size(); t++) {
      Unit unit;
      unit.block = v;
      unit.table = &block.merged.tables[t];
      unit.name = qualified(block.merged.tables[t]);
      unit.table_index = t;
      units.push_back(std::move(unit));
    }
  }

  std::vector<bool> kept = select_units(units, blocks, question, max_tables);

  std::string text;
  std::vector<size_t> left_out(blocks.size(), 0);
  std::vector<bool> header_written(blocks.size(), false);
  for (size_t u = 0; u < units.size(); u++) {
    const Unit& unit = units[u];
    Block& block = blocks[unit.block];
    if (!kept[u]) {
      left_out[unit.block]++;
      continue;
    }
    bool several = block.members.size() > 1;
    if (!header_written[unit.block]) {
      header_written[unit.block] = true;
      if (block.as_differences) {
        const ShapeLabel& base = blocks[0].label;
        text += (several ? "databases " : "database ") + block.label.names +
                (several ? " (" + block.label.count + ") have" : " has") + " the schema of " + base.names +
                (base.databases > 1 ? " (" + base.count + ")" : "") + " with these differences:\n";
      } else if (several) {
        text += "databases " + block.label.names + " (" + block.label.count + ") share this schema:\n";
      }
    }
    if (block.as_differences) {
      for (const ShapeDifference* d : unit.differences) text += difference_line(*d, *block.representative);
    } else if (several) {
      const TableInfo& table = block.merged.tables[unit.table_index];
      text += table_line("", table, rows_text(block.low_rows[unit.table_index], block.high_rows[unit.table_index], true));
      text += describe_columns(table, "  ");
    } else {
      const TableInfo& table = block.merged.tables[unit.table_index];
      text += table_line("database \"" + block.representative->database + "\", ", table,
                         rows_text(table.estimated_rows, table.estimated_rows, false));
      text += describe_columns(table, "  ");
    }
  }

  size_t total = 0, shapes_listed = 0, shapes_unlisted = 0;
  std::string per_shape;
  for (size_t b = 0; b < blocks.size(); b++) {
    if (left_out[b] == 0) continue;
    total += left_out[b];
    if (shapes_listed == kMaxLeftOutShapesListed) {
      shapes_unlisted++;
      continue;
    }
    shapes_listed++;
    per_shape += (per_shape.empty() ? "" : ", ") + blocks[b].label.names + ": " + with_thousands_separator(left_out[b]);
  }
  if (total > 0) {
    if (shapes_unlisted > 0) per_shape += ", \xE2\x80\xA6 " + with_thousands_separator(shapes_unlisted) + " more";
    text += "-- " + with_thousands_separator(total) + " more tables not shown (" + per_shape + "); ask about them by name\n";
  }
  return text;
}

}  // namespace multidb
