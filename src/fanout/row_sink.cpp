// Remote values into the caller's rows, for the three shapes of a fan-out: jsonb row_data (kJson), the
// caller's column types through their input functions (kTyped), or each target's own typed result
// (kPerTarget); with an error context that names the connection, the column and the remote columns.
// kTyped and kPerTarget read an in-backend connection's rows in binary after its first batch where every column
// allows it (core/row_format.hpp): the type's receive function instead of the remote's output and the local input
// parse. kJson, and rows from a background worker (which passes text through its queue), stay text.
#include "fanout/fanout_internal.hpp"

#include "core/row_format.hpp"
#include "foundation/boundary.hpp"
#include "foundation/combine_fence.hpp"

#include <string>
#include <vector>

extern "C" {
#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/syscache.h"
}

namespace multidb {

namespace {

const char* describe_remote_columns(const Channel* channel) {
  StringInfoData text;
  initStringInfo(&text);
  for (int i = 0; i < channel->column_count; i++)
    appendStringInfo(&text, "%s%s", i > 0 ? ", " : "",
                     describe_remote_column(channel->column_names[i], channel->column_types[i]));
  return text.data;
}

void make_json_keys(int n, const char* const* names, const Oid* types, JsonbValue** keys_out, JsonKind** kinds_out) {
  JsonbValue* keys = static_cast<JsonbValue*>(palloc0(sizeof(JsonbValue) * Max(n, 1)));
  JsonKind* kinds = static_cast<JsonKind*>(palloc(sizeof(JsonKind) * Max(n, 1)));
  // Filled inside the C++ scope with malloc'd copies, turned into palloc'd ones after it.
  char** unique_names = static_cast<char**>(palloc0(sizeof(char*) * Max(n, 1)));
  CppError error = cpp_call([&] {
    std::vector<std::string> given(names, names + n);
    std::vector<std::string> unique = unique_column_keys(given);
    for (int i = 0; i < n; i++) {
      unique_names[i] = strdup(unique[i].c_str());
      if (unique_names[i] == nullptr) throw std::bad_alloc();
    }
  });
  if (error.failed)
    for (int i = 0; i < n; i++) free(unique_names[i]);
  raise_cpp_error(error, "naming the result's columns");
  for (int i = 0; i < n; i++) {
    char* key = pstrdup(unique_names[i]);
    free(unique_names[i]);
    keys[i].type = jbvString;
    keys[i].val.string.val = key;
    keys[i].val.string.len = strlen(key);
    kinds[i] = json_kind_for_type(types[i]);
  }
  *keys_out = keys;
  *kinds_out = kinds;
}

void prepare_json_keys(Channel* channel) {
  make_json_keys(channel->column_count, channel->column_names, channel->column_types, &channel->json_keys,
                 &channel->json_kinds);
}

}  // namespace

// A remote column's type here: a built-in type has the same OID on every server; any other (an enum, a
// domain, an extension's type) may not exist here, so its text form is kept. So is a type whose input reads
// this server's catalog (regclass, aclitem, a catalog's row type: combine_fence.hpp): the remote's names mean
// other objects here, or none, and the combine step must not make this server look them up.
Oid local_column_type(Oid remote_type) {
  if (remote_type >= FirstGenbkiObjectId || type_reads_catalog(remote_type)) return TEXTOID;
  HeapTuple type = SearchSysCache1(TYPEOID, ObjectIdGetDatum(remote_type));
  if (!HeapTupleIsValid(type)) return TEXTOID;
  bool usable = reinterpret_cast<Form_pg_type>(GETSTRUCT(type))->typtype != TYPTYPE_PSEUDO;
  ReleaseSysCache(type);
  return usable ? remote_type : TEXTOID;
}

namespace {

void prepare_own_result(Fanout* fanout, Channel* channel) {
  MemoryContext previous = MemoryContextSwitchTo(fanout->caller_context);
  prepare_json_keys(channel);  // the unique column names
  int n = channel->column_count;
  channel->own_desc = CreateTemplateTupleDesc(n);
  channel->own_input_functions = static_cast<FmgrInfo*>(palloc0(sizeof(FmgrInfo) * Max(n, 1)));
  channel->own_input_ioparams = static_cast<Oid*>(palloc0(sizeof(Oid) * Max(n, 1)));
  channel->own_receive_functions = static_cast<FmgrInfo*>(palloc0(sizeof(FmgrInfo) * Max(n, 1)));
  channel->own_receive_ioparams = static_cast<Oid*>(palloc0(sizeof(Oid) * Max(n, 1)));
  for (int i = 0; i < n; i++) {
    Oid type = local_column_type(channel->column_types[i]);
    TupleDescInitEntry(channel->own_desc, i + 1, channel->json_keys[i].val.string.val, type, -1, 0);
    Oid input_function;
    getTypeInputInfo(type, &input_function, &channel->own_input_ioparams[i]);
    fmgr_info(input_function, &channel->own_input_functions[i]);
  }
  channel->own_rows = tuplestore_begin_heap(false, false, work_mem);
  MemoryContextSwitchTo(previous);
}

void conversion_error_context(void* arg) {
  Fanout* fanout = static_cast<Fanout*>(arg);
  Channel* channel = fanout->converting_channel;
  if (channel == nullptr) return;
  int column = fanout->converting_column;
  errcontext("column \"%s\" (remote type: %s) of connection \"%s\"; the remote result's columns: %s",
             channel->column_names[column], remote_type_name(channel->column_types[column]), channel->target->name,
             describe_remote_columns(channel));
}

JsonbValue json_value(JsonKind kind, const char* text) {
  JsonbValue value;
  if (text == nullptr) {
    value.type = jbvNull;
    return value;
  }
  switch (kind) {
    case JsonKind::kBoolean:
      value.type = jbvBool;
      value.val.boolean = text[0] == 't';
      return value;
    case JsonKind::kNumber: {
      Numeric number = DatumGetNumeric(
          DirectFunctionCall3(numeric_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
      if (!numeric_is_nan(number) && !numeric_is_inf(number)) {
        value.type = jbvNumeric;
        value.val.numeric = number;
        return value;
      }
      break;  // JSON has no NaN or Infinity: keep the text
    }
    case JsonKind::kEmbeddedJson: {
      Jsonb* embedded = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
      value.type = jbvBinary;
      value.val.binary.data = &embedded->root;
      value.val.binary.len = VARSIZE(embedded) - VARHDRSZ;
      return value;
    }
    case JsonKind::kString:
      break;
  }
  value.type = jbvString;
  value.val.string.val = const_cast<char*>(text);
  value.val.string.len = strlen(text);
  return value;
}

// While a channel's values are converted, an error names the column, the connection and its columns.
void begin_conversion(Fanout* fanout, Channel* channel, ErrorContextCallback* callback) {
  callback->callback = conversion_error_context;
  callback->arg = fanout;
  callback->previous = error_context_stack;
  error_context_stack = callback;
  fanout->converting_channel = channel;
}

void end_conversion(Fanout* fanout, ErrorContextCallback* callback) {
  error_context_stack = callback->previous;
  fanout->converting_channel = nullptr;
}

// The values rows were made of (in row_context) are freed once they hold more than kRowValuesBytes: a reset after
// every row cost a large fan-out about 2 % of its time, and a row of large values is still freed right after it.
constexpr Size kRowValuesBytes = 64 * 1024;

void release_row_values(Fanout* fanout) {
  if (MemoryContextMemAllocated(fanout->row_context, false) > kRowValuesBytes) MemoryContextReset(fanout->row_context);
}

// kPerTarget: one row into the target's own store, in the row context.
void store_own_row(Fanout* fanout, Channel* channel, char** values, const int* lengths, const bool* binary) {
  int n = channel->column_count;
  Datum* datums = channel->row_datums;
  bool* nulls = channel->row_nulls;
  ErrorContextCallback callback;
  begin_conversion(fanout, channel, &callback);
  for (int i = 0; i < n; i++) {
    fanout->converting_column = i;
    if (binary != nullptr && binary[i])
      datums[i] = receive_value(&channel->own_receive_functions[i], channel->own_receive_ioparams[i], -1, values[i],
                                lengths[i]);
    else
      datums[i] = InputFunctionCall(&channel->own_input_functions[i], values[i], channel->own_input_ioparams[i], -1);
    nulls[i] = values[i] == nullptr;
  }
  end_conversion(fanout, &callback);
  tuplestore_putvalues(channel->own_rows, channel->own_desc, datums, nulls);
}

}  // namespace

bool is_remote_own_type(Oid type) { return type >= FirstGenbkiObjectId; }

// Built-in types have the same OID on every server; any other is the remote's own, and only its number came.
const char* remote_type_name(Oid type) {
  return is_remote_own_type(type) ? psprintf("a type of the remote's own (OID %u)", type) : format_type_be(type);
}

const char* describe_remote_column(const char* name, Oid type) {
  return is_remote_own_type(type) ? psprintf("%s (%s)", quote_identifier(name), remote_type_name(type))
                                  : psprintf("%s %s", quote_identifier(name), format_type_be(type));
}

const char* own_type_hint(const char* const* names, const Oid* types, int count) {
  StringInfoData columns, casts;
  initStringInfo(&columns);
  initStringInfo(&casts);
  int found = 0;
  for (int i = 0; i < count; i++) {
    if (!is_remote_own_type(types[i])) continue;
    appendStringInfo(&columns, "%s%s", found > 0 ? ", " : "", quote_identifier(names[i]));
    appendStringInfo(&casts, "%s%s::text", found > 0 ? ", " : "", quote_identifier(names[i]));
    found++;
  }
  if (found == 0) return nullptr;
  return psprintf(found == 1 ? "Column %s is of a type of the remote's own (an enum, a domain or an extension's type), "
                               "which this server cannot name: cast it to text in the statement (%s)."
                             : "Columns %s are of types of the remote's own (enums, domains or extensions' types), "
                               "which this server cannot name: cast them to text in the statement (%s).",
                  columns.data, casts.data);
}

namespace {

// The facts core/row_format.hpp decides a column's format by, looked up here.
ColumnTypeFacts column_type_facts(Oid remote_type, Oid local_type) {
  ColumnTypeFacts facts{remote_type, !is_remote_own_type(remote_type), local_type, false, false};
  if (!facts.remote_type_builtin || local_type != remote_type) return facts;
  facts.reads_catalog = type_reads_catalog(local_type);
  HeapTuple type = SearchSysCache1(TYPEOID, ObjectIdGetDatum(local_type));
  if (HeapTupleIsValid(type)) {
    Form_pg_type form = reinterpret_cast<Form_pg_type>(GETSTRUCT(type));
    facts.binary_io_here = OidIsValid(form->typreceive) && OidIsValid(form->typsend) && form->typtype != TYPTYPE_PSEUDO;
    ReleaseSysCache(type);
  }
  return facts;
}

// The receive function of a column that may come in binary, prepared once (in the call's context).
void prepare_receive(FmgrInfo* function, Oid* ioparam, Oid type, MemoryContext context) {
  if (OidIsValid(function->fn_oid)) return;
  Oid receive_function;
  getTypeBinaryInputInfo(type, &receive_function, ioparam);
  fmgr_info_cxt(receive_function, function, context);
}

// After the first batch of an in-backend connection: binary for the FETCHes to come when every column can be read
// so, else text; a DEBUG1 message says which, and why text.
void choose_fetch_format(Fanout* fanout, Channel* channel) {
  const FanoutRequest* request = fanout->request;
  if (channel->state != ChannelState::kLocal) {
    ereport(DEBUG1, (errmsg_internal("multidb: connection \"%s\" reads rows in text: its background worker passes "
                                     "values as text",
                                     channel->target->name)));
    return;
  }
  int n = channel->column_count;
  ColumnFormat* formats = static_cast<ColumnFormat*>(palloc(sizeof(ColumnFormat) * Max(n, 1)));
  for (int i = 0; i < n; i++) {
    Oid local_type = request->shape == RowShape::kTyped ? TupleDescAttr(request->result_desc, i + 1)->atttypid
                                                        : TupleDescAttr(channel->own_desc, i)->atttypid;
    formats[i] = column_format(column_type_facts(channel->column_types[i], local_type));
  }
  // The receive functions of text types convert from this session's client_encoding (pq_getmsgtext), while the
  // remote sends this database's encoding (connections.cpp): only where the two are one is that no conversion.
  ResultFormat result = result_format(formats, n, pg_get_client_encoding() == GetDatabaseEncoding());
  if (result.binary) {
    for (int i = 0; i < n; i++) {
      if (request->shape == RowShape::kTyped)
        prepare_receive(&fanout->receive_functions[i + 1], &fanout->receive_ioparams[i + 1],
                        TupleDescAttr(request->result_desc, i + 1)->atttypid, fanout->caller_context);
      else
        prepare_receive(&channel->own_receive_functions[i], &channel->own_receive_ioparams[i],
                        TupleDescAttr(channel->own_desc, i)->atttypid, fanout->caller_context);
    }
    channel->local.fetch_result_format = 1;
    ereport(DEBUG1, (errmsg_internal("multidb: connection \"%s\" asks for rows in binary", channel->target->name)));
  } else if (result.encoding_blocks) {
    ereport(DEBUG1, (errmsg_internal("multidb: connection \"%s\" reads rows in text: client_encoding %s is not the "
                                     "database's encoding %s",
                                     channel->target->name, pg_get_client_encoding_name(),
                                     GetDatabaseEncodingName())));
  } else {
    int i = result.first_text_column;
    ereport(DEBUG1, (errmsg_internal("multidb: connection \"%s\" reads rows in text: column \"%s\" (remote type: %s) "
                                     "is %s",
                                     channel->target->name, channel->column_names[i],
                                     remote_type_name(channel->column_types[i]), column_format_reason(formats[i]))));
  }
  pfree(formats);
}

}  // namespace

// A result has at most MaxTupleAttributeNumber columns on any server; more is no result of Postgres's.
void check_column_count(const Channel* channel, int count) { check_result_width(channel->target->name, count); }

void accept_columns(Fanout* fanout, Channel* channel) {
  const FanoutRequest* request = fanout->request;
  if (request->shape == RowShape::kJson) {
    prepare_json_keys(channel);
  } else if (request->shape == RowShape::kPerTarget) {
    prepare_own_result(fanout, channel);
  } else if (channel->column_count != request->result_desc->natts - 1) {
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("connection \"%s\" returned %d columns, but the column definition list has %d after "
                           "source_db",
                           channel->target->name, channel->column_count, request->result_desc->natts - 1),
                    errdetail("The remote result's columns: %s.", describe_remote_columns(channel)),
                    own_type_hint(channel->column_names, channel->column_types, channel->column_count)
                        ? errhint("%s", own_type_hint(channel->column_names, channel->column_types,
                                                      channel->column_count))
                        : 0));
  }
  channel->columns_known = true;
  if (request->shape != RowShape::kJson && !request->describe_only) choose_fetch_format(fanout, channel);
}

void check_binary_columns(const Fanout* fanout, Channel* channel, const bool* binary) {
  const FanoutRequest* request = fanout->request;
  for (int i = 0; i < channel->column_count; i++) {
    if (!binary[i]) continue;
    const FmgrInfo* function = request->shape == RowShape::kTyped     ? &fanout->receive_functions[i + 1]
                               : request->shape == RowShape::kPerTarget ? &channel->own_receive_functions[i]
                                                                        : nullptr;
    if (function == nullptr || !OidIsValid(function->fn_oid))
      ereport(ERROR, (errcode(ERRCODE_PROTOCOL_VIOLATION),
                      errmsg("connection \"%s\" sent column \"%s\" in binary, which was not asked for",
                             channel->target->name, channel->column_names[i])));
  }
  if (channel->binary_rows_seen) return;
  channel->binary_rows_seen = true;
  ereport(DEBUG1, (errmsg_internal("multidb: connection \"%s\" reads rows in binary from row %lld", channel->target->name,
                                   static_cast<long long>(channel->rows + 1))));
}

namespace {

// The arrays one row is made in, once per channel (not per row: a million rows are a million of each), and
// source_db's text datum.
void prepare_row_arrays(Fanout* fanout, Channel* channel) {
  MemoryContext previous = MemoryContextSwitchTo(fanout->caller_context);
  int n = fanout->request->shape == RowShape::kPerTarget ? channel->column_count : fanout->request->result_desc->natts;
  channel->row_datums = static_cast<Datum*>(palloc(sizeof(Datum) * Max(n, 1)));
  channel->row_nulls = static_cast<bool*>(palloc(sizeof(bool) * Max(n, 1)));
  channel->source_db = CStringGetTextDatum(channel->target->name);
  MemoryContextSwitchTo(previous);
}

}  // namespace

// values[i]: nullptr for NULL, else text, or binary of lengths[i] bytes where binary[i].
void store_row(Fanout* fanout, Channel* channel, char** values, const int* lengths, const bool* binary) {
  const FanoutRequest* request = fanout->request;
  if (channel->row_datums == nullptr) prepare_row_arrays(fanout, channel);
  MemoryContext caller_context = MemoryContextSwitchTo(fanout->row_context);
  if (request->shape == RowShape::kPerTarget) {
    store_own_row(fanout, channel, values, lengths, binary);
    MemoryContextSwitchTo(caller_context);
    release_row_values(fanout);
    channel->rows++;
    return;
  }
  Datum* datums = channel->row_datums;
  bool* nulls = channel->row_nulls;
  datums[0] = channel->source_db;
  nulls[0] = false;

  ErrorContextCallback callback;
  begin_conversion(fanout, channel, &callback);

  if (request->shape == RowShape::kJson) {
    JsonbParseState* state = nullptr;
    pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
    for (int i = 0; i < channel->column_count; i++) {
      fanout->converting_column = i;
      pushJsonbValue(&state, WJB_KEY, &channel->json_keys[i]);
      JsonbValue value = json_value(channel->json_kinds[i], values[i]);
      pushJsonbValue(&state, WJB_VALUE, &value);
    }
    JsonbValue* object = pushJsonbValue(&state, WJB_END_OBJECT, nullptr);
    datums[1] = JsonbPGetDatum(JsonbValueToJsonb(object));
    nulls[1] = false;
  } else {
    for (int i = 0; i < channel->column_count; i++) {
      fanout->converting_column = i;
      // Called for NULLs too, so that a domain's NOT NULL is checked.
      if (binary != nullptr && binary[i])
        datums[i + 1] = receive_value(&fanout->receive_functions[i + 1], fanout->receive_ioparams[i + 1],
                                      fanout->input_typmods[i + 1], values[i], lengths[i]);
      else
        datums[i + 1] = InputFunctionCall(&fanout->input_functions[i + 1], values[i], fanout->input_ioparams[i + 1],
                                          fanout->input_typmods[i + 1]);
      nulls[i + 1] = values[i] == nullptr;
    }
  }
  end_conversion(fanout, &callback);

  MemoryContextSwitchTo(caller_context);
  Tuplestorestate* store = channel->index == fanout->head ? request->result : channel->held_rows;
  if (store == nullptr) {
    channel->held_rows = tuplestore_begin_heap(false, false, work_mem);
    store = channel->held_rows;
  }
  tuplestore_putvalues(store, request->result_desc, datums, nulls);
  release_row_values(fanout);
  channel->rows++;
}

void prepare_typed_input(Fanout* fanout) {
  TupleDesc desc = fanout->request->result_desc;
  fanout->input_functions = static_cast<FmgrInfo*>(palloc0(sizeof(FmgrInfo) * desc->natts));
  fanout->input_ioparams = static_cast<Oid*>(palloc0(sizeof(Oid) * desc->natts));
  fanout->input_typmods = static_cast<int32*>(palloc0(sizeof(int32) * desc->natts));
  fanout->receive_functions = static_cast<FmgrInfo*>(palloc0(sizeof(FmgrInfo) * desc->natts));
  fanout->receive_ioparams = static_cast<Oid*>(palloc0(sizeof(Oid) * desc->natts));
  for (int i = 1; i < desc->natts; i++) {
    Form_pg_attribute attribute = TupleDescAttr(desc, i);
    Oid input_function;
    getTypeInputInfo(attribute->atttypid, &input_function, &fanout->input_ioparams[i]);
    fmgr_info(input_function, &fanout->input_functions[i]);
    fanout->input_typmods[i] = attribute->atttypmod;
  }
}

struct JsonRowLayout {
  int column_count;
  JsonbValue* keys;
  JsonKind* kinds;
};

JsonRowLayout* json_row_layout(TupleDesc columns) {
  JsonRowLayout* layout = static_cast<JsonRowLayout*>(palloc0(sizeof(JsonRowLayout)));
  int n = columns->natts;
  const char** names = static_cast<const char**>(palloc(sizeof(char*) * Max(n, 1)));
  Oid* types = static_cast<Oid*>(palloc(sizeof(Oid) * Max(n, 1)));
  for (int i = 0; i < n; i++) {
    names[i] = NameStr(TupleDescAttr(columns, i)->attname);
    types[i] = TupleDescAttr(columns, i)->atttypid;
  }
  layout->column_count = n;
  make_json_keys(n, names, types, &layout->keys, &layout->kinds);
  return layout;
}

Datum json_row(const JsonRowLayout* layout, char* const* values) {
  JsonbParseState* state = nullptr;
  pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
  for (int i = 0; i < layout->column_count; i++) {
    pushJsonbValue(&state, WJB_KEY, &layout->keys[i]);
    JsonbValue value = json_value(layout->kinds[i], values[i]);
    pushJsonbValue(&state, WJB_VALUE, &value);
  }
  JsonbValue* object = pushJsonbValue(&state, WJB_END_OBJECT, nullptr);
  return JsonbPGetDatum(JsonbValueToJsonb(object));
}

}  // namespace multidb
