// Rows streamed as JSON or CSV from a statement run in single-row mode: a bounded buffer flushed as chunks.
#include "gateway/row_export.hpp"

#include <iostream>

#include <nlohmann/json.hpp>

#include "gateway/gateway.hpp"

namespace multidb::gateway {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

constexpr size_t kFlushBytes = 64 * 1024;

// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

template <typename Json>
std::string csv_value(const Json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return csv_field(value.template get<std::string>());
  return csv_field(value.dump(-1, ' ', false, Json::error_handler_t::replace));
}

// Writes the rows of out to sink; false when the reader left or the statement failed midway (the response then
// ends without its last chunk, so the client sees it incomplete).
bool stream_rows(Gateway& gateway, const Export& out, httplib::DataSink& sink) {
  std::string buffer;
  std::vector<std::string> header;  // CSV: the first row's keys
  bool first = true, ok = true;
  const bool record = out.shape == Export::Shape::kRecord;
  auto flush = [&]() {
    if (buffer.empty()) return true;
    bool written = sink.write(buffer.data(), buffer.size());
    buffer.clear();
    return written;
  };
  // The header (on the first row) and one CSV line of data's values under it.
  auto csv_line = [&](const ordered_json& data, const std::string* database) {
    if (first) {
      std::string line = database ? "source_db" : "";
      if (data.is_object())
        for (const auto& item : data.items()) {
          if (database || !header.empty()) line += ",";
          header.push_back(item.key());
          line += csv_field(item.key());
        }
      buffer += line + "\r\n";
    }
    std::string line = database ? csv_field(*database) : "";
    for (size_t i = 0; i < header.size(); i++) {
      if (database || i > 0) line += ",";
      line += data.contains(header[i]) ? csv_value(data[header[i]]) : "";
    }
    buffer += line + "\r\n";
  };
  try {
    gateway.db().as_role(out.role, [&](RoleTransaction& tx) {
      if (!out.csv) buffer += "[";
      ok = tx.stream(out.sql.c_str(), out.params, [&](const std::vector<std::optional<std::string>>& row) {
        if (record) {
          const std::string text = row.at(0).value_or("null");
          if (out.csv) {
            csv_line(ordered_json::parse(text), nullptr);
          } else {
            if (!first) buffer += ",";
            buffer += text;
            buffer += "\n";
          }
        } else {
          const std::string database = row.at(0).value_or("");
          if (out.csv) {
            // A message's rows keep the order they always had: keys sorted.
            const json data = json::parse(row.at(1).value_or("null"));
            csv_line(ordered_json(data), &database);
          } else {
            if (!first) buffer += ",";
            buffer += json{{"database", database}, {"row", json::parse(row.at(1).value_or("null"))}}.dump(
                -1, ' ', false, json::error_handler_t::replace);
            buffer += "\n";
          }
        }
        first = false;
        return buffer.size() < kFlushBytes || flush();
      });
    });
  } catch (const std::exception& e) {
    std::cerr << "multidb-web: rows export ended early: " << e.what() << "\n";
    return false;
  }
  if (!ok) return false;
  if (out.csv && first && !record) buffer += "source_db\r\n";
  if (!out.csv) buffer += "]\n";
  if (!flush()) return false;
  sink.done();
  return true;
}

}  // namespace

void start_export(httplib::Response& response, Gateway& gateway, std::shared_ptr<Export> out,
                  const std::string& filename) {
  if (out->csv) response.set_header("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  response.set_chunked_content_provider(out->csv ? "text/csv; charset=utf-8" : "application/json",
                                        [&gateway, out](size_t, httplib::DataSink& sink) {
    return stream_rows(gateway, *out, sink);
  });
}

}  // namespace multidb::gateway
