// Which HTTP status an error of the coordinator gets: one table from SQLSTATE (and whether a remote database
// or the guard is named) to status, and the database an error message names. Pure.
#pragma once

#include <string>

namespace multidb::gateway {

// The HTTP status for an ERROR with this SQLSTATE and message (multidb names a remote as `connection "x": …`
// and starts the guard's refusals with `multidb refused`).
int http_status_for(const std::string& sqlstate, const std::string& message);

// The connection an error message is about (`connection "x": …`, `connection "x" of group …`), or "".
std::string database_named(const std::string& message);

// Whether the message is a remote's own error as multidb relays it (`connection "x": …`).
bool from_remote(const std::string& message);

}  // namespace multidb::gateway
