// The JSON bodies the endpoints take, parsed and checked with limits (size, nesting, UTF-8, field types and
// lengths); a bad body is a BodyError naming the field. Pure.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace multidb::gateway {

// A malformed body: 400, naming the field ("" for the body as a whole).
class BodyError : public std::runtime_error {
 public:
  BodyError(std::string field, const std::string& message) : std::runtime_error(message), field_(std::move(field)) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

constexpr size_t kMaxNesting = 32;
constexpr size_t kMaxConnections = 1000;
constexpr size_t kMaxNameBytes = 200;
constexpr size_t kMaxQuestionBytes = 100000;

// A query spec's filter may nest 16 deep (core/query_spec.hpp), two JSON levels a node: its bodies may nest
// deeper than others.
constexpr size_t kMaxSpecNesting = 40;

// A JSON object (an empty body is {}); nesting deeper than max_nesting, invalid UTF-8 or not an object is a
// BodyError.
nlohmann::json parse_object(const std::string& body, size_t max_nesting = kMaxNesting);

// The query spec of POST /api/build, /api/build/sql and /api/reports: body["spec"], a JSON object of at most
// 1 MB (core's kMaxSpecBytes) as JSON text; missing, not an object or larger is a BodyError naming "spec".
// What the spec says is the coordinator's to judge (multidb.build_plan names the member at fault).
std::string parse_spec(const nlohmann::json& body);

// A connection reference as given: a name ("shop", "@group") or an id from GET /api/connections (1, "1").
struct ConnectionRef {
  std::string name;  // set for a name
  long id = 0;       // > 0 for an id
};

struct CreateSession {
  std::string name;
  std::vector<ConnectionRef> connections;
};
struct PatchSession {
  std::optional<std::string> name;
  std::optional<std::vector<ConnectionRef>> connections;  // the whole new list
  std::vector<ConnectionRef> attach, detach;
};
struct Ask {
  std::string question;
  std::optional<std::string> session;                     // chat_session_id
  std::optional<std::vector<ConnectionRef>> connections;  // connection_ids
};
// POST /api/views: a view of a question (multidb.create_view) or of SQL (multidb.create_view_sql).
struct CreateView {
  std::string name;                                       // as create_view takes it: [schema.]name
  std::optional<std::string> question, sql;               // exactly one
  std::optional<std::string> session;                     // session_id (a question's)
  std::optional<std::vector<ConnectionRef>> connections;  // connections
  std::string mode = "snapshot";                          // snapshot | live
  std::optional<std::string> schedule;                    // a cron schedule (snapshot views)
  std::string on_drift = "fail";                          // fail | evolve
  std::optional<std::string> description;                 // an SQL view's
};
struct SignIn {
  std::string role;
  std::string password;
};

CreateSession parse_create_session(const nlohmann::json& body);
PatchSession parse_patch_session(const nlohmann::json& body);
// For POST /api/multi-query/ (question, chat_session_id or connection_ids). With session_required (POST
// …/messages) the question may also come as "content", and chat_session_id is not read.
Ask parse_ask(const nlohmann::json& body, bool in_session);
SignIn parse_sign_in(const nlohmann::json& body);
CreateView parse_create_view(const nlohmann::json& body);
// POST /api/views/{view}/rebind: {"replan": bool}, false when absent.
bool parse_rebind(const nlohmann::json& body);
// A view's name in a path: [schema.]name as multidb.views shows it (quoted parts allowed), at most 300 bytes,
// no NUL; anything else is a BodyError naming "view". Whether it names a view is the coordinator's to say.
std::string view_name(const std::string& text);
// One page of a streamed result: ?offset= and ?limit= of a message's results and of a view's rows.
struct Page {
  long long offset = 0;
  long long limit = 0;
};
constexpr long long kMaxPageRows = 10000;     // the largest ?limit=
constexpr long long kDefaultPageRows = 1000;  // ?limit= when only ?offset= is given
constexpr long long kMaxOffset = 999999999999;
// nullopt when neither is given (the whole result); else offset 0..10^12-1 (default 0) and limit
// 0..kMaxPageRows (default kDefaultPageRows). A value that is not such a whole number is a BodyError naming
// "offset" or "limit".
std::optional<Page> parse_page(const std::optional<std::string>& offset, const std::optional<std::string>& limit);
// Whether the client asked for CSV: ?format=csv|json first, else an Accept naming text/csv before any JSON;
// another ?format is a BodyError naming "format".
bool wants_csv(const std::string& format_param, bool has_format, const std::string& accept);

// A required, non-empty list of connection names or ids in body[field].
std::vector<ConnectionRef> parse_connections(const nlohmann::json& body, const std::string& field);

// Well-formed UTF-8: no stray continuation byte, no sequence cut short, no overlong form, no surrogate, nothing
// past U+10FFFF.
bool valid_utf8(const std::string& text);

// A session id as Postgres prints a uuid (36 characters, hex and dashes; any case).
bool is_uuid(const std::string& text);

}  // namespace multidb::gateway
