#include "foundation/settings.hpp"

#include "core/llm_call.hpp"
#include "core/repair_error.hpp"
#include "foundation/boundary.hpp"

#include <climits>

extern "C" {
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/varlena.h"
}

namespace multidb {

int max_workers = 8;
int remote_statement_timeout_ms = 5 * 60 * 1000;
int max_statement_timeout_ms = 0;
int connect_timeout_s = 10;
int fetch_size = 1000;
int on_error = static_cast<int>(OnError::kError);
char* extra_denied_functions = nullptr;
char* extra_allowed_volatile_functions = nullptr;
char* llm_server = nullptr;
int schema_ttl_s = 3600;
int max_prompt_tables = 60;
int history_turns = 5;
int max_repairs = 1;
int result_cache_ttl_s = 0;
int llm_max_reply_kb = 4096;
int llm_retries = kDefaultLlmRetries;
bool prompt_common_values = true;
bool keep_connections = true;
int max_connections_per_host = 0;
int idle_connection_timeout_ms = 300000;
int repair_error_detail = static_cast<int>(RepairErrorDetail::kMasked);
char* default_connections = nullptr;
bool progress = false;

namespace {

// multidb.default_connections is written as search_path is: names separated by commas, double-quoted where they
// are not lower-case (SplitIdentifierString's rules), a group as '@name'. Only the syntax is checked here: the
// connections are looked up, and USAGE checked, when an ask uses them (a role's setting is read at its log-in,
// when its connections may not exist yet).
bool parse_default_connections(const char* value, List** names, const char** problem) {
  char* copy = pstrdup(value ? value : "");
  *names = NIL;
  if (!SplitIdentifierString(copy, ',', names)) {
    *problem = "it is not a list of names separated by commas (double-quote a name that holds a comma, a space, a "
               "quote or upper-case letters)";
    return false;
  }
  if (list_length(*names) > kMaxDefaultConnections) {
    *problem = psprintf("it lists %d names, more than the %d it may", list_length(*names), kMaxDefaultConnections);
    return false;
  }
  ListCell* cell;
  foreach (cell, *names) {
    const char* name = static_cast<const char*>(lfirst(cell));
    if (name[0] == '\0' || strcmp(name, "@") == 0) {
      *problem = "it holds an empty name";
      return false;
    }
    if (name[0] == '@' && name[1] == '@') {
      *problem = psprintf("\"%s\" is no name: a group is written '@name', once", name);
      return false;
    }
  }
  return true;
}

bool check_default_connections(char** newval, void** /*extra*/, GucSource /*source*/) {
  List* names;
  const char* problem = nullptr;
  if (parse_default_connections(*newval, &names, &problem)) return true;
  GUC_check_errdetail("%s.", problem);
  GUC_check_errhint("For example: SET multidb.default_connections = 'production, @tenants'.");
  return false;
}

}  // namespace

List* default_connection_names() {
  List* names;
  const char* problem = nullptr;
  if (!parse_default_connections(default_connections, &names, &problem))
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("multidb.default_connections is not a list of connections: %s", problem)));
  return names;
}

static const struct config_enum_entry on_error_options[] = {
    {"error", static_cast<int>(OnError::kError), false},
    {"warn", static_cast<int>(OnError::kWarn), false},
    {nullptr, 0, false},
};

static const struct config_enum_entry repair_error_detail_options[] = {
    {"full", static_cast<int>(RepairErrorDetail::kFull), false},
    {"masked", static_cast<int>(RepairErrorDetail::kMasked), false},
    {"sqlstate", static_cast<int>(RepairErrorDetail::kSqlstate), false},
    {nullptr, 0, false},
};

// A list of name patterns a superuser extends with a setting: List is built from the built-in patterns plus
// the setting's, once per backend, and rebuilt by the setting's assign hook. Never freed while in use: assign
// hooks run between statements.
template <typename List, std::vector<std::string> (*Parse)(std::string_view)>
struct PatternSetting {
  static List* current;

  static bool check(char** newval, void** /*extra*/, GucSource /*source*/) {
    const char* value = *newval ? *newval : "";
    CppError error = cpp_call([&] { Parse(value); });
    if (error.failed) {
      GUC_check_errdetail("%s", error.out_of_memory ? "out of memory" : error.message);
      return false;
    }
    return true;
  }

