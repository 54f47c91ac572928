// A plan for an ask: its cache key (everything the prompt is made of), the plan cache, the LLM call that
// makes one (or repairs one), and the guard every planned statement passes before anything is sent.
#include "ask/ask_internal.hpp"
#include "fanout/progress.hpp"
#include "core/http_client.hpp"
#include "core/llm_call.hpp"
#include "core/llm_protocol.hpp"
#include "core/plan_parser.hpp"
#include "core/prompt.hpp"
#include "core/repair_error.hpp"
#include "foundation/combine_fence.hpp"
#include "foundation/extension_tables.hpp"
#include "foundation/settings.hpp"
#include "foundation/sql_guard.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <climits>
#include <ctime>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

extern "C" {
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
}

namespace multidb {

namespace {

void conversion_context(void* what) { errcontext("%s", static_cast<const char*>(what)); }

}  // namespace

const char* to_utf8(const char* text) {
  if (text == nullptr || GetDatabaseEncoding() == PG_UTF8) return text;
  return pg_server_to_any(text, strlen(text), PG_UTF8);
}

const char** to_utf8_all(const char* const* texts, int count) {
  const char** converted = static_cast<const char**>(palloc0(sizeof(char*) * Max(count, 1)));
  for (int i = 0; i < count; i++) converted[i] = to_utf8(texts[i]);
  return converted;
}

const char** target_names_utf8(const AskState* ask) {
  const char** names = static_cast<const char**>(palloc0(sizeof(char*) * Max(ask->target_count, 1)));
  for (int i = 0; i < ask->target_count; i++) names[i] = to_utf8(ask->targets[i].name);
  return names;
}

const char* from_utf8(const char* text, const char* what) {
  if (text == nullptr || GetDatabaseEncoding() == PG_UTF8) return text;
  ErrorContextCallback context;
  context.callback = conversion_context;
  context.arg = const_cast<char*>(what);
  context.previous = error_context_stack;
  error_context_stack = &context;
  const char* converted = pg_any_to_server(text, strlen(text), PG_UTF8);
  error_context_stack = context.previous;
  return converted;
}

namespace {

// What the prompt is made of, as UTF-8 (made outside cpp_call: converting may raise an error).
struct PromptText {
  const char* question;
  const char** databases;
  const char** history_questions;
  const char** history_answers;
  const char** groups;  // the attached groups' names
};

PromptText prompt_text(const AskState* ask) {
  PromptText text;
  text.question = to_utf8(ask->question);
  text.databases = target_names_utf8(ask);
  text.history_questions = to_utf8_all(ask->history_questions, ask->history_count);
  text.history_answers = to_utf8_all(ask->history_answers, ask->history_count);
  text.groups = static_cast<const char**>(palloc0(sizeof(char*) * Max(ask->group_count, 1)));
  for (int g = 0; g < ask->group_count; g++) text.groups[g] = to_utf8(ask->groups[g].name);
  return text;
}

PromptInput prompt_input(const AskState* ask, const PromptText& text) {
  PromptInput input;
  for (int i = 0; i < ask->target_count; i++) input.databases.emplace_back(text.databases[i]);
  input.combined_schema = ask->combined_schema;  // UTF-8 already: the core made it
  for (int i = 0; i < ask->history_count; i++) input.history.push_back({text.history_questions[i], text.history_answers[i]});
  input.question = text.question;
  for (int g = 0; ask->prompt_groups != nullptr && g < ask->group_count; g++) {
    const AttachedGroup& group = ask->prompt_groups[g];
    input.groups.push_back({group.name, std::vector<std::string>(group.members, group.members + group.member_count)});
  }
  return input;
}

// Inside cpp_call only: the configured model, every option as the validator checked it, the key.
LlmConfig llm_config(const AskState* ask) {
  OptionList options;
  for (int i = 0; i < ask->llm.option_count; i++) options.emplace_back(ask->llm.option_names[i], ask->llm.option_values[i]);
  LlmConfig config = llm_config_from_options(options);
  config.api_key = ask->llm.api_key;
  config.timeout_ms = ask->llm.timeout_ms;
  return config;
}

}  // namespace

PlanCopy copy_plan(const Plan& plan) {
  PlanCopy copy{};
  copy.count = static_cast<int>(plan.queries.size());
  copy.databases = static_cast<char**>(calloc(copy.count + 1, sizeof(char*)));
  copy.sqls = static_cast<char**>(calloc(copy.count + 1, sizeof(char*)));
  if (!copy.databases || !copy.sqls) throw std::bad_alloc();
  for (int i = 0; i < copy.count; i++) {
    copy.databases[i] = malloc_copy(plan.queries[i].database);
    copy.sqls[i] = malloc_copy(plan.queries[i].sql);
  }
  copy.combine = malloc_copy(plan.combine);
  copy.explanation = malloc_copy(plan.explanation);
  copy.json = malloc_copy(plan_to_json(plan));
  copy.set_count = static_cast<int>(plan.sets.size());
  copy.set_relations = static_cast<char**>(calloc(copy.set_count + 1, sizeof(char*)));
  copy.set_member_counts = static_cast<int*>(calloc(copy.set_count + 1, sizeof(int)));
  copy.set_members = static_cast<char***>(calloc(copy.set_count + 1, sizeof(char**)));
  if (!copy.set_relations || !copy.set_member_counts || !copy.set_members) throw std::bad_alloc();
  for (int s = 0; s < copy.set_count; s++) {
    const PlanSet& set = plan.sets[s];
    copy.set_relations[s] = malloc_copy(set.relation);
    copy.set_member_counts[s] = static_cast<int>(set.members.size());
    copy.set_members[s] = static_cast<char**>(calloc(set.members.size() + 1, sizeof(char*)));
    if (!copy.set_members[s]) throw std::bad_alloc();
    for (size_t m = 0; m < set.members.size(); m++) copy.set_members[s][m] = malloc_copy(set.members[m]);
  }
  return copy;
}

void adopt_plan(AskState* ask, PlanCopy copy) {
  ask->step_count = copy.count;
  ask->step_database = static_cast<const char**>(palloc0(sizeof(char*) * Max(copy.count, 1)));
  ask->step_sql = static_cast<const char**>(palloc0(sizeof(char*) * Max(copy.count, 1)));
  // The plan's text comes from the core as UTF-8; its SQL and names are this database's text from here on.
  // The strings are taken first, so that a conversion error leaks no malloc'd copy.
  char** sqls = static_cast<char**>(palloc0(sizeof(char*) * Max(copy.count, 1)));
  char** databases = static_cast<char**>(palloc0(sizeof(char*) * Max(copy.count, 1)));
  for (int i = 0; i < copy.count; i++) {
    databases[i] = take(copy.databases[i]);
    sqls[i] = take(copy.sqls[i]);
  }
  free(copy.databases);
  free(copy.sqls);
  const char* combine = take(copy.combine);
  const char* explanation = take(copy.explanation);
  ask->plan_json = take(copy.json);
  ask->sets_json = ask->plan_json;
  int set_count = copy.set_count;
  char** relations = static_cast<char**>(palloc0(sizeof(char*) * Max(set_count, 1)));
  char*** members = static_cast<char***>(palloc0(sizeof(char**) * Max(set_count, 1)));
  int* member_counts = static_cast<int*>(palloc0(sizeof(int) * Max(set_count, 1)));
  for (int s = 0; s < set_count; s++) {
    relations[s] = take(copy.set_relations[s]);
    member_counts[s] = copy.set_member_counts[s];
    members[s] = static_cast<char**>(palloc0(sizeof(char*) * Max(member_counts[s], 1)));
    for (int m = 0; m < member_counts[s]; m++) members[s][m] = take(copy.set_members[s][m]);
    free(copy.set_members[s]);
  }
  free(copy.set_relations);
  free(copy.set_members);
  free(copy.set_member_counts);
  for (int i = 0; i < copy.count; i++) {
    ask->step_database[i] = from_utf8(databases[i], "a database name of the plan");
    ask->step_sql[i] = from_utf8(sqls[i], psprintf("the plan's SQL for connection \"%s\"", ask->step_database[i]));
  }
  ask->combine_sql = combine[0] != '\0' ? from_utf8(combine, "the plan's combine step") : nullptr;
  ask->explanation = from_utf8(explanation, "the plan's explanation");
  ask->set_count = set_count;
  ask->set_relation = static_cast<const char**>(palloc0(sizeof(char*) * Max(set_count, 1)));
  ask->set_member_count = member_counts;
  ask->set_members = static_cast<const char***>(palloc0(sizeof(char**) * Max(set_count, 1)));
  for (int s = 0; s < set_count; s++) {
    ask->set_relation[s] = relations[s][0] != '\0' ? from_utf8(relations[s], "a set relation of the plan") : nullptr;
    ask->set_members[s] = static_cast<const char**>(palloc0(sizeof(char*) * Max(member_counts[s], 1)));
    for (int m = 0; m < member_counts[s]; m++)
      ask->set_members[s][m] = from_utf8(members[s][m], "a database name of the plan");
  }
}

void refresh_plan_json(AskState* ask) {
  char* json = nullptr;
  const char** databases = to_utf8_all(ask->step_database, ask->step_count);
  const char** sqls = to_utf8_all(ask->step_sql, ask->step_count);
  const char* combine = to_utf8(ask->combine_sql);
  const char* explanation = to_utf8(ask->explanation);
  const char* sets_json = ask->set_count > 0 ? ask->sets_json : nullptr;
  CppError error = cpp_call([&] {
    Plan plan;
    for (int i = 0; i < ask->step_count; i++) plan.queries.push_back({databases[i], sqls[i]});
    plan.combine = combine ? combine : "";
    plan.explanation = explanation ? explanation : "";
    if (sets_json != nullptr) plan.sets = plan_from_json(sets_json).sets;
    // A set whose members were all repaired alike shows the statement they run now.
    std::unordered_map<std::string, const std::string*> sql_of;
    for (const PlannedQuery& query : plan.queries) sql_of[query.database] = &query.sql;
    for (PlanSet& set : plan.sets) {
      const std::string* first = nullptr;
      bool alike = true;
      for (const std::string& member : set.members) {
        auto found = sql_of.find(member);
        if (found == sql_of.end()) throw PlanError("a set's database \"" + member + "\" has no step");
        if (first == nullptr) first = found->second;
        alike = alike && *found->second == *first;
      }
      if (alike && first != nullptr) set.sql = *first;
    }
    json = malloc_copy(plan_to_json(plan));
  });
  if (!error.failed) ask->plan_json = take(json);
}

namespace {

// Core text is UTF-8 (made valid there: core/text.hpp); this database may use another encoding. What it
// cannot hold becomes '?', so that showing or storing a reply's text never fails.
const char* utf8_to_database(const char* text) {
  if (GetDatabaseEncoding() == PG_UTF8) return text;
  MemoryContext caller_context = CurrentMemoryContext;
  const char* converted = nullptr;
  PG_TRY();
  {
    converted = pg_any_to_server(text, strlen(text), PG_UTF8);
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(caller_context);
    FlushErrorState();
    char* ascii = pstrdup(text);
    char* out = ascii;
    for (const unsigned char* in = reinterpret_cast<const unsigned char*>(text); *in != '\0'; in++)
      if (*in < 0x80) *out++ = static_cast<char>(*in);
      else if ((*in & 0xC0) != 0x80) *out++ = '?';
    *out = '\0';
    converted = ascii;
  }
  PG_END_TRY();
  return converted;
}

}  // namespace

void raise_core_error(const AskState* ask, const CppError& error) {
  if (error.interrupted) CHECK_FOR_INTERRUPTS();
  // A reply with no usable plan (39000): what the user can change.
  bool no_plan = error.sqlstate == ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION && ask->llm.server_name != nullptr;
  ereport(ERROR, (errcode(error.sqlstate), errmsg("%s", utf8_to_database(error.message)),
                  error.sqlstate == ERRCODE_EXTERNAL_ROUTINE_EXCEPTION || no_plan
                      ? errcontext("LLM server \"%s\" (provider %s, model %s)", ask->llm.server_name,
                                   ask->llm.provider, ask->llm.model)
                      : 0,
                  no_plan ? errhint("Rephrase the question as one about the data (the tables and values it is "
                                    "about), name the databases to ask (connections => or the session's), or "
                                    "check that the LLM server's model follows instructions: a small or chat-only "
                                    "model often answers in prose.")
                          : 0));
  pg_unreachable();
}

const char* sha256_hex(const char* text, const char* purpose) {
  pg_cryptohash_ctx* context = pg_cryptohash_create(PG_SHA256);
  uint8 digest[PG_SHA256_DIGEST_LENGTH];
  if (context == nullptr || pg_cryptohash_init(context) < 0 ||
      pg_cryptohash_update(context, reinterpret_cast<const uint8*>(text), strlen(text)) < 0 ||
      pg_cryptohash_final(context, digest, sizeof(digest)) < 0) {
    const char* why = context != nullptr ? pg_cryptohash_error(context) : "out of memory";
    pg_cryptohash_free(context);
    ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not compute the %s: %s", purpose, why)));
  }
  pg_cryptohash_free(context);
  char* hex = static_cast<char*>(palloc(PG_SHA256_DIGEST_LENGTH * 2 + 1));
  hex_encode(reinterpret_cast<const char*>(digest), PG_SHA256_DIGEST_LENGTH, hex);
  hex[PG_SHA256_DIGEST_LENGTH * 2] = '\0';
  return hex;
}

// The cache key of a plan: everything the prompt is made of — schema fingerprints instead of the schema
// text, so that a cache hit needs no schema at all.
void prepare_cache_key(AskState* ask) {
  char* key = nullptr;
  PromptText text = prompt_text(ask);
  CppError error = cpp_call([&] {
    std::vector<ChatMessage> identity;
    identity.push_back({"system", "multidb prompt v5, max_prompt_tables " + std::to_string(max_prompt_tables) +
                                      (prompt_common_values ? ", common values" : "")});
    for (int i = 0; i < ask->target_count; i++)
      identity.push_back({"schema", std::string(text.databases[i]) + ":" + ask->fingerprints[i]});
    // The prompt names the groups (and a plan may name them as sets): the same databases attached through a
    // group or one by one are two prompts.
    for (int g = 0; g < ask->group_count; g++) identity.push_back({"group", text.groups[g]});
    for (int i = 0; i < ask->history_count; i++) {
      identity.push_back({"user", text.history_questions[i]});
      identity.push_back({"assistant", text.history_answers[i]});
    }
    identity.push_back({"user", text.question});
    key = malloc_copy(plan_cache_key_material(identity, ask->llm.model));
  });
  if (error.failed) raise_core_error(ask, error);
  ask->cache_key = sha256_hex(take(key), "plan cache key");
}

bool plan_from_cache(AskState* ask) {
  const char* json = to_utf8(take_cached_plan(ask->cache_key, !ask->plan_hit_by_history));
  if (json == nullptr) return false;
  PlanCopy copy{};
  CppError error = cpp_call([&] { copy = copy_plan(plan_from_json(json)); });
  if (error.failed) return false;  // an unreadable cached plan is simply not used
  adopt_plan(ask, copy);
  ask->cached = "plan";
  return true;
}

void store_plan_in_cache(const AskState* ask) {
  const char** names = static_cast<const char**>(palloc(sizeof(char*) * Max(ask->target_count, 1)));
  for (int i = 0; i < ask->target_count; i++) names[i] = ask->targets[i].name;
  store_plan(ask->cache_key, names, ask->target_count, from_utf8(ask->plan_json, "the plan"), ask->llm.model);
}

namespace {

// Token counts of several LLM rounds: unknown (-1) if any round's is, and never past what the history's
// integer columns hold.
long add_token_counts(long so_far, long more) {
  if (so_far < 0 || more < 0 || so_far > INT_MAX - more) return -1;
  return so_far + more;
}

bool interrupt_pending() { return QueryCancelPending || ProcDiePending; }

// A failure's text for the core, as UTF-8 (converting may raise an error: outside cpp_call).
struct FailureText {
  const char* database;
  const char* sql;
  const char* sqlstate;
  const char* message;
  const char* detail;
  const char* hint;
};

FailureText failure_text(const FailedStatement& failure) {
  return FailureText{to_utf8(failure.database ? failure.database : ""), to_utf8(failure.sql),
                     pstrdup(unpack_sql_state(failure.sqlstate)), to_utf8(failure.message ? failure.message : ""),
                     to_utf8(failure.detail ? failure.detail : ""), to_utf8(failure.hint ? failure.hint : "")};
}

// Inside cpp_call only: what the repair request tells the LLM of the failure.
std::string error_for_llm(const FailureText& failure) {
  StatementError error{failure.sqlstate, failure.message, failure.detail, failure.hint};
  return error_for_repair(error, static_cast<RepairErrorDetail>(repair_error_detail), failure.sql);
}

}  // namespace

void plan_with_llm(AskState* ask, int failure_count, const FailedStatement* failures,
                   const FailedStatement* combine_failure, const char* combine_tables) {
  PlanCopy copy{};
  char* reply = nullptr;
  char* model = nullptr;
  char* attempts_json = nullptr;
  char* notices[2] = {nullptr, nullptr};
  long prompt_tokens = -1, completion_tokens = -1;
  instr_time start;
  INSTR_TIME_SET_CURRENT(start);
  // A repair after a plan-cache hit has no reply of the LLM's to show it: the plan it made then stands in.
  const char* previous_reply = ask->reply_text ? ask->reply_text : ask->plan_json ? ask->plan_json : "";
  PromptText text = prompt_text(ask);
  const char* combine_sql = to_utf8(ask->combine_sql);
  combine_tables = to_utf8(combine_tables);
  FailureText* failure_texts = static_cast<FailureText*>(palloc0(sizeof(FailureText) * Max(failure_count, 1)));
  for (int i = 0; i < failure_count; i++) failure_texts[i] = failure_text(failures[i]);
  FailureText combine_text{};
  if (combine_failure != nullptr) combine_text = failure_text(*combine_failure);
  // The groups a plan may name as sets, as UTF-8.
  AttachedGroup* group_names = static_cast<AttachedGroup*>(palloc0(sizeof(AttachedGroup) * Max(ask->group_count, 1)));
  for (int g = 0; g < ask->group_count; g++)
    group_names[g] = AttachedGroup{to_utf8(ask->groups[g].name), ask->groups[g].member_count,
                                   to_utf8_all(ask->groups[g].members, ask->groups[g].member_count)};
  CppError error = cpp_call([&] {
    PromptInput input = prompt_input(ask, text);
    std::vector<ChatMessage> messages;
    if (combine_failure != nullptr) {
      messages = build_combine_repair_prompt(input, previous_reply, combine_sql ? combine_sql : "",
                                             error_for_llm(combine_text), combine_tables ? combine_tables : "");
    } else if (failure_count == 0) {
      messages = build_plan_prompt(input);
    } else {
      std::vector<std::pair<PlannedQuery, std::string>> repairs;
      for (int i = 0; i < failure_count; i++)
        repairs.push_back({PlannedQuery{failure_texts[i].database, failure_texts[i].sql}, error_for_llm(failure_texts[i])});
      messages = build_repair_prompt(input, previous_reply, repairs);
    }
    LlmConfig config = llm_config(ask);
    size_t max_reply = static_cast<size_t>(llm_max_reply_kb) * 1024;
    std::mt19937 random(static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
    LlmTransport transport;
    transport.post = [&](const HttpRequest& request, long timeout_ms) {
      return http_post(request.url, request.headers, request.body, timeout_ms, max_reply, interrupt_pending);
    };
    transport.sleep = [](long ms) { interruptible_sleep(ms, interrupt_pending); };
    transport.now_ms = [] {
      return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch()).count());
    };
    transport.now_epoch_s = [] { return static_cast<long>(std::time(nullptr)); };
    transport.random_unit = [&] { return std::uniform_real_distribution<double>(0.0, 1.0)(random); };
    std::vector<LlmAttempt> attempts;
    std::vector<std::string> said;
    // The requests are kept for the history whether the call succeeds or not.
    auto keep_attempts = [&] {
      nlohmann::json all = ask->llm_attempts_json ? nlohmann::json::parse(ask->llm_attempts_json, nullptr, false)
                                                  : nlohmann::json::array();
      if (!all.is_array()) all = nlohmann::json::array();
      for (const LlmAttempt& attempt : attempts) {
        nlohmann::json entry = {{"status", attempt.status}, {"waited_ms", attempt.waited_ms}};
        if (!attempt.error.empty()) entry["error"] = text_start(attempt.error, 1000);
        all.push_back(entry);
      }
      attempts_json = malloc_copy(all.dump());
      for (size_t i = 0; i < said.size() && i < 2; i++) notices[i] = malloc_copy(said[i]);
    };
    LlmReply answer;
    try {
      answer = call_llm(config, messages, llm_retries, transport, attempts, said);
    } catch (...) {
      keep_attempts();
      throw;
    }
    keep_attempts();
    reply = malloc_copy(answer.text);
    model = malloc_copy(answer.model.empty() ? config.model : answer.model);
    prompt_tokens = answer.prompt_tokens;
    completion_tokens = answer.completion_tokens;
    std::vector<std::string> attached;
    for (int i = 0; i < ask->target_count; i++) attached.emplace_back(text.databases[i]);
    std::vector<DatabaseGroup> groups;
    for (int g = 0; g < ask->group_count; g++) {
      groups.push_back({group_names[g].name, {}});
      for (int m = 0; m < group_names[g].member_count; m++) groups.back().members.emplace_back(group_names[g].members[m]);
    }
    copy = copy_plan(parse_plan(answer.text, attached, groups));
  });
  ask->llm_ms += elapsed_ms(start);
  if (attempts_json != nullptr) ask->llm_attempts_json = take(attempts_json);
  for (char* notice : notices)
    if (notice != nullptr)
      ereport(NOTICE, (errmsg("LLM server \"%s\": %s", ask->llm.server_name, utf8_to_database(take(notice)))));
  if (reply != nullptr) ask->reply_text = take(reply);
  if (model != nullptr) ask->answered_model = take(model);  // for the history; requests keep the configured one
  ask->prompt_tokens = add_token_counts(ask->prompt_tokens, prompt_tokens);
  ask->completion_tokens = add_token_counts(ask->completion_tokens, completion_tokens);
  if (error.failed) raise_core_error(ask, error);
  adopt_plan(ask, copy);
}

