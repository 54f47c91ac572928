// Connections are foreign servers (of wrapper multidb, or of postgres_fdw) plus the caller's user
// mapping. This file turns a connection name into everything a libpq connect needs, after the same
// checks postgres_fdw makes.
#pragma once

#include "core/conn_options.hpp"
#include "foundation/postgres.hpp"

extern "C" {
#include "utils/array.h"
}

namespace multidb {

struct RemoteTarget {
  const char* name;       // the connection (server) name, as the user wrote it
  Oid server_oid;
  const char** keywords;  // libpq keywords and values, nullptr-terminated
  const char** values;
  int connect_timeout_s;  // the server's connect_timeout, else multidb.connect_timeout
  bool require_password;  // a non-superuser: the remote must have asked for the password
  bool allow_privileged_role;  // the server option a superuser sets: a privileged remote role is warned of,
                               // not refused
  bool allow_implicit_volatile;  // likewise: volatile functions behind casts, operators, types, domains
};

// Resolves every name (USAGE on the server, a user mapping for the current user, a password for
// non-superusers) against the catalog as this backend has read it. Errors name the connection. A NULL element, a
// duplicate or an empty list is an error. A call resolves its names with resolve_targets
// (fanout/fanout_executor.hpp), which first reads the catalog as other sessions last committed it, even inside a
// transaction, and closes the kept connections a server or user mapping change affects (connection_pool.hpp): the
// pool is the fan-out's, a layer above this one.
RemoteTarget* resolve_connection_names(ArrayType* names, int* count);

// "production", "backup" and "dev" -> the text used in messages about several connections.
const char* describe_targets(const RemoteTarget* targets, int count);

// Where a libpq option belongs (core/conn_options.hpp: a server, a user mapping, neither), as resolution and the
// wrapper's validator read it; an ERROR only when the core's table of options cannot be built (out of memory).
OptionPlace option_place(const char* name);

}  // namespace multidb
