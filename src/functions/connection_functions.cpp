// The SQL-callable functions of connections: the multidb wrapper's validator (which libpq options go on a
// server, which on a user mapping, and the superuser-only ones), check_connections (names resolved as a call
// resolves them), and add_connection (a conninfo split into CREATE SERVER and CREATE USER MAPPING, then tried).
#include "core/conn_options.hpp"
#include "fanout/fanout_executor.hpp"
#include "foundation/boundary.hpp"
#include "foundation/connections.hpp"
#include "foundation/entry_point.hpp"

extern "C" {
#include "access/reloptions.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
}

using namespace multidb;

static const char* option_list(OptionPlace place) {
  // A malloc'd copy made inside the C++ scope, taken into palloc'd memory outside it: whole, however long.
  char* list = nullptr;
  CppError error = cpp_call([&] { list = malloc_copy(valid_options_list(place)); });
  raise_cpp_error(error, "listing libpq's connection options");
  return take(list);
}

extern "C" {

MULTIDB_FUNCTION(multidb_fdw_validator) {
  List* options = untransformRelOptions(PG_GETARG_DATUM(0));
  Oid catalog = PG_GETARG_OID(1);
  ListCell* cell;
  foreach (cell, options) {
    DefElem* option = lfirst_node(DefElem, cell);
    OptionPlace place = option_place(option->defname);
    OptionPlace wanted;
    if (catalog == ForeignServerRelationId) {
      wanted = OptionPlace::kServer;
    } else if (catalog == UserMappingRelationId) {
      wanted = OptionPlace::kUserMapping;
    } else {
      ereport(ERROR, (errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
                      errmsg("multidb takes options only on servers and user mappings"),
                      errdetail("Option \"%s\" was given elsewhere.", option->defname)));
    }
    if (place == wanted) {
      if (strcmp(option->defname, "password_required") == 0) {
        bool required = defGetBoolean(option);
        if (!required && !superuser())
          ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                          errmsg("password_required=false is superuser-only")));
      }
      if (strcmp(option->defname, "allow_privileged_role") == 0) {
        bool allowed = defGetBoolean(option);
        if (allowed && !superuser())
          ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                          errmsg("allow_privileged_role=true is superuser-only"),
                          errdetail("It lets multidb send statements as a remote superuser or a role that "
                                    "reaches the server's files, programs or other sessions.")));
      }
      if (strcmp(option->defname, "allow_implicit_volatile") == 0) {
        bool allowed = defGetBoolean(option);
        if (allowed && !superuser())
          ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                          errmsg("allow_implicit_volatile=true is superuser-only"),
                          errdetail("It lets multidb send statements to a database where a cast, an operator, a "
                                    "type or a domain calls a VOLATILE function that may act outside the query.")));
      }
      continue;
    }
    const char* where = catalog == ForeignServerRelationId ? "a server" : "a user mapping";
    if (place == OptionPlace::kServer || place == OptionPlace::kUserMapping)
      ereport(ERROR, (errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
                      errmsg("option \"%s\" belongs on %s, not on %s", option->defname,
                             place == OptionPlace::kServer ? "the server" : "the user mapping", where),
                      errhint("Valid options on %s: %s.", where, option_list(wanted))));
    if (place == OptionPlace::kReserved)
      ereport(ERROR, (errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
                      errmsg("option \"%s\" is set by multidb itself", option->defname)));
    ereport(ERROR, (errcode(ERRCODE_FDW_INVALID_OPTION_NAME), errmsg("invalid option \"%s\"", option->defname),
                    errhint("Valid options on %s: %s.", where, option_list(wanted))));
  }
  PG_RETURN_VOID();
}

static void append_options_clause(StringInfo sql, const OptionList& options) {
  if (options.empty()) return;
  appendStringInfoString(sql, " OPTIONS (");
  for (size_t i = 0; i < options.size(); i++) {
    if (i > 0) appendStringInfoString(sql, ", ");
    appendStringInfo(sql, "%s %s", quote_identifier(options[i].first.c_str()),
                     quote_literal_cstr(options[i].second.c_str()));
  }
  appendStringInfoChar(sql, ')');
}

static void run_ddl(const char* sql) {
  int rc = SPI_execute(sql, false, 0);
  if (rc != SPI_OK_UTILITY) elog(ERROR, "multidb, adding a connection: SPI_execute gave %s", SPI_result_code_string(rc));
}

MULTIDB_FUNCTION(multidb_check_connections) {
  int count;
  resolve_targets(PG_GETARG_ARRAYTYPE_P(0), &count);
  PG_RETURN_VOID();
}

// While add_connection tries a new connection, every error raised says so and how to add it without trying.
static void validation_context(void* arg) {
  errcontext("multidb.add_connection trying connection \"%s\" (nothing of it is kept; validate => false adds it "
             "untried)",
             static_cast<const char*>(arg));
}

