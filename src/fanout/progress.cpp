// Live progress as NOTICEs (multidb.progress): builds each event's JSON in the core, in UTF-8, and sends it
// from the calling backend only.
#include "fanout/progress.hpp"

#include "core/progress_event.hpp"
#include "foundation/boundary.hpp"
#include "foundation/settings.hpp"

extern "C" {
#include "mb/pg_wchar.h"
}

namespace multidb {

namespace {

int64 progress_seq = 0;
int progress_failures = 0;  // error events of this call: its end is partial, not ok

// Text in the server's encoding, as UTF-8 for the JSON (which escapes it as ASCII).
const char* utf8(const char* text) {
  if (text == nullptr) return "";
  return pg_server_to_any(text, static_cast<int>(strlen(text)), PG_UTF8);
}

struct EventArgs {
  const char* event;
  const char* database;  // nullptr: none
  const char* count_key = nullptr;
  int64 count = 0;
  const char* count2_key = nullptr;
  int64 count2 = 0;
  const char* count3_key = nullptr;
  int64 count3 = 0;
  const char* ms_key = nullptr;
  double ms = 0;
  const char* text_keys[3] = {nullptr, nullptr, nullptr};
  const char* texts[3] = {nullptr, nullptr, nullptr};
  // plan
  int step_count = -1;
  const char* const* databases = nullptr;
  const char* const* sqls = nullptr;
  const char* combine = nullptr;
  // done, combine: the column names (UTF-8), or column_count < 0 for none
  int column_count = -1;
  const char* const* column_names = nullptr;
};

// The names in UTF-8, at most kProgressColumns of them (the event carries no more).
const char* const* utf8_names(int count, const char* const* names) {
  const int kept = Min(count, static_cast<int>(kProgressColumns));
  const char** out = static_cast<const char**>(palloc(sizeof(char*) * Max(kept, 1)));
  for (int i = 0; i < kept; i++) out[i] = utf8(names[i]);
  return out;
}

// The JSON is built inside cpp_call; the NOTICE is sent afterwards, with no C++ object alive.
void emit(const EventArgs& args) {
  int64 seq = ++progress_seq;
  char* json = nullptr;
  CppError error = cpp_call([&] {
    ProgressEvent event;
    event.event = args.event;
    event.seq = seq;
    if (args.database) event.database = args.database;
    if (args.count_key) event.counts.emplace_back(args.count_key, args.count);
    if (args.count2_key) event.counts.emplace_back(args.count2_key, args.count2);
    if (args.count3_key) event.counts.emplace_back(args.count3_key, args.count3);
    if (args.ms_key) event.numbers.emplace_back(args.ms_key, args.ms);
    for (int i = 0; i < 3; i++)
      if (args.text_keys[i]) event.texts.emplace_back(args.text_keys[i], args.texts[i] ? args.texts[i] : "");
    if (args.step_count >= 0) {
      event.queries.emplace();
      for (int i = 0; i < args.step_count; i++) event.queries->push_back({args.databases[i], args.sqls[i]});
      if (args.combine) event.combine = args.combine;
    }
    if (args.column_count >= 0) event.columns.emplace(args.column_names, args.column_names + args.column_count);
    json = malloc_copy(progress_event_json(event));
  });
  raise_cpp_error(error, "reporting progress");
  char* detail = take(json);
  ereport(NOTICE, (errmsg("multidb progress: %s", args.event), errdetail_internal("%s", detail)));
  pfree(detail);
}

}  // namespace

bool progress_on() { return progress; }

void progress_begin() {
  progress_seq = 0;
  progress_failures = 0;
}

void progress_plan(int count, const char* const* databases, const char* const* sqls, const char* combine) {
  if (!progress) return;
  EventArgs args{"plan", nullptr};
  const char** dbs = static_cast<const char**>(palloc(sizeof(char*) * Max(count, 1)));
  const char** texts = static_cast<const char**>(palloc(sizeof(char*) * Max(count, 1)));
  for (int i = 0; i < count; i++) {
    dbs[i] = utf8(databases[i]);
    texts[i] = utf8(sqls[i]);
  }
  args.step_count = count;
  args.databases = dbs;
  args.sqls = texts;
  args.combine = combine ? utf8(combine) : nullptr;
  emit(args);
}

void progress_started(const char* database) {
  if (!progress) return;
  emit(EventArgs{"started", utf8(database)});
}

void progress_rows(const char* database, int64 rows, double ms) {
  if (!progress) return;
  EventArgs args{"rows", utf8(database)};
  args.count_key = "rows";
  args.count = rows;
  args.ms_key = "ms";
  args.ms = ms;
  emit(args);
}

void progress_done(const char* database, int64 rows, double ms, int finished, int of, int column_count,
                   const char* const* column_names) {
  if (!progress) return;
  EventArgs args{"done", utf8(database)};
  args.count_key = "rows";
  args.count = rows;
  args.count2_key = "finished";
  args.count2 = finished;
  args.count3_key = "of";
  args.count3 = of;
  args.ms_key = "ms";
  args.ms = ms;
  if (column_names != nullptr) {
    args.column_count = Min(column_count, static_cast<int>(kProgressColumns));
    args.column_names = utf8_names(column_count, column_names);
  }
  emit(args);
}

void progress_failed(const char* database, int sqlstate, const char* message, bool refused, int finished, int of) {
  if (!progress) return;
  progress_failures++;
  EventArgs args{refused ? "refused" : "error", database ? utf8(database) : nullptr};
  if (finished >= 0) {
    args.count2_key = "finished";
    args.count2 = finished;
    args.count3_key = "of";
    args.count3 = of;
  }
  args.text_keys[0] = "sqlstate";
  args.texts[0] = unpack_sql_state(sqlstate);
  args.text_keys[1] = "message";
  args.texts[1] = utf8(message);
  emit(args);
}

void progress_repair(int round, const char* database, int sqlstate, const char* message) {
  if (!progress) return;
  progress_failures = 0;  // the failures go back to the LLM: the end says how the repaired plan went
  EventArgs args{"repair", database ? utf8(database) : nullptr};
  args.count_key = "round";
  args.count = round;
  args.text_keys[0] = "sqlstate";
  args.texts[0] = unpack_sql_state(sqlstate);
  args.text_keys[1] = "message";
  args.texts[1] = utf8(message);
  emit(args);
}

void progress_combine(int64 rows, double ms, int column_count, const char* const* column_names) {
  if (!progress) return;
  EventArgs args{"combine", nullptr};
  args.count_key = "rows";
  args.count = rows;
  args.ms_key = "ms";
  args.ms = ms;
  if (column_names != nullptr) {
    args.column_count = Min(column_count, static_cast<int>(kProgressColumns));
    args.column_names = utf8_names(column_count, column_names);
  }
  emit(args);
}

void progress_end(const char* status, int64 rows, double ms) {
  if (!progress) return;
  EventArgs args{"end", nullptr};
  args.count_key = "rows";
  args.count = rows;
  args.ms_key = "ms";
  args.ms = ms;
  args.text_keys[0] = "status";
  args.texts[0] = strcmp(status, "ok") == 0 && progress_failures > 0 ? "partial" : status;
  emit(args);
}

}  // namespace multidb
