// Compiles a read query spec into SQL per database (core/query_compiler.hpp): finds the table, checks every
// column, operator, value and summary against each database's schema in the order given (the first database at
// fault is the one named), then writes the statements — one text for every database — and, in totals mode, the
// combine step that merges their partial results. The SQL is for people too ("View SQL"): one clause a line.
#include "core/query_compiler.hpp"

#include "core/column_type_family.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw SpecError(path, "invalid query spec: " + path + ": " + what);
}

std::string in_quotes(const std::string& text) { return "\"" + text + "\""; }

// A value as a message shows it: quoted, and cut short.
std::string shown_value(const std::string& value) {
  return in_quotes(value.size() > 40 ? value.substr(0, 40) + "..." : value);
}

// ---- one database's schema, looked up ------------------------------------------------------------------------

const TableInfo* find_table(const DatabaseSchema& db, const std::string& schema, const std::string& name) {
  for (const TableInfo& table : db.tables)
    if (table.name == name && table.schema == schema) return &table;
  return nullptr;
}

const ColumnInfo* find_column(const TableInfo& table, const std::string& name) {
  for (const ColumnInfo& column : table.columns)
    if (column.name == name) return &column;
  return nullptr;
}

// The schema an unqualified table name means: public when any database has public.<name>, else the one schema
// that has it; several such schemas are ambiguous, none is the first database's missing table.
std::string resolve_schema(const QuerySpec& spec, const std::vector<DatabaseSchema>& databases) {
  if (!spec.table_schema.empty()) return spec.table_schema;
  std::set<std::string> schemas;
  for (const DatabaseSchema& db : databases)
    for (const TableInfo& table : db.tables)
      if (table.name == spec.table_name) schemas.insert(table.schema);
  if (schemas.count("public") || schemas.empty()) return "public";
  if (schemas.size() == 1) return *schemas.begin();
  std::string list;
  for (const std::string& s : schemas) list += (list.empty() ? "" : ", ") + s;
  fail("table", in_quotes(spec.table_name) + " is in several schemas (" + list + "); write \"<schema>." +
                    spec.table_name + "\"");
}

// A column the spec names, with the path of the member that names it.
struct ColumnRef {
  std::string name;
  std::string path;
};

std::vector<ColumnRef> column_refs(const QuerySpec& spec) {
  std::vector<ColumnRef> refs;
  for (size_t i = 0; i < spec.columns.size(); i++) refs.push_back({spec.columns[i], "columns[" + std::to_string(i) + "]"});
  std::vector<const FilterNode*> pending;
  if (spec.filter) pending.push_back(&*spec.filter);
  while (!pending.empty()) {  // depth first, in the order written
    const FilterNode* node = pending.back();
    pending.pop_back();
    if (node->kind == FilterNode::Kind::kCondition) refs.push_back({node->column, node->path + ".column"});
    for (auto child = node->children.rbegin(); child != node->children.rend(); ++child) pending.push_back(&*child);
  }
  for (size_t i = 0; i < spec.group_by.size(); i++)
    refs.push_back({spec.group_by[i].column, "group_by[" + std::to_string(i) + "].column"});
  for (size_t i = 0; i < spec.summaries.size(); i++)
    if (!spec.summaries[i].column.empty())
      refs.push_back({spec.summaries[i].column, "summaries[" + std::to_string(i) + "].column"});
  return refs;
}

// ---- the type checks -----------------------------------------------------------------------------------------

// How a column is described in a message: `"total" is numeric on production`, or with its family when the type's
// name does not say it: `"status" is order_status (an "other" type) on production`.
std::string column_on(const ColumnInfo& column, const std::string& database) {
  TypeFamily family = column_type_family(column.type);
  std::string type = column.type.empty() ? std::string("of an unknown type") : column.type;
  std::string family_name = type_family_name(family);
  if (column.type != family_name) type += std::string(" (a ") + family_name + " type)";
  return in_quotes(column.name) + " is " + type + " on " + database;
}

