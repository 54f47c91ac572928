// Reads a query spec's JSON into a QuerySpec and writes it back in its canonical form (core/query_spec.hpp).
// Every member is checked here, once, with the JSON path of the member at fault in the error; unknown members
// are refused (a misspelt "lmit" must not silently return a million rows). Reading is bounded: the text's size
// and nesting are checked before nlohmann parses it, and every list and string has a bound of its own.
#include "core/query_spec.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <utility>
#include <vector>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

using nlohmann::json;
using ordered_json = nlohmann::ordered_json;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw SpecError(path, "invalid query spec: " + path + ": " + what);
}

std::string in_quotes(const std::string& text) { return "\"" + text + "\""; }

std::string at(const std::string& path, const char* member) { return path.empty() ? member : path + "." + member; }
std::string at(const std::string& path, size_t index) { return path + "[" + std::to_string(index) + "]"; }

const char* json_kind(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "a number";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "something else";
  }
}

// Refuses any member of `object` not in `known`, naming it and what the object may hold.
void only_members(const json& object, const std::string& path, const std::vector<const char*>& known) {
  for (const auto& item : object.items()) {
    bool found = false;
    for (const char* k : known) found = found || item.key() == k;
    if (found) continue;
    std::string list;
    for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    fail(at(path, item.key().c_str()), "unknown member " + in_quotes(item.key()) + "; " +
                                           (path.empty() ? std::string("a spec") : path) + " may have: " + list);
  }
}

const json& need_object(const json& value, const std::string& path) {
  if (!value.is_object()) fail(path, std::string("must be an object, not ") + json_kind(value));
  return value;
}

const json& need_array(const json& value, const std::string& path, size_t min, size_t max) {
  if (!value.is_array()) fail(path, std::string("must be an array, not ") + json_kind(value));
  if (value.size() < min) fail(path, min == 1 ? "must not be empty" : "must have at least " + std::to_string(min) + " elements");
  if (value.size() > max) fail(path, "has " + std::to_string(value.size()) + " elements; at most " + std::to_string(max));
  return value;
}

// A name of a table, schema, column or output column: a non-empty string of at most kMaxSpecNameBytes, no NUL.
std::string need_name(const json& value, const std::string& path, size_t max_bytes = kMaxSpecNameBytes) {
  if (!value.is_string()) fail(path, std::string("must be a string, not ") + json_kind(value));
  const std::string& text = value.get_ref<const std::string&>();
  if (text.empty()) fail(path, "must not be empty");
  if (text.size() > max_bytes) fail(path, "is longer than " + std::to_string(max_bytes) + " bytes");
  if (text.find('\0') != std::string::npos) fail(path, "must not contain a NUL character");
  return text;
}

std::string need_word(const json& value, const std::string& path, const std::vector<const char*>& words) {
  std::string list;
  for (const char* w : words) list += (list.empty() ? "" : ", ") + std::string(w);
  if (!value.is_string()) fail(path, std::string("must be one of ") + list + ", not " + json_kind(value));
  const std::string& text = value.get_ref<const std::string&>();
  for (const char* w : words)
    if (text == w) return text;
  fail(path, in_quotes(text.substr(0, 40)) + " is not one of " + list);
}

const json* member(const json& object, const char* key) {
  auto found = object.find(key);
  return found == object.end() ? nullptr : &*found;
}

// The nesting of arrays and objects in JSON text, outside strings: refused past kMaxSpecJsonDepth before parsing.
void check_depth(const std::string& text) {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxSpecJsonDepth) fail("spec", "is nested deeper than " + std::to_string(kMaxSpecJsonDepth) + " levels");
    } else if ((c == ']' || c == '}') && depth > 0) {
      depth--;
    }
  }
}

struct OpName {
  FilterOp op;
  const char* name;
};
constexpr OpName kOps[] = {{FilterOp::kEq, "="},         {FilterOp::kNe, "<>"},        {FilterOp::kLt, "<"},
                           {FilterOp::kLe, "<="},        {FilterOp::kGt, ">"},         {FilterOp::kGe, ">="},
                           {FilterOp::kBetween, "between"}, {FilterOp::kIn, "in"},     {FilterOp::kNotIn, "not in"},
                           {FilterOp::kLike, "like"},    {FilterOp::kIlike, "ilike"},  {FilterOp::kIsNull, "is null"},
                           {FilterOp::kIsNotNull, "is not null"}, {FilterOp::kLast, "last"}};

