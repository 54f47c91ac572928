// The remote cluster's name from a server's host, hostaddr and port, as libpq will reach it (the contract is in
// cluster_address.hpp); the list splitting and the defaults follow libpq 15's connectOptions2().
#include "core/cluster_address.hpp"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cctype>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

namespace {

// libpq's comma lists: split at every comma, nothing trimmed.
std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> elements;
  std::string::size_type start = 0;
  for (;;) {
    std::string::size_type comma = list.find(',', start);
    elements.push_back(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return elements;
    start = comma + 1;
  }
}

std::string lower_case(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// A port as a number, as libpq reads it (surrounding blanks allowed); anything else as written.
std::string normalized_port(const std::string& port) {
  std::string::size_type first = port.find_first_not_of(" \t\n\r\f\v");
  std::string::size_type last = port.find_last_not_of(" \t\n\r\f\v");
  if (first == std::string::npos) return port;
  std::string digits = port.substr(first, last - first + 1);
  if (digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos) return port;
  return std::to_string(std::stoi(digits));
}

// libpq's is_unixsock_path(): an absolute path, or an abstract socket.
bool is_socket_directory(const std::string& host) { return !host.empty() && (host[0] == '/' || host[0] == '@'); }

std::string text_of_ipv4(const in_addr& address) {
  if ((ntohl(address.s_addr) >> 24) == 127) return "local";
  char text[INET_ADDRSTRLEN];
  if (inet_ntop(AF_INET, &address, text, sizeof(text)) == nullptr) return "";
  return text;
}

std::string text_of_ipv6(const in6_addr& address) {
  if (IN6_IS_ADDR_LOOPBACK(&address)) return "local";
  if (IN6_IS_ADDR_V4MAPPED(&address)) {
    in_addr v4;
    std::memcpy(&v4, &address.s6_addr[12], sizeof(v4));
    return text_of_ipv4(v4);
  }
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, &address, text, sizeof(text)) == nullptr) return "";
  return std::string("[") + text + "]";
}

}  // namespace

const LibpqDefaults& libpq_defaults() {
  static const LibpqDefaults defaults = [] {
    LibpqDefaults result;
    result.compiled_port = "5432";
    std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(PQconndefaults(), &PQconninfoFree);
    if (!options) throw std::bad_alloc();
    for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
      std::string value = o->val != nullptr ? o->val : "";
      if (std::strcmp(o->keyword, "host") == 0) result.options.host = value;
      else if (std::strcmp(o->keyword, "hostaddr") == 0) result.options.hostaddr = value;
      else if (std::strcmp(o->keyword, "port") == 0) {
        result.options.port = value;
        if (o->compiled != nullptr) result.compiled_port = o->compiled;
      }
    }
    return result;
  }();
  return defaults;
}

std::optional<std::string> resolve_first_address(const std::string& host) {
  addrinfo hints;
  std::memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;  // as libpq asks
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int failed = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (failed == EAI_MEMORY) throw std::bad_alloc();
  if (failed != 0 || found == nullptr) return std::nullopt;
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, &freeaddrinfo);
  std::string text;
  if (found->ai_family == AF_INET)
    text = text_of_ipv4(reinterpret_cast<const sockaddr_in*>(found->ai_addr)->sin_addr);
  else if (found->ai_family == AF_INET6)
    text = text_of_ipv6(reinterpret_cast<const sockaddr_in6*>(found->ai_addr)->sin6_addr);
  if (text.empty()) return std::nullopt;
  return text;
}

namespace {

// A numeric address normalized; nullopt for anything else.
std::optional<std::string> numeric_address(const std::string& address) {
  in_addr v4;
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) return text_of_ipv4(v4);
  in6_addr v6;
  if (inet_pton(AF_INET6, address.c_str(), &v6) == 1) return text_of_ipv6(v6);
  return std::nullopt;
}

}  // namespace

std::string normalized_address(const std::string& address) { return numeric_address(address).value_or(address); }

std::string ClusterAddressBook::address_of_host(const std::string& host, Clock::time_point now) {
  // A numeric host is its own address: getaddrinfo would only echo it.
  if (std::optional<std::string> numeric = numeric_address(host)) return *numeric;
  std::string key = lower_case(host);
  auto known = resolved_.find(key);
  if (known != resolved_.end() && known->second.until > now) return known->second.address;
  std::optional<std::string> address = resolver_(host);
  std::string name = address ? normalized_address(*address) : key;
  if (known != resolved_.end()) {
    known->second = Resolved{std::move(name), now + kResolvedLifetime};
    return known->second.address;
  }
  if (resolved_.size() >= kMaxResolved) {
    for (auto entry = resolved_.begin(); entry != resolved_.end();)
      entry = entry->second.until <= now ? resolved_.erase(entry) : std::next(entry);
    if (resolved_.size() >= kMaxResolved) resolved_.clear();
  }
  return resolved_.emplace(std::move(key), Resolved{std::move(name), now + kResolvedLifetime}).first->second.address;
}

std::string ClusterAddressBook::cluster_of(const ClusterSpelling& spelled, const LibpqDefaults& defaults,
                                           Clock::time_point now) {
  // An option given empty is not given, as libpq reads an option array.
  const std::string& host = spelled.host.empty() ? defaults.options.host : spelled.host;
  const std::string& hostaddr = spelled.hostaddr.empty() ? defaults.options.hostaddr : spelled.hostaddr;
  const std::string& port = spelled.port.empty() ? defaults.options.port : spelled.port;

  std::vector<std::string> hostaddrs = hostaddr.empty() ? std::vector<std::string>() : split_list(hostaddr);
  std::vector<std::string> hosts = host.empty() ? std::vector<std::string>() : split_list(host);
  std::vector<std::string> ports = port.empty() ? std::vector<std::string>() : split_list(port);
  std::size_t count = !hostaddrs.empty() ? hostaddrs.size() : !hosts.empty() ? hosts.size() : 1;

  std::string name;
  for (std::size_t i = 0; i < count; i++) {
    const std::string none;
    const std::string& this_hostaddr = i < hostaddrs.size() ? hostaddrs[i] : none;
    const std::string& this_host = i < hosts.size() ? hosts[i] : none;
    // One port serves every host; else each host has its own (a list that does not match fails in libpq).
    const std::string& this_port = ports.size() == 1 ? ports[0] : i < ports.size() ? ports[i] : none;
    std::string address;
    if (!this_hostaddr.empty())
      address = lower_case(normalized_address(this_hostaddr));
    else if (this_host.empty() || is_socket_directory(this_host))
      address = "local";
    else
      address = address_of_host(this_host, now);
    if (!name.empty()) name += ',';
    name += address + ':' + normalized_port(this_port.empty() ? defaults.compiled_port : this_port);
  }
  return name;
}

}  // namespace multidb
