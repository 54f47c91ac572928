// Parsing and checking the endpoints' JSON bodies, each failure naming its field.
#include "gateway/request_body.hpp"

#include <cctype>

#include "core/query_spec.hpp"

namespace multidb::gateway {

using nlohmann::json;

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int extra;
    if (c < 0x80) extra = 0;
    else if (c >= 0xC2 && c <= 0xDF) extra = 1;
    else if (c >= 0xE0 && c <= 0xEF) extra = 2;
    else if (c >= 0xF0 && c <= 0xF4) extra = 3;
    else return false;
    if (extra > 0 && i + extra >= s.size()) return false;
    for (int k = 1; k <= extra; k++)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    if (extra == 2) {
      unsigned char d = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xE0 && d < 0xA0) || (c == 0xED && d >= 0xA0)) return false;  // overlong, surrogates
    }
    if (extra == 3) {
      unsigned char d = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xF0 && d < 0x90) || (c == 0xF4 && d >= 0x90)) return false;
    }
    i += extra + 1;
  }
  return true;
}

namespace {

std::string text_field(const json& body, const std::string& field, size_t max_bytes, bool required) {
  if (!body.contains(field) || body[field].is_null()) {
    if (required) throw BodyError(field, "\"" + field + "\" is required");
    return "";
  }
  if (!body[field].is_string()) throw BodyError(field, "\"" + field + "\" must be a string");
  std::string value = body[field].get<std::string>();
  if (value.size() > max_bytes)
    throw BodyError(field, "\"" + field + "\" is longer than " + std::to_string(max_bytes) + " bytes");
  if (value.find('\0') != std::string::npos) throw BodyError(field, "\"" + field + "\" must not hold a NUL character");
  return value;
}

std::vector<ConnectionRef> connection_list(const json& body, const std::string& field, bool allow_empty) {
  const json& list = body[field];
  if (!list.is_array()) throw BodyError(field, "\"" + field + "\" must be an array of connection names or ids");
  if (list.size() > kMaxConnections)
    throw BodyError(field, "\"" + field + "\" names more than " + std::to_string(kMaxConnections) + " connections");
  if (list.empty() && !allow_empty) throw BodyError(field, "\"" + field + "\" must name at least one connection");
  std::vector<ConnectionRef> refs;
  for (const json& item : list) {
    ConnectionRef ref;
    if (item.is_number_integer() || item.is_number_unsigned()) {
      long long id = item.get<long long>();
      if (id < 1 || id > 1000000) throw BodyError(field, "\"" + field + "\" holds an id out of range: " + item.dump());
      ref.id = static_cast<long>(id);
    } else if (item.is_string()) {
      std::string s = item.get<std::string>();
      if (s.empty() || s.size() > 128 || s.find('\0') != std::string::npos)
        throw BodyError(field, "\"" + field + "\" holds an empty, too long or NUL-holding name");
      bool digits = s.size() <= 7;
      for (char c : s) digits = digits && std::isdigit(static_cast<unsigned char>(c));
      if (digits && s[0] != '0') ref.id = std::stol(s);
      else ref.name = s;
    } else {
      throw BodyError(field, "\"" + field + "\" must hold connection names (strings) or ids (numbers), not " +
                                 std::string(item.type_name()));
    }
    refs.push_back(ref);
  }
  return refs;
}

}  // namespace

json parse_object(const std::string& body, size_t max_nesting) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
  if (!valid_utf8(body)) throw BodyError("", "the body is not valid UTF-8");
  size_t deepest = 0;
  json::parser_callback_t limit = [&deepest, max_nesting](int depth, json::parse_event_t, json&) {
    if (static_cast<size_t>(depth) > deepest) deepest = static_cast<size_t>(depth);
    if (static_cast<size_t>(depth) > max_nesting) throw BodyError("", "the body nests deeper than " + std::to_string(max_nesting) + " levels");
    return true;
  };
  json value;
  try {
    value = json::parse(body, limit);
  } catch (const json::exception& e) {
    // A syntax error, and also a number too large for a double (out_of_range 406): bad input either way.
    throw BodyError("", std::string("the body is not JSON: ") + e.what());
  }
  if (!value.is_object()) throw BodyError("", "the body must be a JSON object");
  return value;
}

