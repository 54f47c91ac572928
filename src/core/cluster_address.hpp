// The remote cluster a connection reaches, named by the address libpq will connect to, whatever the server's
// spelling: host=localhost, host=127.0.0.1, hostaddr=127.0.0.1 under another host name and a unix-socket directory
// all reach this machine's cluster on that port, and share one count of multidb.max_connections_per_host
// (fanout/cluster_slots.hpp).
//
// Contract:
//   - A server's spelling is its host, hostaddr and port options as libpq receives them (empty: not given); what is
//     not given comes from libpq's own defaults (PGHOST, PGHOSTADDR, PGPORT, a PGSERVICE file, then port 5432, as
//     PQconndefaults() reports them) — exactly as libpq fills them in.
//   - The name is "address:port" per host libpq may try, comma-separated (host=a,b tries a, then b), where address
//     is, as libpq chooses what to connect to:
//       hostaddr when given (host then only names the server for TLS and authentication);
//       else the host's first address as getaddrinfo() gives it to libpq;
//       "local" for this machine: a loopback address (127.0.0.0/8, ::1, ::ffff:127.x) or a unix-socket directory
//       (a host starting with '/' or '@', or no host at all, libpq's default socket);
//       an IPv4-mapped IPv6 address as the IPv4 address, another IPv6 address in brackets;
//       a name that does not resolve as the name itself, lower-cased (libpq will fail on it anyway);
//     and port is the port as a number (kept as written when it is none: libpq will refuse it).
//   - Resolving a name can block as long as libpq's own resolution of it (the system resolver's timeouts). Its
//     result, a failure included, is kept for kResolvedLifetime per name, for at most kMaxResolved names, so that a
//     call of 1,000 targets on a few clusters resolves each name once.
//   - A server that names a `service` gets its host and port from a service file that only libpq reads: it is
//     named by what it spells (a known gap; PGSERVICE in the environment is read, through PQconndefaults()).
//   - Throws only std::bad_alloc.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>

namespace multidb {

struct ClusterSpelling {
  std::string host;
  std::string hostaddr;
  std::string port;
};

struct LibpqDefaults {
  ClusterSpelling options;    // what libpq uses for an option not given (PGHOST, PGHOSTADDR, PGPORT, a PGSERVICE file)
  std::string compiled_port;  // what it uses for an empty element of a port list ("5432")
};

// libpq's defaults, read once (PQconndefaults()).
const LibpqDefaults& libpq_defaults();

// A host name's first address as libpq would try it (getaddrinfo, any family, stream sockets), as text; nullopt
// when it does not resolve.
std::optional<std::string> resolve_first_address(const std::string& host);

// "local" for a loopback address; an IPv4-mapped address as IPv4; another IPv6 address in brackets; anything that
// is no numeric address comes back unchanged.
std::string normalized_address(const std::string& address);

class ClusterAddressBook {
 public:
  using Clock = std::chrono::steady_clock;
  using Resolver = std::function<std::optional<std::string>(const std::string& host)>;
  static constexpr Clock::duration kResolvedLifetime = std::chrono::seconds(10);
  static constexpr std::size_t kMaxResolved = 1024;

  explicit ClusterAddressBook(Resolver resolver = resolve_first_address) : resolver_(std::move(resolver)) {}

  // The cluster's name for a server's spelling, with defaults filling what it leaves out (see the contract).
  std::string cluster_of(const ClusterSpelling& spelled, const LibpqDefaults& defaults, Clock::time_point now);

  std::size_t names_kept() const { return resolved_.size(); }

 private:
  struct Resolved {
    std::string address;  // normalized; the lower-cased name when it did not resolve
    Clock::time_point until;
  };
  std::string address_of_host(const std::string& host, Clock::time_point now);

  Resolver resolver_;
  std::unordered_map<std::string, Resolved> resolved_;
};

}  // namespace multidb
