// The text of an ask's history record, whatever the LLM's reply or the remotes held: the record is JSON
// that Postgres's jsonb input always accepts, so that no ask loses its history row to an odd character.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace multidb {

// record as JSON text: every string (keys too) valid UTF-8 without NUL (jsonb refuses \u0000); for a
// database whose encoding is not UTF-8, every character outside ASCII becomes '?' (jsonb cannot store
// what the encoding lacks, and an ERROR there would lose the row).
std::string history_record_text(nlohmann::json record, bool utf8_database);

}  // namespace multidb
