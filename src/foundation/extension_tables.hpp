// The one owner of the statements the C++ code runs on multidb's own tables (chat_sessions, chat_messages,
// connection_groups, schema_cache, plan_cache, result_cache; query_history through multidb._record_ask).
// No other C++ file names a multidb table in SQL.
//
// Contract, for every function here:
//   - one statement (or one per element of an argument), through SPI, with its arguments as parameters;
//   - every SPI result checked: SPI_connect, the statement's result code against the one it must give, the
//     row count where one row is expected, SPI_finish; a surprise is an ERROR naming the statement's job;
//   - what it returns is copied into the caller's memory context, never left in SPI's (which SPI_finish
//     frees);
//   - the caches (schema_cache, plan_cache, result_cache) are read and written as the extension's owner:
//     they are multidb's, not the asking role's. Sessions, messages and groups are read as the caller, so
//     that their row-level security applies.
//
// Every other statement the C++ code runs through SPI on Postgres's own catalogs (never on a multidb table) uses
// the same checked calls, declared first below.
//
// Which side writes what: SQL (sql/multidb--*.sql) owns the statements a user calls by name — sessions,
// groups, reports and the history record (multidb._record_ask) — because they are plain SQL with
// constraints and row-level security, and a user can read them in \sf. C++ runs only what the ask's hot
// path needs, and all of it is here.
#pragma once

#include "foundation/postgres.hpp"

extern "C" {
#include "access/tupdesc.h"
#include "nodes/pg_list.h"
#include "utils/array.h"
#include "utils/tuplestore.h"
}

namespace multidb {

// ---- SPI, checked ---------------------------------------------------------------------------------------------

// SPI_connect; anything but SPI_OK_CONNECT is an ERROR naming job.
void connect_spi(const char* job);

// SPI_finish; anything but SPI_OK_FINISH is an ERROR naming job.
void finish_spi(const char* job);

// Runs sql with its nargs parameters; anything but the result code it must give (expected) is an ERROR naming job.
// The rows are SPI's (SPI_tuptable, SPI_processed) until finish_spi. sql is prepared once per backend and text
// (SPI_keepplan) and its plan reused: Postgres's plan cache plans it again after a change to what it reads, to the
// search_path, or to the role where row-level security applies; privileges are checked at every run.
void run_checked(const char* job, const char* sql, int nargs, Oid* types, Datum* args, bool read_only, long limit,
                 int expected);

// ---- sessions, messages, groups (as the caller) ---------------------------------------------------------

// The connections attached to a chat session. ERROR (42704) when the session does not exist or the caller
// cannot see it, (22023) when it has no connection attached.
ArrayType* session_connections(const char* session_id);

// The newest exchanges of a session, oldest first: questions[i] was answered by answers[i].
struct ChatTurns {
  int count;
  const char** questions;
  const char** answers;
};
// The newest `limit` answered exchanges of a session (its asks recorded as ok or partial), oldest first: a
// failed or refused ask stays in chat_messages and query_history but is no context for the LLM.
ChatTurns recent_turns(const char* session_id, int limit);

// '@name' -> the group's connections, in order. ERROR (42704) when there is no such group.
List* group_members(const char* group);

// Every connection the caller may use (multidb.connections' usable rows), by name.
ArrayType* usable_connection_names();

// The connections the caller can ask — USAGE on the server and a user mapping for the role or PUBLIC — as
// "a, b, c" (by name), or nullptr when there is none. For HINTs.
const char* askable_connection_list();

// The same connections, by name, as a text[] (empty when there is none): the one an ask takes when it is the only
// one and multidb.default_connections is empty.
ArrayType* askable_connection_names();

// Whether multidb.query_history takes the status cancelled: the extension is at 0.8 or later (the 0.8 library
// runs under an older version until ALTER EXTENSION multidb UPDATE; a cancelled ask is then recorded as error).
// Remembered by the backend once true, per extension OID.
bool history_takes_cancelled();

// ---- schema_cache (as the extension's owner) ------------------------------------------------------------

// For each name: the fingerprint and catalog version of its cached schema when it is younger than
// ttl_s seconds (nullptr in both otherwise).
void fresh_cached_schemas(const char* const* names, int count, int ttl_s, const char** fingerprints,
                          const char** catalog_versions);

// The cached schema document of a connection, or nullptr.
const char* cached_schema_document(const char* connection);

void store_schema(const char* connection, const char* fingerprint, const char* schema_json);

// The catalog objects of a connection's cached schema into result, as (connection, kind, name, definition).
void put_cached_catalog_objects(const char* connection, Tuplestorestate* result, TupleDesc desc);

// ---- plan_cache and result_cache (as the extension's owner) ---------------------------------------------

// The plan stored under key, or nullptr; with count_hit, its hits counted in this transaction (an ask leaves that to
// its history writer, count_plan_hit: a cached ask's own transaction then writes nothing).
const char* take_cached_plan(const char* key, bool count_hit);
// One more hit, unless another transaction holds the row (then none: it never waits).
void count_plan_hit(const char* key);

void store_plan(const char* key, const char* const* connections, int connection_count, const char* plan_json,
                const char* model);

// The rows stored under key within ttl_s seconds, as (source_db text, row_data jsonb) into result. False
// when nothing is stored; an empty result stored is a hit with no rows.
bool put_cached_results(const char* key, int ttl_s, Tuplestorestate* result, TupleDesc desc);

void store_results(const char* key, const char* rows_json, const char* row_counts_json);

// Empties plan_cache and result_cache.
void clear_caches();

// ---- query_history and chat_messages (through multidb._record_ask) --------------------------------------

// One ask's record (core/history_record.hpp's document) into query_history and, with a session, its
// messages. record_json nullptr only warms the function's plan: nothing is written.
void record_ask(const char* record_json);

}  // namespace multidb
