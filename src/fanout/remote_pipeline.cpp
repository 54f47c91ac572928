// The pipeline that opens a run — BEGIN, gated checks with the settings, DECLARE and the first FETCH in one round trip —
// and a kept connection's reset after a call: its text, and the reading of its pending answers (remote_pipeline.hpp).
#include "fanout/remote_pipeline.hpp"

#include "core/remote_checks.hpp"
#include "fanout/remote_describe.hpp"
#include "fanout/remote_judge.hpp"
#include "foundation/boundary.hpp"

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "common/cryptohash.h"
#include "lib/stringinfo.h"
}

namespace multidb {

namespace {

enum PipelineKind { kParse, kBegin, kFacts, kVolatileReach, kCatalogUnchanged, kResetPath, kDeclare, kFirstFetch };
constexpr int kFirstCheck = kFacts;  // the gated statements, in gated_statement_names()'s order

// The gated statements' parameter values in text form, palloc'd: session facts (with the settings), volatile reach,
// catalog unchanged (core/remote_checks.hpp; its state filled in by the caller).
struct CheckValues {
  const char* values[kGatedStatements][6];
  bool ok;
};

// The allowlist's name patterns as the gates' two LIKE arrays, for the setting's value: made again only when
// multidb.extra_allowed_volatile_functions changes (a fan-out over a thousand targets would otherwise parse the
// setting and make the arrays a thousand times per call). nullptr when they could not be made.
const char* const* allowlist_like_arrays(const char* allowed) {
  static char* made_for = nullptr;  // in TopMemoryContext, with the arrays
  static const char* arrays[2] = {nullptr, nullptr};
  if (made_for != nullptr && strcmp(made_for, allowed) == 0) return arrays;
  char* made[2] = {};
  CppError error = cpp_call([&] {
    AllowlistLikePatterns like = VolatileAllowlist(parse_allowlist_patterns(allowed)).like_patterns();
    made[0] = malloc_copy(array_literal(like.schemas));
    made[1] = malloc_copy(array_literal(like.names));
  });
  const char* taken[2] = {take(made[0]), take(made[1])};
  if (error.failed) return nullptr;
  if (made_for != nullptr) {
    pfree(made_for);
    pfree(const_cast<char*>(arrays[0]));
    pfree(const_cast<char*>(arrays[1]));
  }
  made_for = MemoryContextStrdup(TopMemoryContext, allowed);
  arrays[0] = MemoryContextStrdup(TopMemoryContext, taken[0]);
  arrays[1] = MemoryContextStrdup(TopMemoryContext, taken[1]);
  return arrays;
}

CheckValues check_values(const RemoteSession* session, int prepared_in) {
  CheckValues out{};
  char* made[3] = {};
  const char* parameters = session->check_parameters;
  const char* allowed = session->allowed_volatile ? session->allowed_volatile : "";
  const char* const* like = allowlist_like_arrays(allowed);
  if (like == nullptr) return out;
  CppError error = cpp_call([&] {
    std::vector<std::string> names = unpack_fields(parameters);
    if (names.size() != 3) throw std::invalid_argument("malformed check parameters");
    made[0] = malloc_copy(names[0]);
    made[1] = malloc_copy(names[1]);
    made[2] = malloc_copy(names[2]);
  });
  const char* taken[5];
  for (int i = 0; i < 3; i++) taken[i] = take(made[i]);
  taken[3] = like[0];
  taken[4] = like[1];
  if (error.failed) return out;
  const char* timeout = psprintf("%d", Max(session->reply_timeout_ms, 0));
  const char* pid = psprintf("%d", prepared_in);
  const char* facts[] = {session->timezone ? session->timezone : "UTC", timeout, session->allow_privileged_role ? "t" : "f",
                         pid};
  const char* volatile_reach[] = {taken[0], taken[1], taken[2], taken[3], taken[4],
                                  session->allow_implicit_volatile ? "t" : "f"};
  const char* unchanged[] = {facts[0], facts[1], pid, nullptr};
  memcpy(out.values[0], facts, sizeof(facts));
  memcpy(out.values[1], volatile_reach, sizeof(volatile_reach));
  memcpy(out.values[2], unchanged, sizeof(unchanged));
  out.ok = true;
  return out;
}

// The SHA-256 of what the checks' values are made of, each after its length: the session facts' values, the volatile
// reach's names, counts and signatures, the allowlist setting its LIKE patterns are made from (allowlist_like_arrays:
// the same setting, the same patterns), and allow_implicit_volatile. Equal digests, equal parameters (a weaker hash
// could be made to collide by a statement whose names an attacker chose, and its checks skipped).
bool digest_check_values(const CheckValues& values, const char* allowed, unsigned char* digest) {
  const char* inputs[] = {values.values[0][0], values.values[0][1], values.values[0][2], values.values[0][3],
                          values.values[1][0], values.values[1][1], values.values[1][2], allowed, values.values[1][5]};
  pg_cryptohash_ctx* context = pg_cryptohash_create(PG_SHA256);
  if (context == nullptr || pg_cryptohash_init(context) < 0) return false;
  bool ok = true;
  for (const char* input : inputs) {
    uint64 length = strlen(input);
    ok = ok && pg_cryptohash_update(context, reinterpret_cast<const uint8*>(&length), sizeof(length)) == 0 &&
         pg_cryptohash_update(context, reinterpret_cast<const uint8*>(input), length) == 0;
  }
  ok = ok && pg_cryptohash_final(context, digest, kChecksDigestBytes) == 0;
  pg_cryptohash_free(context);
  return ok;
}

bool queue(RemoteSession* session, PipelineKind kind) {
  if (session->pipeline_count >= static_cast<int>(sizeof(session->pipeline_kinds) / sizeof(int))) return false;
  session->pipeline_kinds[session->pipeline_count++] = kind;
  return true;
}

bool send_plain(RemoteSession* session, PipelineKind kind, const char* sql) {
  return PQsendQueryParams(session->conn, sql, 0, nullptr, nullptr, nullptr, nullptr, 0) && queue(session, kind);
}

// The gate's ERROR: raised by one of the checks, with the marker in its message.
bool gate_refused(const RemoteSession* session) {
  int kind = session->pipeline_error_kind;
  if (kind != kFacts && kind != kVolatileReach && kind != kCatalogUnchanged) return false;
  const char* sqlstate = PQresultErrorField(session->pipeline_error, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(session->pipeline_error, PG_DIAG_MESSAGE_PRIMARY);
  return sqlstate != nullptr && strcmp(sqlstate, kGateSqlstate) == 0 && primary != nullptr &&
         strstr(primary, kGateMarker) != nullptr;
}

}  // namespace

bool pipeline_wanted(const RemoteSession* session) {
  // The gated checks read the catalog state with pg_current_snapshot(), which servers before 13 lack: those take the
  // slower path, whose inline checks ask the same without it.
  return !session->describe_only && session->check_parameters != nullptr && PQserverVersion(session->conn) >= 130000;
}

bool pipeline_send(RemoteSession* session) {
  PGconn* conn = session->conn;
  // Prepared once per server session, on a connection kept over calls whose first call showed no pooler in between
  // (remote.cpp: finish_setup); a new connection (and so one made after a reconnect) sends them unnamed first.
  session->pipeline_prepares = session->keep_connection && session->prepare_checks &&
                               !session->history.checks_prepared && !session->history.checks_inline &&
                               session->history.calls > 0;
  bool named = session->history.checks_prepared || session->pipeline_prepares;
  session->checks_executed = named;
  if (named && session->pipeline_prepares) session->history.prepared_in = PQbackendPID(conn);
  CheckValues values = check_values(session, named ? session->history.prepared_in : 0);
  if (!values.ok) return false;
  // Only the catalog state the checks last passed under, when this call's parameters are the same (on a kept
  // connection: a worker's keeps nothing between calls), and the statement is the user's (multidb's own run with the
  // checks' search_path).
  session->checks_digested =
      session->keep_connection &&
      digest_check_values(values, session->allowed_volatile ? session->allowed_volatile : "", session->checks_digest);
  session->catalog_state_sent = session->checks_digested && !session->catalog_search_path &&
                                session->history.catalog_state[0] != '\0' &&
                                memcmp(session->checks_digest, session->history.checks_digest, kChecksDigestBytes) == 0;
  values.values[2][3] = session->history.catalog_state;
  if (!PQenterPipelineMode(conn)) return false;
  session->pipeline_count = 0;
  session->pipeline_step = 0;
  session->pipeline_sent = true;
  session->pipeline_answered = false;
  const char* const* names = gated_statement_names();
  const std::string* texts = gated_statement_texts();
  const GatedParameterTypes* types = gated_parameter_types();
  if (session->pipeline_prepares) {
    for (int i = 0; i < kGatedStatements; i++)
      if (!PQsendPrepare(conn, names[i], texts[i].c_str(), types[i].count, types[i].types) || !queue(session, kParse))
        return false;
  }
  if (!send_plain(session, kBegin, "BEGIN TRANSACTION READ ONLY")) return false;
  for (int i = 0; i < kGatedStatements; i++) {
    PipelineKind kind = static_cast<PipelineKind>(kFirstCheck + i);
    if ((kind == kCatalogUnchanged) != session->catalog_state_sent) continue;
    bool sent = named ? PQsendQueryPrepared(conn, names[i], types[i].count, values.values[i], nullptr, nullptr, 0)
                      : PQsendQueryParams(conn, texts[i].c_str(), types[i].count, types[i].types, values.values[i],
                                          nullptr, nullptr, 0);
    if (!sent || !queue(session, kind)) return false;
  }
  // The checks ran with search_path = pg_catalog and generic plans; a statement of the user's gets the session's own
  // search_path back, and every statement the session's plan_cache_mode.
  if (!session->catalog_state_sent) {
    if (!send_plain(session, kResetPath, "RESET plan_cache_mode")) return false;
    if (!session->catalog_search_path && !send_plain(session, kResetPath, "RESET search_path")) return false;
  }
  // The exact text the guard judged; from here on it may run, once the checks before it passed.
  session->statement_sent = true;
  if (!send_plain(session, kDeclare, psprintf("DECLARE multidb_rows NO SCROLL CURSOR FOR %s", session->sql)))
    return false;
  // Text: the columns' types are not known yet (later FETCHes honour fetch_result_format).
  if (!send_plain(session, kFirstFetch, psprintf("FETCH %d FROM multidb_rows", session->fetch_size))) return false;
  if (!PQpipelineSync(conn)) return false;
  session->phase = RemotePhase::kPipeline;
  return true;
}

bool pipeline_take_result(RemoteSession* session, PGresult* result) {
  ExecStatusType status = PQresultStatus(result);
  if (status == PGRES_PIPELINE_SYNC) {
    PQclear(result);
    return false;
  }
  session->pipeline_answered = true;
  int kind = session->pipeline_step < session->pipeline_count ? session->pipeline_kinds[session->pipeline_step] : -1;
  if (status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR || kind < 0) {
    if (session->pipeline_error == nullptr) {
      session->pipeline_error = result;
      session->pipeline_error_kind = kind;
    } else {
      PQclear(result);
    }
    return true;
  }
  int answer = kind == kVolatileReach ? 1 : 0;  // the facts' answer, or the one that stands for both
  if (status == PGRES_TUPLES_OK && (kind == kFacts || kind == kVolatileReach || kind == kCatalogUnchanged) &&
      session->answers[answer] == nullptr) {
    session->answers[answer] = result;
    return true;
  }
  if (status == PGRES_TUPLES_OK && kind == kFirstFetch && session->batch == nullptr) {
    session->batch = result;
    return true;
  }
  PQclear(result);  // the commands' own completions, and PGRES_PIPELINE_ABORTED behind an error
  return true;
}

void pipeline_command_done(RemoteSession* session) { session->pipeline_step++; }

RemoteEvent pipeline_finish(RemoteSession* session, PGresult** result) {
  *result = nullptr;
  session->query_running = false;
  if (!PQexitPipelineMode(session->conn))
    return remote_fail(session, ERRCODE_PROTOCOL_VIOLATION, "the pipeline ended with results left unread");
  if (session->pipeline_error != nullptr) {
    if (gate_refused(session)) {
      // Nothing of the statement ran. The slower path, on the same connection, reports the refusal as before, or runs
      // it when the judgement allows it after all (a gate may be stricter than the judgement).
      const char* primary = PQresultErrorField(session->pipeline_error, PG_DIAG_MESSAGE_PRIMARY);
      if (session->checks_executed && strstr(primary, "another server session") != nullptr) {
        // A pooler handed another server session after all: never prepared checks on this connection again.
        session->history.checks_prepared = false;
        session->history.checks_inline = true;
      }
      ereport(DEBUG1, (errmsg_internal("connection \"%s\": %s; checking the slower way", session->name, primary)));
      PQclear(session->pipeline_error);
      session->pipeline_error = nullptr;
      for (PGresult*& answer : session->answers)
        if (answer != nullptr) {
          PQclear(answer);
          answer = nullptr;
        }
      if (session->batch != nullptr) PQclear(session->batch);
      session->batch = nullptr;
      if (session->pipeline_prepares) session->history.checks_prepared = !session->history.checks_inline;
      session->statement_sent = false;
      if (!remote_send_setup_after_gate(session))
        return remote_fail(session, ERRCODE_CONNECTION_FAILURE, remote_libpq_message(session));
      return RemoteEvent::kWantRead;
    }
    int kind = session->pipeline_error_kind;
    PGresult* error = session->pipeline_error;
    session->pipeline_error = nullptr;
    // The server skipped every command after the one that failed: a failure before the DECLARE ran nothing of the
    // statement (so prepared checks found missing may still be replaced by a new connection: remote.cpp).
    if (kind >= 0 && kind < kDeclare) session->statement_sent = false;
    return remote_fail_with_result(session, error, kind >= kDeclare || kind < 0 ? "remote SQL" : "session set-up");
  }
  if (session->pipeline_prepares) session->history.checks_prepared = true;
  if (session->answers[session->catalog_state_sent ? 0 : 1] == nullptr || session->batch == nullptr)
    return remote_fail(session, ERRCODE_PROTOCOL_VIOLATION, "the pipeline did not answer every command multidb sent");
  // The second wall: the rows the gates let through, judged as the slower path judges them (a refusal closes the
  // connection, since the statement ran).
  RemoteEvent judged =
      session->catalog_state_sent ? judge_unchanged_answer(session) : judge_check_answers(session, true);
  if (judged == RemoteEvent::kFailed) return RemoteEvent::kFailed;
  for (PGresult*& answer : session->answers)
    if (answer != nullptr) {
      PQclear(answer);
      answer = nullptr;
    }
  session->phase = RemotePhase::kFetch;
  return remote_hand_over_batch(session, result);
}

// What ends a call whose connection is to be kept, in one message: the ROLLBACK, then what a statement's hidden code
// (a view's function, a policy) could have left in the session that a ROLLBACK does not undo, and last one row saying
// whether anything else stayed that cannot be reset selectively (a prepared statement that is not multidb's): then
// the connection is closed instead of kept. Hidden code runs only inside the call's READ ONLY transaction, so the
// ROLLBACK itself undoes its settings (set_config(..., false) too), LISTENs, cursors and temporary objects, and READ
// ONLY refuses CREATE TEMP and nextval (TAP 026 leaves each behind and finds it gone); what outlives the ROLLBACK is a
// session advisory lock, a prepared statement, and a dblink or postgres_fdw connection. RESET ALL only when the slower
// path SET the session's settings outside a transaction (its own values, which the next call must not inherit).
const char* kept_reset_sql(const RemoteSession* session) {
  StringInfoData sql;
  initStringInfo(&sql);
  appendStringInfoString(&sql, session->history.session_settings_set ? "ROLLBACK; RESET ALL; " : "ROLLBACK; ");
  if (session->dblink_schema != nullptr) {
    // dblink lists its named connections; the unnamed one can only be closed, which fails when there is none.
    const char* dblink = quote_identifier(session->dblink_schema);
    appendStringInfo(&sql,
                     "DO $multidb$ BEGIN PERFORM %s.dblink_disconnect(c) FROM pg_catalog.unnest(%s.dblink_get_connections()) "
                     "c; BEGIN PERFORM %s.dblink_disconnect(); EXCEPTION WHEN OTHERS THEN NULL; END; END $multidb$; ",
                     dblink, dblink, dblink);
  }
  if (session->fdw_schema != nullptr)
    appendStringInfo(&sql, "SELECT %s.postgres_fdw_disconnect_all(); ", quote_identifier(session->fdw_schema));
  // Ours must be there as prepared at the protocol level, when this connection prepared them, and nothing else: a
  // hidden function can DEALLOCATE, and PREPARE (under our names too), but only with SQL, which makes from_sql ones;
  // only the client prepares by the protocol, and on a connection multidb prepares on there is no other client
  // (remote.hpp: a pooler found in between means nothing is prepared). So the counts say it, without the names or
  // texts (reset_pending_take_result); read from the function itself, not its view (whose parsing and planning would
  // cost more than the rest of the reset). The advisory locks are released by the same statement: an aggregate without
  // GROUP BY always makes its one row, so the call beside it always runs. Its row is the reset's last answer.
  appendStringInfoString(&sql,
                         "SELECT pg_catalog.count(*) FILTER (WHERE s.from_sql), pg_catalog.count(*), "
                         "pg_catalog.pg_advisory_unlock_all() FROM pg_catalog.pg_prepared_statement() s");
  return sql.data;
}

void reset_pending_take_result(RemoteSession* session, PGresult* result) {
  ExecStatusType status = PQresultStatus(result);
  if (!session->rollback_answered) {
    session->rollback_answered = true;  // the ROLLBACK's own result; what follows is the reset's
    if (status != PGRES_COMMAND_OK) session->reset_failed = true;
  } else if (status == PGRES_TUPLES_OK) {
    // The last row says whether anything else was left in the session: no statement prepared with SQL, and as many
    // as multidb prepared (one DEALLOCATEd could be replaced under its name).
    // (The history is the one the reset was written with: remote_adopt hands it on unchanged.)
    long expected = session->history.checks_prepared ? kGatedStatements : 0;
    session->reset_clean = PQntuples(result) == 1 && PQnfields(result) == 3 &&
                           strcmp(PQgetvalue(result, 0, 0), "0") == 0 && atol(PQgetvalue(result, 0, 1)) == expected;
  } else if (status != PGRES_COMMAND_OK) {
    session->reset_failed = true;
  }
  PQclear(result);
}

bool reset_pending_clean(const RemoteSession* session) {
  return session->rollback_answered && session->reset_clean && !session->reset_failed &&
         PQtransactionStatus(session->conn) == PQTRANS_IDLE;
}

}  // namespace multidb
