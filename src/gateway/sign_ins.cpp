// Browser sign-ins in the coordinator's table, through the authenticator.
#include "gateway/sign_ins.hpp"

#include "gateway/sign_in_token.hpp"

namespace multidb::gateway {

std::string SignIns::open(const std::string& role) {
  const std::string token = new_session_token();
  db_.as_authenticator(
      [&](RoleTransaction& tx) {
        tx.query("SELECT multidb.open_web_sign_in($1::bytea, $2::name, $3::integer)",
                 {token_hash_param(token), role, std::to_string(ttl_s_)});
      },
      true);
  return token;
}

std::optional<std::string> SignIns::role_of(const std::string& token) {
  if (!is_session_token(token)) return std::nullopt;
  std::optional<std::string> role;
  db_.as_authenticator([&](RoleTransaction& tx) {
    role = tx.query("SELECT multidb.web_sign_in_role($1::bytea) AS role", {token_hash_param(token)}).at(0, "role");
  });
  return role;
}

void SignIns::end(const std::string& token) {
  if (!is_session_token(token)) return;
  db_.as_authenticator(
      [&](RoleTransaction& tx) { tx.query("SELECT multidb.end_web_sign_in($1::bytea)", {token_hash_param(token)}); },
      true);
}

}  // namespace multidb::gateway
