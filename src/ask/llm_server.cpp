// The multidb_llm wrapper: its validator, and the server an ask uses with its options and API key.
#include "ask/llm_server.hpp"

#include "core/llm_config.hpp"
#include "foundation/boundary.hpp"
#include "foundation/entry_point.hpp"
#include "foundation/extension_tables.hpp"
#include "foundation/settings.hpp"

#include <cstdlib>

extern "C" {
#include "access/reloptions.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "utils/acl.h"
#include "utils/inval.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
}

namespace multidb {

namespace {

const char* const kUserMappingOptions[] = {"api_key", nullptr};

bool listed(const char* const* names, const char* name) {
  for (; *names != nullptr; names++)
    if (strcmp(*names, name) == 0) return true;
  return false;
}

bool server_option(const char* name) {
  bool found = false;
  CppError error = cpp_call([&] {
    for (const std::string& option : llm_server_option_names())
      if (option == name) found = true;
  });
  return !error.failed && found;
}

const char* server_option_list() {
  char* list = nullptr;
  CppError error = cpp_call([&] {
    std::string text;
    for (const std::string& option : llm_server_option_names()) text += (text.empty() ? "" : ", ") + option;
    list = malloc_copy(text);
  });
  raise_cpp_error(error, "listing the LLM server options");
  return take(list);
}

// One option's value checked as the core reads it (the same rules an ask applies): 22023 naming it.
void check_option(const char* where, const char* name, const char* value) {
  CppError error = cpp_call([&] { check_llm_option(name, value); });
  if (error.failed && error.invalid_argument)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("invalid value for option \"%s\" of %s: %s", name, where, error.message),
                    errhint("The provider table of docs/asking.md shows what to set for each service.")));
  raise_cpp_error(error, "checking an LLM server option");
}

constexpr double kMaxTimeoutMs = 24.0 * 3600 * 1000;

// '60s', '2 min', '1500ms' or a bare number of seconds -> milliseconds, more than 0 and at most a day.
long parse_timeout_ms(const char* server, const char* text) {
  char* end;
  double ms;
  double seconds = strtod(text, &end);
  if (end != text && *end == '\0') {
    ms = seconds * 1000;
  } else {
    Interval* interval = DatumGetIntervalP(
        DirectFunctionCall3(interval_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
    ms = (interval->time + (interval->day * (double) USECS_PER_DAY) + interval->month * 30.0 * USECS_PER_DAY) / 1000.0;
  }
  if (!(ms > 0 && ms <= kMaxTimeoutMs))  // also NaN
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("LLM server \"%s\" has a timeout of \"%s\", which is not between 0 and a day", server, text)));
  return static_cast<long>(ms);
}

List* mapping_options(Oid user, Oid server) {
  HeapTuple tuple = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(user), ObjectIdGetDatum(server));
  if (!HeapTupleIsValid(tuple)) return NIL;
  bool is_null;
  Datum options = SysCacheGetAttr(USERMAPPINGUSERSERVER, tuple, Anum_pg_user_mapping_umoptions, &is_null);
  List* result = is_null ? NIL : untransformRelOptions(options);
  ReleaseSysCache(tuple);
  return result;
}

const char* option_value(List* options, const char* name) {
  ListCell* cell;
  foreach (cell, options) {
    DefElem* option = lfirst_node(DefElem, cell);
    if (strcmp(option->defname, name) == 0) return defGetString(option);
  }
  return nullptr;
}

const char* look_up_only_llm_server() {
  const char* job = "finding the LLM server";
  connect_spi(job);
  run_checked(job,
              "SELECT s.srvname FROM pg_catalog.pg_foreign_server s "
              "JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw "
              "WHERE w.fdwname = 'multidb_llm' ORDER BY 1",
              0, nullptr, nullptr, true, 0, SPI_OK_SELECT);
  uint64 count = SPI_processed;
  StringInfoData names;
  initStringInfo(&names);
  const char* only = nullptr;
  for (uint64 i = 0; i < count; i++) {
    char* name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
    appendStringInfo(&names, "%s%s", i > 0 ? ", " : "", name);
    if (count == 1) only = MemoryContextStrdup(TopTransactionContext, name);
  }
  char* listed_names = MemoryContextStrdup(TopTransactionContext, names.data);
  finish_spi(job);
  if (count == 0)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("no LLM server is configured"),
                    errhint("CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm OPTIONS (provider 'openai', "
                            "url 'https://api.openai.com/v1', model 'gpt-4o-mini'); then CREATE USER MAPPING "
                            "FOR PUBLIC SERVER llm OPTIONS (api_key '...').")));
  if (count > 1)
    ereport(ERROR, (errcode(ERRCODE_AMBIGUOUS_PARAMETER),
                    errmsg("%lu LLM servers exist and multidb.llm_server names none", static_cast<unsigned long>(count)),
                    errhint("SET multidb.llm_server to one of: %s.", listed_names)));
  return only;
}

// The one LLM server's name, remembered between asks until pg_foreign_server or pg_foreign_data_wrapper changes (a
// syscache invalidation, as postgres_fdw forgets its connections' servers): every ask without multidb.llm_server
// would otherwise run the catalog query above. Only a single server is remembered: none or several is an
// ERROR, asked again each time.
char* remembered_only_server = nullptr;

void forget_only_server(Datum, int, uint32) {
  if (remembered_only_server != nullptr) pfree(remembered_only_server);
  remembered_only_server = nullptr;
}

