// One remote statement over libpq, as a non-blocking state machine: connect, confirm the session reads SQL as the
// guard did, set the session up and open a READ ONLY transaction while asking the remote about its role, the
// statement's volatile names and what any statement could reach unnamed (core/remote_checks.hpp), read the
// statement's rows through a cursor a batch at a time (or only describe it: remote_describe.hpp), and end the
// transaction with ROLLBACK.
//   - A run sends the set-up, the gated checks, the DECLARE and the first FETCH in one pipeline
//     (remote_pipeline.hpp). When a check's gate refuses there, the slower path (set-up and inline checks in one
//     message, judged here, then DECLARE and FETCH) reports the refusal as it always did, or runs the statement.
//   - A connection to be kept also resets what the call could have left in the session that its ROLLBACK does not undo
//     (advisory locks, dblink's and postgres_fdw's connections; settings only after the slower path's SETs) and checks
//     that nothing else stayed (prepared statements); that answer is read at the connection's next use, and a
//     connection that is not clean then is closed.
// The same machine runs inside a background worker (which waits on its socket) and inside the calling backend when
// no worker slot is free (which waits on many sockets at once). It never raises: failures come back as
// RemoteFailure, so the caller decides between ERROR and WARNING.
#pragma once

#include "foundation/postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "libpq-fe.h"
}

namespace multidb {

struct RemoteFailure {
  int sqlstate;         // a Postgres error code (MAKE_SQLSTATE form)
  const char* message;  // already prefixed with the connection's name
  const char* detail;
  const char* hint;
  const char* context;
  bool refused;  // multidb's own checks refused the statement before it was sent
};

enum class RemotePhase {
  kIdle, kConnecting, kResetPending,  // remote_pipeline.hpp: an earlier call's reset answers, read first
  kPipeline,                          // remote_pipeline.hpp: BEGIN, settings, checks, DECLARE and FETCH sent together
  kSetup, kDeclare, kFetch,
  kDescribePrepare, kDescribe, kDescribePath, kDescribeTypes,  // describe_only (remote_describe.hpp)
  kAllFetched, kRollback, kResetSending,  // a kept connection's reset message, flushed and not awaited
  kDone, kFailed
};

enum class RemoteEvent {
  kWantRead,   // wait until the socket is readable (or the connect deadline passes)
  kWantWrite,  // wait until the socket is writable
  kRows,       // *result holds the next batch (PGRES_TUPLES_OK, maybe no rows, always the columns);
               // the caller PQclears it
  kDone,       // the statement finished; the connection is closed, or kept for remote_release
  kFailed,     // see failure; the connection is closed
};

constexpr int kCatalogStateBytes = 256;  // a longer state (many transactions running on the remote) is not kept
constexpr int kChecksDigestBytes = 32;   // SHA-256
constexpr int kSchemaNameBytes = 64;     // NAMEDATALEN: a schema's name and its NUL
constexpr int kTimezoneBytes = 64;       // a longer TimeZone name is never pinned (the settings go with each call)

// What a kept connection carries from one call to the next besides its socket (connection_pool.hpp).
// A new connection's is ConnectionHistory{}: all zero (no member initializers, so that RemoteSession, which holds
// one, stays trivial for remote_init's memset).
struct ConnectionHistory {
  long calls;            // calls it served
  bool checks_prepared;  // multidb's check statements are prepared in its session (core/remote_checks.hpp)
  bool checks_inline;    // they would not stay prepared there (a pooler in between): send them unnamed
  int prepared_in;       // the pid of the server session that prepared them
  bool reset_pending;    // the last call's ROLLBACK and reset went out unanswered: read them before anything else
  bool session_settings_set;  // the slower path SET settings outside a transaction since the last reset: RESET ALL
  // The catalog state (core/remote_checks.hpp: kCatalogStateKey) under which the gated checks last passed without a
  // warning, and the digest of the parameters they passed with; "" when none. A call with the same parameters sends
  // it, and the remote looks its catalog up again only when its state is another.
  char catalog_state[kCatalogStateBytes];
  unsigned char checks_digest[kChecksDigestBytes];
  char dblink_schema[kSchemaNameBytes];  // the facts' schemas under that state ("": not installed), for the reset
  char fdw_schema[kSchemaNameBytes];
  // The statement settings the last reset SET for the session (remote_pipeline.cpp: kept_reset_sql), with the TimeZone
  // and multidb.statement_timeout they were made for: a call that wants the same needs none of its own.
  bool settings_pinned;
  int pinned_timeout_ms;
  char pinned_timezone[kTimezoneBytes];
  // The hash of the last statement whose first batch was its last (0: none, or it needed more): its next call on this
  // connection may end in its pipeline (remote_pipeline.hpp). A collision costs a second run, never a wrong row.
  uint64 one_batch_statement;
};

struct RemoteSession {
  const char* name;
  const char* const* keywords;
  const char* const* values;
  const char* setup_sql;  // the slower path's session settings and BEGIN READ ONLY, sent in one message with ...
  const char* check_sql;  // ... build_remote_check_sql()'s inline checks for the statement's names
  const char* check_parameters;  // the same names as the gated checks' parameters (nullptr: no pipeline)
  const char* timezone;          // the TimeZone the pipeline's settings set
  bool prepare_checks;           // a kept connection may prepare the gated checks (worth it over calls)
  const char* sql;            // the statement, already judged read-only
  uint64 sql_hash;            // its hash for ConnectionHistory::one_batch_statement, once made (0: not yet)
  const char* allowed_volatile;  // multidb.extra_allowed_volatile_functions as the caller had it
  const char* client_encoding;   // what the remote must report, as the connection asked for it
  bool catalog_search_path;      // multidb's own statement: it runs with the checks' search_path = pg_catalog
  bool describe_only;            // describe the statement instead of running it (remote_describe.hpp)
  bool allow_privileged_role;
  bool allow_implicit_volatile;
  bool require_password;
  int connect_timeout_s;
  int reply_timeout_ms;  // multidb.statement_timeout; 0: no deadline of ours (interrupts still end a wait)
  int fetch_size;        // the first FETCH's rows, and the fewest any asks for
  int fetch_rows_sent;   // the rows the FETCH in flight asks for: fewer came back, the cursor is read to its end
  int batches_handed;    // full batches handed on so far
  TimestampTz fetch_sent_at;  // when the FETCH in flight went out
  double batch_bytes;    // the most a grown batch may take in memory (core/fetch_batch.hpp); remote_init's
                         // kMaxBatchBytes, the caller may lower it
  int fetch_result_format;  // the FETCHes' resultFormat: 0 text (remote_init's), 1 binary; the caller may set it
                            // at any time, and the FETCHes sent after that ask for it

