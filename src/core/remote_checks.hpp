// What multidb asks a remote database before it sends a statement there, and how it judges the answers.
//
// Two walls stand behind the read-only guard (src/pg/sql_guard.hpp), because a list of names cannot know
// every extension installed on every remote, and BEGIN READ ONLY does not stop functions that act outside
// the transaction:
//   - the remote role: a session that is superuser, has REPLICATION or BYPASSRLS, or is a member of a
//     role that reads or writes server files, runs programs or signals backends, is refused unless the
//     server option allow_privileged_role says otherwise;
//   - the remote catalog: a statement may call a function (or an operator, or a type's input or cast
//     function) only if nothing of that name is VOLATILE on that remote, except the harmless ones of
//     VolatileAllowlist.
// Both questions ride in the session set-up the remote already runs (one simple-Query message: settings,
// BEGIN READ ONLY, then build_remote_check_sql's two statements), so they cost no round trip of their own
// and always read the remote's catalog as it is now.
//
// Owns: the check's SQL text and the judgement of its rows. May not touch: Postgres headers, libpq.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace multidb {

// Names a statement may call through, collected from its raw parse tree by the guard.
struct StatementNames {
  std::vector<std::string> functions;        // f(...), by its unqualified name
  std::vector<std::string> attribute_calls;  // x.f and (x).f: a one-argument function call if f is no column
  std::vector<std::string> operators;        // a + b, OPERATOR(s.+), ORDER BY ... USING +
  std::vector<std::string> types;            // CAST(x AS t), x::t, t 'literal'
};

// A string literal read the same way whatever standard_conforming_strings is: E'...' with ' and \ doubled.
std::string escape_sql_literal(std::string_view text);

// Two statements, ';'-separated, to append to the set-up: the role facts (one row per distinct role of
// session_user and current_user: rolname, rolsuper, rolreplication, rolbypassrls, the powerful roles it
// is a member of as a comma list), then one row (kind, schema, name, signature) per volatile object the
// statement's names could reach.
std::string build_remote_check_sql(const StatementNames& names);

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
  std::string kind;  // function, operator, type
  std::string schema;
  std::string name;
  std::string signature;
};

struct RemoteCheckVerdict {
  bool allowed = true;
  bool warn = false;  // allowed, but say so: a privileged role the server option lets through
  std::string message;
  std::string detail;
  std::string hint;
};

// "superuser, REPLICATION, member of pg_signal_backend": what makes a role privileged, or "" if nothing.
std::string role_privileges(const RemoteRoleFacts& role);

RemoteCheckVerdict judge_remote_roles(const std::vector<RemoteRoleFacts>& roles, bool allow_privileged_role,
                                      const std::string& server);

// Volatile functions that are harmless to call: no writes, no signals, no files, no other sessions.
// Entries are glob patterns ('*' matches anything) over "name" (any schema) or "schema.name".
class VolatileAllowlist {
 public:
  explicit VolatileAllowlist(std::vector<std::string> extra_patterns = {});
  static const std::vector<std::string>& builtin_patterns();  // all pg_catalog.*
  bool allows(std::string_view schema, std::string_view name) const;
  const std::vector<std::string>& patterns() const { return patterns_; }

 private:
  std::vector<std::string> patterns_;
};

// Splits multidb.extra_allowed_volatile_functions; throws std::invalid_argument on a malformed entry.
std::vector<std::string> parse_allowlist_patterns(std::string_view list);

RemoteCheckVerdict judge_volatile_matches(const std::vector<VolatileMatch>& matches, const VolatileAllowlist& allowed);

}  // namespace multidb
