// Builds one live-progress event's JSON with nlohmann-json: every text escaped, invalid UTF-8 replaced, ASCII out.
#include "core/progress_event.hpp"

#include <nlohmann/json.hpp>

#include <cmath>

namespace multidb {

std::string progress_event_json(const ProgressEvent& event) {
  nlohmann::ordered_json out;
  out["event"] = event.event;
  out["seq"] = event.seq;
  if (event.database) out["database"] = *event.database;
  for (const auto& [key, value] : event.counts) out[key] = value;
  for (const auto& [key, value] : event.numbers) out[key] = std::round(value * 1000.0) / 1000.0;
  for (const auto& [key, value] : event.texts) out[key] = value;
  if (event.queries) {
    nlohmann::ordered_json queries = nlohmann::ordered_json::array();
    for (const ProgressStep& step : *event.queries)
      queries.push_back(nlohmann::ordered_json{{"database", step.database}, {"sql", step.sql}});
    out["queries"] = std::move(queries);
    out["combine"] = event.combine ? nlohmann::ordered_json(*event.combine) : nlohmann::ordered_json(nullptr);
  }
  if (event.columns) {
    nlohmann::ordered_json names = nlohmann::ordered_json::array();
    for (size_t i = 0; i < event.columns->size() && i < kProgressColumns; i++) names.push_back((*event.columns)[i]);
    out["columns"] = std::move(names);
  }
  return out.dump(-1, ' ', true, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace multidb