  static void assign(const char* newval, void* /*extra*/) {
    const char* value = newval ? newval : "";
    List* rebuilt = nullptr;
    CppError error = cpp_call([&] { rebuilt = new List(Parse(value)); });
    if (error.failed) return;  // out of memory: keep the previous list; the check hook accepted the syntax
    delete current;
    current = rebuilt;
  }

  static const List& get(const char* what) {
    if (current == nullptr) {
      CppError error = cpp_call([&] { current = new List(); });
      raise_cpp_error(error, what);
    }
    return *current;
  }
};

template <typename List, std::vector<std::string> (*Parse)(std::string_view)>
List* PatternSetting<List, Parse>::current = nullptr;

using DeniedFunctions = PatternSetting<FunctionDenylist, parse_function_patterns>;
using AllowedVolatileFunctions = PatternSetting<VolatileAllowlist, parse_allowlist_patterns>;

const FunctionDenylist& current_denylist() { return DeniedFunctions::get("building the list of denied functions"); }

const VolatileAllowlist& current_volatile_allowlist() {
  return AllowedVolatileFunctions::get("building the list of allowed volatile functions");
}

int effective_statement_timeout_ms() {
  if (max_statement_timeout_ms <= 0) return remote_statement_timeout_ms;
  if (remote_statement_timeout_ms <= 0) return max_statement_timeout_ms;
  return Min(remote_statement_timeout_ms, max_statement_timeout_ms);
}