bool op_fits(FilterOp op, TypeFamily family, const std::string& type) {
  switch (op) {
    case FilterOp::kIsNull:
    case FilterOp::kIsNotNull: return true;
    case FilterOp::kLike:
    case FilterOp::kIlike: return family == TypeFamily::kText;
    case FilterOp::kLast: return is_date_or_timestamp(type);
    case FilterOp::kEq:
    case FilterOp::kNe:
    case FilterOp::kIn:
    case FilterOp::kNotIn: return family != TypeFamily::kUnordered;
    default:  // <, <=, >, >=, between: an order
      return family == TypeFamily::kNumeric || family == TypeFamily::kText || family == TypeFamily::kDatetime ||
             family == TypeFamily::kOther;
  }
}

const char* op_needs(FilterOp op) {
  switch (op) {
    case FilterOp::kLike:
    case FilterOp::kIlike: return "a text column";
    case FilterOp::kLast: return "a date or timestamp column";
    case FilterOp::kEq:
    case FilterOp::kNe:
    case FilterOp::kIn:
    case FilterOp::kNotIn: return "a column whose values compare (not json, xml, arrays or geometric types)";
    default: return "a column whose values have an order (numbers, text, dates and times, not boolean or uuid)";
  }
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A decimal number as Postgres's numeric input takes it: [+-] digits [. digits] [e [+-] digits].
bool looks_numeric(const std::string& text) {
  size_t i = 0, n = text.size();
  if (i < n && (text[i] == '+' || text[i] == '-')) i++;
  size_t digits = 0;
  while (i < n && is_digit(text[i])) i++, digits++;
  if (i < n && text[i] == '.') {
    i++;
    while (i < n && is_digit(text[i])) i++, digits++;
  }
  if (digits == 0) return false;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    i++;
    if (i < n && (text[i] == '+' || text[i] == '-')) i++;
    size_t exponent = 0;
    while (i < n && is_digit(text[i])) i++, exponent++;
    if (exponent == 0) return false;
  }
  return i == n;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Digits in a fixed pattern: 'd' a digit, anything else itself. Advances `i` past the match.
bool match_pattern(const std::string& text, size_t& i, const char* pattern) {
  size_t j = i;
  for (const char* p = pattern; *p; p++, j++) {
    if (j >= text.size()) return false;
    if (*p == 'd' ? !is_digit(text[j]) : text[j] != *p) return false;
  }
  i = j;
  return true;
}

// A time of day: HH:MM[:SS[.fraction]], then an optional zone (Z, +HH, +HH:MM, +HHMM).
bool match_time(const std::string& text, size_t& i) {
  if (!match_pattern(text, i, "dd:dd")) return false;
  if (match_pattern(text, i, ":dd") && i < text.size() && text[i] == '.') {
    i++;
    size_t digits = 0;
    while (i < text.size() && is_digit(text[i])) i++, digits++;
    if (digits == 0) return false;
  }
  size_t zone = i;
  if (zone < text.size() && text[zone] == ' ') zone++;
  if (zone < text.size() && text[zone] == 'Z') {
    i = zone + 1;
  } else if (zone < text.size() && (text[zone] == '+' || text[zone] == '-')) {
    zone++;
    if (!match_pattern(text, zone, "dd")) return false;
    if (!match_pattern(text, zone, ":dd")) match_pattern(text, zone, "dd");
    i = zone;
  }
  return true;
}

// A date or timestamp as ISO 8601 writes it (YYYY-MM-DD, then T or a space and a time), or one of Postgres's
// special words; a time of day for the time types.
bool looks_datetime(const std::string& text, const std::string& type) {
  std::string word = lower(text);
  if (!is_date_or_timestamp(type)) {
    size_t i = 0;
    return (word == "now" || word == "allballs") || (match_time(text, i) && i == text.size());
  }
  if (word == "now" || word == "today" || word == "yesterday" || word == "tomorrow" || word == "infinity" ||
      word == "-infinity")
    return true;
  size_t i = 0;
  if (!match_pattern(text, i, "dddd-dd-dd")) return false;
  if (i == text.size()) return true;
  if (text[i] != ' ' && text[i] != 'T') return false;
  i++;
  return match_time(text, i) && i == text.size();
}

bool looks_uuid(const std::string& text) {
  std::string hex;
  size_t start = 0, end = text.size();
  if (end >= 2 && text[0] == '{' && text[end - 1] == '}') start = 1, end--;
  for (size_t i = start; i < end; i++) {
    char c = text[i];
    if (c == '-') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    hex += c;
  }
  return hex.size() == 32;
}

// Why a value does not fit the column, or empty when it does.
std::string value_misfit(const FilterNode& node, size_t i, TypeFamily family, const std::string& type) {
  const std::string& value = node.values[i];
  bool number = node.value_is_number[i], boolean = node.value_is_boolean[i];
  switch (family) {
    case TypeFamily::kNumeric:
      if (boolean || !(number || looks_numeric(value))) return shown_value(value) + " is not a number";
      return "";
    case TypeFamily::kText:
      if (boolean) return shown_value(value) + " is a boolean, not text";
      return "";
    case TypeFamily::kBoolean: {
      std::string word = lower(value);
      if (number || (word != "true" && word != "false")) return shown_value(value) + " is not true or false";
      return "";
    }
    case TypeFamily::kDatetime:
      if (number || boolean || !looks_datetime(value, type))
        return shown_value(value) + (is_date_or_timestamp(type)
                                         ? " is not a date or timestamp (YYYY-MM-DD, or YYYY-MM-DD HH:MM[:SS])"
                                         : " is not a time of day (HH:MM[:SS])");
      return "";
    case TypeFamily::kUuid:
      if (number || boolean || !looks_uuid(value)) return shown_value(value) + " is not a uuid";
      return "";
    default: return "";
  }
}

const char* summary_needs(const std::string& fn, TypeFamily family, const std::string& type, bool& fits) {
  (void)type;
  if (fn == "sum" || fn == "avg") {
    fits = family == TypeFamily::kNumeric;
    return "a numeric column";
  }
  if (fn == "min" || fn == "max") {
    fits = family == TypeFamily::kNumeric || family == TypeFamily::kText || family == TypeFamily::kDatetime ||
           family == TypeFamily::kOther;
    return "a column whose values have an order (numbers, text, dates and times, not boolean or uuid)";
  }
  fits = family != TypeFamily::kUnordered;  // count_distinct
  return "a column whose values compare (not json, xml, arrays or geometric types)";
}

// Every operator, value, summary and grouping of the spec against one database's columns.
void check_types(const QuerySpec& spec, const TableInfo& table, const std::string& database) {
  std::vector<const FilterNode*> pending;
  if (spec.filter) pending.push_back(&*spec.filter);
  while (!pending.empty()) {
    const FilterNode* node = pending.back();
    pending.pop_back();
    for (auto child = node->children.rbegin(); child != node->children.rend(); ++child) pending.push_back(&*child);
    if (node->kind != FilterNode::Kind::kCondition) continue;
    const ColumnInfo& column = *find_column(table, node->column);
    TypeFamily family = column_type_family(column.type);
    if (!op_fits(node->op, family, column.type))
      fail(node->path + ".op", in_quotes(filter_op_name(node->op)) + " needs " + op_needs(node->op) + ", and " +
                                   column_on(column, database));
    bool many = node->op == FilterOp::kBetween || node->op == FilterOp::kIn || node->op == FilterOp::kNotIn;
    for (size_t i = 0; i < node->values.size(); i++) {
      std::string why = value_misfit(*node, i, family, column.type);
      if (!why.empty())
        fail(node->path + ".value" + (many ? "[" + std::to_string(i) + "]" : ""), why + ", and " + column_on(column, database));
    }
  }
  for (size_t i = 0; i < spec.group_by.size(); i++) {
    const GroupColumn& group = spec.group_by[i];
    const ColumnInfo& column = *find_column(table, group.column);
    std::string path = "group_by[" + std::to_string(i) + "]";
    if (!group.by.empty() && !is_date_or_timestamp(column.type))
      fail(path + ".by", in_quotes(group.by) + " needs a date or timestamp column, and " + column_on(column, database));
    if (column_type_family(column.type) == TypeFamily::kUnordered)
      fail(path + ".column", "cannot group by " + column_on(column, database) + ": its values do not compare");
  }
  for (size_t i = 0; i < spec.summaries.size(); i++) {
    const Summary& summary = spec.summaries[i];
    if (summary.column.empty()) continue;
    const ColumnInfo& column = *find_column(table, summary.column);
    bool fits = true;
    const char* needs = summary_needs(summary.fn, column_type_family(column.type), column.type, fits);
    if (!fits)
      fail("summaries[" + std::to_string(i) + "].fn",
           in_quotes(summary.fn) + " needs " + needs + ", and " + column_on(column, database));
  }
}

// ---- SQL text ------------------------------------------------------------------------------------------------

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); i++) {
    if (i) out += separator;
    out += items[i];
  }
  return out;
}

