// The functions multidb never lets a remote statement call, because they act outside the query
// (signal backends, touch files, change settings, take locks, write sequences, reach other servers).
// This is the one place the built-in list lives; a superuser extends it with
// multidb.extra_denied_functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace multidb {

// Patterns: a function name, case-insensitive, where '*' matches any run of characters.
const std::vector<std::string>& builtin_denied_function_patterns();

// Splits a comma-separated list of patterns, lowercased; throws std::invalid_argument on an empty or
// malformed entry. schema_allowed: an entry may be schema.name (both parts patterns).
std::vector<std::string> parse_pattern_list(std::string_view list, bool schema_allowed);
std::vector<std::string> parse_function_patterns(std::string_view list);

bool pattern_matches(std::string_view pattern, std::string_view name);

// Relations a remote statement may not read, by name in any schema: they expose the server's files
// (pg_hba_file_rules, pg_file_settings, ...) or secrets (pg_authid, pg_user_mappings, ...).
const std::vector<std::string>& builtin_denied_relations();
const std::string* denied_relation(std::string_view name);

class FunctionDenylist {
 public:
  explicit FunctionDenylist(std::vector<std::string> extra_patterns = {});

  // The first pattern that denies name (unqualified function name), or nullptr.
  const std::string* denying_pattern(std::string_view name) const;

  const std::vector<std::string>& patterns() const { return patterns_; }

 private:
  std::vector<std::string> patterns_;
};

}  // namespace multidb
