// LLM endpoints are servers of the foreign-data wrapper multidb_llm: options on the server (provider, url,
// model, timeout, max_tokens), the key in a user mapping (the role's, else PUBLIC's), else the server's
// environment. Nothing here ever puts a key into a message.
#pragma once

#include "pg/postgres.hpp"

namespace multidb {

struct LlmServer {
  const char* server_name;
  const char* provider;  // "openai" | "anthropic"
  const char* url;
  const char* model;
  const char* api_key;   // may be empty: local servers (Ollama, llama.cpp) take none
  long timeout_ms;
  int max_tokens;
};

// multidb.llm_server, or the only multidb_llm server; USAGE checked.
LlmServer resolve_llm_server();

}  // namespace multidb