// Reads a filter tree, counting its nodes against kMaxSpecFilterNodes and its depth against kMaxSpecFilterDepth.
class FilterReader {
 public:
  FilterNode read(const json& value, const std::string& path, size_t depth) {
    if (++nodes_ > kMaxSpecFilterNodes)
      fail(path, "the filter has more than " + std::to_string(kMaxSpecFilterNodes) + " nodes");
    if (depth > kMaxSpecFilterDepth)
      fail(path, "the filter is nested deeper than " + std::to_string(kMaxSpecFilterDepth) + " levels");
    need_object(value, path);
    FilterNode node;
    node.path = path;
    for (const char* junction : {"and", "or"}) {
      if (const json* children = member(value, junction)) {
        only_members(value, path, {junction});
        node.kind = junction[0] == 'a' ? FilterNode::Kind::kAnd : FilterNode::Kind::kOr;
        std::string children_path = at(path, junction);
        need_array(*children, children_path, 1, kMaxSpecFilterNodes);
        for (size_t i = 0; i < children->size(); i++)
          node.children.push_back(read((*children)[i], at(children_path, i), depth + 1));
        return node;
      }
    }
    if (const json* child = member(value, "not")) {
      only_members(value, path, {"not"});
      node.kind = FilterNode::Kind::kNot;
      node.children.push_back(read(*child, at(path, "not"), depth + 1));
      return node;
    }
    only_members(value, path, {"column", "op", "value"});
    node.kind = FilterNode::Kind::kCondition;
    const json* column = member(value, "column");
    if (!column) fail(path, "a condition needs \"column\" (or the node needs \"and\", \"or\" or \"not\")");
    node.column = need_name(*column, at(path, "column"));
    const json* op = member(value, "op");
    if (!op) fail(path, "a condition needs \"op\"");
    std::vector<const char*> names;
    for (const OpName& o : kOps) names.push_back(o.name);
    std::string op_text = need_word(*op, at(path, "op"), names);
    for (const OpName& o : kOps)
      if (op_text == o.name) node.op = o.op;
    read_value(node, member(value, "value"), at(path, "value"));
    return node;
  }

 private:
  size_t nodes_ = 0;

  static void add_scalar(FilterNode& node, const json& value, const std::string& path) {
    if (value.is_string()) {
      const std::string& text = value.get_ref<const std::string&>();
      if (text.size() > kMaxSpecValueBytes)
        fail(path, "is longer than " + std::to_string(kMaxSpecValueBytes) + " bytes");
      if (text.find('\0') != std::string::npos) fail(path, "must not contain a NUL character");
      node.values.push_back(text);
      node.value_is_number.push_back(false);
      node.value_is_boolean.push_back(false);
    } else if (value.is_number()) {
      if (value.is_number_float() && !std::isfinite(value.get<double>())) fail(path, "must be a finite number");
      node.values.push_back(value.dump());
      node.value_is_number.push_back(true);
      node.value_is_boolean.push_back(false);
    } else if (value.is_boolean()) {
      node.values.push_back(value.get<bool>() ? "true" : "false");
      node.value_is_number.push_back(false);
      node.value_is_boolean.push_back(true);
    } else if (value.is_null()) {
      fail(path, "must not be null; use the operator \"is null\" to find missing values");
    } else {
      fail(path, std::string("must be a string, a number or a boolean, not ") + json_kind(value));
    }
  }

