// Which libpq connection options belong on a server and which on a user mapping, the split that
// postgres_fdw users already know: where to connect on the server, who connects in the user mapping.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace multidb {

enum class OptionPlace {
  kServer,       // host, port, dbname, sslmode, connect_timeout, application_name, ..., allow_privileged_role
  kUserMapping,  // user, password, sslcert, sslkey, sslpassword, password_required
  kReserved,     // libpq options multidb sets itself (client_encoding, replication, ...)
  kUnknown,      // not a libpq option at all
};

OptionPlace classify_option(std::string_view name);

// The options accepted in one place, comma-separated, for a HINT.
std::string valid_options_list(OptionPlace place);

// Options that are multidb's own (not handed to libpq).
bool is_multidb_only_option(std::string_view name);

using OptionList = std::vector<std::pair<std::string, std::string>>;

struct SplitConninfo {
  OptionList server;
  OptionList user_mapping;
};

// Parses a libpq conninfo string or URI and splits its options; throws std::invalid_argument with a
// message fit for a user when it does not parse or names a reserved option.
SplitConninfo split_conninfo(const std::string& conninfo);

}  // namespace multidb
