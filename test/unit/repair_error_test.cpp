// core/repair_error: what a repair request tells the LLM of an error, and the masking of what may be data.
#include "core/repair_error.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

using multidb::error_for_repair;
using multidb::kMaxErrorPartBytes;
using multidb::mask_error_message;
using multidb::RepairErrorDetail;
using multidb::StatementError;

namespace {

const std::string kEllipsis = "\xE2\x80\xA6";

std::string masked(const char* sqlstate, const std::string& message, const char* statement = "SELECT 1") {
  return mask_error_message(sqlstate, message, statement);
}

bool valid_utf8(const std::string& text) {
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (size_t k = 1; k < length; k++)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    i += length;
  }
  return true;
}

}  // namespace

TEST(MaskErrorMessage, AQuotedValueIsMasked) {
  EXPECT_EQ(masked("22P02", "invalid input syntax for type integer: \"TOKEN-7f3c\""),
            "invalid input syntax for type integer: \"" + kEllipsis + "\"");
  EXPECT_EQ(masked("22003", "value \"99999999999\" is out of range for type integer"),
            "value \"" + kEllipsis + "\" is out of range for type integer");
}

TEST(MaskErrorMessage, QuotesInsideQuotesAreOneQuotedPart) {
  // A JSON value holds quotes of its own: the pairs inside are not trusted, or "hunter2" would come out.
  std::string message = "invalid input syntax for type integer: \"{\"password\": \"hunter2\"}\"";
  EXPECT_EQ(masked("22P02", message), "invalid input syntax for type integer: \"" + kEllipsis + "\"");
  EXPECT_EQ(masked("22007", "invalid value \"13\" for \"MM\""), "invalid value \"" + kEllipsis + "\"");
}

TEST(MaskErrorMessage, AnUnterminatedQuoteMasksToTheEnd) {
  EXPECT_EQ(masked("22P02", "invalid input syntax: \"abc secret and more"),
            "invalid input syntax: \"" + kEllipsis);
  EXPECT_EQ(masked("42601", "unterminated quoted string at or near \"'abc", "SELECT 'abc"),
            "unterminated quoted string at or near \"" + kEllipsis);
}

TEST(MaskErrorMessage, TheRestAfterAColonWithNoQuote) {
  EXPECT_EQ(masked("2201B", "invalid regular expression: parentheses () not balanced"),
            "invalid regular expression: " + kEllipsis);
  EXPECT_EQ(masked("0A000", "cross-database references are not implemented: secret.schema.table"),
            "cross-database references are not implemented: " + kEllipsis);
  EXPECT_EQ(masked("22021", "invalid byte sequence for encoding \"UTF8\": 0xe9 0x20"),
            "invalid byte sequence for encoding \"" + kEllipsis + "\": " + kEllipsis);
}

TEST(MaskErrorMessage, NumbersButNotWordsWithDigits) {
  EXPECT_EQ(masked("2202E", "index 5 out of valid range, 0..3"), "index " + kEllipsis + " out of valid range, " + kEllipsis);
  EXPECT_EQ(masked("22001", "value too long for type character varying(10)"),
            "value too long for type character varying(" + kEllipsis + ")");
  EXPECT_EQ(masked("22012", "division by zero"), "division by zero");
  EXPECT_EQ(masked("22003", "int4 out of range for float8 and utf8"), "int4 out of range for float8 and utf8");
  EXPECT_EQ(masked("54000", "requested character too large for encoding: 1114112"),
            "requested character too large for encoding: " + kEllipsis);
}