std::string condition_sql(const FilterNode& node) {
  std::string column = sql_identifier(node.column);
  auto value = [&](size_t i) { return sql_literal(node.values[i]); };
  switch (node.op) {
    case FilterOp::kIsNull: return column + " IS NULL";
    case FilterOp::kIsNotNull: return column + " IS NOT NULL";
    case FilterOp::kBetween: return column + " BETWEEN " + value(0) + " AND " + value(1);
    case FilterOp::kIn:
    case FilterOp::kNotIn: {
      std::vector<std::string> values;
      for (size_t i = 0; i < node.values.size(); i++) values.push_back(value(i));
      return column + (node.op == FilterOp::kIn ? " IN (" : " NOT IN (") + join(values, ", ") + ")";
    }
    case FilterOp::kLike: return column + " LIKE " + value(0);
    case FilterOp::kIlike: return column + " ILIKE " + value(0);
    case FilterOp::kLast:
      return column + " >= CURRENT_DATE - " +
             sql_literal(std::to_string(node.last_amount) + " " + node.last_unit + (node.last_amount == 1 ? "" : "s")) +
             "::interval";
    default: return column + " " + filter_op_name(node.op) + " " + value(0);
  }
}

// The filter as a WHERE condition; `nested` parenthesizes an AND or OR inside another node.
std::string filter_sql(const FilterNode& node, bool nested) {
  switch (node.kind) {
    case FilterNode::Kind::kCondition: return condition_sql(node);
    case FilterNode::Kind::kNot: return "NOT (" + filter_sql(node.children.at(0), false) + ")";
    case FilterNode::Kind::kAnd:
    case FilterNode::Kind::kOr: {
      if (node.children.size() == 1) return filter_sql(node.children[0], nested);
      std::vector<std::string> parts;
      for (const FilterNode& child : node.children) parts.push_back(filter_sql(child, true));
      std::string joined = join(parts, node.kind == FilterNode::Kind::kAnd ? " AND " : " OR ");
      return nested ? "(" + joined + ")" : joined;
    }
  }
  return "";
}

