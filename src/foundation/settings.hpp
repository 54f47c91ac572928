// multidb's settings (GUCs): one place defines them all.
#pragma once

#include "core/function_denylist.hpp"
#include "core/remote_checks.hpp"

struct List;  // Postgres's (nodes/pg_list.h)

namespace multidb {

enum class OnError { kError, kWarn };

extern int max_workers;
extern int remote_statement_timeout_ms;  // multidb.statement_timeout, as the role set it
extern int max_statement_timeout_ms;     // multidb.max_statement_timeout, the superuser's cap (0: none)
extern int connect_timeout_s;
extern int fetch_size;
extern int on_error;  // an OnError value
extern char* extra_denied_functions;
extern char* extra_allowed_volatile_functions;
extern char* llm_server;
extern int schema_ttl_s;
extern int max_prompt_tables;
extern int history_turns;
extern int max_repairs;
extern int result_cache_ttl_s;
extern int llm_max_reply_kb;
extern int llm_retries;  // multidb.llm_retries
extern bool prompt_common_values;  // multidb.prompt_common_values
extern bool keep_connections;      // multidb.keep_connections
extern int max_connections_per_host;  // multidb.max_connections_per_host
extern int idle_connection_timeout_ms;  // multidb.idle_connection_timeout
extern int repair_error_detail;  // multidb.repair_error_detail: a RepairErrorDetail (core/repair_error.hpp)
extern char* default_connections;  // multidb.default_connections: names and '@group's, comma-separated
extern bool progress;              // multidb.progress: NOTICEs telling how a call goes while it runs

void define_settings();

// Most entries multidb.default_connections may list.
constexpr int kMaxDefaultConnections = 1000;

// multidb.default_connections as a List of names (char*; a group keeps its '@'), NIL when it is empty. The check
// hook accepted its syntax, so this cannot fail but for memory.
List* default_connection_names();

// multidb.statement_timeout under multidb.max_statement_timeout: the smaller of the two, where 0 means none on
// either side (so 0 under a cap is the cap). What every remote statement and multidb's own deadline use.
int effective_statement_timeout_ms();

// The built-in denied functions plus multidb.extra_denied_functions, rebuilt when the setting changes.
const FunctionDenylist& current_denylist();

// The built-in harmless volatile functions plus multidb.extra_allowed_volatile_functions.
const VolatileAllowlist& current_volatile_allowlist();

}  // namespace multidb
