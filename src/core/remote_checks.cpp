#include "core/remote_checks.hpp"

#include "core/function_denylist.hpp"

#include <cctype>
#include <set>
#include <stdexcept>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

constexpr const char* kEquals = " OPERATOR(pg_catalog.=) ";

std::string text_array(const std::vector<std::string>& items) {
  std::set<std::string> distinct(items.begin(), items.end());
  std::string out = "ARRAY[";
  bool first = true;
  for (const std::string& item : distinct) {
    if (!first) out += ", ";
    out += escape_sql_literal(item);
    first = false;
  }
  return out + "]::pg_catalog.text[]";
}

// The volatile function's row: kind, reached through, schema, name, signature, and whether an allowlist entry with
// a signature ($signatures: text[]) names exactly it, as the remote resolves them.
std::string volatile_columns(const std::string& kind, const std::string& reached_through, const char* signatures) {
  return "SELECT " + kind + "::pg_catalog.text, " + reached_through +
         ", n.nspname::pg_catalog.text, p.proname::pg_catalog.text, pg_catalog.format('%I.%I(%s)', n.nspname, "
         "p.proname, pg_catalog.oidvectortypes(p.proargtypes)), COALESCE(p.oid OPERATOR(pg_catalog.=) ANY (ARRAY("
         "SELECT pg_catalog.to_regprocedure(s)::pg_catalog.oid FROM pg_catalog.unnest(" + std::string(signatures) +
         ") s)), false) ";
}

// p is VOLATILE, or an aggregate one of whose support functions is.
const char* const kVolatileFunction =
    "(p.provolatile OPERATOR(pg_catalog.=) 'v' OR (p.prokind OPERATOR(pg_catalog.=) 'a' AND EXISTS (SELECT FROM "
    "pg_catalog.pg_aggregate a, pg_catalog.pg_proc s WHERE a.aggfnoid OPERATOR(pg_catalog.=) p.oid AND s.oid "
    "OPERATOR(pg_catalog.=) ANY (ARRAY[a.aggtransfn, a.aggfinalfn, a.aggcombinefn, a.aggserialfn, a.aggdeserialfn, "
    "a.aggmtransfn, a.aggminvtransfn, a.aggmfinalfn]::pg_catalog.oid[]) AND s.provolatile OPERATOR(pg_catalog.=) 'v')))";

