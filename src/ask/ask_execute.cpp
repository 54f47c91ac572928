// Running a plan: each step on its database in parallel (the fan-out), the LLM's repair rounds for the
// statements that failed (the others' results stand), then the combine step when there is one.
#include "ask/ask_internal.hpp"
#include "fanout/progress.hpp"
#include "core/repair_policy.hpp"
#include "foundation/settings.hpp"

#include <nlohmann/json.hpp>

extern "C" {
#include "miscadmin.h"
#include "utils/builtins.h"
}

namespace multidb {
namespace {

RemoteTarget* target_named(AskState* ask, const char* name) {
  for (int i = 0; i < ask->target_count; i++)
    if (strcmp(ask->targets[i].name, name) == 0) return &ask->targets[i];
  ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("planned database \"%s\" is not attached", name)));
  return nullptr;
}

// Runs the steps listed in which[] (indexes into the plan), in attached order, and returns their outcomes
// indexed like which[]. Without a combine step the rows go into result; with one, each step's rows are kept
// in a tuplestore of its own (outcome.rows_store), typed as its remote columns.
TargetOutcome* run_steps(AskState* ask, const int* which, int count, Tuplestorestate* result, TupleDesc desc) {
  if (count == 0) return static_cast<TargetOutcome*>(palloc0(sizeof(TargetOutcome)));  // all carried over
  // Rows come back in the order the connections are attached, whatever order the LLM listed them in.
  int* order = static_cast<int*>(palloc(sizeof(int) * count));
  int ordered = 0;
  for (int t = 0; t < ask->target_count; t++)
    for (int k = 0; k < count; k++)
      if (strcmp(ask->step_database[which[k]], ask->targets[t].name) == 0) order[ordered++] = which[k];
  RemoteTarget* targets = static_cast<RemoteTarget*>(palloc(sizeof(RemoteTarget) * count));
  const char** sqls = static_cast<const char**>(palloc(sizeof(char*) * count));
  for (int k = 0; k < ordered; k++) {
    targets[k] = *target_named(ask, ask->step_database[order[k]]);
    sqls[k] = ask->step_sql[order[k]];
  }
  TargetOutcome* outcomes = static_cast<TargetOutcome*>(palloc0(sizeof(TargetOutcome) * Max(ordered, 1)));
  FanoutRequest request{};
  request.sqls = sqls;
  request.targets = targets;
  request.target_count = ordered;
  if (ask->combine_sql != nullptr) {
    request.shape = RowShape::kPerTarget;
  } else {
    request.shape = RowShape::kJson;
    request.result_desc = desc;
    request.result = result;
  }
  request.outcomes = outcomes;
  request.report_progress = true;
  instr_time start;
  INSTR_TIME_SET_CURRENT(start);
  run_fanout(&request);
  ask->exec_ms += elapsed_ms(start);
  TargetOutcome* by_step = static_cast<TargetOutcome*>(palloc0(sizeof(TargetOutcome) * Max(count, 1)));
  for (int k = 0; k < ordered; k++)
    for (int j = 0; j < count; j++)
      if (which[j] == order[k]) by_step[j] = outcomes[k];
  return by_step;
}

void append_attempt(AskState* ask, int failure_count, const char** databases, const char** messages) {
  char* attempts = nullptr;
  const char* previous = ask->attempts_json;
  const char* plan = ask->plan_json;
  databases = to_utf8_all(databases, failure_count);
  messages = to_utf8_all(messages, failure_count);
  CppError error = cpp_call([&] {
    nlohmann::json all = previous ? nlohmann::json::parse(previous) : nlohmann::json::array();
    nlohmann::json attempt = {{"plan", nlohmann::json::parse(plan)}};
    nlohmann::json failures = nlohmann::json::array();
    for (int i = 0; i < failure_count; i++) failures.push_back({{"database", databases[i]}, {"error", messages[i]}});
    attempt["failures"] = failures;
    all.push_back(attempt);
    attempts = malloc_copy(all.dump());
  });
  if (!error.failed) ask->attempts_json = take(attempts);
}