  static void read_value(FilterNode& node, const json* value, const std::string& path) {
    const std::string op = filter_op_name(node.op);
    switch (node.op) {
      case FilterOp::kIsNull:
      case FilterOp::kIsNotNull:
        if (value) fail(path, in_quotes(op) + " takes no value");
        return;
      case FilterOp::kBetween:
        if (!value) fail(path, "\"between\" needs a value [low, high]");
        if (!value->is_array() || value->size() != 2) fail(path, "\"between\" needs a value [low, high]");
        add_scalar(node, (*value)[0], at(path, size_t{0}));
        add_scalar(node, (*value)[1], at(path, size_t{1}));
        return;
      case FilterOp::kIn:
      case FilterOp::kNotIn:
        if (!value) fail(path, in_quotes(op) + " needs a value: an array of values");
        need_array(*value, path, 1, kMaxSpecInValues);
        for (size_t i = 0; i < value->size(); i++) add_scalar(node, (*value)[i], at(path, i));
        return;
      case FilterOp::kLast: {
        if (!value) fail(path, "\"last\" needs a value {\"amount\": 30, \"unit\": \"day\"}");
        need_object(*value, path);
        only_members(*value, path, {"amount", "unit"});
        const json* amount = member(*value, "amount");
        if (!amount) fail(path, "\"last\" needs \"amount\"");
        if (!amount->is_number_integer() || amount->get<long long>() < 1 ||
            amount->get<long long>() > kMaxSpecLastAmount)
          fail(at(path, "amount"), "must be a whole number from 1 to " + std::to_string(kMaxSpecLastAmount));
        node.last_amount = amount->get<long long>();
        const json* unit = member(*value, "unit");
        if (!unit) fail(path, "\"last\" needs \"unit\"");
        node.last_unit = need_word(*unit, at(path, "unit"), {"day", "week", "month", "year"});
        return;
      }
      case FilterOp::kLike:
      case FilterOp::kIlike:
        if (!value) fail(path, in_quotes(op) + " needs a value");
        if (!value->is_string()) fail(path, in_quotes(op) + " needs a string pattern, not " + json_kind(*value));
        add_scalar(node, *value, path);
        return;
      default:
        if (!value) fail(path, in_quotes(op) + " needs a value");
        add_scalar(node, *value, path);
        return;
    }
  }
};

// The names a spec's output will have when the spec itself says (group_by and summaries, or columns); nothing
// when it depends on the schema (no columns, no groups, no summaries: every column the databases share).
std::vector<std::pair<std::string, std::string>> known_outputs(const QuerySpec& spec) {
  std::vector<std::pair<std::string, std::string>> outputs;  // name, path of the member that names it
  if (!spec.group_by.empty() || !spec.summaries.empty()) {
    for (size_t i = 0; i < spec.group_by.size(); i++)
      outputs.push_back({group_output_name(spec.group_by[i]),
                         "group_by[" + std::to_string(i) + "]" + (spec.group_by[i].as.empty() ? "" : ".as")});
    for (size_t i = 0; i < spec.summaries.size(); i++)
      outputs.push_back({summary_output_name(spec.summaries[i]),
                         "summaries[" + std::to_string(i) + "]" + (spec.summaries[i].as.empty() ? "" : ".as")});
  } else {
    for (size_t i = 0; i < spec.columns.size(); i++)
      outputs.push_back({spec.columns[i], "columns[" + std::to_string(i) + "]"});
  }
  return outputs;
}

std::string output_list(const std::vector<std::pair<std::string, std::string>>& outputs) {
  std::string list;
  for (const auto& output : outputs) {
    if (list.size() > 300) return list + ", ...";
    list += (list.empty() ? "" : ", ") + output.first;
  }
  return list;
}

void read_table(QuerySpec& spec, const json& value) {
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    size_t dot = text.find('.');
    if (dot == std::string::npos) {
      spec.table_name = need_name(value, "table");
      return;
    }
    if (text.find('.', dot + 1) != std::string::npos)
      fail("table", "has more than one dot; write a name with dots as {\"schema\": ..., \"name\": ...}");
    spec.table_schema = need_name(json(text.substr(0, dot)), "table");
    spec.table_name = need_name(json(text.substr(dot + 1)), "table");
    return;
  }
  if (!value.is_object())
    fail("table", std::string("must be \"schema.name\", \"name\" or {\"schema\", \"name\"}, not ") + json_kind(value));
  only_members(value, "table", {"schema", "name"});
  const json* name = member(value, "name");
  if (!name) fail("table", "needs \"name\"");
  spec.table_name = need_name(*name, "table.name");
  if (const json* schema = member(value, "schema")) spec.table_schema = need_name(*schema, "table.schema");
}

