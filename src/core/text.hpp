// Text from outside (LLM replies, remote catalogs) made safe to show, store and convert: valid UTF-8, no
// NUL, numbers that fit. Nothing here fails on odd input: what cannot be used is replaced or called unknown.
#pragma once

#include <string>
#include <string_view>

namespace multidb {

// text with every invalid UTF-8 sequence and every NUL replaced by U+FFFD; one linear pass.
std::string valid_utf8(std::string_view text);

// True when valid_utf8(text) would return text unchanged; no copy.
bool is_valid_utf8(std::string_view text);

// A count read from untrusted JSON or statistics as a number of any kind: its value when it is finite, not
// negative and at most max; -1 (unknown) otherwise. Never a float-to-integer conversion out of range.
long long bounded_count(double value, long long max);

}  // namespace multidb
