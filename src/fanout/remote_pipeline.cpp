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
#include "common/hashfn.h"
#include "lib/stringinfo.h"
}

namespace multidb {

namespace {

enum PipelineKind {
  kBegin, kPreparedIntact, kParse, kFacts, kVolatileReach, kCatalogUnchanged, kResetSetting, kDeclare, kFirstFetch,
  kEndRollback, kEndRelease  // pipeline_ends: the call's end
};
constexpr int kFirstCheck = kFacts;  // the gated statements, in gated_statement_names()'s order
// What a kept connection's end releases after its ROLLBACK: the reset's last statement, or the pipeline's.
constexpr const char* kReleaseAdvisoryLocks = "SELECT pg_catalog.pg_advisory_unlock_all()";

// The gated checks' parameter values in text form, palloc'd: session facts (with the settings), volatile reach
// (core/remote_checks.hpp).
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
  memcpy(out.values[0], facts, sizeof(facts));
  memcpy(out.values[1], volatile_reach, sizeof(volatile_reach));
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

// The TimeZone the statement's settings are for: the coordinator session's.
const char* wanted_timezone(const RemoteSession* session) { return session->timezone ? session->timezone : "UTC"; }
int wanted_timeout_ms(const RemoteSession* session) { return Max(session->reply_timeout_ms, 0); }

// The last reset SET the settings this call wants for the session: it needs none of its own.
bool settings_pinned_for(const RemoteSession* session) {
  const ConnectionHistory& history = session->history;
  return history.settings_pinned && history.pinned_timeout_ms == wanted_timeout_ms(session) &&
         strcmp(history.pinned_timezone, wanted_timezone(session)) == 0;
}

bool queue(RemoteSession* session, PipelineKind kind) {
  if (session->pipeline_count >= static_cast<int>(sizeof(session->pipeline_kinds) / sizeof(int))) return false;
  session->pipeline_kinds[session->pipeline_count++] = kind;
  return true;
}

bool send_plain(RemoteSession* session, PipelineKind kind, const char* sql) {
  return PQsendQueryParams(session->conn, sql, 0, nullptr, nullptr, nullptr, nullptr, 0) && queue(session, kind);
}

// The statement's text as ConnectionHistory::one_batch_statement keeps it (never 0, which is none), made once a run.
uint64 statement_hash(RemoteSession* session) {
  if (session->sql_hash == 0) {
    const char* sql = session->sql;
    uint64 hash = hash_bytes_extended(reinterpret_cast<const unsigned char*>(sql), static_cast<int>(strlen(sql)), 0);
    session->sql_hash = hash == 0 ? 1 : hash;
  }
  return session->sql_hash;
}

// The pipeline may end the call too, where the end is just the ROLLBACK and the release of advisory locks
// (kept_reset_sql's text with nothing else to do: no settings to pin or RESET, no dblink or postgres_fdw to close, as
// the unchanged catalog state says), and the statement's first batch is likely its last: its last run on this
// connection ended in one batch. Speculative: a first batch that comes back full runs the statement again.
bool ends_in_pipeline(RemoteSession* session) {
  const ConnectionHistory& history = session->history;
  return session->keep_connection && session->catalog_state_sent && !history.session_settings_set &&
         history.dblink_schema[0] == '\0' && history.fdw_schema[0] == '\0' && history.one_batch_statement != 0 &&
         history.one_batch_statement == statement_hash(session);
}

// A gate's ERROR: the prepared-intact one, or a check's (the marker in its message), or the catalog-unchanged one (its
// division by zero).
bool gate_refused(const RemoteSession* session, bool prepared_intact) {
  int kind = session->pipeline_error_kind;
  const char* sqlstate = PQresultErrorField(session->pipeline_error, PG_DIAG_SQLSTATE);
  if (sqlstate == nullptr) return false;
  if (!prepared_intact && kind == kCatalogUnchanged) return strcmp(sqlstate, kCatalogChangedSqlstate) == 0;
  if (prepared_intact ? kind != kPreparedIntact : kind != kFacts && kind != kVolatileReach) return false;
  const char* primary = PQresultErrorField(session->pipeline_error, PG_DIAG_MESSAGE_PRIMARY);
  return strcmp(sqlstate, kGateSqlstate) == 0 && primary != nullptr && strstr(primary, kGateMarker) != nullptr;
}

}  // namespace

bool pipeline_wanted(const RemoteSession* session) {
  // The gated checks read the catalog state with pg_current_snapshot(), which servers before 13 lack: those take the
  // slower path, whose inline checks ask the same without it.
  return !session->describe_only && session->check_parameters != nullptr && PQserverVersion(session->conn) >= 130000;
}

bool pipeline_send(RemoteSession* session) {
  PGconn* conn = session->conn;
  const ConnectionHistory& history = session->history;
  // Prepared once per server session, on a connection kept over calls whose first call showed no pooler in between
  // (remote.cpp: finish_setup); a new connection (and so one made after a reconnect) sends them unnamed first.
  session->pipeline_prepares = session->keep_connection && session->prepare_checks && !history.checks_prepared &&
                               !history.checks_inline && history.calls > 0;
  bool named = history.checks_prepared || session->pipeline_prepares;
  if (named && session->pipeline_prepares) session->history.prepared_in = PQbackendPID(conn);
  CheckValues values = check_values(session, named ? history.prepared_in : 0);
  if (!values.ok) return false;
  // Only the catalog state the checks last passed under, when this call's parameters are the same (on a kept
  // connection: a worker's keeps nothing between calls), the statement is the user's (multidb's own run with the
  // checks' search_path), and the session is this connection's own with the settings this call wants already SET
  // (no pooler in between: checks_prepared; the last reset pinned them).
  session->checks_digested =
      session->keep_connection &&
      digest_check_values(values, session->allowed_volatile ? session->allowed_volatile : "", session->checks_digest);
  session->catalog_state_sent = session->checks_digested && !session->catalog_search_path &&
                                history.catalog_state[0] != '\0' && history.checks_prepared &&
                                !history.checks_inline && settings_pinned_for(session) &&
                                memcmp(session->checks_digest, history.checks_digest, kChecksDigestBytes) == 0;
  session->checks_executed = named && !session->catalog_state_sent;
  if (!PQenterPipelineMode(conn)) return false;
  session->pipeline_count = 0;
  session->pipeline_step = 0;
  session->pipeline_sent = true;
  session->pipeline_answered = false;
  const char* const* names = gated_statement_names();
  const std::string* texts = gated_statement_texts();
  const GatedParameterTypes* types = gated_parameter_types();
  const GatedCheckQueries& queries = gated_check_queries();
  if (!send_plain(session, kBegin, "BEGIN TRANSACTION READ ONLY")) return false;
  if (session->catalog_state_sent) {
    const char* state[] = {history.catalog_state};
    if (!PQsendQueryParams(conn, queries.catalog_unchanged.c_str(), 1, types[kCatalogUnchangedQuery].types, state,
                           nullptr, nullptr, 0) ||
        !queue(session, kCatalogUnchanged))
      return false;
  } else {
    if (named) {
      // Ours, and only ours, before any is executed or made (a failure here skips the rest, Parse messages too).
      const char* expected[] = {session->pipeline_prepares ? "0" : psprintf("%d", kGatedStatements)};
      if (!PQsendQueryParams(conn, queries.prepared_intact.c_str(), 1, types[kPreparedIntactQuery].types, expected,
                             nullptr, nullptr, 0) ||
          !queue(session, kPreparedIntact))
        return false;
    }
    if (session->pipeline_prepares) {
      for (int i = 0; i < kGatedStatements; i++)
        if (!PQsendPrepare(conn, names[i], texts[i].c_str(), types[i].count, types[i].types) ||
            !queue(session, kParse))
          return false;
    }
    // The facts lower statement_timeout from the session's; a pinned one made for another limit is not that.
    if (history.settings_pinned && history.pinned_timeout_ms != wanted_timeout_ms(session) &&
        !send_plain(session, kResetSetting, "RESET statement_timeout"))
      return false;
    for (int i = 0; i < kGatedStatements; i++) {
      PipelineKind kind = static_cast<PipelineKind>(kFirstCheck + i);
      bool sent = named ? PQsendQueryPrepared(conn, names[i], types[i].count, values.values[i], nullptr, nullptr, 0)
                        : PQsendQueryParams(conn, texts[i].c_str(), types[i].count, types[i].types, values.values[i],
                                            nullptr, nullptr, 0);
      if (!sent || !queue(session, kind)) return false;
    }
    // The checks ran with search_path = pg_catalog and generic plans; a statement of the user's gets the session's own
    // search_path back, and every statement the session's plan_cache_mode.
    if (!send_plain(session, kResetSetting, "RESET plan_cache_mode")) return false;
    if (!session->catalog_search_path && !send_plain(session, kResetSetting, "RESET search_path")) return false;
  }
  // The exact text the guard judged; from here on it may run, once the checks before it passed.
  session->statement_sent = true;
  if (!send_plain(session, kDeclare, psprintf("DECLARE multidb_rows NO SCROLL CURSOR FOR %s", session->sql)))
    return false;
  // Text: the columns' types are not known yet (later FETCHes honour fetch_result_format).
  if (!send_plain(session, kFirstFetch, psprintf("FETCH %d FROM multidb_rows", session->fetch_size))) return false;
  session->fetch_rows_sent = session->fetch_size;
  // The end, when the first batch is likely the last: the same ROLLBACK and release as the reset's, in the same
  // order, after every row the statement makes (fewer than asked: its cursor is read to the end).
  session->pipeline_ends = ends_in_pipeline(session);
  session->end_released = false;
  if (session->pipeline_ends && (!send_plain(session, kEndRollback, "ROLLBACK") ||
                                 !send_plain(session, kEndRelease, kReleaseAdvisoryLocks)))
    return false;
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
  if (status == PGRES_TUPLES_OK && kind == kEndRelease) session->end_released = PQntuples(result) == 1;
  PQclear(result);  // the commands' own completions, and PGRES_PIPELINE_ABORTED behind an error
  return true;
}

void pipeline_command_done(RemoteSession* session) { session->pipeline_step++; }

namespace {

// The pipeline that ended the call as well. A first batch with fewer rows than asked is all the statement had: it is
// handed on and the call is done, its connection clean (or not kept, when the release did not answer its row). A
// full one may have more behind it, whose cursor the ROLLBACK closed: nothing of it was handed on, and the statement
// runs again on the same connection, its pipeline not ending the call.
RemoteEvent finish_ended_pipeline(RemoteSession* session, PGresult** result) {
  session->pipeline_ends = false;
  if (PQntuples(session->batch) >= session->fetch_rows_sent) {
    ereport(DEBUG1, (errmsg_internal("connection \"%s\": the statement has more rows than one batch now; running it "
                                     "again with its cursor kept open", session->name)));
    PQclear(session->batch);
    session->batch = nullptr;
    session->history.one_batch_statement = 0;
    if (!pipeline_send(session)) return remote_fail(session, ERRCODE_CONNECTION_FAILURE, remote_libpq_message(session));
    remote_command_sent(session);
    return RemoteEvent::kWantRead;
  }
  RemoteEvent event = remote_hand_over_batch(session, result);
  if (event != RemoteEvent::kRows) return event;
  session->query_running = false;
  session->history.session_settings_set = false;
  if (!session->end_released) remote_abandon(session);
  session->phase = RemotePhase::kDone;
  return event;
}

}  // namespace

RemoteEvent pipeline_finish(RemoteSession* session, PGresult** result) {
  *result = nullptr;
  session->query_running = false;
  if (!PQexitPipelineMode(session->conn))
    return remote_fail(session, ERRCODE_PROTOCOL_VIOLATION, "the pipeline ended with results left unread");
  if (session->pipeline_error != nullptr) {
    if (gate_refused(session, true)) {
      // Hidden code of an earlier call left a statement prepared with SQL, or replaced one of ours: nothing of this
      // call ran, and the connection is replaced by a new one (remote.cpp: worth_connecting_anew).
      session->prepared_tampered = true;
      session->statement_sent = false;
      const char* primary = pstrdup(PQresultErrorField(session->pipeline_error, PG_DIAG_MESSAGE_PRIMARY));
      PQclear(session->pipeline_error);
      session->pipeline_error = nullptr;
      return remote_fail(session, ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, primary);
    }
    if (gate_refused(session, false)) {
      // Nothing of the statement ran. The slower path, on the same connection, reports the refusal as before, or runs
      // it when the judgement allows it after all (a gate may be stricter than the judgement).
      const char* primary = session->pipeline_error_kind == kCatalogUnchanged
                                ? kCatalogChanged
                                : PQresultErrorField(session->pipeline_error, PG_DIAG_MESSAGE_PRIMARY);
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
      session->pipeline_ends = false;  // skipped with the rest: the slower path's set-up ROLLBACKs first
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
    const char* during = kind >= kEndRollback ? "ending the remote transaction"
                         : kind >= kDeclare || kind < 0 ? "remote SQL"
                                                        : "session set-up";
    return remote_fail_with_result(session, error, during);
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
  return session->pipeline_ends ? finish_ended_pipeline(session, result) : remote_hand_over_batch(session, result);
}

void pipeline_note_first_batch(RemoteSession* session, bool last) {
  session->history.one_batch_statement = last ? statement_hash(session) : 0;
}

// What ends a call whose connection is to be kept, in one message: the ROLLBACK, then what a statement's hidden code
// (a view's function, a policy) could have left in the session that a ROLLBACK does not undo. Hidden code runs only
// inside the call's READ ONLY transaction, so the ROLLBACK itself undoes its settings (set_config(..., false) too),
// LISTENs, cursors and temporary objects, and READ ONLY refuses CREATE TEMP and nextval (TAP 026 leaves each behind and
// finds it gone); what outlives the ROLLBACK is a session advisory lock, released here, a dblink or postgres_fdw
// connection, closed here, and a prepared statement: not looked for here (the look costs a remote more than the rest
// of a warm call), but before the next pipeline executes or makes a prepared check (core/remote_checks.hpp: prepared
// intact), which replaces the connection when there is one; until then it is inert, since multidb executes nothing
// it did not prepare itself. RESET ALL only when the slower path SET the session's settings outside a transaction
// (its own values, which the next call must not inherit).
//
// Then the statement settings, SET for the session when it does not hold this call's already, on a direct connection:
// the next call that wants the same sends none (pipeline_send), so a warm call's remote changes no setting and
// reports none. Their values are multidb's alone; only this connection's client changes them, and only here and on
// the slower path.
// The history records what is pinned. The last statement's one row says the reset ran to its end.
const char* kept_reset_sql(RemoteSession* session) {
  ConnectionHistory& history = session->history;
  StringInfoData sql;
  initStringInfo(&sql);
  appendStringInfoString(&sql, history.session_settings_set ? "ROLLBACK; RESET ALL; " : "ROLLBACK; ");
  if (history.session_settings_set) history.settings_pinned = false;
  int timeout_ms = wanted_timeout_ms(session);
  // Only on a connection whose server session is its own (it prepared its checks: no pooler in between), where they
  // stay this client's; in a pooler's server session they would reach its other clients.
  bool pin = history.checks_prepared && !settings_pinned_for(session);
  if (pin) {
    const char* timezone = wanted_timezone(session);
    appendStringInfo(&sql,
                     "SET DateStyle = ISO; SET IntervalStyle = postgres; SET extra_float_digits = 3; SET TimeZone = "
                     "%s; SET cursor_tuple_fraction = 1; RESET statement_timeout; ",
                     quote_literal_cstr(timezone));
    history.settings_pinned = true;
    history.pinned_timeout_ms = timeout_ms;
    // A name too long to keep is kept as none: never this call's, so the next call sets its own.
    strlcpy(history.pinned_timezone, strlen(timezone) < sizeof(history.pinned_timezone) ? timezone : "",
            sizeof(history.pinned_timezone));
  }
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
  appendStringInfoString(&sql, kReleaseAdvisoryLocks);
  // statement_timeout lowered (never raised) from the session's own, as the facts do inside a transaction.
  if (pin && timeout_ms > 0)
    appendStringInfo(&sql,
                     ", CASE WHEN pg_catalog.texteq(pg_catalog.current_setting('statement_timeout'), '0') OR "
                     "pg_catalog.interval_gt(CAST(pg_catalog.current_setting('statement_timeout') AS "
                     "pg_catalog.interval), CAST('%d ms' AS pg_catalog.interval)) THEN "
                     "pg_catalog.set_config('statement_timeout', '%d', false) END",
                     timeout_ms, timeout_ms);
  return sql.data;
}

void reset_pending_take_result(RemoteSession* session, PGresult* result) {
  ExecStatusType status = PQresultStatus(result);
  if (!session->rollback_answered) {
    session->rollback_answered = true;  // the ROLLBACK's own result; what follows is the reset's
    if (status != PGRES_COMMAND_OK) session->reset_failed = true;
  } else if (status == PGRES_TUPLES_OK) {
    session->reset_clean = PQntuples(result) == 1;  // the last one's row (postgres_fdw's disconnect makes one too)
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
