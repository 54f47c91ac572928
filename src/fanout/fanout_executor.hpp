// The calling backend's side of a fan-out: starts one background worker per target (at most
// multidb.max_workers at once; when no worker slot is free, runs the target in this backend with
// async libpq), collects the rows as they arrive, and puts them in the result tuplestore in
// connection order. Its waits are interruptible; on any error or cancel, the workers are terminated
// and the remote statements cancelled.
#pragma once

#include "foundation/connections.hpp"

extern "C" {
#include "access/tupdesc.h"
#include "utils/tuplestore.h"
}

namespace multidb {

enum class RowShape {
  kJson,       // (source_db text, row_data jsonb)
  kTyped,      // (source_db text, <the caller's columns>), values through their input functions
  kPerTarget,  // no common result: each target's rows in a tuplestore of its own, typed as the remote
               // columns (built-in types as they are, any other type as text), handed back in outcomes
};

// How one target ended, when the caller asked to collect failures instead of raising them.
struct TargetOutcome {
  bool failed;
  bool refused;           // multidb's checks on that remote refused it before it was sent
  int sqlstate;
  const char* message;
  const char* detail;     // the error's DETAIL and HINT, or nullptr
  const char* hint;
  int64 rows;
  double elapsed_ms;
  // Every shape: the result's columns as the remote described them (column_count 0 when none arrived), its own
  // types by their OID there (is_remote_own_type, below)
  int column_count;
  const char* const* column_names;
  const Oid* column_types;
  // kPerTarget only, when the target did not fail: its columns (unique names) and its rows
  TupleDesc columns;
  Tuplestorestate* rows_store;
};

struct FanoutRequest {
  const char* sql;             // already judged read-only; the same for every target ...
  const char* const* sqls;     // ... unless this gives one statement per target
  const RemoteTarget* targets;
  int target_count;
  RowShape shape;
  TupleDesc result_desc;       // not for kPerTarget
  Tuplestorestate* result;     // receives every row; not for kPerTarget
  TargetOutcome* outcomes;     // target_count entries: filled in; failures collected, not raised. Optional
                               // except for kPerTarget
  bool report_progress;        // multidb.progress events for its targets (a call's own statements, not multidb's
                               // reads of the remotes' catalogs): fanout/progress.hpp
  bool catalog_search_path;    // multidb's own statement reading the remote's catalog: it runs with search_path =
                               // pg_catalog, pg_temp, so that no object of the remote role's schemas stands in
  bool describe_only;          // describe the statement on each target instead of running it (remote_describe.hpp):
                               // each target's rows are (column_name text, type_oid oid, typmod integer,
                               // type_name text, wire_type_oid oid), one per column of its statement, the type
                               // named by the remote
};

// The targets of a call: a REVOKE or DROP USER MAPPING another session committed holds from this call on, even
// inside a transaction (whose catalog caches would otherwise keep the old grant), and the kept connections it
// affects are closed (pool_catch_up_with_catalog); then every name is resolved (resolve_connection_names,
// connections.hpp).
RemoteTarget* resolve_targets(ArrayType* names, int* count);

// Every statement is judged here by the guard, as the exact text each remote receives (whatever the caller
// judged before), and its names go to that remote's own check. A refusal is always an ERROR, even with
// multidb.on_error = warn; with outcomes, a target refused by its remote comes back as refused.
void run_fanout(const FanoutRequest* request);

// The catalog questions asked of a remote with its session set-up before sql is sent there (the guard
// judges sql first and raises if it refuses it): core/remote_checks.hpp's two statements for its names.
const char* remote_check_sql_for(const char* sql);

// row_data under the fan-out's typing rules, for rows made here (a combine step's): a row given as text
// values (nullptr for NULL) of columns with these names and types becomes one jsonb object.
struct JsonRowLayout;
JsonRowLayout* json_row_layout(TupleDesc columns);
Datum json_row(const JsonRowLayout* layout, char* const* values);

// The type here of a column of a remote's own result, as RowShape::kPerTarget (and so a combine step's table) has it:
// a built-in type as it is (no typmod), any other, or one whose input reads this server's catalog, as text.
Oid local_column_type(Oid remote_type);

// How messages name a remote column's type. A built-in type has the same OID on every server and is named; any
// other — an enum, a domain, an extension's type — is the remote's own, of which only its OID on that remote came
// (naming it would take another round trip): "a type of the remote's own (OID 16394)".
bool is_remote_own_type(Oid type);
const char* remote_type_name(Oid type);
const char* describe_remote_column(const char* name, Oid type);  // "id integer", "status (a type of ...)"
// The HINT for columns of the remote's own types: cast them to text in the statement; nullptr when there is none.
const char* own_type_hint(const char* const* names, const Oid* types, int count);

}  // namespace multidb