const char* only_llm_server() {
  static bool callbacks_registered = false;
  if (!callbacks_registered) {
    CacheRegisterSyscacheCallback(FOREIGNSERVEROID, forget_only_server, 0);
    CacheRegisterSyscacheCallback(FOREIGNDATAWRAPPEROID, forget_only_server, 0);
    callbacks_registered = true;
  }
  if (remembered_only_server == nullptr) {
    const char* name = look_up_only_llm_server();
    remembered_only_server = MemoryContextStrdup(TopMemoryContext, name);
  }
  return pstrdup(remembered_only_server);
}

}  // namespace

LlmServer resolve_llm_server() {
  const char* name = llm_server != nullptr && llm_server[0] != '\0' ? llm_server : only_llm_server();
  ForeignServer* server = GetForeignServerByName(name, true);
  if (server == nullptr || strcmp(GetForeignDataWrapper(server->fdwid)->fdwname, "multidb_llm") != 0)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                    errmsg("LLM server \"%s\" does not exist", name),
                    errhint("multidb.llm_server must name a server of foreign-data wrapper multidb_llm.")));
  if (pg_foreign_server_aclcheck(server->serverid, GetUserId(), ACL_USAGE) != ACLCHECK_OK)
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("permission denied for LLM server \"%s\"", name),
                    errhint("Its owner can GRANT USAGE ON FOREIGN SERVER %s TO the role that asks.",
                            quote_identifier(name))));

  LlmServer result{};
  result.server_name = pstrdup(name);
  const char* provider = option_value(server->options, "provider");
  result.provider = provider ? provider : "openai";
  result.model = option_value(server->options, "model");
  if (result.model == nullptr)
    ereport(ERROR, (errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND), errmsg("LLM server \"%s\" names no model", name),
                    errhint("ALTER SERVER %s OPTIONS (ADD model '...');", quote_identifier(name))));
  const char* timeout = option_value(server->options, "timeout");
  result.timeout_ms = timeout ? parse_timeout_ms(name, timeout) : kDefaultLlmTimeoutMs;
  int count = list_length(server->options);
  result.option_names = static_cast<const char**>(palloc(sizeof(char*) * Max(count, 1)));
  result.option_values = static_cast<const char**>(palloc(sizeof(char*) * Max(count, 1)));
  ListCell* cell;
  foreach (cell, server->options) {
    DefElem* option = lfirst_node(DefElem, cell);
    if (strcmp(option->defname, "timeout") == 0) continue;
    result.option_names[result.option_count] = option->defname;
    result.option_values[result.option_count++] = defGetString(option);
  }

  const char* key = option_value(mapping_options(GetUserId(), server->serverid), "api_key");
  if (key == nullptr) key = option_value(mapping_options(InvalidOid, server->serverid), "api_key");
  if (key == nullptr) key = getenv("MULTIDB_LLM_API_KEY");
  if (key == nullptr)
    key = getenv(strcmp(result.provider, "anthropic") == 0 ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY");
  result.api_key = key ? pstrdup(key) : "";
  return result;
}

}  // namespace multidb

using namespace multidb;

extern "C" {

MULTIDB_FUNCTION(multidb_llm_validator) {
  List* options = untransformRelOptions(PG_GETARG_DATUM(0));
  Oid catalog = PG_GETARG_OID(1);
  if (catalog != ForeignServerRelationId && catalog != UserMappingRelationId && options != NIL)
    ereport(ERROR, (errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
                    errmsg("multidb_llm takes options only on servers and user mappings")));
  const bool on_server = catalog == ForeignServerRelationId;
  const char* where = on_server ? "an LLM server" : "an LLM user mapping";
  ListCell* cell;
  foreach (cell, options) {
    DefElem* option = lfirst_node(DefElem, cell);
    bool valid = on_server ? server_option(option->defname) : listed(kUserMappingOptions, option->defname);
    if (!valid) {
      bool misplaced = on_server ? listed(kUserMappingOptions, option->defname) : server_option(option->defname);
      ereport(ERROR, (errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
                      misplaced ? errmsg("option \"%s\" belongs on the %s, not on %s", option->defname,
                                         on_server ? "user mapping" : "server", where)
                                : errmsg("invalid option \"%s\" for %s", option->defname, where),
                      errhint("Valid options on %s: %s.", where, on_server ? server_option_list() : "api_key")));
    }
    const char* value = defGetString(option);
    if (strcmp(option->defname, "timeout") == 0) parse_timeout_ms("(new)", value);
    else if (on_server) check_option("an LLM server", option->defname, value);
  }
  // The validator sees every option the server will have, so the ones that only make sense together (a
  // provider and its url, Anthropic and the token-limit field) are checked together too.
  if (on_server) {
    const char** names = static_cast<const char**>(palloc(sizeof(char*) * Max(list_length(options), 1)));
    const char** values = static_cast<const char**>(palloc(sizeof(char*) * Max(list_length(options), 1)));
    int count = 0;
    foreach (cell, options) {
      DefElem* option = lfirst_node(DefElem, cell);
      if (strcmp(option->defname, "timeout") == 0) continue;
      names[count] = option->defname;
      values[count++] = defGetString(option);
    }
    CppError error = cpp_call([&] {
      OptionList list;
      for (int i = 0; i < count; i++) list.emplace_back(names[i], values[i]);
      llm_config_from_options(list);
    });
    if (error.failed && error.invalid_argument)
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("these LLM server options do not go together: %s", error.message),
                      errhint("The provider table of docs/asking.md shows what to set for each service.")));
    raise_cpp_error(error, "checking the LLM server options");
  }
  PG_RETURN_VOID();
}

}  // extern "C"
