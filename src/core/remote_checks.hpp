// What multidb asks a remote database before it sends a statement there, and how it judges the answers.
//
// Two walls stand behind the read-only guard (src/foundation/sql_guard.hpp), because a list of names cannot know
// every extension installed on every remote, and BEGIN READ ONLY does not stop functions that act outside
// the transaction:
//   - the remote role: a session that is superuser, has REPLICATION or BYPASSRLS, or is a member of a
//     role that reads or writes server files, runs programs or signals backends, is refused unless the
//     server option allow_privileged_role says otherwise;
//   - the remote catalog: a statement may call a function only if nothing of that name is VOLATILE on that
//     remote, except the harmless ones of VolatileAllowlist; and since casts, operators, operator classes,
//     type input/output and domain constraints are called by statements that never name them (a CASE, a
//     BETWEEN, an ORDER BY, a cast, a domain value), a remote where any of those reaches a VOLATILE function
//     the allowlist does not admit is refused for every statement, unless the server option
//     allow_implicit_volatile accepts that risk.
// The questions ride in the pipeline that opens every call (fanout/remote_pipeline.cpp: BEGIN READ ONLY, the gated
// checks below in two statements, the first also applying the settings, then the DECLARE and the first FETCH, sent
// together), so they cost no round trip of their own and always read the remote's catalog as it is now; the inline
// form (build_remote_check_sql) is what the slower path sends when a gate refused. They read it with every operator,
// function and type spelled out with its schema, and with search_path = pg_catalog (all but the gated session facts,
// which set it for what follows), so that no remote role setting or object in
// another schema can change what they see; and a name is compared as the remote itself reads it (its
// encoding's case rules and its cut at NAMEDATALEN), because the statement's text is sent as written.
//
// Owns: the check's SQL text and the judgement of its rows. May not touch: Postgres headers, libpq.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace multidb {

// A function a statement may call, collected from its raw parse tree by the guard: its name as the statement
// wrote it (the identifier's text: quoted or not, any case, any length), for the remote to read with its own
// identifier rules, and how many arguments the call passes (-1: any, for VARIADIC), so that only the overloads it
// can reach are judged. x.f and (x).f are calls of f with one argument, when f is no column of x.
struct CalledFunction {
  std::string written;
  int arguments;
};

struct StatementNames {
  std::vector<CalledFunction> calls;
};

// A string literal read the same way whatever standard_conforming_strings is: E'...' with ' and \ doubled.
std::string escape_sql_literal(std::string_view text);

// The three questions, whose rows are, in order:
//   session facts   one row per distinct role of session_user and current_user (kSessionFactsColumns): rolname,
//                   rolsuper, rolreplication, rolbypassrls, the powerful roles it is a member of as a comma list,
//                   the schema of dblink and of postgres_fdw when installed in that database (or NULL): what a
//                   kept connection must reset after the call; and the server session's pid: prepared checks are
//                   trusted only in the session that prepared them (a pooler may hand out another);
//   named           the VOLATILE functions the statement's calls could reach, by name and number of arguments
//                   (kVolatileColumns); parameters: $1 text[] the calls' names as written, $2 int4[] their numbers
//                   of arguments, $3 text[] the allowlist's entries by signature (resolved by the remote itself);
//   implicit        the VOLATILE functions a statement could reach without naming them (kVolatileColumns);
//                   parameter $1 text[] the entries by signature.
struct RemoteCheckQueries {
  std::string session_facts;
  std::string named;
  std::string implicit;
};
const RemoteCheckQueries& remote_check_queries();

