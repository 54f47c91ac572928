// Connection references of a request (names, "@group"s, and the ids GET /api/connections lists) turned into
// the names multidb's functions take, inside the caller's transaction. The id of a connection is its place in
// the order connections were made (1 for the first), the same for every role; names are the stable form.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gateway/coordinator.hpp"
#include "gateway/request_body.hpp"

namespace multidb::gateway {

// The SQL that lists connections with their ids, in id order (no password: the view never reads one).
extern const char* const kConnectionsWithIds;

// Names for refs, in order; an id that no connection has is a 404 naming it.
std::vector<std::string> resolve_connections(RoleTransaction& tx, const std::vector<ConnectionRef>& refs,
                                             const std::string& field);

// An ask's targets as multidb's functions take them: its connections as a JSON array of names (nullopt when it
// names none), after checking that its session, if any, is the caller's own (else 404, as if it did not exist).
std::optional<std::string> ask_targets(RoleTransaction& tx, const Ask& ask);

// A JSON array of strings, the form in which lists of names go to Postgres as one bind parameter.
std::string json_array(const std::vector<std::string>& names);

}  // namespace multidb::gateway
