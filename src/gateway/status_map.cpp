// SQLSTATE -> HTTP status, in one table; and the database an error message names.
#include "gateway/status_map.hpp"

#include <cstring>

namespace multidb::gateway {

namespace {

struct Rule {
  const char* prefix;  // a whole SQLSTATE (5 characters) or its class (2)
  int status;
};

// Whole SQLSTATEs first, then classes; the first match wins.
const Rule kRules[] = {
    {"57014", 504},  // statement timeout / cancelled: a time limit ran out
    {"25P04", 504},  // transaction_timeout (PostgreSQL 17)
    {"57P0", 503},   // the coordinator is shutting down, restarting, starting, its database dropped, or the
                     // session ended by idle_session_timeout
    {"42501", 403},  // permission denied (the guard's refusals are 422: see below)
    {"42704", 404},  // a connection, group or session that does not exist (or is not the caller's)
    {"42P01", 404},
    {"42703", 400},  // a column that is not there (a query spec's, a compare key): the request names it wrongly;
                     // a table a database lacks is 404 above
    {"42710", 409}, {"42P07", 409}, {"23505", 409}, {"2BP01", 409},  // taken names, objects still in use
    {"40001", 409}, {"40P01", 409},                                  // serialization failure, deadlock
    {"38000", 502},  // the LLM failed (HTTP error, timeout, refusal)
    {"39000", 502},  // the LLM's reply held no usable plan
    {"2F003", 403},  // a connection's password rule
    {"28000", 401}, {"28P01", 401},
    {"08", 502},     // a remote could not be reached (the coordinator's own loss is handled before this)
    {"53", 503},     // out of resources
    {"54", 400},     // a program limit the input reached
    {"22", 400}, {"42", 400}, {"23", 409}, {"0A", 400}, {"P0", 400},
};

}  // namespace

// A remote's own failure reaches the coordinator as `connection "x": <what the remote said>`; errors about the
// connection itself (`connection "x" does not exist`, `… has no user mapping …`) have no colon after the name.
bool from_remote(const std::string& message) {
  static const std::string kStart = "connection \"";
  if (message.rfind(kStart, 0) != 0) return false;
  size_t end = message.find('"', kStart.size());
  return end != std::string::npos && message.compare(end, 3, "\": ") == 0;
}

namespace {

// A time limit ran out rather than something failing: a statement's, a lock wait's (lock_timeout; NOWAIT's
// "could not obtain lock" is a conflict instead) or a transaction's. (A remote that stops answering past
// multidb.statement_timeout is reported as a lost connection, 08006: the remote failing, 502.)
bool timed_out(const std::string& sqlstate, const std::string& message) {
  if (sqlstate == "57014" || sqlstate == "25P04") return true;
  if (sqlstate == "55P03") return message.find("lock timeout") != std::string::npos;
  return false;
}

}  // namespace

int http_status_for(const std::string& sqlstate, const std::string& message) {
  const bool remote = from_remote(message);
  // The guard refused a statement (the request's or the LLM's) or the remote's catalog check did: 422.
  if ((sqlstate == "42501" || sqlstate == "42601") &&
      (message.find("multidb refused") != std::string::npos || message.find("multidb refuses") != std::string::npos ||
       (remote && message.find("refuse") != std::string::npos)))
    return 422;
  // Anything else a remote said (its table is missing, its data is bad, it could not be reached) is the remote
  // failing: 502; a time limit running out is 504.
  if (remote) return timed_out(sqlstate, message) ? 504 : 502;
  if (sqlstate == "55P03") return timed_out(sqlstate, message) ? 504 : 409;
  for (const Rule& rule : kRules) {
    const size_t n = std::strlen(rule.prefix);
    if (sqlstate.size() == 5 && sqlstate.compare(0, n, rule.prefix) == 0) return rule.status;
  }
  return 500;
}

namespace {

// The quoted name after the first `start` in message (at most 200 bytes), or "".
std::string quoted_after(const std::string& message, const std::string& start) {
  size_t at = message.find(start);
  if (at == std::string::npos) return "";
  size_t begin = at + start.size(), end = message.find('"', begin);
  if (end == std::string::npos || end - begin > 200) return "";
  return message.substr(begin, end - begin);
}

}  // namespace

std::string database_named(const std::string& message) {
  const std::string connection = quoted_after(message, "connection \"");
  if (!connection.empty() || message.find("connection \"") != std::string::npos) return connection;
  // The query builder's table or column a database lacks: `… does not exist on database "backup"`.
  return quoted_after(message, " does not exist on database \"");
}

std::string spec_field_named(const std::string& sqlstate, const std::string& message) {
  static const std::string kStart = "invalid query spec: ";
  if (sqlstate != "22023" || message.rfind(kStart, 0) != 0) return "";
  const size_t end = message.find(": ", kStart.size());
  if (end == std::string::npos || end == kStart.size() || end - kStart.size() > 500) return "";
  return message.substr(kStart.size(), end - kStart.size());
}

}  // namespace multidb::gateway