// The same checks, gated, as two statements: the session facts, which also apply the call's settings, and the named
// calls with the implicit reach in one (their rows as named's and implicit's, each with its kind). Each raises an ERROR
// on the remote when a row it returns would be refused by the judgement below (judge_remote_roles,
// judge_volatile_matches, judge_implicit_matches), so that the server skips the rest of a pipeline and the statement is
// never DECLAREd. A gate refuses at least whenever that judgement would (it may refuse more: a name pattern compares
// case-sensitively there); the rows it lets through are judged here all the same. The ERROR is an integer cast of a
// row's text ("multidb_check_refused: ..."), SQLSTATE 22P02: a SELECT cannot raise otherwise without a function of its
// own on the remote, and a row-dependent text is never folded at plan time. Parameters (types: gated_parameter_types):
//   session facts   $1 text the TimeZone, $2 int4 multidb.statement_timeout in ms (0: none), $3 bool
//                   allow_privileged_role, $4 int4 the server pid that prepared it (0: any session). Its rows are the
//                   facts' kSessionFactsColumns, then kGatedSettingsColumns of set_config(..., true) calls: DateStyle
//                   ISO, IntervalStyle postgres, extra_float_digits 3, the TimeZone, cursor_tuple_fraction 1,
//                   statement_timeout lowered (never raised) to $2, plan_cache_mode force_generic_plan (for the
//                   volatile reach; RESET before the statement), and last search_path = pg_catalog, pg_temp for it —
//                   all undone by the transaction's end; then the catalog state it read (kGatedStateColumn);
//   volatile reach  $1 $2 $3 as named's above, $4 text[] $5 text[] the allowlist's patterns as LIKE patterns over
//                   schema and name (allowlist_like_patterns), $6 bool allow_implicit_volatile; its last row is the
//                   catalog state it read: kind kCatalogStateRow, the state as its signature.
// When both passed without a warning under one catalog state, a later call with the same parameters on the same
// connection sends a third statement instead of both, unnamed (hidden code could replace a prepared one unseen: below):
//   catalog unchanged  $1 text that state. Its row is the number 1; its gate refuses when the state is another — by
//                   dividing by zero (kCatalogChangedSqlstate): parsed at every call, it is kept as small as it can be,
//                   and a refusal's text would cost it more than the rest — and the call goes the slower way, which
//                   looks again. Only a primary records a state, and a session's server never becomes a standby, so it
//                   reads kCatalogStateText without the standby's case. It sets nothing: the caller sends it only
//                   where the statement's settings are the session's own (fanout/remote_pipeline.cpp: pinned by the
//                   last reset). (What else the facts said — dblink's and postgres_fdw's schemas — is catalog
//                   too: the caller keeps it with the state.)
// The state is kCatalogStateKey: the statement's snapshot (xmin:xmax:running xids, pg_current_snapshot) with the server
// session's pid, session_user and current_user; NULL, and so never equal, on a standby. Two equal snapshots of a
// primary mean that no transaction ended between them — and every catalog change (a GRANT, ALTER ROLE, CREATE FUNCTION,
// in any database of the cluster) is a transaction that ends — so the catalog, the role, and so the answers, are the
// same. A standby's snapshot leaves the running xids out and does not say that: there the checks always look.
//
// Prepared, the two checks could be replaced between calls by a look-alike of the same name: code hidden in a
// statement (a function behind a view) may DEALLOCATE and PREPARE. So before a pipeline executes or prepares them, it
// asks a fourth, unnamed statement:
//   prepared intact  $1 int8 how many statements multidb prepared in the session (0 before it prepares them). Its
//                   gate refuses (kPreparedTampered) when the session holds another count, or any statement prepared
//                   with SQL (only the client prepares at the protocol level, and on a connection multidb prepares
//                   on there is no other client: SQL PREPARE is how hidden code makes one); the caller then
//                   replaces the connection. Its row is the count.
struct GatedCheckQueries {
  std::string session_facts;
  std::string volatile_reach;
  std::string catalog_unchanged;
  std::string prepared_intact;
};
const GatedCheckQueries& gated_check_queries();
constexpr const char* kGateMarker = "multidb_check_refused";
#define MULTIDB_CATALOG_STATE_TEXT                                                                            \
  "pg_catalog.format('%s %s %I %I', pg_catalog.pg_current_snapshot(), pg_catalog.pg_backend_pid(), session_user, " \
  "current_user)"
constexpr const char* kCatalogStateText = MULTIDB_CATALOG_STATE_TEXT;  // on a primary
constexpr const char* kCatalogStateKey =
    "CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL ELSE " MULTIDB_CATALOG_STATE_TEXT " END";
#undef MULTIDB_CATALOG_STATE_TEXT
constexpr const char* kCatalogStateRow = "catalog state";
constexpr const char* kCatalogChanged = "the catalog state changed";
constexpr const char* kPreparedTampered = "the session holds prepared statements multidb did not make";
constexpr const char* kGateSqlstate = "22P02";
constexpr const char* kCatalogChangedSqlstate = "22012";  // the catalog-unchanged gate's: a division by zero

// Their names where a kept connection prepares them (protocol-level prepared statements, made once per server session).
constexpr const char* kSessionFactsStatement = "multidb_session_facts";
constexpr const char* kVolatileReachStatement = "multidb_volatile_reach";
constexpr int kGatedStatements = 2;  // session facts, volatile reach: the prepared ones, in that order below
constexpr int kGatedSettingsColumns = 8;  // the set_config columns after the gated session facts'
const char* const* gated_statement_names();
const std::string* gated_statement_texts();  // kGatedStatements texts, in the same order
// Parameter types, as type OIDs (fixed since PostgreSQL 8): one list per gated query.
struct GatedParameterTypes {
  int count;
  unsigned types[7];
};
enum GatedQuery { kSessionFactsQuery, kVolatileReachQuery, kCatalogUnchangedQuery, kPreparedIntactQuery };
const GatedParameterTypes* gated_parameter_types();  // indexed by GatedQuery

