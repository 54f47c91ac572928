// libFuzzer: a remote's introspection document (what a remote's catalogs, its statistics and its
// comments make of it), parsed, fingerprinted and written into a prompt.
#include "core/schema_model.hpp"
#include "core/schema_text.hpp"

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    multidb::DatabaseSchema schema = multidb::schema_from_json("db", text);
    multidb::schema_fingerprint(schema);
    multidb::schema_from_json("db", multidb::schema_to_json(schema));
    std::vector<multidb::DatabaseSchema> schemas = {schema};
    multidb::format_combined_schema(schemas, "orders per customer", 5);
  } catch (const std::exception&) {
  }
  return 0;
}
