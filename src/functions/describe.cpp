// SQL-callable entry points of describing: multidb.describe (each database's description of a statement, without
// running it) and multidb._description_drift (a stored description against one made now).
#include "core/description_document.hpp"
#include "fanout/describe_targets.hpp"
#include "fanout/fanout_executor.hpp"
#include "foundation/boundary.hpp"
#include "foundation/entry_point.hpp"

extern "C" {
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
}

using namespace multidb;

namespace {

Datum describe_entry(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("argument sql must not be NULL")));
  if (PG_ARGISNULL(1))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("argument connections must not be NULL"),
                    errhint("Pass connection names, for example ARRAY['production','backup'].")));
  const char* sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  int count;
  RemoteTarget* targets = resolve_targets(PG_GETARG_ARRAYTYPE_P(1), &count);
  TargetDescription* descriptions = describe_on_targets(sql, nullptr, targets, count);
  for (int i = 0; i < count; i++) {
    for (int c = 0; c < descriptions[i].column_count; c++) {
      Datum values[3] = {CStringGetTextDatum(descriptions[i].database), CStringGetTextDatum(descriptions[i].names[c]),
                         CStringGetTextDatum(descriptions[i].types[c])};
      bool nulls[3] = {false, false, false};
      tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
  }
  return static_cast<Datum>(0);
}

const char* jsonb_argument_utf8(FunctionCallInfo fcinfo, int n, const char* name) {
  if (PG_ARGISNULL(n))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("argument %s must not be NULL", name)));
  const char* text = JsonbToCString(nullptr, &PG_GETARG_JSONB_P(n)->root, 0);
  return GetDatabaseEncoding() == PG_UTF8 ? text : pg_server_to_any(text, strlen(text), PG_UTF8);
}

const char* from_utf8_text(const char* text) {
  return GetDatabaseEncoding() == PG_UTF8 ? text : pg_any_to_server(text, strlen(text), PG_UTF8);
}

Datum description_drift_entry(FunctionCallInfo fcinfo) {
  const char* stored = jsonb_argument_utf8(fcinfo, 0, "stored");
  const char* now = jsonb_argument_utf8(fcinfo, 1, "now");
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  constexpr int kFields = 5;
  char** rows = nullptr;  // kFields texts per item, malloc'd
  int count = 0;
  CppError error = cpp_call([&] {
    std::vector<DriftItem> drift =
        description_document_drift(read_description_document(stored), read_description_document(now));
    rows = static_cast<char**>(calloc(Max(drift.size(), size_t{1}) * kFields, sizeof(char*)));
    if (rows == nullptr) throw std::bad_alloc();
    for (const DriftItem& item : drift) {
      const std::string fields[kFields] = {drift_kind_name(item.kind), item.column, item.database, item.expected,
                                           item.found};
      for (int f = 0; f < kFields; f++) rows[count * kFields + f] = malloc_copy(fields[f]);
      count++;
    }
  });
  const char** texts = static_cast<const char**>(palloc0(sizeof(char*) * Max(count, 1) * kFields));
  for (int i = 0; rows != nullptr && i < count * kFields; i++) texts[i] = take(rows[i]);
  free(rows);
  raise_cpp_error(error, "comparing descriptions");
  for (int i = 0; i < count; i++) {
    Datum values[kFields];
    bool nulls[kFields];
    for (int f = 0; f < kFields; f++) {
      const char* field = texts[i * kFields + f];
      nulls[f] = field[0] == '\0' && f >= 3;  // no expected type (added), no found type (removed)
      values[f] = nulls[f] ? static_cast<Datum>(0) : CStringGetTextDatum(from_utf8_text(field));
    }
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  return static_cast<Datum>(0);
}

}  // namespace

MULTIDB_FUNCTION(multidb_describe) { return describe_entry(fcinfo); }

MULTIDB_FUNCTION(multidb__description_drift) { return description_drift_entry(fcinfo); }
