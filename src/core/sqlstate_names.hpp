// The condition names of Postgres's SQLSTATEs ("22P02" is invalid_text_representation), for messages that name
// an error without its text.
#pragma once

#include <string_view>

namespace multidb {

// The condition name of a five-character SQLSTATE, or empty when Postgres 15 defines no such code.
std::string_view sqlstate_condition_name(std::string_view sqlstate);

}  // namespace multidb
