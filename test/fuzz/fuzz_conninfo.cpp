// libFuzzer: a conninfo string or URI given to multidb.add_connection, split into server and user-mapping
// options.
#include "core/conn_options.hpp"

#include <cstddef>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string conninfo(reinterpret_cast<const char*>(data), size);
  if (conninfo.find('\0') != std::string::npos) return 0;  // a SQL text value holds no NUL
  try {
    multidb::SplitConninfo split = multidb::split_conninfo(conninfo);
    for (const auto& option : split.server) multidb::classify_option(option.first);
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
