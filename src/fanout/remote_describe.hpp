// The describe mode of one remote statement (RemoteSession::describe_only): after the same connect, set-up, READ
// ONLY transaction and checks as a run, the statement is prepared as the unnamed statement and described, never
// executed; then one query names the described types on the remote (format_type with search_path = pg_catalog, so
// a type outside pg_catalog comes back schema-qualified, as postgres_fdw's IMPORT FOREIGN SCHEMA reads them; a
// column straight from a table's column of a domain is of the domain). Its rows (column_name text, type_oid oid,
// typmod integer, type_name text, wire_type_oid oid: the type its values arrive as), one per column in order, are the
// statement's one batch; the transaction ends with ROLLBACK as a run's does, and the next simple query drops the
// unnamed statement, so a kept connection stays clean.
//
// remote.cpp's state machine calls these in the describe phases; fail and command_sent are remote.cpp's.
#pragma once

#include "fanout/remote.hpp"

namespace multidb {

// The columns of a description's rows (remote_describe.cpp's query).
constexpr int kDescribedColumns = 5;

// After the set-up was judged: prepare the statement (instead of DECLARE). False when libpq could not send it.
bool describe_send_prepare(RemoteSession* session);

// A describe phase's result that is not an error: kept in session->batch (the description, then the types'
// rows). False when the result is not one of those (the caller judges it as usual).
bool describe_take_result(RemoteSession* session, PGresult* result);

// A describe phase's command completed: send the next one, or hand over the rows (kRows, *result set).
// kWantRead when the next command went out.
RemoteEvent describe_next(RemoteSession* session, PGresult** result);

// remote.cpp's, shared with remote_describe.cpp.
RemoteEvent remote_fail(RemoteSession* session, int sqlstate, const char* message);
void remote_command_sent(RemoteSession* session);

}  // namespace multidb
