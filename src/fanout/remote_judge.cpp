// The answers of a run's checks judged (remote_judge.hpp).
#include "fanout/remote_judge.hpp"

#include "core/remote_checks.hpp"
#include "foundation/boundary.hpp"

#include <cstdlib>
#include <cstring>
#include <vector>

namespace multidb {

namespace {

// A remote row's values are plain C strings, read inside cpp_call; the verdict's words come out as malloc'd text.
struct JudgedChecks {
  bool allowed;
  char* message;
  char* detail;
  char* hint;
  char* warnings[2];  // risks the server options accept: a privileged role, implicit volatile functions
};

// An empty verdict text (no detail, no hint) is none.
const char* take_text(char* text) {
  char* copy = take(text);
  return copy != nullptr && copy[0] != '\0' ? copy : nullptr;
}

// The functions' rows; the pipeline's catalog state row is not one (reach_catalog_state).
std::vector<VolatileMatch> read_volatile_matches(const PGresult* rows) {
  std::vector<VolatileMatch> found;
  for (int row = 0; row < PQntuples(rows); row++)
    if (strcmp(PQgetvalue(rows, row, 0), kCatalogStateRow) != 0)
      found.push_back(VolatileMatch{PQgetvalue(rows, row, 0), PQgetvalue(rows, row, 1), PQgetvalue(rows, row, 2),
                                  PQgetvalue(rows, row, 3), PQgetvalue(rows, row, 4),
                                  strcmp(PQgetvalue(rows, row, 5), "t") == 0});
  return found;
}

// The catalog state a gated check read: the facts' column, the volatile reach's row; nullptr when NULL (a standby) or
// missing.
const char* facts_catalog_state(const PGresult* facts) {
  return PQgetisnull(facts, 0, kGatedStateColumn) ? nullptr : PQgetvalue(facts, 0, kGatedStateColumn);
}
const char* reach_catalog_state(const PGresult* rows) {
  for (int row = 0; row < PQntuples(rows); row++)
    if (strcmp(PQgetvalue(rows, row, 0), kCatalogStateRow) == 0 && !PQgetisnull(rows, row, 4))
      return PQgetvalue(rows, row, 4);
  return nullptr;
}

// Prepared checks answer for the session that prepared them, and only there: a pooler that hands each transaction
// another server session may run another client's (or a look-alike) under the same name. Then the connection is
// replaced by one that sends them inline (worth_connecting_anew).
// A server session whose pid is not the one libpq was told at connect time is behind a pooler: checks prepared
// there would not stay in this connection's session, so this connection never prepares them.
RemoteEvent judge_answering_pid(RemoteSession* session, const char* answered) {
  int pid = atoi(answered);
  if (pid != PQbackendPID(session->conn)) session->history.checks_inline = true;
  if (session->checks_executed && pid != session->history.prepared_in)
    return remote_fail_detailed(session, ERRCODE_UNDEFINED_PSTATEMENT,
                                "the prepared checks ran in another server session than the one that prepared them",
                                "A connection pooler in transaction mode hands each transaction a server session of its "
                                "own.",
                                nullptr, false);
  return RemoteEvent::kWantRead;
}

// The schemas of dblink and postgres_fdw from a facts row (at first_column and the next), for the reset.
void take_extension_schemas(RemoteSession* session, const PGresult* facts, int first_column) {
  for (int column = first_column; column <= first_column + 1; column++) {
    for (int row = 0; row < PQntuples(facts); row++) {
      if (PQgetisnull(facts, row, column)) continue;
      const char* schema = pstrdup(PQgetvalue(facts, row, column));
      (column == first_column ? session->dblink_schema : session->fdw_schema) = schema;
    }
  }
}

// Both gated checks passed without a warning under one catalog state: kept, with the digest of their parameters and the
// schemas the reset needs, for the next call with the same parameters to compare in their stead (remote_pipeline.cpp).
// Anything else forgets it.
void remember_catalog_state(RemoteSession* session, const char* facts_state, const char* reach_state) {
  ConnectionHistory& history = session->history;
  history.catalog_state[0] = '\0';
  const char* dblink = session->dblink_schema != nullptr ? session->dblink_schema : "";
  const char* fdw = session->fdw_schema != nullptr ? session->fdw_schema : "";
  if (!session->checks_digested || facts_state == nullptr || reach_state == nullptr ||
      strcmp(facts_state, reach_state) != 0 || strlen(facts_state) >= sizeof(history.catalog_state) ||
      strlen(dblink) >= sizeof(history.dblink_schema) || strlen(fdw) >= sizeof(history.fdw_schema))
    return;
  strlcpy(history.catalog_state, facts_state, sizeof(history.catalog_state));
  memcpy(history.checks_digest, session->checks_digest, sizeof(history.checks_digest));
  strlcpy(history.dblink_schema, dblink, sizeof(history.dblink_schema));
  strlcpy(history.fdw_schema, fdw, sizeof(history.fdw_schema));
}

}  // namespace

RemoteEvent judge_check_answers(RemoteSession* session, bool volatile_reach) {
  PGresult* facts = session->answers[0];
  PGresult* named = session->answers[1];
  PGresult* implicit = session->answers[2];
  if (facts == nullptr || named == nullptr || (implicit == nullptr) != volatile_reach ||
      PQnfields(facts) != (volatile_reach ? kGatedStateColumn + 1 : kSessionFactsColumns) ||
      PQnfields(named) != kVolatileColumns ||
      (implicit != nullptr && PQnfields(implicit) != kVolatileColumns) || PQntuples(facts) < 1)
    return remote_fail(session, ERRCODE_PROTOCOL_VIOLATION, "the session set-up did not answer multidb's checks");
  if (judge_answering_pid(session, PQgetvalue(facts, 0, 7)) == RemoteEvent::kFailed) return RemoteEvent::kFailed;
  const char* server = quote_identifier(session->name);
  const char* allowed_volatile = session->allowed_volatile ? session->allowed_volatile : "";
  bool allow_privileged = session->allow_privileged_role;
  bool allow_implicit = session->allow_implicit_volatile;
  JudgedChecks judged{true, nullptr, nullptr, nullptr, {nullptr, nullptr}};
  CppError error = cpp_call([&] {
    std::vector<RemoteRoleFacts> roles;
    for (int row = 0; row < PQntuples(facts); row++) {
      RemoteRoleFacts role;
      role.name = PQgetvalue(facts, row, 0);
      role.superuser = strcmp(PQgetvalue(facts, row, 1), "t") == 0;
      role.replication = strcmp(PQgetvalue(facts, row, 2), "t") == 0;
      role.bypassrls = strcmp(PQgetvalue(facts, row, 3), "t") == 0;
      role.member_of = PQgetvalue(facts, row, 4);
      roles.push_back(role);
    }
    VolatileAllowlist allowlist(parse_allowlist_patterns(allowed_volatile));
    std::vector<VolatileMatch> named_matches, implicit_matches;
    for (PGresult* rows : {named, implicit}) {
      if (rows == nullptr) continue;
      for (VolatileMatch& match : read_volatile_matches(rows))
        (match.kind == "implicit" ? implicit_matches : named_matches).push_back(std::move(match));
    }
    RemoteCheckVerdict verdicts[] = {
        judge_remote_roles(roles, allow_privileged, server),
        judge_volatile_matches(named_matches, allowlist),
        judge_implicit_matches(implicit_matches, allowlist, allow_implicit, server),
    };
    int warnings = 0;
    for (const RemoteCheckVerdict& verdict : verdicts) {
      if (!verdict.allowed) {
        judged.allowed = false;
        judged.message = malloc_copy(verdict.message);
        judged.detail = malloc_copy(verdict.detail);
        judged.hint = malloc_copy(verdict.hint);
        return;
      }
      if (verdict.warn) judged.warnings[warnings++] = malloc_copy(verdict.message + "\n" + verdict.hint);
    }
  });
  const char* message = take_text(judged.message);
  const char* detail = take_text(judged.detail);
  const char* hint = take_text(judged.hint);
  const char* warnings[] = {take_text(judged.warnings[0]), take_text(judged.warnings[1])};
  if (error.failed)
    return remote_fail(session, ERRCODE_INTERNAL_ERROR,
                       psprintf("could not judge the remote's answers: %s", error.message));
  if (!judged.allowed) return remote_fail_detailed(session, ERRCODE_INSUFFICIENT_PRIVILEGE, message, detail, hint, true);
  for (const char* warning : warnings) {
    if (warning == nullptr) continue;
    const char* newline = strchr(warning, '\n');
    ereport(WARNING, (errcode(ERRCODE_WARNING),
                      errmsg_internal("%s", remote_message(session->name, pnstrdup(warning, newline - warning))),
                      newline[1] != '\0' ? errhint("%s", newline + 1) : 0));
  }
  take_extension_schemas(session, facts, 5);
  remember_catalog_state(session, volatile_reach && warnings[0] == nullptr && warnings[1] == nullptr
                                      ? facts_catalog_state(facts) : nullptr,
                         volatile_reach ? reach_catalog_state(named) : nullptr);
  return remote_check_lexing(session);
}

RemoteEvent judge_unchanged_answer(RemoteSession* session) {
  // Its one value is 1 only when the state (which names the server session's pid) was the one the checks passed under.
  PGresult* unchanged = session->answers[0];
  if (unchanged == nullptr || PQnfields(unchanged) != kUnchangedColumns || PQntuples(unchanged) != 1 ||
      PQgetisnull(unchanged, 0, 0) || strcmp(PQgetvalue(unchanged, 0, 0), "1") != 0)
    return remote_fail(session, ERRCODE_PROTOCOL_VIOLATION, "the session set-up did not answer multidb's checks");
  const ConnectionHistory& history = session->history;
  if (history.dblink_schema[0] != '\0') session->dblink_schema = pstrdup(history.dblink_schema);
  if (history.fdw_schema[0] != '\0') session->fdw_schema = pstrdup(history.fdw_schema);
  return remote_check_lexing(session);
}

}  // namespace multidb
