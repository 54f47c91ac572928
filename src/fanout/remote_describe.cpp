// The describe mode of one remote statement: prepare, describe, name the types there (remote_describe.hpp).
#include "fanout/remote_describe.hpp"

extern "C" {
#include "access/htup_details.h"
#include "lib/stringinfo.h"
}

namespace multidb {

namespace {

// The types named where they are defined, with the remote's search_path = pg_catalog (set before it, SET LOCAL):
// five arrays (names, type OIDs, typmods, and the table and column each column comes from, 0 for none) as bind
// parameters, one row per column in order. A column's type is what its rows arrive as, except a column taken
// straight from a table's column of a domain over that type: the protocol describes it as the domain's base
// type, and its type is the domain.
constexpr const char* kTypesSql =
    "SELECT c.column_name, COALESCE(d.atttypid, c.type_oid) AS type_oid, "
    "COALESCE(d.atttypmod, c.typmod) AS typmod, "
    "pg_catalog.format_type(COALESCE(d.atttypid, c.type_oid), COALESCE(d.atttypmod, c.typmod)) "
    "AS type_name, c.type_oid AS wire_type_oid "
    "FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]), pg_catalog.unnest($2::pg_catalog.oid[]), "
    "pg_catalog.unnest($3::pg_catalog.int4[]), pg_catalog.unnest($4::pg_catalog.oid[]), "
    "pg_catalog.unnest($5::pg_catalog.int2[])) WITH ORDINALITY AS c(column_name, type_oid, typmod, tab, col, n) "
    "LEFT JOIN LATERAL (SELECT a.atttypid, a.atttypmod FROM pg_catalog.pg_attribute a "
    "JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) a.atttypid "
    "WHERE a.attrelid OPERATOR(pg_catalog.=) c.tab AND a.attnum OPERATOR(pg_catalog.=) c.col "
    "AND t.typtype OPERATOR(pg_catalog.=) 'd' AND t.typbasetype OPERATOR(pg_catalog.=) c.type_oid) d ON true "
    "ORDER BY c.n";

// A text[] literal: every element double-quoted, its quotes and backslashes escaped.
void append_quoted_element(StringInfo array, const char* value) {
  appendStringInfoChar(array, '"');
  for (const char* p = value; *p != '\0'; p++) {
    if (*p == '"' || *p == '\\') appendStringInfoChar(array, '\\');
    appendStringInfoChar(array, *p);
  }
  appendStringInfoChar(array, '"');
}

bool send_types_query(RemoteSession* session) {
  const PGresult* described = session->batch;
  StringInfoData names, types, typmods, tables, columns;
  initStringInfo(&names);
  initStringInfo(&types);
  initStringInfo(&typmods);
  initStringInfo(&tables);
  initStringInfo(&columns);
  int n = PQnfields(described);
  session->described_columns = n;
  for (int c = 0; c < n; c++) {
    const char* separator = c > 0 ? "," : "";
    appendStringInfoString(&names, separator);
    append_quoted_element(&names, PQfname(described, c));
    appendStringInfo(&types, "%s%u", separator, PQftype(described, c));
    appendStringInfo(&typmods, "%s%d", separator, PQfmod(described, c));
    appendStringInfo(&tables, "%s%u", separator, PQftable(described, c));
    appendStringInfo(&columns, "%s%d", separator, PQftablecol(described, c));
  }
  const char* values[5] = {psprintf("{%s}", names.data), psprintf("{%s}", types.data), psprintf("{%s}", typmods.data),
                           psprintf("{%s}", tables.data), psprintf("{%s}", columns.data)};
  PQclear(session->batch);
  session->batch = nullptr;
  return PQsendQueryParams(session->conn, kTypesSql, 5, nullptr, values, nullptr, nullptr, 0);
}

}  // namespace

bool describe_send_prepare(RemoteSession* session) {
  session->statement_sent = true;  // from here on, a failure is never retried on a new connection
  if (!PQsendPrepare(session->conn, "", session->sql, 0, nullptr)) return false;
  session->phase = RemotePhase::kDescribePrepare;
  remote_command_sent(session);
  return true;
}

bool describe_take_result(RemoteSession* session, PGresult* result) {
  ExecStatusType status = PQresultStatus(result);
  bool kept = (session->phase == RemotePhase::kDescribe && status == PGRES_COMMAND_OK) ||
              (session->phase == RemotePhase::kDescribeTypes && status == PGRES_TUPLES_OK);
  if (!kept || session->batch != nullptr) return false;
  session->batch = result;
  return true;
}

RemoteEvent describe_next(RemoteSession* session, PGresult** result) {
  bool sent = true;
  switch (session->phase) {
    case RemotePhase::kDescribePrepare:
      sent = PQsendDescribePrepared(session->conn, "");
      session->phase = RemotePhase::kDescribe;
      break;
    case RemotePhase::kDescribe:
      if (session->batch == nullptr) return remote_fail(session, ERRCODE_PROTOCOL_VIOLATION, "the statement was not described");
      if (PQnfields(session->batch) > MaxTupleAttributeNumber)
        return remote_fail(session, ERRCODE_TOO_MANY_COLUMNS,
                           psprintf("the result has %d columns, more than the %d a row can hold",
                                    PQnfields(session->batch), MaxTupleAttributeNumber));
      sent = PQsendQuery(session->conn, "SET LOCAL search_path = pg_catalog, pg_temp");
      session->phase = RemotePhase::kDescribePath;
      break;
    case RemotePhase::kDescribePath:
      sent = send_types_query(session);
      session->phase = RemotePhase::kDescribeTypes;
      break;
    case RemotePhase::kDescribeTypes:
      // One row per described column, no more: a server that sends more is not answering this query.
      if (session->batch == nullptr || PQnfields(session->batch) != kDescribedColumns ||
          PQntuples(session->batch) != session->described_columns)
        return remote_fail(session, ERRCODE_PROTOCOL_VIOLATION, "the remote did not name the described types");
      *result = session->batch;
      session->batch = nullptr;
      session->phase = RemotePhase::kAllFetched;
      session->rows_handed_over = true;
      return RemoteEvent::kRows;
    default:
      return remote_fail(session, ERRCODE_INTERNAL_ERROR, "describing: an unexpected phase");
  }
  if (!sent) return remote_fail(session, ERRCODE_CONNECTION_FAILURE, pchomp(PQerrorMessage(session->conn)));
  remote_command_sent(session);
  return RemoteEvent::kWantRead;
}

}  // namespace multidb
