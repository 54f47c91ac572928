#include "core/json_row.hpp"

#include <unordered_set>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

JsonKind json_kind_for_type(uint32_t type_oid) {
  switch (type_oid) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid:
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid:
      return JsonKind::kNumber;
    case kBoolOid:
      return JsonKind::kBoolean;
    case kJsonOid:
    case kJsonbOid:
      return JsonKind::kEmbeddedJson;
    default:
      return JsonKind::kString;
  }
}

std::vector<std::string> unique_column_keys(const std::vector<std::string>& names) {
  std::unordered_set<std::string> taken;
  std::vector<std::string> keys;
  keys.reserve(names.size());
  for (const std::string& name : names) {
    std::string key = name;
    for (int suffix = 2; taken.count(key) != 0; ++suffix) key = name + "_" + std::to_string(suffix);
    taken.insert(key);
    keys.push_back(std::move(key));
  }
  return keys;
}

}  // namespace multidb