// Objects a statement reaches without naming them, and the function each calls: (classid, objid, function).
//   - functions made on that server (oid >= FirstNormalObjectId) are found from their side: pg_depend records
//     every type (input, output, receive, send, typmod, subscript, range), cast, operator (code, restriction,
//     join), operator class member and conversion that calls them, and every domain constraint whose expression
//     does; also built-in objects altered to call one;
//   - objects made there over a function that came with the server have no such record (dependencies on
//     built-in objects are not kept): user-made casts, operators and operator class members are read directly,
//     and the stored expressions of domain constraints made there for the functions and operators they call
//     (the domains that come with the server call none that is VOLATILE). Built-in functions
//     of the signatures type input and output need are none of them VOLATILE.
// Handlers (access methods, wrappers, languages, tablesample, text search templates) are not judged: their
// volatility says nothing about what they do.
const char* const kImplicitReach =
    "SELECT d.classid, d.objid, f.oid FROM pg_catalog.pg_proc f JOIN pg_catalog.pg_depend d ON d.refclassid "
    "OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.refobjid OPERATOR(pg_catalog.=) f.oid "
    "WHERE f.oid OPERATOR(pg_catalog.>=) 16384 AND f.provolatile OPERATOR(pg_catalog.=) 'v' AND (d.classid "
    "OPERATOR(pg_catalog.=) ANY (ARRAY['pg_catalog.pg_type', 'pg_catalog.pg_cast', 'pg_catalog.pg_operator', "
    "'pg_catalog.pg_amproc', 'pg_catalog.pg_conversion']::pg_catalog.regclass[]) OR (d.classid OPERATOR(pg_catalog.=) "
    "'pg_catalog.pg_constraint'::pg_catalog.regclass AND EXISTS (SELECT FROM pg_catalog.pg_constraint c WHERE c.oid "
    "OPERATOR(pg_catalog.=) d.objid AND c.contypid OPERATOR(pg_catalog.<>) 0))) "
    "UNION ALL SELECT 'pg_catalog.pg_cast'::pg_catalog.regclass, c.oid, c.castfunc FROM pg_catalog.pg_cast c WHERE "
    "c.oid OPERATOR(pg_catalog.>=) 16384 AND c.castfunc OPERATOR(pg_catalog.<) 16384 AND c.castfunc "
    "OPERATOR(pg_catalog.<>) 0 "
    "UNION ALL SELECT 'pg_catalog.pg_operator'::pg_catalog.regclass, o.oid, o.oprcode::pg_catalog.oid FROM "
    "pg_catalog.pg_operator o WHERE o.oid OPERATOR(pg_catalog.>=) 16384 AND o.oprcode::pg_catalog.oid "
    "OPERATOR(pg_catalog.<) 16384 "
    "UNION ALL SELECT 'pg_catalog.pg_amproc'::pg_catalog.regclass, a.oid, a.amproc::pg_catalog.oid FROM "
    "pg_catalog.pg_amproc a WHERE a.oid OPERATOR(pg_catalog.>=) 16384 AND a.amproc::pg_catalog.oid "
    "OPERATOR(pg_catalog.<) 16384 "
    // A stored expression names each function it calls as ":funcid N" (":opfuncid N" for an operator's), and a
    // row comparison its operators as ":opnos (o N ...)" (the colon in brackets: tools such as pgbench would read
    // ":name" as a variable). The domains that come with the server are not read.
    "UNION ALL SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass, c.oid, called.id FROM pg_catalog.pg_constraint "
    "c, LATERAL (SELECT m[2]::pg_catalog.oid FROM pg_catalog.regexp_matches(c.conbin::pg_catalog.text, "
    "'[:](funcid|opfuncid|hashfuncid|negfuncid) ([0-9]+)', 'g') m UNION ALL SELECT o.oprcode::pg_catalog.oid FROM "
    "pg_catalog.regexp_matches(c.conbin::pg_catalog.text, '[:]opnos [(]o ([0-9 ]+)[)]', 'g') r, "
    "pg_catalog.unnest(pg_catalog.string_to_array(r[1], ' ')::pg_catalog.oid[]) x(id) JOIN pg_catalog.pg_operator o "
    "ON o.oid OPERATOR(pg_catalog.=) x.id) called(id) WHERE c.oid OPERATOR(pg_catalog.>=) 16384 AND c.contypid "
    "OPERATOR(pg_catalog.>) 0 AND called.id OPERATOR(pg_catalog.<) 16384";

// The pg_proc rows p a statement's calls could reach ($1: the calls' names as written, $2: their numbers of arguments)
// that are VOLATILE, or aggregates with a VOLATILE support function: one index look-up by name for every call, judging
// the overloads that many arguments can reach (a VARIADIC call or function: any). An aggregate is recorded as
// immutable whatever its support functions are: those are judged instead. Each look-up is its own subquery
// (OFFSET 0): the planner would rather scan pg_proc whole.
std::string named_candidates() {
  return "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) c(w, n) CROSS JOIN LATERAL (SELECT p.* FROM "
         "pg_catalog.pg_proc p WHERE p.proname OPERATOR(pg_catalog.=) (pg_catalog.parse_ident(c.w, false))[1]"
         "::pg_catalog.name AND (c.n OPERATOR(pg_catalog.<) 0 OR p.provariadic OPERATOR(pg_catalog.<>) 0 OR (c.n "
         "OPERATOR(pg_catalog.>=) (p.pronargs OPERATOR(pg_catalog.-) p.pronargdefaults) AND c.n "
         "OPERATOR(pg_catalog.<=) p.pronargs)) AND " + std::string(kVolatileFunction) + " OFFSET 0) p";
}