size_t count_conditions(const FilterNode& node) {
  if (node.kind == FilterNode::Kind::kCondition) return 1;
  size_t n = 0;
  for (const FilterNode& child : node.children) n += count_conditions(child);
  return n;
}

// A grouping column's expression: the column, or its truncation to a date.
std::string group_expression(const GroupColumn& group) {
  if (group.by.empty()) return sql_identifier(group.column);
  return "CAST(date_trunc(" + sql_literal(group.by) + ", " + sql_identifier(group.column) + ") AS date)";
}

std::string select_item(const std::string& expression, const std::string& output, const std::string& column = "") {
  if (!column.empty() && column == output) return expression;
  return expression + " AS " + sql_identifier(output);
}

std::string summary_expression(const Summary& summary) {
  if (summary.fn == "count") return "count(*)";
  if (summary.fn == "count_distinct") return "count(DISTINCT " + sql_identifier(summary.column) + ")";
  return summary.fn + "(" + sql_identifier(summary.column) + ")";
}

std::string order_by(const QuerySpec& spec) {
  std::vector<std::string> keys;
  for (const SortKey& key : spec.sort) keys.push_back(sql_identifier(key.column) + (key.descending ? " DESC" : ""));
  return keys.empty() ? "" : "ORDER BY " + join(keys, ", ");
}

