// The combine step of a plan: one SQL statement over every step's result, each exposed as an ephemeral
// named relation called after its database (and, for a set of databases the plan named, one relation of all its
// members' rows), run on this server read-only in a subtransaction of its own.
#include "ask/ask_internal.hpp"
#include "core/database_names.hpp"
#include "core/repair_policy.hpp"
#include "foundation/settings.hpp"

#include <string>
#include <vector>

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

namespace {

int step_of(const AskState* ask, const char* database) {
  for (int i = 0; i < ask->step_count; i++)
    if (strcmp(ask->step_database[i], database) == 0) return i;
  return -1;
}

// Each member's result columns, in the set's member order (nullptr for a member without a result).
TupleDesc* member_columns(const AskState* ask, int set) {
  int n = ask->set_member_count[set];
  TupleDesc* columns = static_cast<TupleDesc*>(palloc0(sizeof(TupleDesc) * Max(n, 1)));
  for (int m = 0; m < n; m++) {
    int step = step_of(ask, ask->set_members[set][m]);
    columns[m] = step >= 0 ? ask->step_columns[step] : nullptr;
  }
  return columns;
}

void append_columns(StringInfo text, TupleDesc columns, int from) {
  for (int c = from; columns != nullptr && c < columns->natts; c++)
    appendStringInfo(text, "%s%s %s", c > from ? ", " : "", quote_identifier(NameStr(TupleDescAttr(columns, c)->attname)),
                     format_type_be(TupleDescAttr(columns, c)->atttypid));
}

// "t0001 … t1000": a set's members, short whatever their number.
const char* compact_members(const AskState* ask, int set) {
  const char** names = to_utf8_all(ask->set_members[set], ask->set_member_count[set]);
  char* text = nullptr;
  CppError error = cpp_call([&] {
    std::vector<std::string> members(names, names + ask->set_member_count[set]);
    text = malloc_copy(compact_database_names(members, {}, 200).text);
  });
  if (error.failed) return psprintf("%d databases", ask->set_member_count[set]);
  return from_utf8(take(text), "a set's database names");
}

const char* with_thousands(int number) {
  const char* digits = psprintf("%d", number);
  StringInfoData text;
  initStringInfo(&text);
  int length = static_cast<int>(strlen(digits));
  for (int i = 0; i < length; i++) {
    if (i > 0 && (length - i) % 3 == 0) appendStringInfoChar(&text, ',');
    appendStringInfoChar(&text, digits[i]);
  }
  return text.data;
}

}  // namespace

TupleDesc set_relation_columns(const AskState* ask, int set, const TupleDesc* columns, const char** mismatch) {
  int n = ask->set_member_count[set];
  const char** members = ask->set_members[set];
  *mismatch = nullptr;
  TupleDesc first = n > 0 ? columns[0] : nullptr;
  for (int m = 0; m < n; m++)
    if (columns[m] == nullptr) {
      *mismatch = psprintf("database %s gave no result", members[m]);
      return nullptr;
    }
  if (first == nullptr) {
    *mismatch = pstrdup("the set has no databases");
    return nullptr;
  }
  for (int c = 0; c < first->natts; c++)
    if (strcmp(NameStr(TupleDescAttr(first, c)->attname), "source_db") == 0) {
      *mismatch = psprintf("the result of database %s has a column source_db of its own, which the set's relation "
                           "has first", members[0]);
      return nullptr;
    }
  for (int m = 1; m < n; m++) {
    TupleDesc other = columns[m];
    int common = Min(first->natts, other->natts);
    for (int c = 0; c < common; c++) {
      Form_pg_attribute a = TupleDescAttr(first, c), b = TupleDescAttr(other, c);
      if (strcmp(NameStr(a->attname), NameStr(b->attname)) != 0) {
        *mismatch = psprintf("column %d is %s on database %s but %s on database %s", c + 1,
                             NameStr(a->attname), members[0], NameStr(b->attname), members[m]);
        return nullptr;
      }
      if (a->atttypid != b->atttypid) {
        *mismatch = psprintf("column %s is %s on database %s but %s on database %s", NameStr(a->attname),
                             format_type_be(a->atttypid), members[0], format_type_be(b->atttypid), members[m]);
        return nullptr;
      }
    }
    if (first->natts != other->natts) {
      TupleDesc longer = first->natts > other->natts ? first : other;
      *mismatch = psprintf("database %s gives %d columns and database %s %d (column %s is only on %s)",
                           members[0], first->natts, members[m], other->natts,
                           NameStr(TupleDescAttr(longer, common)->attname), longer == first ? members[0] : members[m]);
      return nullptr;
    }
  }
  TupleDesc desc = CreateTemplateTupleDesc(first->natts + 1);
  TupleDescInitEntry(desc, 1, "source_db", TEXTOID, -1, 0);
  for (int c = 0; c < first->natts; c++) {
    Form_pg_attribute a = TupleDescAttr(first, c);
    int32 typmod = a->atttypmod;
    for (int m = 1; m < n; m++)
      if (TupleDescAttr(columns[m], c)->atttypmod != typmod) typmod = -1;
    TupleDescInitEntry(desc, c + 2, NameStr(a->attname), a->atttypid, typmod, a->attndims);
  }
  return desc;
}

