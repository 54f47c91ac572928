#include "core/database_names.hpp"

#include <algorithm>
#include <set>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

constexpr std::size_t kMaxNumberDigits = 18;  // fits in unsigned long long; wider digits are no number
constexpr const char* kEllipsis = " \xE2\x80\xA6 ";

struct Name {
  std::string text;
  std::string stem;          // the name without its trailing digits
  bool numbered = false;     // 1 to kMaxNumberDigits trailing digits
  std::size_t width = 0;     // how many digits
  unsigned long long number = 0;
};

Name split(const std::string& text) {
  Name name{text, text};
  std::size_t digits = 0;
  while (digits < text.size() && text[text.size() - 1 - digits] >= '0' && text[text.size() - 1 - digits] <= '9')
    digits++;
  if (digits == 0 || digits > kMaxNumberDigits) return name;
  name.stem = text.substr(0, text.size() - digits);
  name.numbered = true;
  name.width = digits;
  for (std::size_t i = text.size() - digits; i < text.size(); i++) name.number = name.number * 10 + (text[i] - '0');
  return name;
}

bool before(const Name& a, const Name& b) {
  if (a.stem != b.stem) return a.stem < b.stem;
  if (a.numbered != b.numbered) return !a.numbered;
  if (a.number != b.number) return a.number < b.number;
  return a.text < b.text;
}

bool follows(const Name& previous, const Name& next) {
  return previous.numbered && next.numbered && previous.stem == next.stem && previous.width == next.width &&
         next.number == previous.number + 1;
}

struct Item {
  std::string text;
  std::size_t names;
};

}  // namespace

std::string with_thousands_separator(std::size_t number) {
  std::string digits = std::to_string(number), out;
  for (std::size_t i = 0; i < digits.size(); i++) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

CompactNames compact_database_names(const std::vector<std::string>& names, const DatabaseGroup& group,
                                    std::size_t max_bytes) {
  max_bytes = std::max<std::size_t>(max_bytes, 64);
  std::set<std::string> distinct(names.begin(), names.end());
  std::vector<Name> sorted;
  sorted.reserve(distinct.size());
  for (const std::string& text : distinct) sorted.push_back(split(text));
  std::sort(sorted.begin(), sorted.end(), before);

  CompactNames result;
  result.count = sorted.size();
  std::string group_suffix;
  if (!group.name.empty()) {
    std::set<std::string> members(group.members.begin(), group.members.end());
    result.is_group = !distinct.empty() && members == distinct;
    if (result.is_group) {
      result.group = "@" + (group.name[0] == '@' ? group.name.substr(1) : group.name);
      group_suffix = " (group " + result.group + ")";
    }
  }

  std::vector<Item> items;
  for (std::size_t i = 0; i < sorted.size();) {
    std::size_t end = i + 1;
    while (end < sorted.size() && follows(sorted[end - 1], sorted[end])) end++;
    if (end - i >= kMinRangeLength) {
      items.push_back({sorted[i].text + kEllipsis + sorted[end - 1].text, end - i});
      result.ranges++;
      i = end;
    } else {
      items.push_back({sorted[i].text, 1});
      i++;
    }
  }

  std::string text;
  std::size_t written = 0, kept_ranges = 0;
  for (const Item& item : items) {
    std::string candidate = text.empty() ? item.text : text + ", " + item.text;
    std::size_t remaining = result.count - written - item.names;
    std::string tail = (remaining > 0 ? " and " + with_thousands_separator(remaining) + " more" : "") + group_suffix;
    if (candidate.size() + tail.size() > max_bytes) break;
    text = std::move(candidate);
    written += item.names;
    if (item.names > 1) kept_ranges++;
  }
  result.ranges = kept_ranges;
  result.left_out = result.count - written;
  if (result.left_out > 0)
    text = text.empty() ? with_thousands_separator(result.count) + " names" : text + " and " + with_thousands_separator(result.left_out) + " more";
  result.text = text + group_suffix;
  return result;
}

}  // namespace multidb