void read_group_by(QuerySpec& spec, const json& value) {
  need_array(value, "group_by", 0, kMaxSpecColumns);
  for (size_t i = 0; i < value.size(); i++) {
    std::string path = at("group_by", i);
    const json& item = value[i];
    GroupColumn group;
    if (item.is_string()) {
      group.column = need_name(item, path);
    } else {
      need_object(item, path);
      only_members(item, path, {"column", "by", "as"});
      const json* column = member(item, "column");
      if (!column) fail(path, "needs \"column\"");
      group.column = need_name(*column, at(path, "column"));
      if (const json* by = member(item, "by"))
        if (!by->is_null()) group.by = need_word(*by, at(path, "by"), {"day", "week", "month", "year"});
      if (const json* as = member(item, "as")) group.as = need_name(*as, at(path, "as"));
    }
    spec.group_by.push_back(group);
  }
}

void read_summaries(QuerySpec& spec, const json& value) {
  need_array(value, "summaries", 0, kMaxSpecColumns);
  for (size_t i = 0; i < value.size(); i++) {
    std::string path = at("summaries", i);
    const json& item = need_object(value[i], path);
    only_members(item, path, {"fn", "column", "as"});
    Summary summary;
    const json* fn = member(item, "fn");
    if (!fn) fail(path, "needs \"fn\"");
    summary.fn = need_word(*fn, at(path, "fn"), {"count", "count_distinct", "sum", "avg", "min", "max"});
    const json* column = member(item, "column");
    if (summary.fn == "count") {
      if (column) fail(at(path, "column"), "\"count\" counts rows and takes no column; use \"count_distinct\" for a column's values");
    } else {
      if (!column) fail(path, in_quotes(summary.fn) + " needs \"column\"");
      summary.column = need_name(*column, at(path, "column"));
    }
    if (const json* as = member(item, "as")) summary.as = need_name(*as, at(path, "as"));
    spec.summaries.push_back(summary);
  }
}

void read_sort(QuerySpec& spec, const json& value) {
  need_array(value, "sort", 0, kMaxSpecColumns);
  for (size_t i = 0; i < value.size(); i++) {
    std::string path = at("sort", i);
    const json& item = need_object(value[i], path);
    only_members(item, path, {"column", "dir"});
    SortKey key;
    const json* column = member(item, "column");
    if (!column) fail(path, "needs \"column\"");
    key.column = need_name(*column, at(path, "column"));
    if (const json* dir = member(item, "dir")) key.descending = need_word(*dir, at(path, "dir"), {"asc", "desc"}) == "desc";
    spec.sort.push_back(key);
  }
}

void read_compare(QuerySpec& spec, const json& value) {
  need_object(value, "compare");
  only_members(value, "compare", {"a", "b", "key"});
  const json* a = member(value, "a");
  const json* b = member(value, "b");
  if (!a) fail("compare", "needs \"a\"");
  if (!b) fail("compare", "needs \"b\"");
  spec.compare_a = need_name(*a, "compare.a", kMaxSpecConnectionBytes);
  spec.compare_b = need_name(*b, "compare.b", kMaxSpecConnectionBytes);
  if (spec.compare_a[0] == '@') fail("compare.a", "must be one database, not a group");
  if (spec.compare_b[0] == '@') fail("compare.b", "must be one database, not a group");
  if (spec.compare_a == spec.compare_b) fail("compare.b", "must be another database than compare.a");
  if (const json* key = member(value, "key")) {
    need_array(*key, "compare.key", 0, kMaxSpecColumns);
    std::set<std::string> seen;
    for (size_t i = 0; i < key->size(); i++) {
      std::string name = need_name((*key)[i], at("compare.key", i));
      if (!seen.insert(name).second) fail(at("compare.key", i), in_quotes(name) + " is listed twice");
      spec.compare_key.push_back(name);
    }
  }
}

