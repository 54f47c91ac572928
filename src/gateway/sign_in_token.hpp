// A browser sign-in's token: made from the OS's random bytes, recognised in a cookie, and hashed (SHA-256) into
// the form the coordinator's table keeps it under. Pure: the token never leaves the gateway but in the cookie.
#pragma once

#include <string>

namespace multidb::gateway {

// A new token: 32 random bytes from the OS, as 64 hex digits.
std::string new_session_token();

// True for what new_session_token makes (64 lowercase hex digits): anything else in the cookie is no sign-in,
// and is answered 401 without asking the coordinator.
bool is_session_token(const std::string& text);

// The SHA-256 of the token's text, as a bytea parameter in hex ("\x" and 64 hex digits): what
// multidb.open_web_sign_in, web_sign_in_role and end_web_sign_in take and web_sign_ins keeps.
std::string token_hash_param(const std::string& token);

}  // namespace multidb::gateway
