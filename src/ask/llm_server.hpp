// LLM endpoints are servers of the foreign-data wrapper multidb_llm: options on the server (provider, url,
// model, timeout and what each request carries: core/llm_config.hpp), the key in a user mapping (the role's,
// else PUBLIC's), else the server's environment. Nothing here ever puts a key into a message.
#pragma once

#include "foundation/postgres.hpp"

namespace multidb {

struct LlmServer {
  const char* server_name;
  const char* provider;  // "openai" | "azure" | "anthropic"
  const char* model;     // the configured model: every request of an ask names this one
  const char* api_key;   // may be empty: local servers (Ollama, llama.cpp) take none
  long timeout_ms;
  int option_count;      // the server's options but timeout, for llm_config_from_options
  const char** option_names;
  const char** option_values;
};

// multidb.llm_server, or the only multidb_llm server; USAGE checked.
LlmServer resolve_llm_server();

}  // namespace multidb