// What the spec says of itself that no schema changes: output names unique, sort and compare keys among them,
// the members each mode needs or refuses.
void check_spec(QuerySpec& spec, const json& root) {
  if (spec.mode == SpecMode::kCompare) {
    if (!member(root, "compare")) fail("compare", "compare mode needs {\"a\", \"b\", \"key\"}");
    if (spec.limit) fail("limit", "compare mode compares every row: no limit");
    if (!spec.connections.empty()) {
      std::vector<std::string> given = spec.connections, wanted = {spec.compare_a, spec.compare_b};
      std::sort(given.begin(), given.end());
      std::sort(wanted.begin(), wanted.end());
      if (given != wanted)
        fail("connections", "in compare mode must be exactly compare.a and compare.b (or be omitted)");
    }
  } else {
    if (member(root, "compare")) fail("compare", "only in compare mode (\"mode\": \"compare\")");
    if (spec.connections.empty()) fail("connections", "needs at least one connection or @group");
  }
  if (!spec.columns.empty() && (!spec.summaries.empty() || !spec.group_by.empty()))
    fail("columns", "with summaries or group_by the output is the groups and summaries: omit \"columns\"");
  std::vector<std::pair<std::string, std::string>> outputs = known_outputs(spec);
  std::set<std::string> names;
  for (const auto& output : outputs)
    if (!names.insert(output.first).second)
      fail(output.second, "the output column " + in_quotes(output.first) + " is named twice; name one with \"as\"");
  if (outputs.empty()) return;  // every column the databases share: the compiler checks against them
  for (size_t i = 0; i < spec.sort.size(); i++)
    if (!names.count(spec.sort[i].column))
      fail("sort[" + std::to_string(i) + "].column",
           in_quotes(spec.sort[i].column) + " is not an output column; the output columns are: " + output_list(outputs));
  for (size_t i = 0; i < spec.compare_key.size(); i++)
    if (!names.count(spec.compare_key[i]))
      fail("compare.key[" + std::to_string(i) + "]",
           in_quotes(spec.compare_key[i]) + " is not an output column; the output columns are: " + output_list(outputs));
}

ordered_json value_json(const FilterNode& node, size_t i) {
  if (node.value_is_boolean[i]) return node.values[i] == "true";
  if (node.value_is_number[i]) {
    json number = json::parse(node.values[i], nullptr, false);
    if (!number.is_discarded() && number.is_number()) return ordered_json::parse(node.values[i]);
  }
  return node.values[i];
}

ordered_json filter_json(const FilterNode& node) {
  switch (node.kind) {
    case FilterNode::Kind::kAnd:
    case FilterNode::Kind::kOr: {
      ordered_json children = ordered_json::array();
      for (const FilterNode& child : node.children) children.push_back(filter_json(child));
      return ordered_json{{node.kind == FilterNode::Kind::kAnd ? "and" : "or", children}};
    }
    case FilterNode::Kind::kNot: return ordered_json{{"not", filter_json(node.children.at(0))}};
    case FilterNode::Kind::kCondition: break;
  }
  ordered_json condition = {{"column", node.column}, {"op", filter_op_name(node.op)}};
  switch (node.op) {
    case FilterOp::kIsNull:
    case FilterOp::kIsNotNull: break;
    case FilterOp::kLast: condition["value"] = {{"amount", node.last_amount}, {"unit", node.last_unit}}; break;
    case FilterOp::kBetween:
    case FilterOp::kIn:
    case FilterOp::kNotIn: {
      ordered_json values = ordered_json::array();
      for (size_t i = 0; i < node.values.size(); i++) values.push_back(value_json(node, i));
      condition["value"] = values;
      break;
    }
    default: condition["value"] = value_json(node, 0);
  }
  return condition;
}

}  // namespace

std::string group_output_name(const GroupColumn& group) {
  if (!group.as.empty()) return group.as;
  return group.by.empty() ? group.column : group.column + "_" + group.by;
}

std::string summary_output_name(const Summary& summary) {
  if (!summary.as.empty()) return summary.as;
  return summary.fn == "count" ? std::string("count") : summary.fn + "_" + summary.column;
}

const char* filter_op_name(FilterOp op) {
  for (const OpName& o : kOps)
    if (o.op == op) return o.name;
  return "=";
}

const char* spec_mode_name(SpecMode mode) {
  switch (mode) {
    case SpecMode::kFanout: return "fanout";
    case SpecMode::kTotals: return "totals";
    case SpecMode::kCompare: return "compare";
  }
  return "fanout";
}