// Connects to the new connection as a fan-out does (a resolved target, its guard walls and the remote role's
// checks, the connect timeout) and runs SELECT 1; a failure is an ERROR, which takes the new server and user
// mapping back with the transaction.
static void try_connection(const char* name) {
  ErrorContextCallback callback;
  callback.callback = validation_context;
  callback.arg = const_cast<char*>(name);
  callback.previous = error_context_stack;
  error_context_stack = &callback;

  Datum element = CStringGetTextDatum(name);
  int count;
  RemoteTarget* targets = resolve_targets(construct_array(&element, 1, TEXTOID, -1, false, TYPALIGN_INT), &count);
  TupleDesc desc = CreateTemplateTupleDesc(2);
  TupleDescInitEntry(desc, 1, "source_db", TEXTOID, -1, 0);
  TupleDescInitEntry(desc, 2, "row_data", JSONBOID, -1, 0);
  Tuplestorestate* rows = tuplestore_begin_heap(false, false, work_mem);
  TargetOutcome outcome{};
  FanoutRequest request{};
  request.sql = "SELECT 1";
  request.targets = targets;
  request.target_count = count;
  request.shape = RowShape::kJson;
  request.result_desc = desc;
  request.result = rows;
  request.outcomes = &outcome;
  run_fanout(&request);
  if (outcome.failed) {
    // The fan-out's message starts with the connection's name; this one says that first, and what became of it.
    const char* prefix = psprintf("connection \"%s\": ", name);
    const char* cause = strncmp(outcome.message, prefix, strlen(prefix)) == 0 ? outcome.message + strlen(prefix)
                                                                              : outcome.message;
    ereport(ERROR, (errcode(outcome.sqlstate), errmsg("connection \"%s\" was not added: %s", name, cause),
                    outcome.detail ? errdetail_internal("%s", outcome.detail) : 0,
                    outcome.hint ? errhint("%s Or add it untried: multidb.add_connection(%s, ..., validate => false).",
                                           outcome.hint, quote_literal_cstr(name))
                                 : errhint("Check the conninfo (host, port, dbname, user, password, sslmode); "
                                           "multidb.add_connection(%s, ..., validate => false) adds it without trying.",
                                           quote_literal_cstr(name))));
  }
  tuplestore_end(rows);
  error_context_stack = callback.previous;
}

MULTIDB_FUNCTION(multidb_add_connection) {
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("connection name and conninfo are required")));
  char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  char* conninfo = text_to_cstring(PG_GETARG_TEXT_PP(1));
  char* description = PG_ARGISNULL(2) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(2));
  // validate came in 0.7; before ALTER EXTENSION UPDATE the function has three arguments. NULL tries, as true does.
  bool validate = PG_NARGS() < 4 || PG_ARGISNULL(3) || PG_GETARG_BOOL(3);
  if (name[0] == '\0')
    ereport(ERROR, (errcode(ERRCODE_INVALID_NAME), errmsg("connection name must not be empty")));
  if (name[0] == '@')
    ereport(ERROR, (errcode(ERRCODE_INVALID_NAME), errmsg("connection name \"%s\" starts with @", name),
                    errhint("'@name' means a connection group wherever connections are listed.")));
  if (GetForeignServerByName(name, true) != nullptr)
    ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT), errmsg("connection \"%s\" already exists", name),
                    errhint("multidb.drop_connection(%s) removes it first; or pick another name. "
                            "SELECT * FROM multidb.connections lists them.",
                            quote_literal_cstr(name))));
  SplitConninfo* split = nullptr;
  CppError error = cpp_call([&] { split = new SplitConninfo(split_conninfo(conninfo)); });
  if (error.failed && error.invalid_argument)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("invalid conninfo for connection \"%s\": %s", name, error.message),
                    errhint("Use libpq's form, e.g. 'host=db1 port=5432 dbname=shop user=reader password=...'.")));
  raise_cpp_error(error, "parsing the conninfo");

  StringInfoData create_server, create_mapping;
  initStringInfo(&create_server);
  initStringInfo(&create_mapping);
  PG_TRY();
  {
    appendStringInfo(&create_server, "CREATE SERVER %s FOREIGN DATA WRAPPER multidb", quote_identifier(name));
    append_options_clause(&create_server, split->server);
    appendStringInfo(&create_mapping, "CREATE USER MAPPING FOR CURRENT_USER SERVER %s", quote_identifier(name));
    append_options_clause(&create_mapping, split->user_mapping);
  }
  PG_FINALLY();
  {
    delete split;
  }
  PG_END_TRY();

  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "multidb, adding a connection: SPI_connect failed");
  run_ddl(create_server.data);
  run_ddl(create_mapping.data);
  if (description != nullptr)
    run_ddl(psprintf("COMMENT ON SERVER %s IS %s", quote_identifier(name), quote_literal_cstr(description)));
  if (SPI_finish() != SPI_OK_FINISH) elog(ERROR, "multidb, adding a connection: SPI_finish failed");
  if (validate) {
    CommandCounterIncrement();  // the new server and user mapping, seen by the lookups that resolve it
    try_connection(name);
  }
  PG_RETURN_VOID();
}

}  // extern "C"