TEST(MaskErrorMessage, Class42KeepsTheNamesTheStatementWrote) {
  const char* statement = "SELECT sum(revnue) AS revenue FROM tenant_01 o WHERE O.Total > 0";
  EXPECT_EQ(masked("42703", "column \"revnue\" does not exist", statement), "column \"revnue\" does not exist");
  EXPECT_EQ(masked("42703", "column \"o.total\" does not exist", statement), "column \"o.total\" does not exist");
  EXPECT_EQ(masked("42803", "column \"o.total\" must appear in the GROUP BY clause or be used in an aggregate function",
                   statement),
            "column \"o.total\" must appear in the GROUP BY clause or be used in an aggregate function");
  EXPECT_EQ(masked("42883", "operator does not exist: text = integer", statement),
            "operator does not exist: text = integer");
}

TEST(MaskErrorMessage, Class42MasksWhatTheStatementDidNotWrite) {
  const char* statement = "SELECT code::regclass AS n FROM accounts";
  // a value read as a relation name
  EXPECT_EQ(masked("42P01", "relation \"code_5b9e_data_secret\" does not exist", statement),
            "relation \"" + kEllipsis + "\" does not exist");
  // two quoted names, written or not: the whole quoted part goes
  EXPECT_EQ(masked("42703", "column \"code\" of relation \"secret\" does not exist", statement),
            "column \"" + kEllipsis + "\" does not exist");
  EXPECT_EQ(masked("42703", "column \"code\" of relation \"accounts\" does not exist", statement),
            "column \"" + kEllipsis + "\" does not exist");
  // a word of the statement only as part of a longer word does not count
  EXPECT_EQ(masked("42P01", "relation \"accounts_secret\" does not exist", statement),
            "relation \"" + kEllipsis + "\" does not exist");
  EXPECT_EQ(masked("42P01", "relation \"acc\" does not exist", statement), "relation \"" + kEllipsis + "\" does not exist");
  // quotes inside the quoted value: the text between them would be outside every pair
  EXPECT_EQ(masked("42P01", "relation \"code\"secret\"code\" does not exist", statement),
            "relation \"" + kEllipsis + "\" does not exist");
  EXPECT_EQ(masked("42P01", "relation \"code\"secret\" does not exist", statement),
            "relation \"" + kEllipsis + "\" does not exist");
  // not a name: spaces and punctuation
  EXPECT_EQ(masked("42601", "syntax error at or near \"code n\"", statement), "syntax error at or near \"" + kEllipsis + "\"");
  EXPECT_EQ(masked("42601", "syntax error at or near \"\"", statement), "syntax error at or near \"" + kEllipsis + "\"");
  // qualified names printed without quotes: the rest after the colon
  EXPECT_EQ(masked("42601", "improper relation name (too many dotted names): secret.a.b.c", statement),
            "improper relation name (too many dotted names): " + kEllipsis);
  EXPECT_EQ(masked("42P10", "ORDER BY position 4 is not in select list", statement),
            "ORDER BY position " + kEllipsis + " is not in select list");
}

TEST(MaskErrorMessage, MultibyteText) {
  EXPECT_EQ(masked("22P02", "invalid input syntax for type integer: \"Grüße, 東京 \xF0\x9F\x94\x91\""),
            "invalid input syntax for type integer: \"" + kEllipsis + "\"");
  const char* statement = "SELECT größe, 東京 FROM r1";
  EXPECT_EQ(masked("42703", "column \"größe\" does not exist", statement), "column \"größe\" does not exist");
  EXPECT_EQ(masked("42703", "column \"東京\" does not exist", statement), "column \"東京\" does not exist");
  EXPECT_EQ(masked("42703", "column \"größer\" does not exist", statement), "column \"" + kEllipsis + "\" does not exist");
  // digits after a non-ASCII letter are part of its word
  EXPECT_EQ(masked("22023", "größe5 is wrong"), "größe5 is wrong");
}