QuerySpec parse_query_spec(const std::string& json_text) {
  if (json_text.size() > kMaxSpecBytes)
    fail("spec", "is " + std::to_string(json_text.size()) + " bytes; at most " + std::to_string(kMaxSpecBytes));
  check_depth(json_text);
  json root = json::parse(json_text, nullptr, false);
  if (root.is_discarded()) fail("spec", "is not valid JSON");
  if (!root.is_object()) fail("spec", std::string("must be a JSON object, not ") + json_kind(root));
  only_members(root, "", {"connections", "table", "columns", "filter", "group_by", "summaries", "sort", "limit",
                          "mode", "compare"});
  QuerySpec spec;
  if (const json* mode = member(root, "mode")) {
    std::string name = need_word(*mode, "mode", {"fanout", "totals", "compare"});
    spec.mode = name == "totals" ? SpecMode::kTotals : name == "compare" ? SpecMode::kCompare : SpecMode::kFanout;
  }
  if (const json* connections = member(root, "connections")) {
    need_array(*connections, "connections", 0, kMaxSpecConnections);
    std::set<std::string> seen;
    for (size_t i = 0; i < connections->size(); i++) {
      std::string name = need_name((*connections)[i], at("connections", i), kMaxSpecConnectionBytes);
      if (name == "@") fail(at("connections", i), "a group needs a name after \"@\"");
      if (!seen.insert(name).second) fail(at("connections", i), in_quotes(name) + " is listed twice");
      spec.connections.push_back(name);
    }
  }
  const json* table = member(root, "table");
  if (!table) fail("table", "a spec needs a table");
  read_table(spec, *table);
  if (const json* columns = member(root, "columns")) {
    need_array(*columns, "columns", 0, kMaxSpecColumns);
    std::set<std::string> seen;
    for (size_t i = 0; i < columns->size(); i++) {
      std::string name = need_name((*columns)[i], at("columns", i));
      if (!seen.insert(name).second) fail(at("columns", i), in_quotes(name) + " is listed twice");
      spec.columns.push_back(name);
    }
  }
  if (const json* filter = member(root, "filter"))
    if (!filter->is_null()) spec.filter = FilterReader().read(*filter, "filter", 1);
  if (const json* group_by = member(root, "group_by")) read_group_by(spec, *group_by);
  if (const json* summaries = member(root, "summaries")) read_summaries(spec, *summaries);
  if (const json* sort = member(root, "sort")) read_sort(spec, *sort);
  if (const json* limit = member(root, "limit")) {
    if (!limit->is_null()) {
      if (!limit->is_number_integer() || limit->get<long long>() < 1 || limit->get<long long>() > kMaxSpecLimit ||
          (limit->is_number_unsigned() && limit->get<unsigned long long>() > static_cast<unsigned long long>(kMaxSpecLimit)))
        fail("limit", "must be a whole number from 1 to " + std::to_string(kMaxSpecLimit));
      spec.limit = limit->get<long long>();
    }
  }
  if (const json* compare = member(root, "compare")) read_compare(spec, *compare);
  check_spec(spec, root);
  return spec;
}

std::string query_spec_to_json(const QuerySpec& spec) {
  ordered_json out = ordered_json::object();
  if (!spec.connections.empty()) out["connections"] = spec.connections;
  ordered_json table = ordered_json::object();
  if (!spec.table_schema.empty()) table["schema"] = spec.table_schema;
  table["name"] = spec.table_name;
  out["table"] = table;
  if (!spec.columns.empty()) out["columns"] = spec.columns;
  if (spec.filter) out["filter"] = filter_json(*spec.filter);
  if (!spec.group_by.empty()) {
    ordered_json groups = ordered_json::array();
    for (const GroupColumn& group : spec.group_by) {
      ordered_json item = {{"column", group.column}};
      if (!group.by.empty()) item["by"] = group.by;
      if (!group.as.empty()) item["as"] = group.as;
      groups.push_back(item);
    }
    out["group_by"] = groups;
  }
  if (!spec.summaries.empty()) {
    ordered_json summaries = ordered_json::array();
    for (const Summary& summary : spec.summaries) {
      ordered_json item = {{"fn", summary.fn}};
      if (!summary.column.empty()) item["column"] = summary.column;
      if (!summary.as.empty()) item["as"] = summary.as;
      summaries.push_back(item);
    }
    out["summaries"] = summaries;
  }
  if (!spec.sort.empty()) {
    ordered_json sort = ordered_json::array();
    for (const SortKey& key : spec.sort) sort.push_back({{"column", key.column}, {"dir", key.descending ? "desc" : "asc"}});
    out["sort"] = sort;
  }
  if (spec.limit) out["limit"] = *spec.limit;
  out["mode"] = spec_mode_name(spec.mode);
  if (spec.mode == SpecMode::kCompare)
    out["compare"] = {{"a", spec.compare_a}, {"b", spec.compare_b}, {"key", spec.compare_key}};
  return out.dump();
}

}  // namespace multidb
