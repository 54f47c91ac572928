#include "core/remote_checks.hpp"

#include "core/function_denylist.hpp"

#include <set>
#include <stdexcept>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

std::string name_array(const std::vector<std::string>& names) {
  std::set<std::string> distinct(names.begin(), names.end());
  std::string out = "ARRAY[";
  bool first = true;
  for (const std::string& name : distinct) {
    if (!first) out += ", ";
    out += escape_sql_literal(name);
    first = false;
  }
  return out + "]::pg_catalog.name[]";
}

std::string list_words(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); i++) {
    if (i > 0) out += i + 1 == words.size() ? " and " : ", ";
    out += words[i];
  }
  return out;
}

}  // namespace

std::string escape_sql_literal(std::string_view text) {
  std::string out = "E'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += c;
    out += c;
  }
  return out + "'";
}

const std::vector<std::string>& powerful_builtin_roles() {
  static const std::vector<std::string> roles = {"pg_execute_server_program", "pg_read_server_files",
                                                 "pg_signal_backend", "pg_write_server_files"};
  return roles;
}

std::string build_remote_check_sql(const StatementNames& names) {
  std::string powerful;
  for (const std::string& role : powerful_builtin_roles()) powerful += (powerful.empty() ? "'" : ", '") + role + "'";
  std::string sql =
      "SELECT r.rolname, r.rolsuper, r.rolreplication, r.rolbypassrls, "
      "pg_catalog.array_to_string(ARRAY(SELECT g.rolname FROM pg_catalog.pg_roles g WHERE g.rolname IN (" +
      powerful +
      ") AND pg_catalog.pg_has_role(r.oid, g.oid, 'MEMBER') ORDER BY 1), ',') "
      "FROM pg_catalog.pg_roles r WHERE r.rolname IN (session_user, current_user); ";
  // One branch per kind of name the statement holds, each an index look-up by name; the volatility of what
  // a row points at is read through scalar subqueries, so that no catalog is scanned whole. An aggregate is
  // recorded as immutable whatever its support functions are: those are judged instead.
  const std::string schema_of = "(SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.oid = ";
  const std::string volatile_function =
      "(p.provolatile = 'v' OR (p.prokind = 'a' AND EXISTS (SELECT FROM pg_catalog.pg_aggregate a "
      "WHERE a.aggfnoid = p.oid AND EXISTS (SELECT FROM pg_catalog.pg_proc s WHERE s.provolatile = 'v' AND s.oid IN "
      "(a.aggtransfn, a.aggfinalfn, a.aggcombinefn, a.aggserialfn, a.aggdeserialfn, a.aggmtransfn, "
      "a.aggminvtransfn, a.aggmfinalfn)))))";
  const std::string function_columns =
      "SELECT 'function', " + schema_of + "p.pronamespace), p.proname::pg_catalog.text, "
      "p.oid::pg_catalog.regprocedure::pg_catalog.text FROM pg_catalog.pg_proc p ";
  std::vector<std::string> branches;
  if (!names.functions.empty() || !names.attribute_calls.empty()) {
    std::vector<std::string> all = names.functions;
    all.insert(all.end(), names.attribute_calls.begin(), names.attribute_calls.end());
    branches.push_back(function_columns + "WHERE p.proname = ANY (" + name_array(all) + ") AND (p.proname = ANY (" +
                       name_array(names.functions) + ") OR (p.pronargs >= 1 AND p.pronargs - p.pronargdefaults <= 1)) AND " +
                       volatile_function);
  }
  if (!names.operators.empty())
    branches.push_back(
        "SELECT 'operator', " + schema_of + "o.oprnamespace), o.oprname::pg_catalog.text, "
        "o.oid::pg_catalog.regoperator::pg_catalog.text FROM pg_catalog.pg_operator o WHERE o.oprname = ANY (" +
        name_array(names.operators) +
        ") AND (SELECT p.provolatile FROM pg_catalog.pg_proc p WHERE p.oid = o.oprcode::pg_catalog.oid) = 'v'");
  if (!names.types.empty())
    branches.push_back(
        "SELECT 'type', " + schema_of + "t.typnamespace), t.typname::pg_catalog.text, "
        "pg_catalog.format_type(t.oid, NULL) FROM pg_catalog.pg_type t WHERE t.typname = ANY (" +
        name_array(names.types) +
        ") AND ((SELECT p.provolatile FROM pg_catalog.pg_proc p WHERE p.oid = t.typinput::pg_catalog.oid) = 'v' "
        "OR EXISTS (SELECT FROM pg_catalog.pg_cast c WHERE c.casttarget = t.oid AND (SELECT p.provolatile FROM "
        "pg_catalog.pg_proc p WHERE p.oid = c.castfunc) = 'v'))");
  if (branches.empty()) branches.push_back("SELECT NULL::pg_catalog.text, NULL, NULL, NULL WHERE false");
  for (size_t i = 0; i < branches.size(); i++) sql += (i > 0 ? " UNION ALL " : "") + branches[i];
  return sql;
}

std::string role_privileges(const RemoteRoleFacts& role) {
  if (role.superuser) return "superuser";
  std::vector<std::string> held;
  if (role.replication) held.push_back("REPLICATION");
  if (role.bypassrls) held.push_back("BYPASSRLS");
  if (!role.member_of.empty()) held.push_back("member of " + role.member_of);
  return list_words(held);
}

