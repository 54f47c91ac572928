// Whether a remote result's rows can be read in binary (row_format.hpp): the rule, apart from the catalog lookups
// that give its facts (fanout/row_sink.cpp).
#include "core/row_format.hpp"

#include "core/cpp_only.hpp"

namespace multidb {

ColumnFormat column_format(const ColumnTypeFacts& facts) noexcept {
  if (!facts.remote_type_builtin) return ColumnFormat::kTextRemoteOwnType;
  if (facts.local_type != facts.remote_type) return ColumnFormat::kTextOtherLocalType;
  if (facts.reads_catalog) return ColumnFormat::kTextReadsCatalog;
  if (!facts.binary_io_here) return ColumnFormat::kTextNoBinaryIo;
  return ColumnFormat::kBinary;
}

const char* column_format_reason(ColumnFormat format) noexcept {
  switch (format) {
    case ColumnFormat::kBinary:
      return "";
    case ColumnFormat::kTextRemoteOwnType:
      return "of a type of the remote's own";
    case ColumnFormat::kTextOtherLocalType:
      return "received as another type";
    case ColumnFormat::kTextNoBinaryIo:
      return "of a type without binary input and output";
    case ColumnFormat::kTextReadsCatalog:
      return "of a type whose values name catalog objects";
  }
  return "of an unknown kind";
}

ResultFormat result_format(const ColumnFormat* columns, int count, bool client_encoding_is_database_encoding) noexcept {
  for (int i = 0; i < count; i++)
    if (columns[i] != ColumnFormat::kBinary) return ResultFormat{false, i, false};
  if (!client_encoding_is_database_encoding) return ResultFormat{false, -1, true};
  return ResultFormat{true, -1, false};
}

}  // namespace multidb