  RemotePhase phase;
  PGresult* batch;  // a FETCH's rows, held until its command completes
  PGresult* answers[3];  // the set-up's answers (session facts, named, implicit; the pipeline's: session facts and the
                         // volatile reach), judged when it completes
  const char* dblink_schema;  // from the session facts: what the reset must close, or nullptr
  const char* fdw_schema;
  bool rollback_answered;  // the ROLLBACK's own result came; what follows is the reset's
  bool reset_clean;        // the reset's last answer came: it ran to its end
  PGconn* conn;
  bool holds_external_fd;
  bool query_running;     // a command is in flight: a cancel request is worth sending
  bool rows_handed_over;  // the last advance returned a batch; the FETCH in flight is owed from the next
  bool keep_connection;   // at the end, keep a clean connection for remote_release instead of closing it
  bool reused;            // the connection came warm from an earlier call (remote_adopt)
  bool statement_sent;    // the DECLARE went out: from here on a failure is never retried
  int described_columns;  // describe_only: the columns the statement was described with
  ConnectionHistory history;  // of the connection, before this call
  bool checks_executed;       // this call's pipeline ran the prepared checks (else it sent them unnamed)
  bool catalog_state_sent;    // it sent history.catalog_state: the checks look only if the remote's state is another
  bool checks_digested;       // checks_digest holds its checks' parameters' digest
  unsigned char checks_digest[kChecksDigestBytes];
  // The pipeline (remote_pipeline.hpp): the kind of each command sent, in order, and how far its results were read.
  int pipeline_kinds[16];
  int pipeline_count;
  int pipeline_step;
  bool pipeline_sent;      // this call's pipeline went out
  bool pipeline_answered;  // a result of it came back: from here on a failure is never retried
  bool pipeline_prepares;  // it prepares the gated checks first
  bool pipeline_ends;      // it also ends the call: the ROLLBACK and the reset's release after the first FETCH
  bool end_released;       // ... and the release answered its row
  bool prepared_tampered;  // its prepared-intact gate refused: the connection is replaced (remote.cpp)
  PGresult* pipeline_error;  // its first error, judged at the sync
  int pipeline_error_kind;
  bool reset_failed;       // an earlier call's pending reset answered with an error
  bool gave_up_waiting;    // no answer within the deadline: never retried
  TimestampTz connect_deadline;
  TimestampTz reply_deadline;  // 0: none
  RemoteFailure failure;
};

struct RemoteStatement {
  const char* setup_sql;
  const char* check_sql;
  const char* sql;
  const char* allowed_volatile;
  bool catalog_search_path;
  bool describe_only;
  const char* check_parameters;  // nullptr: the slower path only (remote_pipeline.hpp)
  const char* timezone;
  bool prepare_checks;
};

// The server options that accept a risk (connections.hpp: RemoteTarget).
struct RemoteRisks {
  bool allow_privileged_role;
  bool allow_implicit_volatile;
};

void remote_init(RemoteSession* session, const char* name, const char* const* keywords,
                 const char* const* values, const RemoteStatement* statement, bool require_password,
                 RemoteRisks risks, int connect_timeout_s, int reply_timeout_ms, int fetch_size);

// Advances as far as possible without blocking.
RemoteEvent remote_advance(RemoteSession* session, PGresult** result);

// A warm connection from an earlier call (connection_pool.hpp), for a session not yet advanced: it skips the
// connect, first reads the earlier call's reset answers when they are pending (and connects anew when they failed or
// show the session not clean), is checked and set up like a new one, and when it turns out dead before anything of
// the pipeline was answered (the remote restarted meanwhile) the session connects anew once. The session takes over its descriptor count.
void remote_adopt(RemoteSession* session, PGconn* conn, ConnectionHistory history);

// After remote_init: the caller took the descriptor count of the connection the session will open
// (AcquireExternalFD), and the session takes it over instead of taking its own.
void remote_hold_descriptor(RemoteSession* session);

// After kDone with keep_connection: the connection, its ROLLBACK and reset sent (their answers pending:
// history->reset_pending, read by the next call), handed to the caller with its descriptor count and *history (its
// calls counting this one); nullptr when it is not clean.
PGconn* remote_release(RemoteSession* session, ConnectionHistory* history);

int remote_socket(const RemoteSession* session);

// Milliseconds until the connect deadline or the deadline of the answer awaited (never negative), or -1
// when there is none now.
long remote_timeout_ms(const RemoteSession* session);

// Cancels a running statement (without waiting on the network) and closes the connection; safe at any
// phase, also inside transaction abort and exit callbacks; never raises, idempotent.
void remote_abandon(RemoteSession* session);

// The connection of a running statement, for a cancel request the caller sends together with others'
// (remote_cancel.hpp: send_cancels_detached), and the session no longer counts it as running (its
// remote_abandon then only closes); nullptr when nothing runs. *deadline_s receives the request's time limit.
PGconn* remote_take_running(RemoteSession* session, int* deadline_s);

// Raises the failure as an ERROR (or at elevel) — for code that has no choice to make.
void report_remote_failure(const RemoteFailure* failure, int elevel);

// A result has at most MaxTupleAttributeNumber columns on any Postgres server: a wider one (from a server
// that is not Postgres) is an ERROR naming the connection.
void check_result_width(const char* connection, int columns);

// The text every ERROR and WARNING about a remote uses: connection "name": message.
const char* remote_message(const char* name, const char* message);

}  // namespace multidb