RemoteCheckVerdict judge_remote_roles(const std::vector<RemoteRoleFacts>& roles, bool allow_privileged_role,
                                      const std::string& server) {
  RemoteCheckVerdict verdict;
  if (roles.empty()) {
    verdict.allowed = false;
    verdict.message = "multidb could not read the remote session's role";
    verdict.detail = "pg_roles shows neither session_user nor current_user.";
    return verdict;
  }
  for (const RemoteRoleFacts& role : roles) {
    std::string held = role_privileges(role);
    if (held.empty()) continue;
    if (allow_privileged_role) {
      verdict.warn = true;
      verdict.message = "the remote role \"" + role.name + "\" is " + held +
                        "; used because the server option allow_privileged_role is set";
      verdict.hint = "Only the walls of the guard and READ ONLY stand between a statement and what this role may "
                     "do. Connect as a role that can only read.";
      continue;
    }
    verdict.allowed = false;
    verdict.warn = false;
    verdict.message = "the remote role \"" + role.name + "\" is " + held + "; multidb refuses privileged remote roles";
    verdict.detail =
        "A statement sent as this role could act outside the query: read or write the server's files, run "
        "programs, signal other sessions, replicate, or read past row security.";
    verdict.hint =
        "Connect as a role that can only read, for example on the remote: CREATE ROLE multidb_reader LOGIN "
        "PASSWORD '...'; GRANT CONNECT ON DATABASE <db> TO multidb_reader; GRANT USAGE ON SCHEMA public TO "
        "multidb_reader; GRANT SELECT ON ALL TABLES IN SCHEMA public TO multidb_reader; then here: ALTER USER "
        "MAPPING FOR CURRENT_USER SERVER " + server +
        " OPTIONS (SET user 'multidb_reader', SET password '...'). A superuser may instead allow it with ALTER "
        "SERVER " + server + " OPTIONS (ADD allow_privileged_role 'true').";
    return verdict;
  }
  return verdict;
}

const std::vector<std::string>& VolatileAllowlist::builtin_patterns() {
  static const std::vector<std::string> patterns = {
      // randomness and clocks
      "pg_catalog.random", "pg_catalog.gen_random_uuid", "pg_catalog.clock_timestamp", "pg_catalog.timeofday",
      // waiting (bounded by multidb.statement_timeout)
      "pg_catalog.pg_sleep", "pg_catalog.pg_sleep_for", "pg_catalog.pg_sleep_until",
      // sizes
      "pg_catalog.pg_database_size", "pg_catalog.pg_tablespace_size", "pg_catalog.pg_relation_size",
      "pg_catalog.pg_table_size", "pg_catalog.pg_indexes_size", "pg_catalog.pg_total_relation_size",
      // recovery and WAL positions, partitions, locks, statistics: reads of the server's state
      "pg_catalog.pg_is_in_recovery", "pg_catalog.pg_current_wal_*lsn", "pg_catalog.pg_last_wal_*_lsn",
      "pg_catalog.pg_last_xact_replay_timestamp", "pg_catalog.pg_is_wal_replay_paused",
      "pg_catalog.pg_get_wal_replay_pause_state", "pg_catalog.pg_partition_tree", "pg_catalog.pg_partition_ancestors",
      "pg_catalog.pg_blocking_pids", "pg_catalog.pg_stat_get_*", "pg_catalog.pg_jit_available",
      "pg_catalog.txid_status", "pg_catalog.pg_xact_status", "pg_catalog.current_query",
  };
  return patterns;
}

VolatileAllowlist::VolatileAllowlist(std::vector<std::string> extra_patterns) : patterns_(builtin_patterns()) {
  for (std::string& pattern : extra_patterns) patterns_.push_back(std::move(pattern));
}

bool VolatileAllowlist::allows(std::string_view schema, std::string_view name) const {
  for (const std::string& pattern : patterns_) {
    size_t dot = pattern.find('.');
    if (dot == std::string::npos) {
      if (pattern_matches(pattern, name)) return true;
    } else if (pattern_matches(std::string_view(pattern).substr(0, dot), schema) &&
               pattern_matches(std::string_view(pattern).substr(dot + 1), name)) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> parse_allowlist_patterns(std::string_view list) { return parse_pattern_list(list, true); }

RemoteCheckVerdict judge_volatile_matches(const std::vector<VolatileMatch>& matches, const VolatileAllowlist& allowed) {
  RemoteCheckVerdict verdict;
  std::vector<std::string> refused;
  constexpr size_t kNamedAtMost = 5;
  size_t refused_count = 0;
  for (const VolatileMatch& match : matches) {
    if (match.kind == "function" && allowed.allows(match.schema, match.name)) continue;
    refused_count++;
    if (refused.size() < kNamedAtMost) refused.push_back(match.kind + " " + match.signature);
  }
  if (refused_count == 0) return verdict;
  verdict.allowed = false;
  std::string named = list_words(refused);
  if (refused_count > refused.size()) named += " and " + std::to_string(refused_count - refused.size()) + " more";
  verdict.message = "the statement could call " + named + ", VOLATILE on this database; multidb refused it before it ran";
  verdict.detail =
      "A volatile function may act outside the query (write, signal, read files, run SQL). multidb sends a "
      "statement only when nothing it names is volatile on the remote, apart from the harmless ones listed by "
      "multidb.allowed_volatile_functions().";
  verdict.hint =
      "Rewrite the statement without it. A superuser can allow a harmless function with "
      "multidb.extra_allowed_volatile_functions.";
  return verdict;
}

}  // namespace multidb