// The statement's clauses, one a line.
struct Statement {
  std::vector<std::string> select;
  std::string from;
  std::string where;
  std::vector<std::string> group_by;
  std::string order_by;
  std::string limit;

  std::string text() const {
    std::string sql = "SELECT " + join(select, ", ") + "\nFROM " + from;
    if (!where.empty()) sql += "\nWHERE " + where;
    if (!group_by.empty()) sql += "\nGROUP BY " + join(group_by, ", ");
    if (!order_by.empty()) sql += "\n" + order_by;
    if (!limit.empty()) sql += "\nLIMIT " + limit;
    return sql;
  }
};

// Names unique among a statement's output columns: the wanted name, or it with _2, _3, ...
class UniqueNames {
 public:
  std::string take(const std::string& wanted) {
    std::string name = wanted;
    for (int n = 2; taken_.count(name); n++) name = wanted + "_" + std::to_string(n);
    taken_.insert(name);
    return name;
  }

 private:
  std::set<std::string> taken_;
};

std::string describe(const QuerySpec& spec, const CompiledSpec& compiled, const std::string& schema) {
  std::string text = (schema == "public" ? "" : schema + ".") + spec.table_name + ": ";
  std::vector<std::string> what;
  for (const Summary& summary : spec.summaries) {
    if (summary.fn == "count") what.push_back("count");
    else if (summary.fn == "count_distinct") what.push_back("distinct " + summary.column);
    else if (summary.fn == "avg") what.push_back("average " + summary.column);
    else what.push_back(summary.fn + " of " + summary.column);
  }
  if (spec.summaries.empty() && spec.group_by.empty())
    what.push_back(spec.columns.empty() ? std::string("every column")
                   : spec.columns.size() <= 4 ? join(spec.columns, ", ")
                                              : std::to_string(spec.columns.size()) + " columns");
  text += join(what, ", ");
  std::vector<std::string> groups;
  for (const GroupColumn& group : spec.group_by)
    groups.push_back(group.column + (group.by.empty() ? "" : " (" + group.by + ")"));
  if (!groups.empty()) text += (spec.summaries.empty() ? "distinct " : " per ") + join(groups, ", ");
  if (spec.filter) {
    size_t n = count_conditions(*spec.filter);
    text += ", " + std::to_string(n) + (n == 1 ? " filter" : " filters");
  }
  if (spec.limit) text += ", first " + std::to_string(*spec.limit);
  size_t databases = compiled.queries.size();
  if (spec.mode == SpecMode::kTotals)
    text += "; totals across " + std::to_string(databases) + (databases == 1 ? " database" : " databases");
  else if (spec.mode == SpecMode::kCompare)
    text += "; " + spec.compare_a + " compared with " + spec.compare_b;
  else
    text += "; on " + std::to_string(databases) + (databases == 1 ? " database" : " databases");
  if (text.size() > 200) {
    size_t cut = 197;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) cut--;  // not inside a character
    text = text.substr(0, cut) + "...";
  }
  return text;
}

