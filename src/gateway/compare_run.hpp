// The compare shared by POST /api/compare and a query spec in compare mode (POST /api/build): multidb.compare
// run as the caller, answered as {"sql", "a", "b", "count", "differences"}.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "gateway/coordinator.hpp"

namespace multidb::gateway {

// key: the key columns as a JSON array of names, or nullopt (whole rows are compared); columns: "same" or
// "common".
nlohmann::json run_compare(RoleTransaction& tx, const std::string& sql, const std::string& a, const std::string& b,
                           const std::optional<std::string>& key, const std::string& columns);

}  // namespace multidb::gateway
