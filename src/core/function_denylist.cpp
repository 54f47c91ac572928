#include "core/function_denylist.hpp"

#include <cctype>
#include <stdexcept>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

const std::vector<std::string>& builtin_denied_function_patterns() {
  static const std::vector<std::string> patterns = {
      // other backends and the server process
      "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile*",
      "pg_promote", "pg_log_backend_memory_contexts",
      // settings
      "set_config",
      // the server's files
      "pg_read_file", "pg_read_binary_file", "pg_ls_*", "pg_stat_file", "pg_file_*",
      // large objects
      "lo_*", "loread", "lowrite",
      // other servers, and SQL run from inside a function (tablefunc's and xml2's are not even volatile)
      "dblink*", "query_to_xml*", "cursor_to_xml*", "ts_stat", "ts_rewrite", "crosstab*", "connectby",
      "xpath_table", "xslt_process",
      // the server's configuration files, behind the views of the same names
      "pg_hba_file_rules", "pg_ident_file_mappings", "pg_show_all_file_settings", "pg_current_logfile",
      // whole tables, schemas and databases read from inside a function
      "table_to_xml*", "schema_to_xml*", "database_to_xml*",
      // locks and notifications
      "pg_advisory_*", "pg_try_advisory_*", "pg_notify",
      // sequences, and transaction ids: STABLE, yet they assign one even inside READ ONLY
      "nextval", "setval", "txid_current", "pg_current_xact_id",
      // WAL, backups and replication
      "pg_switch_wal", "pg_create_restore_point", "pg_backup_*", "pg_start_backup", "pg_stop_backup",
      "pg_wal_replay_*", "pg_create_*_slot", "pg_drop_replication_slot", "pg_copy_*_slot",
      "pg_replication_slot_advance", "pg_logical_slot_get_*", "pg_logical_emit_message",
      "pg_replication_origin_*",
      // statistics and catalog maintenance
      "pg_stat_reset*", "pg_import_system_collations",
  };
  return patterns;
}

static std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

static std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

std::vector<std::string> parse_pattern_list(std::string_view list, bool schema_allowed) {
  std::vector<std::string> patterns;
  if (trim(list).empty()) return patterns;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view entry = trim(list.substr(start, comma - start));
    if (entry.empty()) throw std::invalid_argument("empty entry in function list");
    size_t dot = schema_allowed ? entry.find('.') : std::string_view::npos;
    bool well_formed = dot != 0 && dot + 1 != entry.size();
    for (size_t i = 0; i < entry.size() && well_formed; i++) {
      char c = entry[i];
      well_formed = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '*' || c == '$' || i == dot;
    }
    if (!well_formed)
      throw std::invalid_argument("\"" + std::string(entry) + "\" is not a function name pattern (letters, digits, _, $ and *" +
                                  (schema_allowed ? ", optionally after schema." : "") + ")");
    patterns.push_back(lowercase(entry));
    start = comma + 1;
  }
  return patterns;
}

std::vector<std::string> parse_function_patterns(std::string_view list) { return parse_pattern_list(list, false); }

// Glob match with '*' only; iterative with one backtrack point, linear for our short patterns.
bool pattern_matches(std::string_view pattern, std::string_view name) {
  size_t p = 0, n = 0, star = std::string_view::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (p < pattern.size() &&
               std::tolower(static_cast<unsigned char>(pattern[p])) ==
                   std::tolower(static_cast<unsigned char>(name[n]))) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

const std::vector<std::string>& builtin_denied_relations() {
  static const std::vector<std::string> relations = {
      // the server's files
      "pg_hba_file_rules", "pg_ident_file_mappings", "pg_file_settings",
      // passwords, user-mapping options, large objects and column statistics, whatever the role may read
      "pg_authid", "pg_shadow", "pg_user_mapping", "pg_user_mappings", "pg_largeobject", "pg_statistic",
      "pg_statistic_ext_data",
  };
  return relations;
}

const std::string* denied_relation(std::string_view name) {
  for (const std::string& relation : builtin_denied_relations())
    if (relation == name) return &relation;
  return nullptr;
}

FunctionDenylist::FunctionDenylist(std::vector<std::string> extra_patterns)
    : patterns_(builtin_denied_function_patterns()) {
  for (std::string& pattern : extra_patterns) patterns_.push_back(std::move(pattern));
}

const std::string* FunctionDenylist::denying_pattern(std::string_view name) const {
  for (const std::string& pattern : patterns_)
    if (pattern_matches(pattern, name)) return &pattern;
  return nullptr;
}

}  // namespace multidb
