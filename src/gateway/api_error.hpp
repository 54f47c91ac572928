// The error every endpoint answers with: an HTTP status and the JSON body
// {"error": {"message", "detail", "hint", "sqlstate", "database"}}.
#pragma once

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace multidb::gateway {

struct ApiError : public std::runtime_error {
  ApiError(int status_, const std::string& message, std::string hint_ = "", std::string sqlstate_ = "",
           std::string detail_ = "", std::string database_ = "")
      : std::runtime_error(message), status(status_), hint(std::move(hint_)), sqlstate(std::move(sqlstate_)),
        detail(std::move(detail_)), database(std::move(database_)) {}
  int status;
  std::string hint, sqlstate, detail, database;
  std::string field;  // a 400 about one field of the body names it

  nlohmann::json body() const {
    auto or_null = [](const std::string& s) { return s.empty() ? nlohmann::json() : nlohmann::json(s); };
    nlohmann::json error = {{"message", what()},          {"detail", or_null(detail)}, {"hint", or_null(hint)},
                            {"sqlstate", or_null(sqlstate)}, {"database", or_null(database)}};
    if (!field.empty()) error["field"] = field;
    return nlohmann::json{{"error", error}};
  }
};

}  // namespace multidb::gateway