// Totals: per database, the partial summaries grouped by the groups (and by each count_distinct column), then the
// combine step over the union of the step tables that merges them.
void compile_totals(const QuerySpec& spec, const Statement& base, const std::vector<DatabaseSchema>& databases,
                    CompiledSpec& compiled) {
  Statement step = base;
  step.order_by.clear();
  step.limit.clear();
  Statement combine;
  std::vector<std::string> step_columns;  // the step tables' columns, as the union lists them
  if (spec.summaries.empty() && spec.group_by.empty()) {
    // Rows, not summaries: each database's first rows in the order wanted are enough for the first of them all.
    if (spec.limit) {
      step.order_by = base.order_by;
      step.limit = base.limit;
    }
    for (const std::string& name : compiled.output_columns) {
      step_columns.push_back(sql_identifier(name));
      combine.select.push_back(sql_identifier(name));
    }
  } else {
    step.select.clear();
    step.group_by.clear();
    UniqueNames names;
    std::map<std::string, std::string> plain_group_step;  // column -> the step column grouping by it
    for (const GroupColumn& group : spec.group_by) {
      std::string output = group_output_name(group);
      std::string name = names.take(output);
      step.select.push_back(select_item(group_expression(group), name, group.by.empty() ? group.column : ""));
      step.group_by.push_back(group_expression(group));
      step_columns.push_back(sql_identifier(name));
      combine.select.push_back(select_item(sql_identifier(name), output, name));
      combine.group_by.push_back(sql_identifier(name));
      if (group.by.empty()) plain_group_step.emplace(group.column, name);
    }
    std::vector<std::string> partials, merged;
    std::vector<std::pair<std::string, std::string>> distinct_columns;  // column, step column
    for (const Summary& summary : spec.summaries) {
      std::string output = summary_output_name(summary);
      std::string column = summary.column.empty() ? "" : sql_identifier(summary.column);
      if (summary.fn == "count_distinct") {
        auto found = plain_group_step.find(summary.column);
        std::string name;
        if (found != plain_group_step.end()) {
          name = found->second;
        } else {
          for (const auto& d : distinct_columns)
            if (d.first == summary.column) name = d.second;
          if (name.empty()) {
            name = names.take(summary.column);
            distinct_columns.push_back({summary.column, name});
          }
        }
        merged.push_back("count(DISTINCT " + sql_identifier(name) + ") AS " + sql_identifier(output));
      } else if (summary.fn == "avg") {
        std::string sum = names.take(output + "_sum"), count = names.take(output + "_count");
        partials.push_back("sum(" + column + ") AS " + sql_identifier(sum));
        partials.push_back("count(" + column + ") AS " + sql_identifier(count));
        step_columns.push_back(sql_identifier(sum));
        step_columns.push_back(sql_identifier(count));
        merged.push_back("sum(" + sql_identifier(sum) + ") / nullif(sum(" + sql_identifier(count) + "), 0) AS " +
                         sql_identifier(output));
      } else {
        std::string name = names.take(output);
        partials.push_back(summary_expression(summary) + " AS " + sql_identifier(name));
        step_columns.push_back(sql_identifier(name));
        if (summary.fn == "count")
          merged.push_back("CAST(sum(" + sql_identifier(name) + ") AS bigint) AS " + sql_identifier(output));
        else  // sum of sums, min of mins, max of maxes
          merged.push_back((summary.fn == "sum" ? std::string("sum") : summary.fn) + "(" + sql_identifier(name) +
                           ") AS " + sql_identifier(output));
      }
    }
    // The count_distinct columns join the grouping, right after the groups (in the union's order too).
    size_t after_groups = spec.group_by.size();
    for (size_t i = 0; i < distinct_columns.size(); i++) {
      const auto& d = distinct_columns[i];
      step.select.push_back(select_item(sql_identifier(d.first), d.second, d.first));
      step.group_by.push_back(sql_identifier(d.first));
      step_columns.insert(step_columns.begin() + static_cast<std::ptrdiff_t>(after_groups + i), sql_identifier(d.second));
    }
    step.select.insert(step.select.end(), partials.begin(), partials.end());
    combine.select.insert(combine.select.end(), merged.begin(), merged.end());
  }
  std::string step_sql = step.text();
  std::string columns = join(step_columns, ", ");
  std::vector<std::string> arms;
  for (const DatabaseSchema& db : databases) {
    compiled.queries.push_back({db.database, step_sql});
    arms.push_back("SELECT " + columns + " FROM " + sql_identifier(db.database));
  }
  combine.from = "(" + join(arms, "\n      UNION ALL ") + ") AS t";
  combine.order_by = base.order_by;
  combine.limit = base.limit;
  compiled.combine = combine.text();
}