const char* describe_step_tables(const AskState* ask) {
  StringInfoData text;
  initStringInfo(&text);
  bool* in_set = static_cast<bool*>(palloc0(sizeof(bool) * Max(ask->step_count, 1)));
  for (int s = 0; s < ask->set_count; s++) {
    if (ask->set_relation[s] == nullptr) continue;
    TupleDesc* columns = member_columns(ask, s);
    const char* mismatch = nullptr;
    TupleDesc desc = set_relation_columns(ask, s, columns, &mismatch);
    const char* databases = psprintf("%s database%s (%s)", with_thousands(ask->set_member_count[s]),
                                     ask->set_member_count[s] == 1 ? "" : "s", compact_members(ask, s));
    appendStringInfo(&text, "%s%s", text.len > 0 ? ", " : "", quote_identifier(ask->set_relation[s]));
    if (desc == nullptr) {
      appendStringInfo(&text, ", the set relation of %s, which cannot hold their rows: %s", databases, mismatch);
    } else {
      appendStringInfoString(&text, " (source_db text");
      if (desc->natts > 1) appendStringInfoString(&text, ", ");
      append_columns(&text, desc, 1);
      appendStringInfo(&text, "): the rows of %s, each also a table of its own named after its database", databases);
    }
    for (int m = 0; m < ask->set_member_count[s]; m++) {
      int step = step_of(ask, ask->set_members[s][m]);
      if (step >= 0 && desc != nullptr) in_set[step] = true;
    }
  }
  for (int i = 0; i < ask->step_count; i++) {
    if (in_set[i]) continue;
    appendStringInfo(&text, "%s%s (", text.len > 0 ? ", " : "", quote_identifier(ask->step_database[i]));
    append_columns(&text, ask->step_columns[i], 0);
    appendStringInfoChar(&text, ')');
  }
  return text.data;
}

namespace {

// Whether sql could name the relation: its name appears in it, in any case. (A set's relation is a copy of its
// members' rows: made only for a combine step that may read it.)
bool mentions(const char* sql, const char* name) {
  size_t length = strlen(name);
  if (length == 0) return false;
  for (const char* at = sql; *at != '\0'; at++)
    if (pg_strncasecmp(at, name, length) == 0) return true;
  return false;
}

// The set's relation: source_db, then each member's rows in member order, as an ephemeral named relation. Members
// whose columns disagree are the combine step's error (42804, which the LLM may repair), naming column and databases.
Tuplestorestate* register_set_relation(AskState* ask, int set) {
  const char* name = ask->set_relation[set];
  int n = ask->set_member_count[set];
  TupleDesc* columns = member_columns(ask, set);
  const char* mismatch = nullptr;
  TupleDesc desc = set_relation_columns(ask, set, columns, &mismatch);
  if (desc == nullptr)
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("the set relation %s cannot hold the rows of its %d databases, whose columns differ: %s",
                           name, n, mismatch),
                    errhint("Give every database of the set a statement with the same columns (names and types), or "
                            "read the databases' own relations.")));
  Tuplestorestate* rows = tuplestore_begin_heap(false, false, work_mem);
  Datum* values = static_cast<Datum*>(palloc(sizeof(Datum) * desc->natts));
  bool* nulls = static_cast<bool*>(palloc(sizeof(bool) * desc->natts));
  MemoryContext row_context = AllocSetContextCreate(CurrentMemoryContext, "multidb set rows", ALLOCSET_DEFAULT_SIZES);
  for (int m = 0; m < n; m++) {
    int step = step_of(ask, ask->set_members[set][m]);
    Tuplestorestate* store = step >= 0 ? ask->step_results[step] : nullptr;
    if (store == nullptr) elog(ERROR, "connection \"%s\" gave the combine step no result", ask->set_members[set][m]);
    Datum source = CStringGetTextDatum(ask->set_members[set][m]);
    TupleTableSlot* slot = MakeSingleTupleTableSlot(columns[m], &TTSOpsMinimalTuple);
    tuplestore_rescan(store);
    while (tuplestore_gettupleslot(store, true, false, slot)) {
      MemoryContext caller = MemoryContextSwitchTo(row_context);
      slot_getallattrs(slot);
      values[0] = source;
      nulls[0] = false;
      for (int c = 0; c < columns[m]->natts; c++) {
        values[c + 1] = slot->tts_values[c];
        nulls[c + 1] = slot->tts_isnull[c];
      }
      tuplestore_putvalues(rows, desc, values, nulls);
      MemoryContextSwitchTo(caller);
      MemoryContextReset(row_context);
      CHECK_FOR_INTERRUPTS();
    }
    tuplestore_rescan(store);
    ExecDropSingleTupleTableSlot(slot);
  }
  MemoryContextDelete(row_context);
  EphemeralNamedRelation relation = static_cast<EphemeralNamedRelation>(palloc0(sizeof(EphemeralNamedRelationData)));
  relation->md.name = pstrdup(name);
  relation->md.reliddesc = InvalidOid;
  relation->md.tupdesc = desc;
  relation->md.enrtype = ENR_NAMED_TUPLESTORE;
  relation->md.enrtuples = static_cast<double>(tuplestore_tuple_count(rows));
  relation->reldata = rows;
  int registered = SPI_register_relation(relation);
  if (registered != SPI_OK_REL_REGISTER)
    elog(ERROR, "could not expose the relation \"%s\" of %d databases to the combine step: %s", name, n,
         SPI_result_code_string(registered));
  return rows;
}

