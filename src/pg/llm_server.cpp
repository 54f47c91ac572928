#include "pg/llm_server.hpp"

#include <cerrno>

#include "pg/entry_point.hpp"
#include "pg/settings.hpp"

#include <cstdlib>

extern "C" {
#include "access/reloptions.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "utils/acl.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
}

namespace multidb {

namespace {

const char* const kServerOptions[] = {"provider", "url", "model", "timeout", "max_tokens", nullptr};
const char* const kUserMappingOptions[] = {"api_key", nullptr};

bool listed(const char* const* names, const char* name) {
  for (; *names != nullptr; names++)
    if (strcmp(*names, name) == 0) return true;
  return false;
}

const char* default_url(const char* provider) {
  return strcmp(provider, "anthropic") == 0 ? "https://api.anthropic.com" : "https://api.openai.com/v1";
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

// max_tokens: a whole number from 1 to 10,000,000, or -1 if text is none.
long parse_max_tokens(const char* text) {
  char* end;
  errno = 0;
  long value = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 1 || value > 10000000) return -1;
  return value;
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

const char* only_llm_server() {
  SPI_connect();
  SPI_execute("SELECT s.srvname FROM pg_catalog.pg_foreign_server s "
              "JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw "
              "WHERE w.fdwname = 'multidb_llm' ORDER BY 1", true, 0);
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
  SPI_finish();
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
  const char* url = option_value(server->options, "url");
  result.url = url ? url : default_url(result.provider);
  result.model = option_value(server->options, "model");
  if (result.model == nullptr)
    ereport(ERROR, (errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND), errmsg("LLM server \"%s\" names no model", name),
                    errhint("ALTER SERVER %s OPTIONS (ADD model '...');", quote_identifier(name))));
  const char* timeout = option_value(server->options, "timeout");
  result.timeout_ms = timeout ? parse_timeout_ms(name, timeout) : 60000;
  const char* max_tokens = option_value(server->options, "max_tokens");
  result.max_tokens = max_tokens ? static_cast<int>(parse_max_tokens(max_tokens)) : 2048;

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
  const char* const* valid = catalog == ForeignServerRelationId  ? kServerOptions
                             : catalog == UserMappingRelationId ? kUserMappingOptions
                                                                : nullptr;
  const char* where = catalog == ForeignServerRelationId ? "an LLM server" : "an LLM user mapping";
  ListCell* cell;
  foreach (cell, options) {
    DefElem* option = lfirst_node(DefElem, cell);
    if (valid == nullptr)
      ereport(ERROR, (errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
                      errmsg("multidb_llm takes options only on servers and user mappings")));
    if (!listed(valid, option->defname)) {
      bool misplaced = listed(catalog == ForeignServerRelationId ? kUserMappingOptions : kServerOptions, option->defname);
      ereport(ERROR, (errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
                      misplaced ? errmsg("option \"%s\" belongs on the %s, not on %s", option->defname,
                                         catalog == ForeignServerRelationId ? "user mapping" : "server", where)
                                : errmsg("invalid option \"%s\" for %s", option->defname, where),
                      errhint("Valid options on %s: %s.", where,
                              catalog == ForeignServerRelationId ? "provider, url, model, timeout, max_tokens"
                                                                 : "api_key")));
    }
    const char* value = defGetString(option);
    if (strcmp(option->defname, "provider") == 0 && strcmp(value, "openai") != 0 && strcmp(value, "anthropic") != 0)
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unknown LLM provider \"%s\"", value),
                      errhint("Use provider 'openai' (any OpenAI-compatible /chat/completions: OpenAI, Ollama, "
                              "vLLM, llama.cpp, LM Studio) or 'anthropic'.")));
    if (strcmp(option->defname, "timeout") == 0) parse_timeout_ms("(new)", value);
    if (strcmp(option->defname, "max_tokens") == 0 && parse_max_tokens(value) < 0)
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("max_tokens must be a whole number from 1 to 10000000")));
  }
  PG_RETURN_VOID();
}

}  // extern "C"