// In totals the step tables' rows meet in one union: a column whose type family differs between databases
// (integer on one, text on another) would fail there, so it is refused here, naming both.
void check_same_families(const QuerySpec& spec, const std::vector<const TableInfo*>& tables,
                         const std::vector<DatabaseSchema>& databases, const std::vector<std::string>& outputs_plain) {
  std::vector<ColumnRef> refs;
  if (spec.summaries.empty() && spec.group_by.empty()) {
    for (size_t i = 0; i < outputs_plain.size(); i++)
      refs.push_back({outputs_plain[i], spec.columns.empty() ? "columns" : "columns[" + std::to_string(i) + "]"});
  }
  for (size_t i = 0; i < spec.group_by.size(); i++)
    refs.push_back({spec.group_by[i].column, "group_by[" + std::to_string(i) + "].column"});
  for (size_t i = 0; i < spec.summaries.size(); i++)
    if (!spec.summaries[i].column.empty())
      refs.push_back({spec.summaries[i].column, "summaries[" + std::to_string(i) + "].column"});
  for (const ColumnRef& ref : refs) {
    const ColumnInfo& first = *find_column(*tables[0], ref.name);
    TypeFamily family = column_type_family(first.type);
    for (size_t d = 1; d < tables.size(); d++) {
      const ColumnInfo& other = *find_column(*tables[d], ref.name);
      if (column_type_family(other.type) != family)
        fail(ref.path, "totals merge the databases' rows, and " + column_on(first, databases[0].database) + " but " +
                           column_on(other, databases[d].database));
    }
  }
}

}  // namespace

std::string sql_literal(const std::string& value) {
  if (value.find('\0') != std::string::npos) throw std::invalid_argument("a SQL literal cannot hold a NUL character");
  bool backslash = value.find('\\') != std::string::npos;
  std::string out = backslash ? "E'" : "'";
  for (char c : value) {
    if (c == '\'') out += "''";
    else if (c == '\\') out += "\\\\";
    else out += c;
  }
  return out + "'";
}

std::string sql_identifier(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += "\"\"";
    else out += c;
  }
  return out + "\"";
}

