#include "foundation/connections.hpp"

#include "core/conn_options.hpp"
#include "fanout/connection_pool.hpp"
#include "foundation/boundary.hpp"
#include "foundation/entry_point.hpp"
#include "foundation/extension_tables.hpp"
#include "foundation/settings.hpp"

extern "C" {
#include "access/reloptions.h"
#include "catalog/pg_foreign_data_wrapper.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "mb/pg_wchar.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
}

namespace multidb {

namespace {

struct LibpqDefault {
  const char* keyword;
  const char* value;
};
// TCP keepalives after 30 s idle, every 10 s, 3 lost ones end the connection; unacknowledged data for 60 s
// too (tcp_user_timeout).
constexpr LibpqDefault kDeadPeerDefaults[] = {{"keepalives", "1"},
                                              {"keepalives_idle", "30"},
                                              {"keepalives_interval", "10"},
                                              {"keepalives_count", "3"},
                                              {"tcp_user_timeout", "60000"}};

// classify_option() builds its table on first use; that allocation is the only thing that can throw.
OptionPlace option_place(const char* name) {
  OptionPlace place = OptionPlace::kUnknown;
  CppError error = cpp_call([&] { place = classify_option(name); });
  raise_cpp_error(error, "reading libpq's connection options");
  return place;
}

const char* option_list(OptionPlace place) {
  // A malloc'd copy made inside the C++ scope, taken into palloc'd memory outside it: whole, however long.
  char* list = nullptr;
  CppError error = cpp_call([&] { list = malloc_copy(valid_options_list(place)); });
  raise_cpp_error(error, "listing libpq's connection options");
  return take(list);
}

bool is_accepted_wrapper(const char* fdw_name) {
  return strcmp(fdw_name, "multidb") == 0 || strcmp(fdw_name, "postgres_fdw") == 0;
}

bool user_mapping_requires_password(UserMapping* mapping) {
  if (superuser_arg(mapping->userid)) return false;
  ListCell* cell;
  foreach (cell, mapping->options) {
    DefElem* option = lfirst_node(DefElem, cell);
    if (strcmp(option->defname, "password_required") == 0) return defGetBoolean(option);
  }
  return true;
}

RemoteTarget resolve_one(const char* name) {
  ForeignServer* server = GetForeignServerByName(name, true);
  if (server == nullptr)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("connection \"%s\" does not exist", name),
                    errhint("Create it with multidb.add_connection(), or list them with "
                            "SELECT * FROM multidb.connections.")));
  ForeignDataWrapper* wrapper = GetForeignDataWrapper(server->fdwid);
  if (!is_accepted_wrapper(wrapper->fdwname))
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                    errmsg("server \"%s\" belongs to foreign-data wrapper \"%s\", not to multidb or postgres_fdw",
                           name, wrapper->fdwname)));
  AclResult acl = pg_foreign_server_aclcheck(server->serverid, GetUserId(), ACL_USAGE);
  if (acl != ACLCHECK_OK)
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("permission denied for connection \"%s\"", name),
                    errhint("The owner of server \"%s\" can run GRANT USAGE ON FOREIGN SERVER %s TO %s.", name,
                            quote_identifier(name), quote_identifier(GetUserNameFromId(GetUserId(), false)))));
  UserMapping* mapping = GetUserMapping(GetUserId(), server->serverid);

  List* options = list_concat(list_copy(server->options), mapping->options);
  int capacity = list_length(options) + 4 + lengthof(kDeadPeerDefaults);
  bool wrapper_is_multidb = strcmp(GetForeignDataWrapper(server->fdwid)->fdwname, "multidb") == 0;
  RemoteTarget target{};
  target.name = pstrdup(name);
  target.server_oid = server->serverid;
  target.keywords = static_cast<const char**>(palloc0(sizeof(char*) * capacity));
  target.values = static_cast<const char**>(palloc0(sizeof(char*) * capacity));
  target.connect_timeout_s = connect_timeout_s;
  target.require_password = user_mapping_requires_password(mapping);

  bool has_password = false;
  int n = 0;
  ListCell* cell;
  const char* startup_options = nullptr;
  foreach (cell, options) {
    DefElem* option = lfirst_node(DefElem, cell);
    // postgres_fdw servers carry options of their own (fetch_size, updatable, ...): libpq gets only its own.
    OptionPlace place = option_place(option->defname);
    if (place != OptionPlace::kServer && place != OptionPlace::kUserMapping) continue;
    if (strcmp(option->defname, "allow_privileged_role") == 0 && wrapper_is_multidb)
      target.allow_privileged_role = defGetBoolean(option);
    if (strcmp(option->defname, "allow_implicit_volatile") == 0 && wrapper_is_multidb)
      target.allow_implicit_volatile = defGetBoolean(option);
    if (is_multidb_only_option(option->defname)) continue;
    const char* value = defGetString(option);
    if (strcmp(option->defname, "options") == 0) {
      startup_options = value;
      continue;
    }
    if (strcmp(option->defname, "password") == 0 && value[0] != '\0') has_password = true;
    if (strcmp(option->defname, "connect_timeout") == 0) {
      long seconds = strtol(value, nullptr, 10);  // libpq checks the value itself when it connects
      if (seconds > 0 && seconds <= 3600) target.connect_timeout_s = static_cast<int>(seconds);
    }
    target.keywords[n] = option->defname;
    target.values[n] = value;
    n++;
  }
  // A peer that vanished (a host down, a partition) is noticed by TCP itself, unless the server's options say
  // otherwise; a peer that is there but frozen is what multidb's own deadline per answer is for (remote.cpp).
  for (const auto& setting : kDeadPeerDefaults) {
    bool given = false;
    for (int i = 0; i < n && !given; i++) given = strcmp(target.keywords[i], setting.keyword) == 0;
    if (given) continue;
    target.keywords[n] = setting.keyword;
    target.values[n++] = setting.value;
  }
  target.keywords[n] = "fallback_application_name";
  target.values[n++] = "multidb";
  // The remote must lex a statement as the guard did, from the first byte it reads: pinned in the startup
  // packet (it outranks the remote's role and database settings; a SET would come too late for the
  // set-up's own text) and confirmed from the server's report before anything is sent (remote.cpp).
  // Later -c options win, so the server's own options cannot undo it.
  target.keywords[n] = "options";
  target.values[n++] = psprintf("%s%s-c standard_conforming_strings=on", startup_options ? startup_options : "",
                                startup_options ? " " : "");
  // Values must arrive in this database's encoding: fanout_rows hands them to local input functions.
  target.keywords[n] = "client_encoding";
  target.values[n++] = GetDatabaseEncodingName();

  if (target.require_password && !has_password)
    ereport(ERROR, (errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
                    errmsg("connection \"%s\" needs a password in the user mapping for role \"%s\"", name,
                           GetUserNameFromId(GetUserId(), false)),
                    errdetail("Non-superusers must authenticate to remote servers with a password, so that "
                              "nobody borrows the coordinator's own identity."),
                    errhint("ALTER USER MAPPING FOR CURRENT_USER SERVER %s OPTIONS (ADD password '...');",
                            quote_identifier(name))));
  return target;
}

}  // namespace