std::string parse_spec(const json& body) {
  if (!body.contains("spec") || body["spec"].is_null())
    throw BodyError("spec", "\"spec\" is required: the query spec, a JSON object (docs/reference.md, \"Building a "
                            "query without SQL\")");
  if (!body["spec"].is_object()) throw BodyError("spec", "\"spec\" must be a JSON object");
  std::string text = body["spec"].dump();
  if (text.size() > multidb::kMaxSpecBytes)
    throw BodyError("spec", "\"spec\" is larger than " + std::to_string(multidb::kMaxSpecBytes) + " bytes");
  return text;
}

bool is_uuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

CreateSession parse_create_session(const json& body) {
  CreateSession out;
  out.name = text_field(body, "name", kMaxNameBytes, false);
  if (out.name.empty()) out.name = "New chat";
  if (!body.contains("connection_ids") || body["connection_ids"].is_null())
    throw BodyError("connection_ids", "\"connection_ids\" is required: the connections the session asks");
  out.connections = connection_list(body, "connection_ids", false);
  return out;
}

std::vector<ConnectionRef> parse_connections(const json& body, const std::string& field) {
  if (!body.contains(field) || body[field].is_null())
    throw BodyError(field, "\"" + field + "\" is required: the databases to run on");
  return connection_list(body, field, false);
}

PatchSession parse_patch_session(const json& body) {
  PatchSession out;
  if (body.contains("name") && !body["name"].is_null()) {
    out.name = text_field(body, "name", kMaxNameBytes, true);
    if (out.name->empty()) throw BodyError("name", "\"name\" must not be empty");
  }
  for (const char* field : {"connection_ids", "active_connection_ids"})
    if (body.contains(field) && !body[field].is_null()) out.connections = connection_list(body, field, false);
  if (body.contains("attach") && !body["attach"].is_null()) out.attach = connection_list(body, "attach", true);
  if (body.contains("detach") && !body["detach"].is_null()) out.detach = connection_list(body, "detach", true);
  if (!out.name && !out.connections && out.attach.empty() && out.detach.empty())
    throw BodyError("", "nothing to change: give \"name\", \"connection_ids\", \"attach\" or \"detach\"");
  return out;
}

Ask parse_ask(const json& body, bool in_session) {
  Ask out;
  if (in_session && !body.contains("question") && body.contains("content"))
    out.question = text_field(body, "content", kMaxQuestionBytes, true);
  else
    out.question = text_field(body, "question", kMaxQuestionBytes, true);
  if (out.question.find_first_not_of(" \t\r\n") == std::string::npos)
    throw BodyError(in_session && body.contains("content") ? "content" : "question", "the question is empty");
  if (in_session) return out;
  if (body.contains("chat_session_id") && !body["chat_session_id"].is_null()) {
    std::string id = text_field(body, "chat_session_id", 64, true);
    if (!is_uuid(id)) throw BodyError("chat_session_id", "\"chat_session_id\" must be a session id (a uuid)");
    out.session = id;
  }
  if (body.contains("connection_ids") && !body["connection_ids"].is_null())
    out.connections = connection_list(body, "connection_ids", false);
  if (out.session && out.connections)
    throw BodyError("connection_ids", "give \"chat_session_id\" or \"connection_ids\", not both");
  return out;
}

SignIn parse_sign_in(const json& body) {
  SignIn out;
  const char* role_field = body.contains("role") ? "role" : "username";
  out.role = text_field(body, role_field, 63, true);
  out.password = text_field(body, "password", 1000, true);
  if (out.role.empty()) throw BodyError(role_field, "\"" + std::string(role_field) + "\" must not be empty");
  return out;
}