void define_settings() {
  DefineCustomIntVariable("multidb.max_workers",
                          "Most background workers one multidb call runs at once; further targets queue.",
                          "0 runs every target inside the calling backend instead.", &max_workers, 8, 0, 1024, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("multidb.statement_timeout", "Longest a remote statement may run.",
                          "The remote session's own statement_timeout is lowered to it, never raised. 0: no limit "
                          "of multidb's (the remote's own still holds).",
                          &remote_statement_timeout_ms, 5 * 60 * 1000, 0, INT_MAX, PGC_USERSET, GUC_UNIT_MS, nullptr,
                          nullptr, nullptr);
  DefineCustomIntVariable("multidb.max_statement_timeout",
                          "Most that multidb.statement_timeout may be; a role cannot turn it off or above.",
                          "0: no cap.", &max_statement_timeout_ms, 0, 0, INT_MAX, PGC_SUSET, GUC_UNIT_MS, nullptr,
                          nullptr, nullptr);
  DefineCustomIntVariable("multidb.connect_timeout",
                          "Longest wait for a remote connection, unless its server sets connect_timeout.",
                          nullptr, &connect_timeout_s, 10, 1, 3600, PGC_USERSET, GUC_UNIT_S, nullptr, nullptr,
                          nullptr);
  DefineCustomIntVariable("multidb.fetch_size",
                          "Rows of the first read from a remote cursor, and the fewest of any other.",
                          "Later reads grow while their rows are small, to about 1 MB each. Larger batches cost fewer "
                          "round trips and more memory per connection.", &fetch_size,
                          1000, 1, 1000000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomEnumVariable("multidb.on_error", "What a failed remote database does to the whole call.",
                           "error: the call fails; warn: a WARNING names it and the other rows are returned.",
                           &on_error, static_cast<int>(OnError::kError), on_error_options, PGC_USERSET, 0,
                           nullptr, nullptr, nullptr);
  DefineCustomStringVariable("multidb.extra_denied_functions",
                             "More function-name patterns the read-only guard refuses ('*' matches anything).",
                             "Comma-separated, added to the built-in list; see multidb.denied_functions().",
                             &extra_denied_functions, "", PGC_SUSET, 0, DeniedFunctions::check,
                             DeniedFunctions::assign, nullptr);
  DefineCustomStringVariable(
      "multidb.extra_allowed_volatile_functions",
      "More volatile functions a remote statement may call ('*' matches anything; name or schema.name).",
      "Comma-separated, added to the built-in list; see multidb.allowed_volatile_functions(). Only for functions "
      "that change nothing and reach nothing outside the query.",
      &extra_allowed_volatile_functions, "", PGC_SUSET, 0, AllowedVolatileFunctions::check,
      AllowedVolatileFunctions::assign, nullptr);
  DefineCustomStringVariable("multidb.llm_server", "The multidb_llm server that plans asks.",
                             "Empty: the only multidb_llm server there is. Never a key: keys live in user mappings.",
                             &llm_server, "", PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("multidb.schema_ttl", "How long a connection's cached schema is used before it is re-read.",
                          nullptr, &schema_ttl_s, 3600, 0, INT_MAX, PGC_USERSET, GUC_UNIT_S, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("multidb.max_prompt_tables",
                          "Most tables the prompt shows; beyond, the ones most relevant to the question.", nullptr,
                          &max_prompt_tables, 60, 1, 100000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("multidb.max_connections_per_host",
                          "Most remote connections open at once to one remote cluster (the address and port connected to).",
                          "In use or kept idle. Calls beyond it wait their turn. 0: no bound. Counted across the "
                          "whole server when multidb is in shared_preload_libraries, else per session.",
                          &max_connections_per_host, 0, 0, 10000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  DefineCustomBoolVariable("multidb.keep_connections", "Keep remote connections open between calls.",
                           "Targets then run in the calling backend, and a connection whose call ended cleanly is "
                           "reused by the next call for the same server and user mapping.",
                           &keep_connections, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("multidb.idle_connection_timeout", "How long a kept connection may stay idle.",
                          "Closed at this backend's next call after that, or while a transaction of it runs, within "
                          "a fraction of a second.", &idle_connection_timeout_ms, 300000, 1,
                          INT_MAX, PGC_USERSET, GUC_UNIT_MS, nullptr, nullptr, nullptr);
  DefineCustomBoolVariable("multidb.prompt_common_values", "Whether the prompt shows the few values of short text columns.",
                           "Up to 12 values of at most 40 bytes per column, from the remote's pg_stats, so that the LLM "
                           "writes status = 'refunded', not 'Refunded'. These are data: turn it off where no value may "
                           "reach the LLM's provider.",
                           &prompt_common_values, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("multidb.llm_retries", "How often an LLM request is retried after a passing failure.",
                          "Connection errors, 408, 409, 429, 5xx and an error inside an HTTP 200, as the official SDKs "
                          "retry them, within the LLM server's timeout; each request is kept in query_history.llm_attempts.",
                          &llm_retries, kDefaultLlmRetries, 0, 10, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("multidb.history_turns", "Earlier exchanges of the session sent with a question.", nullptr,
                          &history_turns, 5, 0, 1000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("multidb.max_repairs",
                          "Rounds in which a remote SQL error goes back to the LLM for a corrected plan.", nullptr,
                          &max_repairs, 1, 0, 10, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomEnumVariable("multidb.repair_error_detail",
                           "How much of an error a repair request tells the LLM.",
                           "full: the message, DETAIL and HINT; masked: the SQLSTATE and the message with the values "
                           "it quotes masked; sqlstate: the SQLSTATE and its name only. Error messages may quote data.",
                           &repair_error_detail, static_cast<int>(RepairErrorDetail::kMasked),
                           repair_error_detail_options, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("multidb.result_cache_ttl", "How long an ask's rows are reused for the same plan; 0 = off.",
                          nullptr, &result_cache_ttl_s, 0, 0, INT_MAX, PGC_USERSET, GUC_UNIT_S, nullptr, nullptr,
                          nullptr);
  DefineCustomIntVariable("multidb.llm_max_reply_size", "Longest LLM reply read; a longer one is an error.",
                          "The body is held in memory while it is read and parsed.", &llm_max_reply_kb, 4096, 16,
                          1024 * 1024, PGC_USERSET, GUC_UNIT_KB, nullptr, nullptr, nullptr);
  DefineCustomStringVariable(
      "multidb.default_connections",
      "The connections ask, plan and save_report use when given neither a session nor connections.",
      "Names separated by commas, groups as '@name'. Empty: the one connection the role can use, if there is "
      "exactly one. Set it per role or database with ALTER ROLE/DATABASE ... SET.",
      &default_connections, "", PGC_USERSET, GUC_LIST_INPUT, check_default_connections, nullptr, nullptr);
  DefineCustomBoolVariable("multidb.progress", "Whether calls report their progress as NOTICEs while they run.",
                           "Each NOTICE is 'multidb progress: <event>' with one JSON object as its DETAIL: the plan, "
                           "each database's start, rows, end or error, the combine step, repairs, the end.",
                           &progress, false, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  MarkGUCPrefixReserved("multidb");
}

}  // namespace multidb