TEST(ErrorForRepair, EachLevel) {
  StatementError error{"22P02", "invalid input syntax for type integer: \"TOKEN-7f3c\"", "a detail with TOKEN-7f3c",
                       "a hint"};
  EXPECT_EQ(error_for_repair(error, RepairErrorDetail::kFull, "SELECT token::int FROM accounts"),
            "22P02 invalid_text_representation: invalid input syntax for type integer: \"TOKEN-7f3c\"\n"
            "DETAIL: a detail with TOKEN-7f3c\nHINT: a hint");
  EXPECT_EQ(error_for_repair(error, RepairErrorDetail::kMasked, "SELECT token::int FROM accounts"),
            "22P02 invalid_text_representation: invalid input syntax for type integer: \"" + kEllipsis + "\"");
  EXPECT_EQ(error_for_repair(error, RepairErrorDetail::kSqlstate, "SELECT token::int FROM accounts"),
            "22P02 invalid_text_representation");
}

TEST(ErrorForRepair, FullWithoutDetailOrHint) {
  StatementError error{"42703", "column \"x\" does not exist", "", ""};
  EXPECT_EQ(error_for_repair(error, RepairErrorDetail::kFull, "SELECT x"), "42703 undefined_column: column \"x\" does not exist");
}

TEST(ErrorForRepair, ARaiseSaysNothingWhenMasked) {
  StatementError error{"P0001", "the secret is hunter2", "", ""};
  EXPECT_EQ(error_for_repair(error, RepairErrorDetail::kMasked, "SELECT f()"), "P0001 raise_exception");
  error.sqlstate = "P0004";
  EXPECT_EQ(error_for_repair(error, RepairErrorDetail::kMasked, "SELECT f()"), "P0004 assert_failure");
}

TEST(ErrorForRepair, AnUnknownCodeStandsAlone) {
  StatementError error{"AB123", "custom \"value\"", "", ""};
  EXPECT_EQ(error_for_repair(error, RepairErrorDetail::kMasked, "SELECT 1"), "AB123: custom \"" + kEllipsis + "\"");
  EXPECT_EQ(error_for_repair(error, RepairErrorDetail::kSqlstate, "SELECT 1"), "AB123");
}

TEST(ErrorForRepair, HugeMessagesAreCutAtACharacter) {
  std::string huge = "invalid input syntax for type integer: \"" + std::string(1 << 20, 'x') + "\"";
  std::string umlauts;
  while (umlauts.size() < 3 * kMaxErrorPartBytes) umlauts += "ü";
  StatementError error{"22P02", "x" + umlauts, "d" + umlauts, "h" + umlauts};
  std::string full = error_for_repair(error, RepairErrorDetail::kFull, "SELECT 1");
  EXPECT_LT(full.size(), 3 * (kMaxErrorPartBytes + 40));
  EXPECT_TRUE(valid_utf8(full));
  EXPECT_NE(full.find("ü" + kEllipsis + "\nDETAIL: "), std::string::npos);

  error = StatementError{"22P02", huge, huge, huge};
  auto start = std::chrono::steady_clock::now();
  std::string masked_text = error_for_repair(error, RepairErrorDetail::kMasked, std::string(1 << 20, 'y'));
  // Quadratic work on 1 MB would take hours; the bound only tells that apart, on a loaded machine too.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  // cut before masking: the closing quote is gone, so the lone quote masks to the end
  EXPECT_EQ(masked_text, "22P02 invalid_text_representation: invalid input syntax for type integer: \"" + kEllipsis);
}

TEST(ErrorForRepair, ABigStatementStaysLinear) {
  std::string statement = "SELECT ";
  for (int i = 0; i < 100000; i++) statement += "c" + std::to_string(i) + ", ";
  std::string message = "column \"c99999\" does not exist";
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; i++) EXPECT_EQ(mask_error_message("42703", message, statement), message);
  // Linear is a fraction of a second, quadratic hours: a generous bound tells them apart even on a loaded machine.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

TEST(ErrorForRepair, InvalidUtf8BecomesValid) {
  StatementError error{"22021", "invalid byte sequence: \xC3(", "", ""};
  EXPECT_TRUE(valid_utf8(error_for_repair(error, RepairErrorDetail::kFull, "SELECT 1")));
}
