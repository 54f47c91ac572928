// What a repair request tells the LLM of an error (multidb.repair_error_detail). A remote's error message, and
// the combine step's own, may quote the value it failed on — data — and a repair request goes to the LLM's
// provider: this decides how much of the error goes with it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace multidb {

enum class RepairErrorDetail {
  kFull,      // the message, DETAIL and HINT as they are
  kMasked,    // the message with what may be data masked (mask_error_message)
  kSqlstate,  // the SQLSTATE and its condition name only
};

struct StatementError {
  std::string sqlstate;  // five characters
  std::string message;   // the primary message (a remote's without multidb's `connection "x": `)
  std::string detail;    // empty when there is none
  std::string hint;
};

// Longest message, DETAIL or HINT a repair request carries; past it, the text is cut (at a character) and
// ends with "…".
constexpr std::size_t kMaxErrorPartBytes = 2000;

// The error as a repair request shows it: "22P02 invalid_text_representation" (the code alone when Postgres 15
// has no name for it), then by level:
//   kFull      ": " and the message, and a "DETAIL: …" and a "HINT: …" line when there are;
//   kMasked    ": " and mask_error_message's form of the message; for class P0 (PL/pgSQL's RAISE and ASSERT,
//              whose message is a function's own text, anything at all) nothing;
//   kSqlstate  nothing.
// statement: the SQL that failed, as the LLM wrote it. The result is valid UTF-8.
std::string error_for_repair(const StatementError& error, RepairErrorDetail level, std::string_view statement);

// The message with what may be data masked, each masked part becoming "…":
//  * the quoted part: from the first double quote to the last one ("…"), or from a lone double quote to the
//    end ("…). Postgres quotes the value it failed on, and a value may itself hold quotes, so the pairs inside
//    are not trusted. Class 42 (syntax error or access rule violation) keeps its quote when the message quotes
//    exactly one name and the statement itself contains it (each dot-separated part as a whole word, letter
//    case ignored; letters, digits, _, $ only): `column "revnue" does not exist` stays as the LLM needs it for
//    a repair, `relation "…" does not exist` from a value read as a relation name does not;
//  * after ": " with no quote after it, the rest (`invalid regular expression: …`, byte sequences); class 42
//    keeps it when it holds no dot (`operator does not exist: text = integer`);
//  * every number: a digit not inside a word, with the letters, digits, dots and underscores after it
//    (`index … out of valid range`, `0x…`), outside kept quotes.
std::string mask_error_message(std::string_view sqlstate, std::string_view message, std::string_view statement);

}  // namespace multidb
