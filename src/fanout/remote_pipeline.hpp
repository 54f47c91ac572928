// One round trip before the first rows: a run's set-up, checks, DECLARE and first FETCH sent together in libpq's
// pipeline mode (extended protocol, one statement per message), then one Sync:
//   BEGIN TRANSACTION READ ONLY; where the checks run prepared, the gated prepared-intact statement (no statement
//   prepared with SQL, and only multidb's), then [PARSE of the two gated checks, once per server session, on a kept
//   direct connection]; [RESET statement_timeout, when the session's was pinned for another limit]; the gated session
//   facts, whose row also applies the settings (set_config, with search_path pinned and generic plans for the next
//   check); the gated volatile reach (core/remote_checks.hpp: each check raises an ERROR on the remote when its rows
//   would be refused, so the server skips the rest of the pipeline and the statement is never DECLAREd); RESET
//   plan_cache_mode; RESET search_path (not for multidb's own statements); DECLARE multidb_rows ... FOR <the
//   statement the guard judged>; FETCH <fetch_size> (text).
//   Or, on a kept connection whose checks last passed without a warning with this call's parameters, and whose
//   session holds this call's settings already (the last reset pinned them): BEGIN; the gated catalog-unchanged
//   statement alone, unnamed (an ERROR when the remote's catalog state is not the one they passed under, and the
//   call goes the slower way); DECLARE; FETCH; and, when the statement's last run on the connection ended in one batch
//   and the reset would be just the ROLLBACK and the release of advisory locks, those two as well (pipeline_ends: the
//   call in one round trip; a full first batch runs the statement again, the usual way).
// The checks take the statement's names, the allowlist and the server options as parameters, never spliced. They run
// as named prepared statements only on a connection whose server session is libpq's own (PQbackendPID equals the
// server's pg_backend_pid(): no pooler in between), and the facts' gate also refuses when the server session is not
// the one that prepared them; elsewhere they go unnamed, gated all the same.
// At the sync: the prepared-intact gate's refusal replaces the connection (nothing ran); another gate's refusal
// (recognised by the command that failed and the gate's marker) rolls back and takes the slower path on the same connection (the set-up and inline checks in one message, judged in C++), which reports the
// refusal exactly as before — or runs the statement, when the judgement allows it after all. A pipeline that passed
// is judged in C++ too (warnings, the schemas the reset needs, and a second wall: a refusal there fails the call and
// closes the connection). Any other error is the call's, and closes the connection.
//
// Also here: a kept connection's reset after a call, its text and its answers, which the call did not wait for (the
// next one reads them first: kResetPending).
//
// remote.cpp's state machine calls these; the remote_* functions below are remote.cpp's.
#pragma once

#include "fanout/remote.hpp"

namespace multidb {

// The run takes the pipeline (not describe_only, its check parameters are there, and the server is 13 or later).
bool pipeline_wanted(const RemoteSession* session);

// Enters pipeline mode and queues everything up to the Sync (phase kPipeline). False when libpq could not.
bool pipeline_send(RemoteSession* session);

// A result of the pipeline: kept or judged at the sync. False when it is the sync (the caller calls pipeline_finish).
bool pipeline_take_result(RemoteSession* session, PGresult* result);

// libpq moved to the next command's results.
void pipeline_command_done(RemoteSession* session);

// After the sync: the first batch (kRows), or a failure, or kWantRead when the slower path's message went out (or
// the statement's again, when a pipeline that ended the call found more rows than one batch).
RemoteEvent pipeline_finish(RemoteSession* session, PGresult** result);

// The statement's first batch was handed on: whether it was its last, kept in the history for its next call.
void pipeline_note_first_batch(RemoteSession* session, bool last);

// What ends a call whose connection is to be kept, sent in one message and not awaited: the ROLLBACK, what the
// call's hidden code could have left that a ROLLBACK does not undo, the statement settings pinned for the session
// when it does not hold this call's (recorded in the history), and a row saying the reset ran to its end.
const char* kept_reset_sql(RemoteSession* session);

// The earlier call's ROLLBACK and reset, answered: their results, then whether all of it ran.
void reset_pending_take_result(RemoteSession* session, PGresult* result);
bool reset_pending_clean(const RemoteSession* session);

// remote.cpp's, shared with remote_pipeline.cpp.
RemoteEvent remote_fail_with_result(RemoteSession* session, PGresult* result, const char* during);
bool remote_send_setup_after_gate(RemoteSession* session);
RemoteEvent remote_hand_over_batch(RemoteSession* session, PGresult** result);
const char* remote_libpq_message(RemoteSession* session);

}  // namespace multidb