// The session facts' last columns: the schemas of dblink and postgres_fdw (or NULL), and the server session's pid.
std::string session_columns() {
  const std::string extension_schema =
      "(SELECT x.nspname::pg_catalog.text FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace x ON x.oid "
      "OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) ";
  return extension_schema + "'dblink'), " + extension_schema + "'postgres_fdw'), pg_catalog.pg_backend_pid()";
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

const RemoteCheckQueries& remote_check_queries() {
  static const RemoteCheckQueries queries = [] {
    RemoteCheckQueries q;
    q.session_facts =
        "SELECT r.rolname, r.rolsuper, r.rolreplication, r.rolbypassrls, "
        "pg_catalog.array_to_string(ARRAY(SELECT g.rolname FROM pg_catalog.pg_roles g WHERE g.rolname "
        "OPERATOR(pg_catalog.=) ANY (" + text_array(powerful_builtin_roles()) + "::pg_catalog.name[]) AND "
        "pg_catalog.pg_has_role(r.oid, g.oid, 'MEMBER') ORDER BY 1), ','), " + session_columns() +
        " FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) ANY (ARRAY[session_user, current_user]"
        "::pg_catalog.name[])";
    q.named = volatile_columns("'function'", "''", "$3") + named_candidates() +
              " JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace";
    q.implicit = volatile_columns("'implicit'", "pg_catalog.pg_describe_object(h.classid, h.objid, 0)", "$1") +
                 "FROM (" + std::string(kImplicitReach) + ") h(classid, objid, fn) CROSS JOIN LATERAL (SELECT p.* FROM "
                 "pg_catalog.pg_proc p WHERE p.oid OPERATOR(pg_catalog.=) h.fn AND p.provolatile OPERATOR(pg_catalog.=) "
                 "'v' OFFSET 0) p JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace";
    return q;
  }();
  return queries;
}

namespace {

// $1, $2, $3 of text replaced by the literals of values (only the queries' own placeholders: none is in a literal).
std::string with_values(const std::string& query, const std::vector<std::string>& values) {
  std::string out;
  size_t size = query.size();
  for (const std::string& value : values) size += value.size() * 2;  // a guess: most are used once or twice
  out.reserve(size);
  size_t from = 0;
  for (size_t at = query.find('$'); at != std::string::npos; at = query.find('$', at + 1)) {
    if (at + 1 >= query.size() || query[at + 1] < '1' || query[at + 1] > '9') continue;
    out.append(query, from, at - from);
    out += values.at(query[at + 1] - '1');
    from = at + 2;
    at++;
  }
  out.append(query, from, std::string::npos);
  return out;
}

}  // namespace

RemoteCheckSql build_remote_check_sql(const StatementNames& names, const std::vector<std::string>& signature_entries) {
  std::set<std::pair<std::string, int>> distinct;
  for (const CalledFunction& call : names.calls) distinct.insert({call.written, call.arguments});
  std::vector<std::string> written_names;
  std::string arguments = "ARRAY[";
  for (const auto& [name, count] : distinct) {
    written_names.push_back(name);
    arguments += (written_names.size() > 1 ? ", " : "") + std::to_string(count);
  }
  arguments += "]::pg_catalog.int4[]";
  // text_array sorts and removes duplicates: names keep the order of distinct, which is sorted by name first.
  std::string written = "ARRAY[";
  for (size_t i = 0; i < written_names.size(); i++) written += (i > 0 ? ", " : "") + escape_sql_literal(written_names[i]);
  written += "]::pg_catalog.text[]";
  std::string signatures = text_array(signature_entries);

  const RemoteCheckQueries& q = remote_check_queries();
  const std::string pin = "SET LOCAL search_path = pg_catalog, pg_temp; ";
  RemoteCheckSql sql;
  sql.inline_sql = pin + q.session_facts + "; " + with_values(q.named, {written, arguments, signatures}) + "; " +
                   with_values(q.implicit, {signatures});
  std::vector<std::string> argument_counts;
  for (const auto& [name, count] : distinct) argument_counts.push_back(std::to_string(count));
  std::set<std::string> distinct_signatures(signature_entries.begin(), signature_entries.end());
  sql.parameters = pack_fields({array_literal(written_names), array_literal(argument_counts),
                                array_literal({distinct_signatures.begin(), distinct_signatures.end()})});
  return sql;
}

std::string like_pattern(std::string_view glob) {
  std::string out;
  for (char c : glob) {
    if (c == '*') {
      out += '%';
      continue;
    }
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

AllowlistLikePatterns VolatileAllowlist::like_patterns() const {
  AllowlistLikePatterns out;
  for (const std::string& pattern : patterns_) {
    size_t dot = pattern.find('.');  // as allows() splits it
    out.schemas.push_back(dot == std::string::npos ? "%" : like_pattern(std::string_view(pattern).substr(0, dot)));
    out.names.push_back(like_pattern(dot == std::string::npos ? std::string_view(pattern)
                                                              : std::string_view(pattern).substr(dot + 1)));
  }
  return out;
}

std::string array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); i++) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string pack_fields(const std::vector<std::string>& fields) {
  std::string out;
  for (const std::string& field : fields) out += std::to_string(field.size()) + ":" + field;
  return out;
}

std::vector<std::string> unpack_fields(std::string_view packed) {
  std::vector<std::string> fields;
  size_t at = 0;
  while (at < packed.size()) {
    size_t colon = packed.find(':', at);
    if (colon == std::string_view::npos || colon == at || colon - at > 9)
      throw std::invalid_argument("malformed packed fields");
    size_t length = 0;
    for (size_t i = at; i < colon; i++) {
      if (!std::isdigit(static_cast<unsigned char>(packed[i]))) throw std::invalid_argument("malformed packed fields");
      length = length * 10 + static_cast<size_t>(packed[i] - '0');
    }
    if (length > packed.size() - colon - 1) throw std::invalid_argument("malformed packed fields");
    fields.emplace_back(packed.substr(colon + 1, length));
    at = colon + 1 + length;
  }
  return fields;
}

const GatedCheckQueries& gated_check_queries() {
  static const GatedCheckQueries queries = [] {
    const RemoteCheckQueries& q = remote_check_queries();
    const std::string refuse_with = "pg_catalog.textcat('" + std::string(kGateMarker) + ": ', ";
    // A row allowed by an allowlist pattern: the same split as VolatileAllowlist::allows, matched with LIKE.
    auto by_pattern = [](const char* schemas, const char* names) {
      return std::string("EXISTS (SELECT FROM ROWS FROM (pg_catalog.unnest(") + schemas + "), pg_catalog.unnest(" +
             names + ")) a(s, n) WHERE pg_catalog.textlike(v.schema, a.s) AND pg_catalog.textlike(v.name, a.n))";
    };
    const std::string volatile_row = " v(kind, reached_through, schema, name, signature, allowed) WHERE CASE WHEN ";
    GatedCheckQueries g;
    // The settings ride on the session facts' row ($1, $2: one statement less per call); the facts' own plan does not
    // depend on the pinned search_path (every name in it spelled with its schema) nor on plan_cache_mode (its
    // parameters only feed the gate). search_path last: the volatile reach reads with it, and RESET search_path gives
    // a statement of the user's the session's own back. statement_timeout only lowered, as the slower path does
    // (fanout/shared_call.cpp). A generic plan for the volatile reach, made once (custom plans would plan it at every
    // call: most of its cost); the pipeline RESETs plan_cache_mode before the statement.
    const std::string statement_settings =
        "pg_catalog.set_config('DateStyle', 'ISO', true), pg_catalog.set_config('IntervalStyle', 'postgres', "
        "true), pg_catalog.set_config('extra_float_digits', '3', true), pg_catalog.set_config('TimeZone', $1, true), "
        "pg_catalog.set_config('cursor_tuple_fraction', '1', true), CASE WHEN $2 OPERATOR(pg_catalog.>) 0 AND "
        "(pg_catalog.texteq(pg_catalog.current_setting('statement_timeout'), '0') OR "
        "pg_catalog.interval_gt(CAST(pg_catalog.current_setting('statement_timeout') AS pg_catalog.interval), "
        "CAST(pg_catalog.textcat(CAST($2 AS pg_catalog.text), ' ms') AS pg_catalog.interval))) THEN "
        "pg_catalog.set_config('statement_timeout', CAST($2 AS pg_catalog.text), true) END";
    const std::string settings_columns = statement_settings +
        ", pg_catalog.set_config('plan_cache_mode', 'force_generic_plan', true), "
        "pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true)";
    auto other_session = [&](const char* pid) {
      return std::string("WHEN ") + pid + " OPERATOR(pg_catalog.<>) 0 AND pg_catalog.pg_backend_pid() "
             "OPERATOR(pg_catalog.<>) " + pid + " THEN " + refuse_with + "pg_catalog.textcat('another server session ', "
             "CAST(pg_catalog.pg_backend_pid() AS pg_catalog.text)))::pg_catalog.int4 ";
    };
    // The LEFT JOIN makes a row of NULLs when no role was found, which the gate refuses too.
    g.session_facts =
        "SELECT f.*, " + settings_columns + ", " + kCatalogStateKey + " FROM (SELECT 1) one LEFT JOIN (" +
        q.session_facts + ") f(rolname, rolsuper, rolreplication, rolbypassrls, member_of, dblink_schema, fdw_schema, "
        "pid) ON true WHERE CASE " + other_session("$4") + "WHEN f.rolname IS NULL OR (NOT $3 AND (f.rolsuper OR "
        "f.rolreplication OR f.rolbypassrls OR f.member_of OPERATOR(pg_catalog.<>) '')) THEN " + refuse_with +
        "pg_catalog.textcat('role ', COALESCE(CAST(f.rolname AS pg_catalog.text), '?')))::pg_catalog.int4 ELSE 0 END "
        "OPERATOR(pg_catalog.=) 0";
    // Instead of both, while the catalog is as it was: the state, compared; the ERROR when it is another sends the call
    // the slower way, which looks again.
    g.catalog_unchanged = std::string("SELECT 1 OPERATOR(pg_catalog./) CASE WHEN ") + kCatalogStateText +
                          " OPERATOR(pg_catalog.=) $1 THEN 1 ELSE 0 END";
    // Before the prepared checks are executed or prepared: no statement prepared with SQL, and as many as multidb
    // prepared (one DEALLOCATEd could be replaced under its name). Read from the function itself, not its view (whose
    // parsing and planning would cost more).
    g.prepared_intact =
        "SELECT c.total FROM (SELECT pg_catalog.count(*) FILTER (WHERE p.from_sql), pg_catalog.count(*) FROM "
        "pg_catalog.pg_prepared_statement() p) c(from_sql, total) WHERE CASE WHEN c.from_sql OPERATOR(pg_catalog.<>) 0 "
        "OR c.total OPERATOR(pg_catalog.<>) $1 THEN " + refuse_with + "pg_catalog.textcat('" + kPreparedTampered +
        ": ', pg_catalog.format('%s prepared with SQL, %s in all', c.from_sql, c.total)))::pg_catalog.int4 ELSE 0 END "
        "OPERATOR(pg_catalog.=) 0";
    // The named calls and the implicit reach in one statement (one Bind, one executor start-up, one look-up of each
    // function found): the candidates of both, then each function's row as the inline queries give it. A named
    // candidate is VOLATILE or an aggregate over one (named_candidates); an implicit one must be VOLATILE itself.
    const std::string volatile_row_of = std::string("SELECT h.kind, h.reached_through, n.nspname::pg_catalog.text, ") +
        "p.proname::pg_catalog.text, pg_catalog.format('%I.%I(%s)', n.nspname, p.proname, "
        "pg_catalog.oidvectortypes(p.proargtypes)), COALESCE(p.oid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT "
        "pg_catalog.to_regprocedure(s)::pg_catalog.oid FROM pg_catalog.unnest($3) s)), false) ";
    g.volatile_reach =
        "SELECT v.* FROM (" + volatile_row_of + "FROM (SELECT 'function'::pg_catalog.text, ''::pg_catalog.text, p.oid " +
        named_candidates() + " UNION ALL SELECT 'implicit'::pg_catalog.text, pg_catalog.pg_describe_object(r.classid, "
        "r.objid, 0), r.fn FROM (" + kImplicitReach + ") r(classid, objid, fn)) h(kind, reached_through, fn) CROSS "
        "JOIN LATERAL (SELECT p.* FROM pg_catalog.pg_proc p WHERE p.oid OPERATOR(pg_catalog.=) h.fn AND (h.kind "
        "OPERATOR(pg_catalog.=) 'function' OR p.provolatile OPERATOR(pg_catalog.=) 'v') OFFSET 0) p JOIN "
        "pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace)" + volatile_row +
        "(v.kind OPERATOR(pg_catalog.=) 'implicit' AND $6) OR v.allowed OR " + by_pattern("$4", "$5") +
        " THEN 0 ELSE " + refuse_with + "pg_catalog.textcat(pg_catalog.textcat(v.kind, ' '), v.signature))"
        "::pg_catalog.int4 END OPERATOR(pg_catalog.=) 0 UNION ALL SELECT '" + kCatalogStateRow + "', '', '', '', " +
        kCatalogStateKey + ", false";
    return g;
  }();
  return queries;
}

const char* const* gated_statement_names() {
  static const char* const names[kGatedStatements] = {kSessionFactsStatement, kVolatileReachStatement};
  return names;
}

const std::string* gated_statement_texts() {
  static const std::string texts[kGatedStatements] = {gated_check_queries().session_facts,
                                                      gated_check_queries().volatile_reach};
  return texts;
}

const GatedParameterTypes* gated_parameter_types() {
  constexpr unsigned kBool = 16, kInt8 = 20, kInt4 = 23, kText = 25, kInt4Array = 1007, kTextArray = 1009;
  static const GatedParameterTypes types[] = {
      {4, {kText, kInt4, kBool, kInt4}},
      {6, {kTextArray, kInt4Array, kTextArray, kTextArray, kTextArray, kBool}},
      {1, {kText}},
      {1, {kInt8}},
  };
  return types;
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

VolatileAllowlist::VolatileAllowlist(std::vector<std::string> extra_entries) : patterns_(builtin_patterns()) {
  for (std::string& entry : extra_entries)
    (entry.find('(') == std::string::npos ? patterns_ : signatures_).push_back(std::move(entry));
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

namespace {

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }

// "schema.name(type, ...)": the schema and name plain identifiers (lowercased), the types as the remote's
// to_regprocedure reads them: names, qualified names, quoted names, arrays, type modifiers.
std::string parse_signature_entry(std::string_view entry) {
  auto malformed = [&](const char* why) {
    return std::invalid_argument("\"" + std::string(entry) + "\" is not a function signature (" + why +
                                 "; write schema.name(type, ...), e.g. public.uuid_generate_v4())");
  };
  size_t open = entry.find('(');
  if (entry.back() != ')') throw malformed("it must end with the closing parenthesis");
  std::string_view head = entry.substr(0, open);
  while (!head.empty() && head.back() == ' ') head.remove_suffix(1);
  size_t dot = head.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == head.size()) throw malformed("the schema is required");
  std::string out;
  for (size_t i = 0; i < head.size(); i++) {
    char c = head[i];
    if (i != dot && !is_name_char(c)) throw malformed("a schema and a name of letters, digits, _ and $");
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  int depth = 0;
  bool quoted = false;
  std::string_view arguments = entry.substr(open);
  for (char c : arguments) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '(') depth++;
    if (c == ')' && --depth < 0) throw malformed("unbalanced parentheses");
    if (!is_name_char(c) && std::string_view(" .,[]()\"").find(c) == std::string_view::npos)
      throw malformed("a type list of names, dots, brackets and parentheses");
  }
  if (depth != 0 || quoted) throw malformed("unbalanced parentheses or quotes");
  return out + std::string(arguments);
}

}  // namespace