// A remote's message as the remote gave it: the fan-out names the connection first, and the repair request
// names it its own way.
const char* without_connection_name(const char* message, const char* connection) {
  const char* prefix = psprintf("connection \"%s\": ", connection);
  size_t length = strlen(prefix);
  return strncmp(message, prefix, length) == 0 ? message + length : message;
}

bool names_one_of(const char* name, const char** names, int count) {
  for (int i = 0; i < count; i++)
    if (strcmp(name, names[i]) == 0) return true;
  return false;
}

// The steps' own results once the combine step has read them: a large one spilled to temporary files, which
// must be closed now, not left to the end of the transaction (which closes them with a WARNING each).
void release_step_results(AskState* ask) {
  for (int i = 0; i < ask->step_count; i++) {
    if (ask->step_results[i] == nullptr) continue;
    tuplestore_end(ask->step_results[i]);
    ask->step_results[i] = nullptr;
  }
}

void allocate_step_outcomes(AskState* ask) {
  int n = Max(ask->step_count, 1);
  ask->step_rows = static_cast<int64*>(palloc0(sizeof(int64) * n));
  ask->step_ms = static_cast<double*>(palloc0(sizeof(double) * n));
  ask->step_columns = static_cast<TupleDesc*>(palloc0(sizeof(TupleDesc) * n));
  ask->step_results = static_cast<Tuplestorestate**>(palloc0(sizeof(Tuplestorestate*) * n));
}

// After the LLM repaired the combine step it gives a whole plan: a statement it left as it was keeps the
// result it already has; the others run again. Returns how many must run (their indexes in pending).
int carry_over_results(AskState* ask, int old_count, const char** old_databases, const char** old_sqls,
                       const bool* old_failed, int64* old_rows, double* old_ms, TupleDesc* old_columns,
                       Tuplestorestate** old_results, int* pending) {
  allocate_step_outcomes(ask);
  int pending_count = 0;
  for (int i = 0; i < ask->step_count; i++) {
    int same = -1;
    for (int j = 0; j < old_count && same < 0; j++)
      if (!(old_failed && old_failed[j]) && strcmp(old_databases[j], ask->step_database[i]) == 0 &&
          strcmp(old_sqls[j], ask->step_sql[i]) == 0)
        same = j;
    if (same < 0) {
      pending[pending_count++] = i;
      continue;
    }
    ask->step_rows[i] = old_rows[same];
    ask->step_ms[i] = old_ms[same];
    ask->step_columns[i] = old_columns[same];
    ask->step_results[i] = old_results[same];
  }
  return pending_count;
}

}  // namespace

void report_plan(const AskState* ask) {
  progress_plan(ask->step_count, ask->step_database, ask->step_sql, ask->combine_sql);
}

