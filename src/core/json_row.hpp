// The typing rules of multidb.fanout's row_data: which JSON kind a remote column becomes, and its key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace multidb {

// Built-in type OIDs are fixed in every PostgreSQL release, so they can be compared without a catalog.
enum BuiltinTypeOid : uint32_t {
  kBoolOid = 16,
  kInt8Oid = 20,
  kInt2Oid = 21,
  kInt4Oid = 23,
  kOidOid = 26,
  kJsonOid = 114,
  kFloat4Oid = 700,
  kFloat8Oid = 701,
  kNumericOid = 1700,
  kJsonbOid = 3802,
};

// kNumber values that JSON cannot hold (NaN, Infinity) fall back to kString when converted.
enum class JsonKind { kNumber, kBoolean, kEmbeddedJson, kString };

JsonKind json_kind_for_type(uint32_t type_oid);

// Column names as object keys: a repeated name gets _2, _3, ... (skipping names already taken).
std::vector<std::string> unique_column_keys(const std::vector<std::string>& names);

}  // namespace multidb