namespace {

// Whose plan is judged: an ask's comes from the LLM, multidb.run_plan's from a table.
const char* plan_author(const AskState* ask) { return ask->repairs_allowed ? "the LLM's" : "the plan's"; }

}  // namespace

const char* refusal_hint(const AskState* ask) {
  return ask->repairs_allowed ? "Nothing was sent. The refusal is recorded in multidb.query_history."
                              : "Nothing was sent.";
}

void guard_plan(AskState* ask) {
  const char* allowed = nullptr;  // the text last allowed: a set's members run the same text, judged once
  for (int i = 0; i < ask->step_count; i++) {
    if (allowed != nullptr && strcmp(allowed, ask->step_sql[i]) == 0) continue;
    GuardVerdict verdict = judge_statement(ask->step_sql[i]);
    if (verdict.allowed) {
      allowed = ask->step_sql[i];
      continue;
    }
    ask->status = "refused";
    progress_failed(ask->step_database[i], verdict.sqlstate,
                    psprintf("multidb refused %s statement for connection \"%s\": %s", plan_author(ask),
                             ask->step_database[i], verdict.reason),
                    true);
    ereport(ERROR, (errcode(verdict.sqlstate),
                    errmsg("multidb refused %s statement for connection \"%s\": %s", plan_author(ask),
                           ask->step_database[i], verdict.reason),
                    errdetail("The statement: %s", ask->step_sql[i]), errhint("%s", refusal_hint(ask))));
  }
  if (ask->combine_sql == nullptr) return;
  // The combine step may read each database's relation and each set's.
  const char** relations = static_cast<const char**>(palloc(sizeof(char*) * (ask->step_count + ask->set_count + 1)));
  int relation_count = 0;
  for (int i = 0; i < ask->step_count; i++) relations[relation_count++] = ask->step_database[i];
  for (int s = 0; s < ask->set_count; s++)
    if (ask->set_relation[s] != nullptr) relations[relation_count++] = ask->set_relation[s];
  GuardVerdict verdict = judge_combine(ask->combine_sql, relations, relation_count);
  if (verdict.allowed) return;
  ask->status = "refused";
  progress_failed(kCombinedSource, verdict.sqlstate,
                  psprintf("multidb refused %s combine step: %s", plan_author(ask), verdict.reason), true);
  ereport(ERROR, (errcode(verdict.sqlstate), errmsg("multidb refused %s combine step: %s", plan_author(ask), verdict.reason),
                  errdetail("The combine step: %s", ask->combine_sql), errhint("%s", refusal_hint(ask))));
}

}  // namespace multidb
