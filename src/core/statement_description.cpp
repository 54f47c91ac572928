// The columns a statement returns, as each remote database describes them, merged into an answer's one typed column
// list, and their drift from a stored list (the rules are in the header).
#include "core/statement_description.hpp"

#include <cstddef>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace multidb {
namespace {

// A format_type text cut into its parts: "timestamp(3) with time zone" is base "timestamp with time zone",
// modifier "3"; "numeric(12,2)[]" is base "numeric", modifier "12,2", one array level. A quoted or qualified
// name (a user type) is kept whole as its base: built-in names have neither quotes nor dots.
struct TypeParts {
  std::string base;
  std::string modifier;
  bool has_modifier = false;
  int array_levels = 0;
};

std::string trim(const std::string& text) {
  std::size_t begin = text.find_first_not_of(' ');
  if (begin == std::string::npos) return "";
  std::size_t end = text.find_last_not_of(' ');
  return text.substr(begin, end - begin + 1);
}

TypeParts parse_type(std::string text) {
  TypeParts parts;
  while (text.size() >= 2 && text.compare(text.size() - 2, 2, "[]") == 0) {
    text.resize(text.size() - 2);
    ++parts.array_levels;
  }
  // format_type's names of character and bit without a length (which in SQL would mean a length of 1)
  if (text == "bpchar" || text == "\"bit\"") {
    parts.base = text == "bpchar" ? "character" : "bit";
    return parts;
  }
  std::size_t open = text.find('(');
  std::size_t close = open == std::string::npos ? std::string::npos : text.find(')', open);
  if (text.find('"') != std::string::npos || text.find('.') != std::string::npos || close == std::string::npos) {
    parts.base = trim(text);
    return parts;
  }
  std::string before = trim(text.substr(0, open));
  std::string after = trim(text.substr(close + 1));
  parts.base = after.empty() ? before : before + " " + after;
  parts.modifier = text.substr(open + 1, close - open - 1);
  parts.has_modifier = true;
  return parts;
}

// How format_type writes a type without its typmod: character and bit alone would mean a length of 1.
std::string without_typmod(const std::string& base) {
  if (base == "character") return "bpchar";
  if (base == "bit") return "\"bit\"";
  return base;
}

// The position of a number type on the line of implicit casts, or -1.
int number_rank(const std::string& base) {
  static const char* const kLine[] = {"smallint", "integer", "bigint", "numeric", "real", "double precision"};
  for (int i = 0; i < 6; ++i)
    if (base == kLine[i]) return i;
  return -1;
}

bool is_string(const std::string& base) {
  return base == "text" || base == "character varying" || base == "character";
}

// A length modifier ("40") as a number, or -1 when it is not one.
long length_of(const std::string& modifier) {
  if (modifier.empty() || modifier.size() > 9) return -1;
  long value = 0;
  for (char c : modifier) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

// The refused pairs: one type with a time zone and one without, which Postgres converts through TimeZone.
bool time_zone_pair(const std::string& a, const std::string& b) {
  static const std::pair<const char*, const char*> kPairs[] = {
      {"timestamp without time zone", "timestamp with time zone"},
      {"date", "timestamp with time zone"},
      {"time without time zone", "time with time zone"},
  };
  for (const auto& pair : kPairs)
    if ((a == pair.first && b == pair.second) || (a == pair.second && b == pair.first)) return true;
  return false;
}

std::string common_parts(const TypeParts& a, const TypeParts& b) {
  if (a.base == b.base) {
    if (a.base == "character varying" || a.base == "character") {
      long la = a.has_modifier ? length_of(a.modifier) : -1;
      long lb = b.has_modifier ? length_of(b.modifier) : -1;
      if (la >= 0 && lb >= 0) return a.base + "(" + std::to_string(la > lb ? la : lb) + ")";
    }
    return without_typmod(a.base);
  }
  int ra = number_rank(a.base), rb = number_rank(b.base);
  if (ra >= 0 && rb >= 0) return ra > rb ? a.base : b.base;
  if (is_string(a.base) && is_string(b.base)) {
    if (a.base == "text" || b.base == "text") return "text";
    return "character varying";
  }
  if ((a.base == "date" && b.base == "timestamp without time zone") ||
      (b.base == "date" && a.base == "timestamp without time zone"))
    return "timestamp without time zone";
  return "";
}

std::string quoted(const std::string& text) { return "\"" + text + "\""; }

DescriptionMerge failure(const char* sqlstate, std::string message, std::string detail, std::string hint) {
  DescriptionMerge merge;
  merge.sqlstate = sqlstate;
  merge.message = std::move(message);
  merge.detail = std::move(detail);
  merge.hint = std::move(hint);
  return merge;
}

}  // namespace

std::string common_column_type(const std::string& a, const std::string& b) {
  if (a == b) return a;
  TypeParts pa = parse_type(a), pb = parse_type(b);
  if (pa.array_levels != pb.array_levels) return "";
  std::string common = common_parts(pa, pb);
  if (common.empty()) return "";
  for (int i = 0; i < pa.array_levels; ++i) common += "[]";
  return common;
}

DescriptionMerge merge_descriptions(const std::vector<DescribedStatement>& statements) {
  if (statements.empty())
    return failure("42P16", "no database described the statement", "",
                   "Give at least one connection whose database answers.");
  for (const DescribedStatement& statement : statements)
    if (statement.columns.size() > kMaxDescribedColumns)
      return failure("42P16",
                     "database " + quoted(statement.database) + " returns " +
                         std::to_string(statement.columns.size()) + " columns",
                     "An answer may have at most " + std::to_string(kMaxDescribedColumns) + " columns.",
                     "Select fewer columns.");

  const DescribedStatement& first = statements.front();
  std::unordered_set<std::string> names;
  for (const DescribedColumn& column : first.columns)
    if (!names.insert(column.name).second)
      return failure("42P16", "column " + quoted(column.name) + " appears more than once",
                     "Database " + quoted(first.database) + " returns two columns of that name.",
                     "Give each column its own name with AS.");

  const char* kSameColumnsHint =
      "Every database must return the same columns in the same order: name them alike with AS in every "
      "database's statement.";
  for (std::size_t s = 1; s < statements.size(); ++s) {
    const DescribedStatement& other = statements[s];
    std::size_t shared = first.columns.size() < other.columns.size() ? first.columns.size() : other.columns.size();
    for (std::size_t i = 0; i < shared; ++i)
      if (first.columns[i].name != other.columns[i].name)
        return failure("42804",
                       "column " + std::to_string(i + 1) + " is " + quoted(first.columns[i].name) + " on database " +
                           quoted(first.database) + " but " + quoted(other.columns[i].name) + " on database " +
                           quoted(other.database),
                       "Expected " + quoted(first.columns[i].name) + " (as database " + quoted(first.database) +
                           " returns), found " + quoted(other.columns[i].name) + " on database " +
                           quoted(other.database) + ".",
                       kSameColumnsHint);
    if (first.columns.size() != other.columns.size()) {
      const DescribedStatement& longer = first.columns.size() > other.columns.size() ? first : other;
      return failure("42804",
                     "database " + quoted(other.database) + " returns " + std::to_string(other.columns.size()) +
                         " columns but database " + quoted(first.database) + " returns " +
                         std::to_string(first.columns.size()),
                     "Column " + std::to_string(shared + 1) + " " + quoted(longer.columns[shared].name) +
                         " is only on database " + quoted(longer.database) + ".",
                     kSameColumnsHint);
    }
  }

  DescriptionMerge merge;
  merge.columns.reserve(first.columns.size());
  for (std::size_t i = 0; i < first.columns.size(); ++i) {
    std::string type = first.columns[i].type;
    bool refused_time_zone = false;
    bool failed = false;
    for (std::size_t s = 1; s < statements.size() && !failed; ++s) {
      const std::string& next = statements[s].columns[i].type;
      std::string common = common_column_type(type, next);
      if (common.empty()) {
        failed = true;
        TypeParts pa = parse_type(type), pb = parse_type(next);
        refused_time_zone = pa.array_levels == pb.array_levels && time_zone_pair(pa.base, pb.base);
      }
      type = common;
    }
    if (failed) {
      // every type the column has, with the databases that return it, in the order met
      std::vector<std::pair<std::string, std::string>> groups;
      for (const DescribedStatement& statement : statements) {
        const std::string& t = statement.columns[i].type;
        std::size_t g = 0;
        while (g < groups.size() && groups[g].first != t) ++g;
        if (g == groups.size()) groups.emplace_back(t, "");
        groups[g].second += (groups[g].second.empty() ? "" : ", ") + quoted(statement.database);
      }
      std::string detail;
      for (const auto& group : groups)
        detail += (detail.empty() ? "" : "; ") + group.first + " on " + group.second;
      const std::string& name = first.columns[i].name;
      return failure("42804", "column " + quoted(name) + " has no common type across the databases",
                     "Its types: " + detail + ".",
                     refused_time_zone
                         ? "A type with a time zone and one without are converted through the reader's TimeZone "
                           "setting; convert explicitly in every database's statement (AT TIME ZONE, or a cast)."
                         : "Cast the column to one type in every database's statement (for example " + name +
                               "::text).");
    }
    merge.columns.push_back({first.columns[i].name, type});
  }
  merge.ok = true;
  return merge;
}

const char* drift_kind_name(DriftKind kind) {
  switch (kind) {
    case DriftKind::kRemoved:
      return "removed";
    case DriftKind::kAdded:
      return "added";
    case DriftKind::kRetyped:
      return "retyped";
  }
  return "retyped";
}

std::vector<DriftItem> description_drift(const std::vector<DescribedColumn>& stored,
                                         const std::vector<DescribedStatement>& now) {
  std::vector<DriftItem> drift;
  std::unordered_set<std::string> stored_names;
  for (const DescribedColumn& column : stored) stored_names.insert(column.name);
  for (const DescribedStatement& statement : now) {
    std::unordered_map<std::string, const std::string*> found;
    for (const DescribedColumn& column : statement.columns) found.emplace(column.name, &column.type);
    for (const DescribedColumn& column : stored) {
      auto it = found.find(column.name);
      if (it == found.end())
        drift.push_back({DriftKind::kRemoved, column.name, statement.database, column.type, ""});
      else if (common_column_type(column.type, *it->second) != column.type)
        drift.push_back({DriftKind::kRetyped, column.name, statement.database, column.type, *it->second});
    }
    for (const DescribedColumn& column : statement.columns)
      if (stored_names.count(column.name) == 0)
        drift.push_back({DriftKind::kAdded, column.name, statement.database, "", column.type});
  }
  return drift;
}

}  // namespace multidb
