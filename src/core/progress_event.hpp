// The JSON text of one live-progress event (multidb.progress): one object with "event", "seq", "database" where
// one database is meant, and the event's own fields. Always valid JSON and pure ASCII (anything else escaped as
// \uXXXX), whatever the names, SQL and error messages hold, so that it is the same text in every server encoding.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace multidb {

struct ProgressStep {
  std::string database;
  std::string sql;
};

struct ProgressEvent {
  std::string event;  // plan, started, rows, done, error, refused, combine, repair, end
  int64_t seq = 0;
  std::optional<std::string> database;
  std::vector<std::pair<std::string, int64_t>> counts;       // rows, round, ...
  std::vector<std::pair<std::string, double>> numbers;       // ms, ...
  std::vector<std::pair<std::string, std::string>> texts;    // sqlstate, message, status, ...
  std::optional<std::vector<ProgressStep>> queries;          // plan: the SQL per database
  std::optional<std::string> combine;                        // plan: the combine step, when there is one
  // done, combine: the result's column names in the statement's order (the rows are jsonb, whose keys are
  // sorted), so that a reader can show them as written; at most kProgressColumns go into the event.
  std::optional<std::vector<std::string>> columns;
};

// The column names an event carries at most (a table's limit; a wider result is rare, and a reader puts the
// rest after these in its own order): the events stay bounded whatever the statement.
constexpr size_t kProgressColumns = 1600;

// Invalid UTF-8 in any text is replaced (U+FFFD), never passed on.
std::string progress_event_json(const ProgressEvent& event);

}  // namespace multidb