CreateView parse_create_view(const json& body) {
  CreateView out;
  out.name = text_field(body, "name", 300, true);
  if (out.name.find_first_not_of(" \t\r\n") == std::string::npos) throw BodyError("name", "\"name\" must not be empty");
  const bool has_question = body.contains("question") && !body["question"].is_null();
  const bool has_sql = body.contains("sql") && !body["sql"].is_null();
  if (has_question == has_sql)
    throw BodyError(has_question ? "sql" : "question",
                    "give either \"question\" (a question for the LLM to plan) or \"sql\" (a statement), not both");
  if (has_question) {
    out.question = text_field(body, "question", kMaxQuestionBytes, true);
    if (out.question->find_first_not_of(" \t\r\n") == std::string::npos)
      throw BodyError("question", "the question is empty");
  } else {
    out.sql = text_field(body, "sql", kMaxQuestionBytes, true);
    if (out.sql->find_first_not_of(" \t\r\n") == std::string::npos) throw BodyError("sql", "the statement is empty");
  }
  if (body.contains("session_id") && !body["session_id"].is_null()) {
    if (!has_question) throw BodyError("session_id", "\"session_id\" goes with \"question\": an SQL view has none");
    std::string id = text_field(body, "session_id", 64, true);
    if (!is_uuid(id)) throw BodyError("session_id", "\"session_id\" must be a session id (a uuid)");
    out.session = id;
  }
  if (body.contains("connections") && !body["connections"].is_null())
    out.connections = connection_list(body, "connections", false);
  if (body.contains("mode") && !body["mode"].is_null()) {
    out.mode = text_field(body, "mode", 20, true);
    if (out.mode != "snapshot" && out.mode != "live")
      throw BodyError("mode", "\"mode\" must be \"snapshot\" or \"live\"");
  }
  if (body.contains("schedule") && !body["schedule"].is_null()) {
    out.schedule = text_field(body, "schedule", 200, true);
    if (out.schedule->empty()) throw BodyError("schedule", "\"schedule\" must be a cron schedule such as \"0 6 * * *\"");
  }
  if (body.contains("on_drift") && !body["on_drift"].is_null()) {
    out.on_drift = text_field(body, "on_drift", 20, true);
    if (out.on_drift != "fail" && out.on_drift != "evolve")
      throw BodyError("on_drift", "\"on_drift\" must be \"fail\" or \"evolve\"");
  }
  if (body.contains("description") && !body["description"].is_null()) {
    if (!has_sql)
      throw BodyError("description", "\"description\" goes with \"sql\": a question view is described by its question");
    out.description = text_field(body, "description", kMaxQuestionBytes, true);
  }
  return out;
}

bool parse_rebind(const json& body) {
  if (!body.contains("replan") || body["replan"].is_null()) return false;
  if (!body["replan"].is_boolean()) throw BodyError("replan", "\"replan\" must be true or false");
  return body["replan"].get<bool>();
}

std::string view_name(const std::string& text) {
  if (text.empty() || text.size() > 300 || text.find('\0') != std::string::npos)
    throw BodyError("view", "the path must name a view as GET /api/views shows it (schema.name, percent-encoded)");
  return text;
}

std::optional<Page> parse_page(const std::optional<std::string>& offset, const std::optional<std::string>& limit) {
  if (!offset && !limit) return std::nullopt;
  auto number = [](const std::optional<std::string>& text, const char* name, long long high, long long fallback) {
    if (!text) return fallback;
    if (text->empty() || text->size() > 12 || text->find_first_not_of("0123456789") != std::string::npos ||
        std::stoll(*text) > high)
      throw BodyError(name, std::string("?") + name + " must be a whole number from 0 to " + std::to_string(high));
    return std::stoll(*text);
  };
  Page page;
  page.offset = number(offset, "offset", kMaxOffset, 0);
  page.limit = number(limit, "limit", kMaxPageRows, kDefaultPageRows);
  return page;
}

bool wants_csv(const std::string& format_param, bool has_format, const std::string& accept) {
  if (has_format) {
    if (format_param == "csv") return true;
    if (format_param == "json") return false;
    throw BodyError("format", "?format must be csv or json");
  }
  const size_t csv = accept.find("text/csv");
  if (csv == std::string::npos) return false;
  const size_t js = accept.find("application/json");
  return js == std::string::npos || csv < js;
}

}  // namespace multidb::gateway
