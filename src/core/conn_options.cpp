#include "core/conn_options.hpp"

#include <libpq-fe.h>

#include <memory>
#include <set>
#include <stdexcept>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

const std::set<std::string, std::less<>> kUserMappingOptions = {"user", "password", "sslcert", "sslkey",
                                                                "sslpassword"};
// multidb overrides these on every connection, or they would change what a connection is.
const std::set<std::string, std::less<>> kReservedOptions = {"client_encoding", "fallback_application_name",
                                                             "replication"};

struct LibpqOptions {
  std::set<std::string, std::less<>> names;  // every non-debug libpq keyword
};

const LibpqOptions& libpq_options() {
  static const LibpqOptions options = [] {
    LibpqOptions result;
    std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> defaults(PQconndefaults(), &PQconninfoFree);
    if (!defaults) throw std::bad_alloc();
    for (const PQconninfoOption* o = defaults.get(); o->keyword != nullptr; ++o) {
      if (o->dispchar != nullptr && std::string_view(o->dispchar) == "D") continue;  // debug-only
      result.names.insert(o->keyword);
    }
    return result;
  }();
  return options;
}

}  // namespace

bool is_multidb_only_option(std::string_view name) {
  return name == "password_required" || name == "allow_privileged_role" || name == "allow_implicit_volatile";
}

OptionPlace classify_option(std::string_view name) {
  if (name == "allow_privileged_role" || name == "allow_implicit_volatile") return OptionPlace::kServer;
  if (is_multidb_only_option(name)) return OptionPlace::kUserMapping;
  if (kReservedOptions.count(name) != 0) return OptionPlace::kReserved;
  if (libpq_options().names.count(name) == 0) return OptionPlace::kUnknown;
  if (kUserMappingOptions.count(name) != 0) return OptionPlace::kUserMapping;
  return OptionPlace::kServer;
}

std::string valid_options_list(OptionPlace place) {
  std::string list;
  std::set<std::string> names(libpq_options().names.begin(), libpq_options().names.end());
  names.insert("password_required");
  names.insert("allow_privileged_role");
  names.insert("allow_implicit_volatile");
  for (const std::string& name : names) {
    if (classify_option(name) != place) continue;
    if (!list.empty()) list += ", ";
    list += name;
  }
  return list;
}

SplitConninfo split_conninfo(const std::string& conninfo) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> parsed(PQconninfoParse(conninfo.c_str(), &error),
                                                                      &PQconninfoFree);
  if (!parsed) {
    std::string message = error ? error : "out of memory";
    if (error) PQfreemem(error);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    throw std::invalid_argument(message);
  }
  SplitConninfo split;
  for (const PQconninfoOption* o = parsed.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    switch (classify_option(o->keyword)) {
      case OptionPlace::kServer:
        split.server.emplace_back(o->keyword, o->val);
        break;
      case OptionPlace::kUserMapping:
        split.user_mapping.emplace_back(o->keyword, o->val);
        break;
      case OptionPlace::kReserved:
        throw std::invalid_argument(std::string("option \"") + o->keyword + "\" is set by multidb itself");
      case OptionPlace::kUnknown:
        throw std::invalid_argument(std::string("option \"") + o->keyword + "\" cannot be used by multidb");
    }
  }
  return split;
}

}  // namespace multidb
