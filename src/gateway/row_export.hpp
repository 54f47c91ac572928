// Rows streamed from the coordinator to an HTTP client as JSON or CSV: libpq's single-row mode on the coordinator,
// a chunked response, a bounded buffer in between, so the gateway's memory does not grow with the result; a
// reader who leaves cancels the statement. Shared by a message's results and a view's rows.
#pragma once

#include <memory>
#include <string>

#include <httplib.h>

#include "gateway/coordinator.hpp"

namespace multidb::gateway {

class Gateway;

// What the stream needs once the response has begun.
struct Export {
  // kDatabaseRow: the statement returns (source_db, row as JSON text); JSON output is
  // [{"database", "row"}, ...], CSV's header source_db then the first row's keys.
  // kRecord: the statement returns one column, a row as a JSON object (row_to_json, columns in order); JSON output
  // is [row, ...] as the coordinator wrote it, CSV's header the first row's keys in order.
  enum class Shape { kDatabaseRow, kRecord };
  std::string role;
  std::string sql;  // the statement for the coordinator (fixed text)
  Params params;
  bool csv = false;
  Shape shape = Shape::kDatabaseRow;
};

// Starts the streamed response: its content type (and for CSV an attachment named filename), and the chunked
// provider that runs the statement as out.role once the client reads.
void start_export(httplib::Response& response, Gateway& gateway, std::shared_ptr<Export> out,
                  const std::string& filename);

}  // namespace multidb::gateway
