// multidb.ask, multidb.plan, multidb.run_plan and the schema functions, split by responsibility; this is
// their one internal header: the state of one ask, then what each file offers the others, grouped by file.
//
//   ask.cpp               the whole ask: arguments, the subtransaction, the history record; the entry points
//   ask_schema.cpp        each connection's schema: introspection, the schema cache, the combined prompt text
//   ask_plan.cpp          a plan: its cache key, the plan cache, the LLM call, the guard over every statement
//   ask_execute.cpp       running a plan: the steps in parallel, the LLM's repair rounds, results carried over
//   ask_combine.cpp       the combine step over the steps' results, in a subtransaction of its own
//   ask_result_cache.cpp  the opt-in result cache
//   ask_build.cpp         the query builder: a query spec compiled against the schemas (build_plan), and what
//                         several databases' schemas have in common (spec_catalog)
//
// Every call into the pure C++ core happens inside cpp_call() (foundation/boundary.hpp), which returns plain data;
// Postgres calls (SPI, ereport, the fan-out) happen outside it, with no C++ object alive in the frame. The
// statements on multidb's own tables are all in foundation/extension_tables.cpp.
#pragma once

#include "ask/llm_server.hpp"
#include "core/schema_model.hpp"
#include "fanout/fanout_executor.hpp"
#include "foundation/boundary.hpp"
#include "foundation/connections.hpp"

#include <vector>

extern "C" {
#include "portability/instr_time.h"
#include "utils/tuplestore.h"
}

namespace multidb {

struct Plan;

// A connection group the ask's connection list named ('@tenants'): its name without the '@' and its members as
// multidb.connection_groups lists them, in order. The prompt writes the members it shares a schema with as the
// group, and a plan may name the group as one set of databases.
struct AttachedGroup {
  const char* name;
  int member_count;
  const char** members;
};

// ---- one ask's state, plain data ------------------------------------------------------------------------

struct AskState {
  const char* question;
  const char* session_id;  // text form, or nullptr for a one-off ask
  RemoteTarget* targets;
  int target_count;
  AttachedGroup* groups;  // the groups the connection list named, in its order (none for a direct list of names)
  int group_count;
  AttachedGroup* prompt_groups;  // the same in UTF-8, for the prompt: made by prepare_prompt
  const char** fingerprints;  // per target
  const char** schema_json;   // per target, loaded only when a prompt must be built
  const char* combined_schema;
  int history_count;
  const char** history_questions;
  const char** history_answers;
  LlmServer llm;

  // the plan
  int step_count;
  const char** step_database;
  const char** step_sql;
  const char* combine_sql;  // nullptr when the plan has no combine step
  const char* explanation;
  // The plan's sets (core/plan_parser.hpp's PlanSet): statements written once for several databases, whose steps
  // are among the steps above. A set with a relation gives the combine step one relation of all its members' rows.
  int set_count;
  const char** set_relation;   // per set; nullptr when it has none
  int* set_member_count;       // per set
  const char*** set_members;   // per set: its databases, in the attached order
  const char* sets_json;       // the plan JSON these sets came from (UTF-8, the core's): a repair's merge keeps them
  const char* plan_json;
  const char* reply_text;  // the LLM's last reply, for a repair round
  const char* cache_key;
  const char* cached;      // nullptr, "plan" or "result"
  bool plan_hit_by_history;  // a cached plan's hit is counted by the history writer, not in the ask's transaction
  const char* attempts_json;
  const char* llm_attempts_json;  // every HTTP request to the LLM (core/llm_call.hpp), as a JSON array
  const char* answered_model;     // the model the last reply named: history only