RemoteTarget* resolve_targets(ArrayType* names, int* count) {
  // A REVOKE or DROP USER MAPPING another session committed holds from this call on, even inside a transaction
  // (whose catalog caches would otherwise keep the old grant), and the kept connections it affects are closed.
  pool_catch_up_with_catalog();
  Datum* elements;
  bool* nulls;
  int n;
  deconstruct_array(names, TEXTOID, -1, false, TYPALIGN_INT, &elements, &nulls, &n);
  if (n == 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("no connections given"),
                    errhint("Pass connection names, for example ARRAY['production','backup'], or a group as "
                            "'@name'; SELECT name FROM multidb.connections lists them.")));
  // Expand groups: a connection named directly twice is a mistake; one reached again through a group is
  // simply queried once.
  List* expanded = NIL;
  List* direct = NIL;
  for (int i = 0; i < n; i++) {
    if (nulls[i])
      ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("connection name %d is NULL", i + 1)));
    char* name = TextDatumGetCString(elements[i]);
    if (name[0] == '@') {
      expanded = list_concat(expanded, group_members(name + 1));
      continue;
    }
    ListCell* cell;
    foreach (cell, direct)
      if (strcmp(static_cast<char*>(lfirst(cell)), name) == 0)
        ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT), errmsg("connection \"%s\" is listed twice", name)));
    direct = lappend(direct, name);
    expanded = lappend(expanded, name);
  }
  RemoteTarget* targets = static_cast<RemoteTarget*>(palloc0(sizeof(RemoteTarget) * Max(list_length(expanded), 1)));
  int resolved = 0;
  ListCell* cell;
  foreach (cell, expanded) {
    const char* name = static_cast<const char*>(lfirst(cell));
    bool seen = false;
    for (int j = 0; j < resolved; j++) seen |= strcmp(targets[j].name, name) == 0;
    if (!seen) targets[resolved++] = resolve_one(name);
  }
  *count = resolved;
  return targets;
}

const char* describe_targets(const RemoteTarget* targets, int count) {
  StringInfoData text;
  initStringInfo(&text);
  appendStringInfoString(&text, count == 1 ? "connection " : "connections ");
  for (int i = 0; i < count; i++) {
    if (i > 0) appendStringInfoString(&text, i == count - 1 ? " and " : ", ");
    appendStringInfo(&text, "\"%s\"", targets[i].name);
  }
  return text.data;
}

}  // namespace multidb

// ---- SQL-callable: the wrapper's validator and add_connection ---------------------------------------

using namespace multidb;

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