CompiledSpec compile_query_spec(const QuerySpec& spec, const std::vector<DatabaseSchema>& input) {
  if (input.empty()) fail("connections", "no database to run on");
  std::vector<DatabaseSchema> ordered_compare;
  const std::vector<DatabaseSchema>* dbs = &input;
  if (spec.mode == SpecMode::kCompare) {
    const DatabaseSchema *a = nullptr, *b = nullptr;
    for (const DatabaseSchema& db : input) {
      if (db.database == spec.compare_a) a = &db;
      if (db.database == spec.compare_b) b = &db;
    }
    if (input.size() != 2 || !a || !b)
      fail("connections", "compare mode runs on exactly compare.a and compare.b (" + spec.compare_a + ", " +
                              spec.compare_b + ")");
    ordered_compare = {*a, *b};
    dbs = &ordered_compare;
  }
  const std::vector<DatabaseSchema>& databases = *dbs;
  {
    std::set<std::string> seen;
    for (const DatabaseSchema& db : databases)
      if (!seen.insert(db.database).second) fail("connections", in_quotes(db.database) + " is reached twice");
  }

  const std::string schema = resolve_schema(spec, databases);
  const std::string qualified = schema + "." + spec.table_name;
  const std::vector<ColumnRef> refs = column_refs(spec);
  std::vector<const TableInfo*> tables;
  for (const DatabaseSchema& db : databases) {
    const TableInfo* table = find_table(db, schema, spec.table_name);
    if (!table)
      throw SpecSchemaError("42P01", db.database, "table",
                            "table " + in_quotes(qualified) + " does not exist on database " + in_quotes(db.database));
    for (const ColumnRef& ref : refs)
      if (!find_column(*table, ref.name))
        throw SpecSchemaError("42703", db.database, ref.path,
                              "column " + in_quotes(ref.name) + " of table " + in_quotes(qualified) +
                                  " does not exist on database " + in_quotes(db.database));
    check_types(spec, *table, db.database);
    tables.push_back(table);
  }

  CompiledSpec compiled;
  compiled.mode = spec.mode;
  // The output columns: groups and summaries; or the columns named; or every column all the databases have.
  std::vector<std::string> plain_columns = spec.columns;
  if (!spec.summaries.empty() || !spec.group_by.empty()) {
    for (const GroupColumn& group : spec.group_by) compiled.output_columns.push_back(group_output_name(group));
    for (const Summary& summary : spec.summaries) compiled.output_columns.push_back(summary_output_name(summary));
  } else {
    if (plain_columns.empty()) {
      for (const ColumnInfo& column : tables[0]->columns) {
        bool everywhere = true;
        for (size_t d = 1; d < tables.size() && everywhere; d++) everywhere = find_column(*tables[d], column.name);
        if (everywhere) plain_columns.push_back(column.name);
      }
      if (plain_columns.empty()) fail("columns", "no column of " + in_quotes(qualified) + " is on every database");
    }
    compiled.output_columns = plain_columns;
  }
  std::set<std::string> outputs(compiled.output_columns.begin(), compiled.output_columns.end());
  std::string output_list = join(compiled.output_columns, ", ");
  if (output_list.size() > 300) output_list = output_list.substr(0, 300) + ", ...";
  for (size_t i = 0; i < spec.sort.size(); i++)
    if (!outputs.count(spec.sort[i].column))
      fail("sort[" + std::to_string(i) + "].column",
           in_quotes(spec.sort[i].column) + " is not an output column; the output columns are: " + output_list);
  for (size_t i = 0; i < spec.compare_key.size(); i++)
    if (!outputs.count(spec.compare_key[i]))
      fail("compare.key[" + std::to_string(i) + "]",
           in_quotes(spec.compare_key[i]) + " is not an output column; the output columns are: " + output_list);
  if (spec.mode == SpecMode::kTotals && tables.size() > 1) check_same_families(spec, tables, databases, plain_columns);

  // The statement every database runs in fanout and compare mode.
  Statement base;
  base.from = sql_identifier(schema) + "." + sql_identifier(spec.table_name);
  if (spec.filter) base.where = filter_sql(*spec.filter, false);
  if (!spec.summaries.empty() || !spec.group_by.empty()) {
    for (const GroupColumn& group : spec.group_by) {
      base.select.push_back(select_item(group_expression(group), group_output_name(group),
                                        group.by.empty() ? group.column : ""));
      base.group_by.push_back(group_expression(group));
    }
    for (const Summary& summary : spec.summaries)
      base.select.push_back(summary_expression(summary) + " AS " + sql_identifier(summary_output_name(summary)));
  } else {
    for (const std::string& column : plain_columns) base.select.push_back(sql_identifier(column));
  }
  base.order_by = order_by(spec);
  if (spec.limit) base.limit = std::to_string(*spec.limit);

  if (spec.mode == SpecMode::kTotals) {
    compile_totals(spec, base, databases, compiled);
  } else {
    std::string sql = base.text();
    for (const DatabaseSchema& db : databases) compiled.queries.push_back({db.database, sql});
  }
  if (spec.mode == SpecMode::kCompare) {
    compiled.compare_a = spec.compare_a;
    compiled.compare_b = spec.compare_b;
    compiled.compare_key = spec.compare_key;
  }
  compiled.description = describe(spec, compiled, schema);
  return compiled;
}

std::string compiled_plan_json(const CompiledSpec& compiled) {
  nlohmann::ordered_json queries = nlohmann::ordered_json::array();
  for (const CompiledQuery& query : compiled.queries)
    queries.push_back({{"database", query.database}, {"sql", query.sql}});
  nlohmann::ordered_json plan = {{"queries", queries}};
  if (compiled.mode == SpecMode::kTotals) plan["combine"] = compiled.combine;
  return plan.dump();
}

}  // namespace multidb