// Runs the combine SQL over the step results, each registered as an ephemeral named relation (the
// mechanism of trigger transition tables: no catalog entry, so nothing is written, not even in a read-only
// transaction) named after its database. Search path pg_catalog and a read-only transaction state for the
// duration: the guard allowed no other relation, and nothing it calls may write. Rows go into combined.
void run_combine_query(AskState* ask, Tuplestorestate* combined, TupleDesc desc, MemoryContext outer) {
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
  Tuplestorestate** set_rows = static_cast<Tuplestorestate**>(palloc0(sizeof(Tuplestorestate*) * Max(ask->set_count, 1)));
  for (int s = 0; s < ask->set_count; s++)
    if (ask->set_relation[s] != nullptr && mentions(ask->combine_sql, ask->set_relation[s]))
      set_rows[s] = register_set_relation(ask, s);
  int guc_level = NewGUCNestLevel();
  set_config_option("search_path", "pg_catalog", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
  // Read as the guard read it (sql_guard.hpp), whatever this session's setting.
  set_config_option("standard_conforming_strings", "on", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
  bool was_read_only = XactReadOnly;
  XactReadOnly = true;

  Portal portal = SPI_cursor_open_with_args(nullptr, ask->combine_sql, 0, nullptr, nullptr, nullptr, false, 0);
  if (portal == nullptr)
    elog(ERROR, "multidb, the combine step: could not open a cursor: %s", SPI_result_code_string(SPI_result));
  // Its column names in order for the progress event (the rows' jsonb sorts them), kept past SPI_finish.
  {
    TupleDesc shape = portal->tupDesc;
    const int count = shape != nullptr ? shape->natts : 0;
    MemoryContext spi_context = MemoryContextSwitchTo(outer);
    const char** names = static_cast<const char**>(palloc(sizeof(char*) * Max(count, 1)));
    for (int c = 0; c < count; c++) names[c] = pstrdup(NameStr(TupleDescAttr(shape, c)->attname));
    MemoryContextSwitchTo(spi_context);
    ask->combine_column_count = count;
    ask->combine_column_names = names;
  }
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
  // The sets' copies now, not at the end of the transaction (whose clean-up warns of each temporary file).
  for (int s = 0; s < ask->set_count; s++)
    if (set_rows[s] != nullptr) tuplestore_end(set_rows[s]);

  XactReadOnly = was_read_only;
  AtEOXact_GUC(true, guc_level);
  int finished = SPI_finish();
  if (finished != SPI_OK_FINISH) elog(ERROR, "multidb, the combine step: SPI_finish failed: %s", SPI_result_code_string(finished));
}

struct CombineCall {
  AskState* ask;
  Tuplestorestate* combined;
  TupleDesc desc;
  MemoryContext outer;  // the ask's: what must outlive the combine's SPI connection
};

void combine_body(void* arg) {
  CombineCall* call = static_cast<CombineCall*>(arg);
  run_combine_query(call->ask, call->combined, call->desc, call->outer);
}

}  // namespace

CombineFailure run_combine(AskState* ask, Tuplestorestate* result, TupleDesc desc) {
  CombineFailure failure{};
  Tuplestorestate* combined = tuplestore_begin_heap(false, false, work_mem);
  ask->combined_rows = 0;
  instr_time start;
  INSTR_TIME_SET_CURRENT(start);
  ask->combine_column_count = 0;
  ask->combine_column_names = nullptr;
  CombineCall call{ask, combined, desc, CurrentMemoryContext};
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
