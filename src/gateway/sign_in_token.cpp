// A sign-in's token: random, recognised, hashed for the coordinator.
#include "gateway/sign_in_token.hpp"

#include <sys/random.h>

#include <openssl/evp.h>

#include <stdexcept>

namespace multidb::gateway {

namespace {

const char kHex[] = "0123456789abcdef";

std::string hex(const unsigned char* bytes, size_t n) {
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; i++) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

}  // namespace

std::string new_session_token() {
  unsigned char bytes[32];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n <= 0) throw std::runtime_error("the OS gave no random bytes for a session token");
    got += static_cast<size_t>(n);
  }
  return hex(bytes, sizeof bytes);
}

bool is_session_token(const std::string& text) {
  return text.size() == 64 && text.find_first_not_of(kHex) == std::string::npos;
}

std::string token_hash_param(const std::string& token) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!EVP_Digest(token.data(), token.size(), digest, &length, EVP_sha256(), nullptr) || length != 32)
    throw std::runtime_error("OpenSSL could not compute a SHA-256");
  return "\\x" + hex(digest, length);
}

}  // namespace multidb::gateway