void execute_plan(AskState* ask, Tuplestorestate* result, TupleDesc desc) {
  allocate_step_outcomes(ask);
  int* pending = static_cast<int*>(palloc(sizeof(int) * Max(ask->step_count, 1)));
  int pending_count = ask->step_count;
  for (int i = 0; i < pending_count; i++) pending[i] = i;

  for (int round = 0;; round++) {
    bool may_repair = ask->repairs_allowed && round < max_repairs;
    TargetOutcome* outcomes = run_steps(ask, pending, pending_count, result, desc);
    int failed = 0, repairable = 0;
    const char** failed_databases = static_cast<const char**>(palloc(sizeof(char*) * Max(pending_count, 1)));
    const char** failed_sqls = static_cast<const char**>(palloc(sizeof(char*) * Max(pending_count, 1)));
    const char** failed_messages = static_cast<const char**>(palloc(sizeof(char*) * Max(pending_count, 1)));
    FailedStatement* failures = static_cast<FailedStatement*>(palloc0(sizeof(FailedStatement) * Max(pending_count, 1)));
    int first_failed_sqlstate = 0;
    for (int k = 0; k < pending_count; k++) {
      int step = pending[k];
      ask->step_rows[step] = outcomes[k].rows;
      ask->step_ms[step] = outcomes[k].elapsed_ms;
      ask->step_columns[step] = outcomes[k].columns;
      ask->step_results[step] = outcomes[k].rows_store;
      if (!outcomes[k].failed) continue;
      if (failed == 0) first_failed_sqlstate = outcomes[k].sqlstate;
      failed_databases[failed] = ask->step_database[step];
      failed_sqls[failed] = ask->step_sql[step];
      failed_messages[failed] = outcomes[k].message;
      failures[failed] = FailedStatement{ask->step_database[step], ask->step_sql[step], outcomes[k].sqlstate,
                                         without_connection_name(outcomes[k].message, ask->step_database[step]),
                                         outcomes[k].detail, outcomes[k].hint};
      failed++;
      if (llm_may_repair(unpack_sql_state(outcomes[k].sqlstate), FailedStep::kRemoteStatement, outcomes[k].refused))
        repairable++;
    }

    if (failed > 0) {
      append_attempt(ask, failed, failed_databases, failed_messages);
      // A remote's own checks refused a statement before it ran: recorded and raised like the guard's refusal.
      for (int k = 0; k < pending_count; k++) {
        if (!outcomes[k].refused) continue;
        ask->status = "refused";
        ask->error = outcomes[k].message;
        ereport(ERROR, (errcode(outcomes[k].sqlstate), errmsg_internal("%s", outcomes[k].message),
                        errdetail("The statement: %s", ask->step_sql[pending[k]]), errhint("%s", refusal_hint(ask))));
      }
      if (repairable == failed && may_repair) {
        // A new plan for the failed databases only; the others' results stand.
        const char** kept_databases = ask->step_database;
        const char** kept_sqls = ask->step_sql;
        const char* kept_combine = ask->combine_sql;
        const char* kept_explanation = ask->explanation;
        // The plan's sets stand: a repair gives statements for some of their members, not new sets.
        int kept_set_count = ask->set_count;
        const char** kept_set_relation = ask->set_relation;
        int* kept_set_member_count = ask->set_member_count;
        const char*** kept_set_members = ask->set_members;
        const char* kept_sets_json = ask->sets_json;
        int kept_count = ask->step_count;
        int64* kept_rows = ask->step_rows;
        double* kept_ms = ask->step_ms;
        TupleDesc* kept_columns = ask->step_columns;
        Tuplestorestate** kept_results = ask->step_results;
        for (int k = 0, f = 0; k < pending_count && progress_on(); k++)
          if (outcomes[k].failed)
            progress_repair(round + 1, failed_databases[f++], outcomes[k].sqlstate, outcomes[k].message);
        prepare_prompt(ask);  // a cached plan that fails needs the prompt after all
        plan_with_llm(ask, failed, failures);
        if (ask->combine_sql == nullptr) ask->combine_sql = kept_combine;  // "only the failed databases"
        if (ask->explanation == nullptr || ask->explanation[0] == '\0') ask->explanation = kept_explanation;
        // Merge: the steps that ran stay as they are; the repaired statements replace the failed ones.
        bool* kept_failed = static_cast<bool*>(palloc0(sizeof(bool) * kept_count));
        for (int i = 0; i < kept_count; i++) kept_failed[i] = names_one_of(kept_databases[i], failed_databases, failed);
        int total = kept_count + ask->step_count;
        const char** merged_databases = static_cast<const char**>(palloc(sizeof(char*) * total));
        const char** merged_sqls = static_cast<const char**>(palloc(sizeof(char*) * total));
        int merged = 0;
        for (int i = 0; i < kept_count; i++) {
          if (kept_failed[i]) continue;
          merged_databases[merged] = kept_databases[i];
          merged_sqls[merged++] = kept_sqls[i];
        }
        int first_new = merged;
        for (int i = 0; i < ask->step_count; i++) {
          if (!names_one_of(ask->step_database[i], failed_databases, failed)) continue;
          merged_databases[merged] = ask->step_database[i];
          merged_sqls[merged++] = ask->step_sql[i];
        }
        if (merged == first_new)
          ereport(ERROR, (errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
                          errmsg("the LLM's repaired plan gives no statement for connection \"%s\"", failed_databases[0])));
        ask->step_database = merged_databases;
        ask->step_sql = merged_sqls;
        ask->step_count = merged;
        ask->set_count = kept_set_count;
        ask->set_relation = kept_set_relation;
        ask->set_member_count = kept_set_member_count;
        ask->set_members = kept_set_members;
        ask->sets_json = kept_sets_json;
        refresh_plan_json(ask);
        guard_plan(ask);
        report_plan(ask);
        pending = static_cast<int*>(palloc(sizeof(int) * merged));
        pending_count = carry_over_results(ask, kept_count, kept_databases, kept_sqls, kept_failed, kept_rows, kept_ms,
                                           kept_columns, kept_results, pending);
        continue;
      }

      if (ask->combine_sql == nullptr && on_error == static_cast<int>(OnError::kWarn) && failed < ask->step_count) {
        for (int f = 0; f < failed; f++) ereport(WARNING, (errmsg_internal("%s", failed_messages[f])));
        ask->status = "partial";
        ask->error = failed_messages[0];
        return;
      }
      ask->status = "error";
      ereport(ERROR, (errcode(first_failed_sqlstate), errmsg_internal("%s", failed_messages[0]),
                      errdetail("The statement: %s", failed_sqls[0]),
                      ask->combine_sql != nullptr && on_error == static_cast<int>(OnError::kWarn)
                          ? errhint("A plan with a combine step needs every database's result: multidb.on_error = "
                                    "warn does not apply to it.")
                      : repairable == failed && ask->repairs_allowed
                          ? errhint("The LLM's repair rounds (multidb.max_repairs = %d) did not fix it.", max_repairs)
                          : 0));
    }

    if (ask->combine_sql == nullptr) {
      append_attempt(ask, 0, nullptr, nullptr);
      return;
    }
    CombineFailure combine = run_combine(ask, result, desc);
    if (!combine.failed) progress_combine(ask->combined_rows, ask->combine_ms, ask->combine_column_count, ask->combine_column_names);
    else progress_failed(kCombinedSource, combine.error->sqlerrcode, combine.error->message, false);
    if (!combine.failed) {
      append_attempt(ask, 0, nullptr, nullptr);
      release_step_results(ask);
      return;
    }
    const char* combine_message = psprintf("the combine step failed: %s", combine.error->message);
    const char* combine_name = kCombinedSource;
    append_attempt(ask, 1, &combine_name, &combine_message);
    if (!combine.repairable || !may_repair) raise_combine_failure(ask, combine, combine.repairable && ask->repairs_allowed);

    const char** old_databases = ask->step_database;
    const char** old_sqls = ask->step_sql;
    int old_count = ask->step_count;
    int64* old_rows = ask->step_rows;
    double* old_ms = ask->step_ms;
    TupleDesc* old_columns = ask->step_columns;
    Tuplestorestate** old_results = ask->step_results;
    progress_repair(round + 1, kCombinedSource, combine.error->sqlerrcode, combine.error->message);
    prepare_prompt(ask);
    FailedStatement combine_failure{kCombinedSource, ask->combine_sql, combine.error->sqlerrcode, combine.error->message,
                                    combine.error->detail, combine.error->hint};
    plan_with_llm(ask, 0, nullptr, &combine_failure, describe_step_tables(ask));
    if (ask->combine_sql == nullptr)
      ereport(ERROR, (errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
                      errmsg("the LLM's repaired plan has no combine step"),
                      errdetail("The combine step failed: %s", combine.error->message)));
    guard_plan(ask);
    report_plan(ask);
    pending = static_cast<int*>(palloc(sizeof(int) * Max(ask->step_count, 1)));
    pending_count = carry_over_results(ask, old_count, old_databases, old_sqls, nullptr, old_rows, old_ms,
                                       old_columns, old_results, pending);
  }
}

}  // namespace multidb
