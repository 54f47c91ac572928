#include "core/text.hpp"

#include <cmath>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

constexpr const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// The length of the valid UTF-8 sequence at text[i], or 0 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
size_t valid_sequence_length(std::string_view text, size_t i) {
  unsigned char c = static_cast<unsigned char>(text[i]);
  if (c >= 0x01 && c <= 0x7F) return 1;
  size_t length;
  unsigned char low = 0x80, high = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3;
    if (c == 0xE0) low = 0xA0;
    if (c == 0xED) high = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4;
    if (c == 0xF0) low = 0x90;
    if (c == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; k++) {
    unsigned char next = static_cast<unsigned char>(text[i + k]);
    if (next < (k == 1 ? low : 0x80) || next > (k == 1 ? high : 0xBF)) return 0;
  }
  return length;
}

}  // namespace

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t length = valid_sequence_length(text, i);
    if (length == 0) {
      out += kReplacement;
      i++;
    } else {
      out.append(text.data() + i, length);
      i += length;
    }
  }
  return out;
}

bool is_valid_utf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    size_t length = valid_sequence_length(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

long long bounded_count(double value, long long max) {
  if (!std::isfinite(value) || value < 0 || value > static_cast<double>(max)) return -1;
  return static_cast<long long>(value);
}

}  // namespace multidb