// A glob of the allowlist ('*' anything) as a LIKE pattern: % and _ and \ escaped with \, * as %.
std::string like_pattern(std::string_view glob);
// The allowlist's name patterns as two parallel LIKE pattern lists, schema and name: "name" is any schema ("%").
struct AllowlistLikePatterns {
  std::vector<std::string> schemas;
  std::vector<std::string> names;
};
// A text[] value in the array's text form ({"a","b"}), for a parameter.
std::string array_literal(const std::vector<std::string>& items);

// What is sent for one statement. inline_sql: appended to the slower path's set-up after BEGIN READ ONLY,
// ';'-separated: first the search_path pin (SET LOCAL search_path = pg_catalog, pg_temp; the caller RESETs it before
// a statement of the user's), then the three questions as text. parameters: the named check's $1, $2 and $3 in text
// form, packed into one string (pack_fields) to travel where a C string does.
struct RemoteCheckSql {
  std::string inline_sql;
  std::string parameters;
};
RemoteCheckSql build_remote_check_sql(const StatementNames& names, const std::vector<std::string>& signature_entries);

// Strings joined so that any bytes but NUL survive: each as its length, ':' and itself.
std::string pack_fields(const std::vector<std::string>& fields);
// The fields back; throws std::invalid_argument when packed is not pack_fields' output.
std::vector<std::string> unpack_fields(std::string_view packed);

constexpr int kSessionFactsColumns = 8;
constexpr int kGatedStateColumn = kSessionFactsColumns + kGatedSettingsColumns;  // the gated facts' catalog state column
constexpr int kUnchangedColumns = 1;  // catalog unchanged: the number 1
constexpr int kVolatileColumns = 6;  // kind, reached through, schema, name, signature, allowed by signature

// The roles whose members act outside the database as the server's OS user, or on other sessions.
const std::vector<std::string>& powerful_builtin_roles();

struct RemoteRoleFacts {
  std::string name;
  bool superuser = false;
  bool replication = false;
  bool bypassrls = false;
  std::string member_of;  // comma list of powerful_builtin_roles() it is a member of
};

struct VolatileMatch {
  std::string kind;            // "function" (the statement names it) or "implicit" (it may reach it unnamed)
  std::string reached_through;  // implicit: the cast, operator, operator class member, type or domain constraint
  std::string schema;
  std::string name;
  std::string signature;
  bool allowed_by_signature = false;  // an allowlist entry with a signature names exactly this function
};

struct RemoteCheckVerdict {
  bool allowed = true;
  bool warn = false;  // allowed, but say so: a risk a server option accepts
  std::string message;
  std::string detail;
  std::string hint;
};

// "superuser, REPLICATION, member of pg_signal_backend": what makes a role privileged, or "" if nothing.
std::string role_privileges(const RemoteRoleFacts& role);

RemoteCheckVerdict judge_remote_roles(const std::vector<RemoteRoleFacts>& roles, bool allow_privileged_role,
                                      const std::string& server);

// Volatile functions that are harmless to call: no writes, no signals, no files, no other sessions.
// Entries are glob patterns ('*' matches anything) over "name" (any schema, every overload) or "schema.name"
// (every overload), or one function by its signature, "schema.name(type, ...)" (the schema is required; the
// types are read by the remote, as to_regprocedure reads them).
class VolatileAllowlist {
 public:
  explicit VolatileAllowlist(std::vector<std::string> extra_entries = {});
  static const std::vector<std::string>& builtin_patterns();  // all pg_catalog.*
  // By name: the patterns without a signature.
  bool allows(std::string_view schema, std::string_view name) const;
  const std::vector<std::string>& patterns() const { return patterns_; }
  const std::vector<std::string>& signature_entries() const { return signatures_; }
  AllowlistLikePatterns like_patterns() const;

 private:
  std::vector<std::string> patterns_;
  std::vector<std::string> signatures_;
};

// Splits multidb.extra_allowed_volatile_functions (commas inside a signature's parentheses belong to it);
// throws std::invalid_argument on a malformed entry.
std::vector<std::string> parse_allowlist_patterns(std::string_view list);

// The functions the statement names.
RemoteCheckVerdict judge_volatile_matches(const std::vector<VolatileMatch>& matches, const VolatileAllowlist& allowed);

// What any statement could reach: refused (or, with the server option, a warning) unless allowlisted.
RemoteCheckVerdict judge_implicit_matches(const std::vector<VolatileMatch>& matches, const VolatileAllowlist& allowed,
                                          bool allow_implicit_volatile, const std::string& server);

}  // namespace multidb