std::vector<std::string> parse_allowlist_patterns(std::string_view list) {
  std::vector<std::string> entries;
  size_t start = 0;
  int depth = 0;
  bool quoted = false;
  for (size_t i = 0; i <= list.size(); i++) {
    char c = i < list.size() ? list[i] : ',';
    if (c == '"') quoted = !quoted;
    if (!quoted && c == '(') depth++;
    if (!quoted && c == ')') depth--;
    if (i < list.size() && (c != ',' || depth > 0 || quoted)) continue;
    std::string_view entry = list.substr(start, i - start);
    while (!entry.empty() && std::isspace(static_cast<unsigned char>(entry.front()))) entry.remove_prefix(1);
    while (!entry.empty() && std::isspace(static_cast<unsigned char>(entry.back()))) entry.remove_suffix(1);
    start = i + 1;
    if (entry.empty() && i == list.size() && entries.empty()) break;  // an empty list
    if (entry.find('(') != std::string_view::npos || entry.find(')') != std::string_view::npos) {
      entries.push_back(parse_signature_entry(entry));
    } else {
      std::vector<std::string> one = parse_pattern_list(entry, true);
      if (one.size() != 1) throw std::invalid_argument("empty entry in function list");
      entries.push_back(one[0]);
    }
  }
  return entries;
}

