// The SQL-callable functions of connections: the multidb wrapper's validator (which libpq options go on a
// server, which on a user mapping, and the superuser-only ones), check_connections (names resolved as a call
// resolves them), and add_connection (a conninfo split into CREATE SERVER and CREATE USER MAPPING).
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
#include "executor/spi.h"
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

MULTIDB_FUNCTION(multidb_add_connection) {
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("connection name and conninfo are required")));
  char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  char* conninfo = text_to_cstring(PG_GETARG_TEXT_PP(1));
  char* description = PG_ARGISNULL(2) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(2));
  if (name[0] == '\0')
    ereport(ERROR, (errcode(ERRCODE_INVALID_NAME), errmsg("connection name must not be empty")));
  if (name[0] == '@')
    ereport(ERROR, (errcode(ERRCODE_INVALID_NAME), errmsg("connection name \"%s\" starts with @", name),
                    errhint("'@name' means a connection group wherever connections are listed.")));

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
  PG_RETURN_VOID();
}

}  // extern "C"
