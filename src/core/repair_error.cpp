#include "core/repair_error.hpp"

#include "core/sqlstate_names.hpp"
#include "core/text.hpp"

#include <unordered_set>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

constexpr std::string_view kMask = "\xE2\x80\xA6";  // U+2026, …

// A byte of a word: ASCII letters, digits, _ and $, and every byte of a non-ASCII character (Postgres takes
// those as identifier characters too).
bool is_word_byte(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' || u == '$' ||
         u >= 0x80;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string ascii_lowercase(std::string_view text) {
  std::string lower(text);
  for (char& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return lower;
}

// At most max_bytes of text, cut before a character (not inside one), with "…" when cut.
std::string cut(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) end--;
  return std::string(text.substr(0, end)) + std::string(kMask);
}

// The words of the statement as the LLM wrote it, in lower case: one pass, so that judging each quoted name
// costs a look-up whatever the statement's length.
std::unordered_set<std::string> words_of(std::string_view statement) {
  std::unordered_set<std::string> words;
  std::size_t i = 0;
  while (i < statement.size()) {
    if (!is_word_byte(statement[i])) {
      i++;
      continue;
    }
    std::size_t start = i;
    while (i < statement.size() && is_word_byte(statement[i])) i++;
    words.insert(ascii_lowercase(statement.substr(start, i - start)));
  }
  return words;
}

// A quoted name the LLM wrote itself: words joined by dots, each one a word of the statement.
bool written_name(std::string_view name, const std::unordered_set<std::string>& words) {
  if (name.empty()) return false;
  std::size_t start = 0;
  for (;;) {
    std::size_t dot = name.find('.', start);
    std::string_view part = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (part.empty()) return false;
    for (char c : part)
      if (!is_word_byte(c)) return false;
    if (words.count(ascii_lowercase(part)) == 0) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// The one quoted name of a class 42 message, when the statement wrote it. One only: a value that holds quotes
// itself adds quote characters to the two the message puts around it, and between pairs it would be the text
// outside every pair — `relation "code"secret"code"` is a value, not two names.
bool one_written_name(std::string_view message, std::size_t first_quote, std::size_t last_quote,
                      std::string_view statement) {
  if (last_quote == first_quote || message.substr(first_quote + 1, last_quote - first_quote - 1).find('"') !=
                                        std::string_view::npos)
    return false;
  return written_name(message.substr(first_quote + 1, last_quote - first_quote - 1), words_of(statement));
}

}  // namespace

std::string mask_error_message(std::string_view sqlstate, std::string_view message, std::string_view statement) {
  bool access_rule = sqlstate.substr(0, 2) == "42";
  std::size_t first_quote = message.find('"');
  std::size_t last_quote = message.rfind('"');
  bool keep_quoted = access_rule && first_quote != std::string_view::npos &&
                     one_written_name(message, first_quote, last_quote, statement);
  std::string masked;
  std::size_t i = 0;
  while (i < message.size()) {
    char c = message[i];
    if (c == '"') {  // the first quote: the whole quoted part at once
      if (keep_quoted) {
        masked.append(message.substr(i, last_quote - i + 1));
        i = last_quote + 1;
      } else if (last_quote == i) {
        masked.append("\"").append(kMask);
        break;
      } else {
        masked.append("\"").append(kMask).append("\"");
        i = last_quote + 1;
      }
      continue;
    }
    if (c == ':' && i + 1 < message.size() && message[i + 1] == ' ' &&
        message.find('"', i) == std::string_view::npos) {
      std::string_view rest = message.substr(i + 2);
      if (!(access_rule && rest.find('.') == std::string_view::npos)) {
        masked.append(": ").append(kMask);
        break;
      }
    }
    if (is_digit(c) && (i == 0 || !is_word_byte(message[i - 1]))) {
      while (i < message.size() && (is_word_byte(message[i]) || message[i] == '.')) i++;
      masked.append(kMask);
      continue;
    }
    masked.push_back(c);
    i++;
  }
  return masked;
}

std::string error_for_repair(const StatementError& error, RepairErrorDetail level, std::string_view statement) {
  std::string text = error.sqlstate;
  std::string_view condition = sqlstate_condition_name(error.sqlstate);
  if (!condition.empty()) text.append(" ").append(condition);
  switch (level) {
    case RepairErrorDetail::kSqlstate:
      break;
    case RepairErrorDetail::kMasked:
      // A function's RAISE says whatever it was given: nothing of it is known to be safe.
      if (error.sqlstate.substr(0, 2) != "P0")
        text.append(": ").append(mask_error_message(error.sqlstate, cut(error.message, kMaxErrorPartBytes), statement));
      break;
    case RepairErrorDetail::kFull:
      text.append(": ").append(cut(error.message, kMaxErrorPartBytes));
      if (!error.detail.empty()) text.append("\nDETAIL: ").append(cut(error.detail, kMaxErrorPartBytes));
      if (!error.hint.empty()) text.append("\nHINT: ").append(cut(error.hint, kMaxErrorPartBytes));
      break;
  }
  return valid_utf8(text);
}

}  // namespace multidb