RemoteCheckVerdict judge_volatile_matches(const std::vector<VolatileMatch>& matches, const VolatileAllowlist& allowed) {
  RemoteCheckVerdict verdict;
  std::vector<std::string> refused;
  constexpr size_t kNamedAtMost = 5;
  size_t refused_count = 0;
  std::set<std::string> seen;  // a function two calls reach is named once
  for (const VolatileMatch& match : matches) {
    if (match.allowed_by_signature || allowed.allows(match.schema, match.name)) continue;
    if (!seen.insert(match.signature).second) continue;
    refused_count++;
    if (refused.size() < kNamedAtMost) refused.push_back("function " + match.signature);
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
      "multidb.extra_allowed_volatile_functions (by name, or one overload by its signature: 'public.f(integer)').";
  return verdict;
}

RemoteCheckVerdict judge_implicit_matches(const std::vector<VolatileMatch>& matches, const VolatileAllowlist& allowed,
                                          bool allow_implicit_volatile, const std::string& server) {
  RemoteCheckVerdict verdict;
  std::vector<std::string> refused;
  std::string first_signature;
  constexpr size_t kNamedAtMost = 3;
  size_t refused_count = 0;
  std::set<std::string> seen;
  for (const VolatileMatch& match : matches) {
    if (match.allowed_by_signature || allowed.allows(match.schema, match.name)) continue;
    if (!seen.insert(match.signature + " " + match.reached_through).second) continue;
    if (refused_count++ == 0) first_signature = match.signature;
    if (refused.size() < kNamedAtMost) refused.push_back("function " + match.signature + " (behind " + match.reached_through + ")");
  }
  if (refused_count == 0) return verdict;
  std::string named = list_words(refused);
  if (refused_count > refused.size()) named += " and " + std::to_string(refused_count - refused.size()) + " more";
  if (allow_implicit_volatile) {
    verdict.warn = true;
    verdict.message = "this database has VOLATILE functions a statement may reach without naming them: " + named +
                      "; used because the server option allow_implicit_volatile is set";
    return verdict;
  }
  verdict.allowed = false;
  verdict.message = "this database has VOLATILE functions a statement may reach without naming them: " + named +
                    "; multidb refuses every statement there";
  verdict.detail =
      "Casts, operators, operator classes, type input and output and domain constraints run for statements that do "
      "not name them (a cast, a CASE, a BETWEEN, an IN, an ORDER BY, a DISTINCT, a domain's value), so the text of a "
      "statement cannot tell whether it reaches them, and a volatile function may act outside the query.";
  verdict.hint = "If the function changes nothing outside the query, a superuser can allow it with "
                 "multidb.extra_allowed_volatile_functions = '" + first_signature +
                 "', or accept the risk for this server with ALTER SERVER " + server +
                 " OPTIONS (ADD allow_implicit_volatile 'true'); otherwise make it STABLE on the remote, or drop "
                 "what reaches it.";
  return verdict;
}

}  // namespace multidb
