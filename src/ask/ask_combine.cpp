// The combine step of a plan: one SQL statement over every step's result, each exposed as an ephemeral
// named relation called after its database, run on this server read-only in a subtransaction of its own.
#include "ask/ask_internal.hpp"
#include "core/repair_policy.hpp"
#include "foundation/settings.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/queryenvironment.h"
}

namespace multidb {

const char* describe_step_tables(const AskState* ask) {
  StringInfoData text;
  initStringInfo(&text);
  for (int i = 0; i < ask->step_count; i++) {
    appendStringInfo(&text, "%s%s (", i > 0 ? ", " : "", quote_identifier(ask->step_database[i]));
    TupleDesc columns = ask->step_columns[i];
    for (int c = 0; columns != nullptr && c < columns->natts; c++)
      appendStringInfo(&text, "%s%s %s", c > 0 ? ", " : "", quote_identifier(NameStr(TupleDescAttr(columns, c)->attname)),
                       format_type_be(TupleDescAttr(columns, c)->atttypid));
    appendStringInfoChar(&text, ')');
  }
  return text.data;
}

namespace {

// Runs the combine SQL over the step results, each registered as an ephemeral named relation (the
// mechanism of trigger transition tables: no catalog entry, so nothing is written, not even in a read-only
// transaction) named after its database. Search path pg_catalog and a read-only transaction state for the
// duration: the guard allowed no other relation, and nothing it calls may write. Rows go into combined.
void run_combine_query(AskState* ask, Tuplestorestate* combined, TupleDesc desc) {
  int connected = SPI_connect();
  if (connected != SPI_OK_CONNECT) elog(ERROR, "multidb, the combine step: SPI_connect failed: %s", SPI_result_code_string(connected));
  for (int i = 0; i < ask->step_count; i++) {
    if (ask->step_columns[i] == nullptr || ask->step_results[i] == nullptr)
      elog(ERROR, "connection \"%s\" gave the combine step no result", ask->step_database[i]);
    EphemeralNamedRelation relation = static_cast<EphemeralNamedRelation>(palloc0(sizeof(EphemeralNamedRelationData)));
    relation->md.name = pstrdup(ask->step_database[i]);
    relation->md.reliddesc = InvalidOid;
    relation->md.tupdesc = ask->step_columns[i];
    relation->md.enrtype = ENR_NAMED_TUPLESTORE;
    relation->md.enrtuples = static_cast<double>(tuplestore_tuple_count(ask->step_results[i]));
    relation->reldata = ask->step_results[i];
    int registered = SPI_register_relation(relation);
    if (registered != SPI_OK_REL_REGISTER)
      elog(ERROR, "could not expose the result of connection \"%s\" to the combine step: %s", ask->step_database[i],
           SPI_result_code_string(registered));
  }
  int guc_level = NewGUCNestLevel();
  set_config_option("search_path", "pg_catalog", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
  // Read as the guard read it (sql_guard.hpp), whatever this session's setting.
  set_config_option("standard_conforming_strings", "on", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
  bool was_read_only = XactReadOnly;
  XactReadOnly = true;

  Portal portal = SPI_cursor_open_with_args(nullptr, ask->combine_sql, 0, nullptr, nullptr, nullptr, false, 0);
  if (portal == nullptr)
    elog(ERROR, "multidb, the combine step: could not open a cursor: %s", SPI_result_code_string(SPI_result));
  JsonRowLayout* layout = nullptr;
  char** values = nullptr;
  Datum source = CStringGetTextDatum(kCombinedSource);
  MemoryContext batch_context = AllocSetContextCreate(CurrentMemoryContext, "multidb combine rows", ALLOCSET_DEFAULT_SIZES);
  for (;;) {
    SPI_cursor_fetch(portal, true, 1000);
    if (SPI_processed == 0) break;
    TupleDesc columns = SPI_tuptable->tupdesc;
    if (layout == nullptr) {
      layout = json_row_layout(columns);
      values = static_cast<char**>(palloc(sizeof(char*) * Max(columns->natts, 1)));
    }
    MemoryContext spi_context = MemoryContextSwitchTo(batch_context);
    for (uint64 row = 0; row < SPI_processed; row++) {
      for (int c = 0; c < columns->natts; c++) values[c] = SPI_getvalue(SPI_tuptable->vals[row], columns, c + 1);
      Datum out[2] = {source, json_row(layout, values)};
      bool nulls[2] = {false, false};
      tuplestore_putvalues(combined, desc, out, nulls);
      ask->combined_rows++;
    }
    MemoryContextSwitchTo(spi_context);
    MemoryContextReset(batch_context);
    SPI_freetuptable(SPI_tuptable);
    CHECK_FOR_INTERRUPTS();
  }
  SPI_cursor_close(portal);

  XactReadOnly = was_read_only;
  AtEOXact_GUC(true, guc_level);
  int finished = SPI_finish();
  if (finished != SPI_OK_FINISH) elog(ERROR, "multidb, the combine step: SPI_finish failed: %s", SPI_result_code_string(finished));
}

struct CombineCall {
  AskState* ask;
  Tuplestorestate* combined;
  TupleDesc desc;
};

void combine_body(void* arg) {
  CombineCall* call = static_cast<CombineCall*>(arg);
  run_combine_query(call->ask, call->combined, call->desc);
}

}  // namespace

CombineFailure run_combine(AskState* ask, Tuplestorestate* result, TupleDesc desc) {
  CombineFailure failure{};
  Tuplestorestate* combined = tuplestore_begin_heap(false, false, work_mem);
  ask->combined_rows = 0;
  instr_time start;
  INSTR_TIME_SET_CURRENT(start);
  CombineCall call{ask, combined, desc};
  ErrorData* error = in_subtransaction(combine_body, &call);
  ask->combine_ms = elapsed_ms(start);
  if (error != nullptr) {
    // A cancel or a statement_timeout ends the ask as it would any statement.
    if (error->sqlerrcode == ERRCODE_QUERY_CANCELED) ReThrowError(error);
    // The store's files went with the subtransaction; its memory goes with ours.
    failure.failed = true;
    failure.error = error;
    failure.repairable = llm_may_repair(unpack_sql_state(error->sqlerrcode), FailedStep::kCombineStep, false);
    return failure;
  }

  TupleTableSlot* slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
  while (tuplestore_gettupleslot(combined, true, false, slot)) tuplestore_puttupleslot(result, slot);
  ExecDropSingleTupleTableSlot(slot);
  tuplestore_end(combined);
  return failure;
}

void raise_combine_failure(AskState* ask, const CombineFailure& failure, bool after_repairs) {
  ask->status = "error";
  ErrorData* error = failure.error;
  ereport(ERROR, (errcode(error->sqlerrcode), errmsg("the combine step failed: %s", error->message),
                  errdetail("The combine step: %s\nThe tables it could read: %s", ask->combine_sql,
                            describe_step_tables(ask)),
                  after_repairs ? errhint("The LLM's repair rounds (multidb.max_repairs = %d) did not fix it.", max_repairs)
                                : (error->hint ? errhint("%s", error->hint) : 0)));
  pg_unreachable();
}

}  // namespace multidb