  // outcome
  const char* status;
  const char* error;
  int64* step_rows;
  double* step_ms;
  TupleDesc* step_columns;          // with a combine step: each database's result, kept for it
  Tuplestorestate** step_results;
  int64 combined_rows;
  int combine_column_count;          // the combine step's column names, in its order (progress events)
  const char** combine_column_names; // nullptr until it has run
  double combine_ms;
  bool repairs_allowed;             // false when a stored plan runs (multidb.run_plan): no LLM then
  double llm_ms;
  double exec_ms;
  long prompt_tokens;
  long completion_tokens;
  instr_time started;
};

// ---- ask.cpp ------------------------------------------------------------------------------------------------

double elapsed_ms(instr_time start);

// Runs body(arg) in an internal subtransaction, so that an error in it can be recorded or handled before it
// goes on. nullptr when body succeeded (the subtransaction is committed), or else its error, copied into
// the caller's memory context after the subtransaction rolled back.
ErrorData* in_subtransaction(void (*body)(void*), void* arg);

// The groups ('@name' elements) of a connection list, with their members: into ask->groups.
void collect_attached_groups(AskState* ask, ArrayType* connections);

// ---- ask_schema.cpp -----------------------------------------------------------------------------------------

// Fills ask->fingerprints (and ask->schema_json for what was read now). Cached schemas younger than
// multidb.schema_ttl are used as they are (with verify_catalog, only if a probe finds the remote catalogs
// unchanged since); the others are read from the remote again and stored.
void load_schemas(AskState* ask, bool force_refresh, bool verify_catalog);

// ask->combined_schema, the prompt's text of every attached schema (only when the LLM is to be called), and
// ask->prompt_groups.
void prepare_prompt(AskState* ask);

// After load_schemas: what the core needs to have every target's schema parsed, in UTF-8 (names, and the documents
// of the targets this backend has not parsed yet, from what load_schemas read or the cache table).
struct SchemaDocuments {
  bool* parsed;  // per target: this backend's parsed-schema cache holds it
  const char** names;
  const char** documents;  // per target not parsed yet
};
SchemaDocuments schema_documents(AskState* ask);
// Inside cpp_call only: every target's schema, in target order, from this backend's parsed-schema cache or parsed
// now (and kept there, within its bounds).
std::vector<DatabaseSchema> parsed_schemas_of(const AskState* ask, const SchemaDocuments& documents);

// ---- ask_plan.cpp -------------------------------------------------------------------------------------------

// The core reads and writes UTF-8; AskState's text is this database's (SQL, names, messages), except what the
// core made and only the core reads again: reply_text, combined_schema, plan_json, attempts_json,
// llm_attempts_json. Outside cpp_call only (converting may raise an error).
const char* to_utf8(const char* text);
const char** to_utf8_all(const char* const* texts, int count);
const char** target_names_utf8(const AskState* ask);
// 22P05 with what as its context when this database's encoding cannot hold the text.
const char* from_utf8(const char* text, const char* what);

// Plain-data copy of a parsed plan, made inside the core scope (malloc'd; adopt_plan takes it over).
struct PlanCopy {
  int count;
  char** databases;
  char** sqls;
  char* combine;
  char* explanation;
  char* json;
  int set_count;
  char** set_relations;     // "" for a set without one
  int* set_member_counts;
  char*** set_members;
};
PlanCopy copy_plan(const Plan& plan);
void adopt_plan(AskState* ask, PlanCopy copy);

// The plan as it stands after a repair merged new statements into the old ones: what the plan cache keeps
// and what history shows.
void refresh_plan_json(AskState* ask);

// A core error as a Postgres ERROR, with the LLM server as its context when it came from there.
[[noreturn]] void raise_core_error(const AskState* ask, const CppError& error);

// SHA-256 as hex, with Postgres's own implementation (OpenSSL's when built with it).
const char* sha256_hex(const char* text, const char* purpose);

void prepare_cache_key(AskState* ask);
bool plan_from_cache(AskState* ask);
void store_plan_in_cache(const AskState* ask);

// A statement that failed, as a repair request reports it: where, what, and its error as Postgres gave it
// (what of the error the LLM is told is multidb.repair_error_detail's, core/repair_error.hpp).
struct FailedStatement {
  const char* database;  // a connection's name; unused for the combine step
  const char* sql;
  int sqlstate;
  const char* message;   // the primary message, a remote's without multidb's `connection "x": `
  const char* detail;    // or nullptr
  const char* hint;      // or nullptr
};

// Asks the LLM: the plan prompt; with failures, the repair prompt after the previous reply; with
// combine_failure, the combine step's repair prompt (combine_tables: the tables it could read).
void plan_with_llm(AskState* ask, int failure_count = 0, const FailedStatement* failures = nullptr,
                   const FailedStatement* combine_failure = nullptr, const char* combine_tables = nullptr);

// Every planned statement passes the guard before anything runs; a refusal names the database.
void guard_plan(AskState* ask);
const char* refusal_hint(const AskState* ask);

// ---- ask_execute.cpp ----------------------------------------------------------------------------------------

// Runs the plan; remote SQL errors and combine errors go back to the LLM for at most multidb.max_repairs
// rounds. Rows go into result.
void execute_plan(AskState* ask, Tuplestorestate* result, TupleDesc desc);
// The plan progress event (multidb.progress): the SQL per database and the combine step, once guarded.
void report_plan(const AskState* ask);

// ---- ask_combine.cpp ----------------------------------------------------------------------------------------

struct CombineFailure {
  bool failed;
  bool repairable;  // an error in the SQL itself (a wrong column, a bad cast): the LLM may fix it
  ErrorData* error;
};

// The combine step in a subtransaction of its own, so that an error in its SQL can go back to the LLM; its
// rows reach result only when it succeeded.
CombineFailure run_combine(AskState* ask, Tuplestorestate* result, TupleDesc desc);
[[noreturn]] void raise_combine_failure(AskState* ask, const CombineFailure& failure, bool after_repairs);

// "production (id integer, total numeric), backup (...)": the tables the combine step had, for messages. A set's
// relation is written once with how many databases it holds, and its members are not listed one by one.
const char* describe_step_tables(const AskState* ask);

// A set relation's columns: source_db text, then the columns its members' results agree on (names and types).
// nullptr with *mismatch set (palloc'd: which column, which databases) when they do not agree. member_columns
// gives each member's result columns, in the set's member order.
TupleDesc set_relation_columns(const AskState* ask, int set, const TupleDesc* member_columns, const char** mismatch);

// ---- ask_result_cache.cpp -----------------------------------------------------------------------------------

bool results_from_cache(AskState* ask, Tuplestorestate* result, TupleDesc desc);
void store_results_in_cache(const AskState* ask, Tuplestorestate* result, TupleDesc desc);

}  // namespace multidb
