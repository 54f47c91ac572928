// Connection names into everything a libpq connect needs (the contract is in connections.hpp).
#include "foundation/connections.hpp"

#include "foundation/boundary.hpp"
#include "foundation/extension_tables.hpp"
#include "foundation/settings.hpp"

extern "C" {
#include "catalog/pg_foreign_data_wrapper.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "mb/pg_wchar.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
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

// The caller's user mapping for a server, or PUBLIC's, as GetUserMapping() looks them up; false when there is neither.
bool has_user_mapping(Oid user, Oid server) {
  const Oid candidates[2] = {user, InvalidOid};
  for (Oid candidate : candidates) {
    HeapTuple tuple = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(candidate), ObjectIdGetDatum(server));
    if (!HeapTupleIsValid(tuple)) continue;
    ReleaseSysCache(tuple);
    return true;
  }
  return false;
}

// group: the group (without its '@') the name came through, or nullptr when it was named directly; every error
// names it, so that a group whose member was dropped or is not the caller's to use says which group to fix.
RemoteTarget resolve_one(const char* name, const char* group) {
  const char* connection = group ? psprintf("connection \"%s\" of group \"@%s\"", name, group)
                                 : psprintf("connection \"%s\"", name);
  const char* role = GetUserNameFromId(GetUserId(), false);
  ForeignServer* server = GetForeignServerByName(name, true);
  if (server == nullptr) {
    if (group != nullptr)
      ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("%s does not exist", connection),
                      errhint("multidb.alter_group(%s, remove => ARRAY[%s]) takes it out of the group; "
                              "SELECT * FROM multidb.connections lists the connections there are.",
                              quote_literal_cstr(group), quote_literal_cstr(name))));
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("%s does not exist", connection),
                    errhint("Create it with multidb.add_connection(), or list them with "
                            "SELECT * FROM multidb.connections.")));
  }
  ForeignDataWrapper* wrapper = GetForeignDataWrapper(server->fdwid);
  if (!is_accepted_wrapper(wrapper->fdwname))
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                    errmsg("server \"%s\"%s belongs to foreign-data wrapper \"%s\", not to multidb or postgres_fdw",
                           name, group ? psprintf(" of group \"@%s\"", group) : "", wrapper->fdwname)));
  AclResult acl = pg_foreign_server_aclcheck(server->serverid, GetUserId(), ACL_USAGE);
  if (acl != ACLCHECK_OK)
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("permission denied for %s", connection),
                    errhint("The owner of server \"%s\" can run GRANT USAGE ON FOREIGN SERVER %s TO %s.", name,
                            quote_identifier(name), quote_identifier(role))));
  // Postgres's own lookup would say only "user mapping not found for <role>": no server, nothing to do next.
  if (!has_user_mapping(GetUserId(), server->serverid))
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                    errmsg("%s has no user mapping for role \"%s\"", connection, role),
                    errdetail("The user mapping holds the remote user and password a role connects with."),
                    errhint("The owner of server \"%s\" (or the role itself, if it has USAGE on the server) can "
                            "run CREATE USER MAPPING FOR %s SERVER %s OPTIONS (user '...', password '...'); or "
                            "the role adds a connection of its own with multidb.add_connection().",
                            name, quote_identifier(role), quote_identifier(name))));
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
                    errmsg("%s needs a password in the user mapping for role \"%s\"", connection, role),
                    errdetail("Non-superusers must authenticate to remote servers with a password, so that "
                              "nobody borrows the coordinator's own identity."),
                    errhint("ALTER USER MAPPING FOR CURRENT_USER SERVER %s OPTIONS (ADD password '...');",
                            quote_identifier(name))));
  return target;
}

}  // namespace

// classify_option() builds its table on first use; that allocation is the only thing that can throw.
OptionPlace option_place(const char* name) {
  OptionPlace place = OptionPlace::kUnknown;
  CppError error = cpp_call([&] { place = classify_option(name); });
  raise_cpp_error(error, "reading libpq's connection options");
  return place;
}

RemoteTarget* resolve_connection_names(ArrayType* names, int* count) {
  Datum* elements;
  bool* nulls;
  int n;
  deconstruct_array(names, TEXTOID, -1, false, TYPALIGN_INT, &elements, &nulls, &n);
  if (n == 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("no connections given"),
                    errhint("Pass connection names, for example ARRAY['production','backup'], or a group as "
                            "'@name'; SELECT name FROM multidb.connections lists them.")));
  // Expand groups: a connection named directly twice is a mistake; one reached again through a group is
  // simply queried once. Each name remembers the group it came through (nullptr: named directly), for its errors.
  List* expanded = NIL;
  List* origins = NIL;
  List* direct = NIL;
  for (int i = 0; i < n; i++) {
    if (nulls[i])
      ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("connection name %d is NULL", i + 1)));
    char* name = TextDatumGetCString(elements[i]);
    if (name[0] == '@') {
      List* members = group_members(name + 1);
      expanded = list_concat(expanded, members);
      for (int m = 0; m < list_length(members); m++) origins = lappend(origins, name + 1);
      continue;
    }
    ListCell* cell;
    foreach (cell, direct)
      if (strcmp(static_cast<char*>(lfirst(cell)), name) == 0)
        ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT), errmsg("connection \"%s\" is listed twice", name)));
    direct = lappend(direct, name);
    expanded = lappend(expanded, name);
    origins = lappend(origins, nullptr);
  }
  RemoteTarget* targets = static_cast<RemoteTarget*>(palloc0(sizeof(RemoteTarget) * Max(list_length(expanded), 1)));
  int resolved = 0;
  for (int i = 0; i < list_length(expanded); i++) {
    const char* name = static_cast<const char*>(list_nth(expanded, i));
    bool seen = false;
    for (int j = 0; j < resolved; j++) seen |= strcmp(targets[j].name, name) == 0;
    if (!seen) targets[resolved++] = resolve_one(name, static_cast<const char*>(list_nth(origins, i)));
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
