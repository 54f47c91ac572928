// A stable, fast, non-cryptographic hash for cache keys and fingerprints (FNV-1a, 64 bits, as hex).
#pragma once

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>

namespace multidb {

inline std::string fnv1a_hex(const std::string& text) {
  uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  char hex[17];
  snprintf(hex, sizeof(hex), "%016" PRIx64, hash);
  return hex;
}

}  // namespace multidb
