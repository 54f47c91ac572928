// Which HTTP status an error of the coordinator gets: one table from SQLSTATE (and whether a remote database
// or the guard is named) to status, and the database (or query spec member) an error message names. Pure.
#pragma once

#include <string>

namespace multidb::gateway {

// The HTTP status for an ERROR with this SQLSTATE and message (multidb names a remote as `connection "x": …`
// and starts the guard's refusals with `multidb refused`).
int http_status_for(const std::string& sqlstate, const std::string& message);

// The connection an error message is about (`connection "x": …`, `connection "x" of group …`, or the query
// builder's `… does not exist on database "x"`), or "".
std::string database_named(const std::string& message);

// The member of a query spec a 22023 ERROR is about: its message is `invalid query spec: <field path>: <what is
// wrong>` ("filter.and[1].op"); "" for any other error.
std::string spec_field_named(const std::string& sqlstate, const std::string& message);

// Whether the message is a remote's own error as multidb relays it (`connection "x": …`).
bool from_remote(const std::string& message);

}  // namespace multidb::gateway
