#include "core/history_record.hpp"

#include "core/text.hpp"

#include <vector>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

std::string storable(const std::string& text, bool utf8_database) {
  std::string valid = valid_utf8(text);
  if (utf8_database) return valid;
  std::string ascii;
  ascii.reserve(valid.size());
  for (size_t i = 0; i < valid.size(); i++) {
    unsigned char c = static_cast<unsigned char>(valid[i]);
    if (c < 0x80) {
      ascii += static_cast<char>(c);
    } else if ((c & 0xC0) != 0x80) {
      ascii += '?';  // one per character: continuation bytes add nothing
    }
  }
  return ascii;
}

// Iterative, so that a deeply nested reply cannot exhaust the stack.
void make_storable(nlohmann::json& root, bool utf8_database) {
  std::vector<nlohmann::json*> pending = {&root};
  while (!pending.empty()) {
    nlohmann::json* node = pending.back();
    pending.pop_back();
    if (node->is_string()) {
      *node = storable(node->get<std::string>(), utf8_database);
    } else if (node->is_array()) {
      for (nlohmann::json& element : *node) pending.push_back(&element);
    } else if (node->is_object()) {
      nlohmann::json renamed = nlohmann::json::object();
      for (auto& [key, value] : node->items()) renamed[storable(key, utf8_database)] = std::move(value);
      *node = std::move(renamed);
      for (auto& [key, value] : node->items()) pending.push_back(&value);
    }
  }
}

}  // namespace

std::string history_record_text(nlohmann::json record, bool utf8_database) {
  make_storable(record, utf8_database);
  return record.dump();
}

}  // namespace multidb
