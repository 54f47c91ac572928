#include "core/cluster_address.hpp"

#include <gtest/gtest.h>

#include <map>

using multidb::ClusterAddressBook;
using multidb::ClusterSpelling;
using multidb::LibpqDefaults;

namespace {

// A resolver that knows a few names and counts its lookups.
struct FakeDns {
  std::map<std::string, std::string> names{{"localhost", "::1"},
                                          {"db.example.com", "10.0.0.5"},
                                          {"DB-alias.example.com", "10.0.0.5"},
                                          {"v6.example.com", "2001:db8::7"},
                                          {"mapped.example.com", "::ffff:127.0.0.9"}};
  int lookups = 0;
  ClusterAddressBook::Resolver resolver() {
    return [this](const std::string& host) -> std::optional<std::string> {
      lookups++;
      auto found = names.find(host);
      if (found == names.end()) return std::nullopt;
      return found->second;
    };
  }
};

const LibpqDefaults kNoEnvironment{{"", "", "5432"}, "5432"};
const ClusterAddressBook::Clock::time_point kNow{};

std::string cluster(ClusterAddressBook& book, const ClusterSpelling& spelled, const LibpqDefaults& defaults = kNoEnvironment) {
  return book.cluster_of(spelled, defaults, kNow);
}

}  // namespace

TEST(ClusterAddress, OneClusterWhateverItsSpelling) {
  FakeDns dns;
  ClusterAddressBook book(dns.resolver());
  EXPECT_EQ(cluster(book, {"localhost", "", "5433"}), "local:5433");
  EXPECT_EQ(cluster(book, {"127.0.0.1", "", "5433"}), "local:5433");
  EXPECT_EQ(cluster(book, {"127.1.2.3", "", "5433"}), "local:5433");
  EXPECT_EQ(cluster(book, {"remote.invalid", "127.0.0.1", "5433"}), "local:5433");
  EXPECT_EQ(cluster(book, {"", "::1", "5433"}), "local:5433");
  EXPECT_EQ(cluster(book, {"/var/run/postgresql", "", "5433"}), "local:5433");
  EXPECT_EQ(cluster(book, {"@abstract", "", "5433"}), "local:5433");
  EXPECT_EQ(cluster(book, {"mapped.example.com", "", "05433"}), "local:5433");
  EXPECT_EQ(cluster(book, {"", "", " 5433 "}), "local:5433") << "no host at all: libpq's default socket";
}

TEST(ClusterAddress, OtherMachinesByAddress) {
  FakeDns dns;
  ClusterAddressBook book(dns.resolver());
  EXPECT_EQ(cluster(book, {"db.example.com", "", "5432"}), "10.0.0.5:5432");
  EXPECT_EQ(cluster(book, {"DB-alias.example.com", "", ""}), "10.0.0.5:5432") << "an alias, and the default port";
  EXPECT_EQ(cluster(book, {"other-name", "10.0.0.5", "5432"}), "10.0.0.5:5432") << "hostaddr wins";
  EXPECT_EQ(cluster(book, {"", "::ffff:10.0.0.5", "5432"}), "10.0.0.5:5432");
  EXPECT_EQ(cluster(book, {"v6.example.com", "", "5432"}), "[2001:db8::7]:5432");
  EXPECT_EQ(cluster(book, {"", "2001:DB8:0::7", "5432"}), "[2001:db8::7]:5432");
  EXPECT_NE(cluster(book, {"db.example.com", "", "5433"}), cluster(book, {"db.example.com", "", "5432"}))
      << "another port is another cluster";
}

TEST(ClusterAddress, UnresolvableNamesStayNames) {
  FakeDns dns;
  ClusterAddressBook book(dns.resolver());
  EXPECT_EQ(cluster(book, {"Gone.Example.COM", "", "5432"}), "gone.example.com:5432");
  EXPECT_EQ(cluster(book, {"x", "", "not-a-port"}), "x:not-a-port");
}

TEST(ClusterAddress, DefaultsAsLibpqFillsThemIn) {
  FakeDns dns;
  ClusterAddressBook book(dns.resolver());
  const LibpqDefaults environment{{"db.example.com", "", "6000"}, "5432"};
  EXPECT_EQ(cluster(book, {"", "", ""}, environment), "10.0.0.5:6000") << "PGHOST and PGPORT";
  EXPECT_EQ(cluster(book, {"localhost", "", ""}, environment), "local:6000");
  EXPECT_EQ(cluster(book, {"", "", "7000"}, environment), "10.0.0.5:7000");
  const LibpqDefaults address_only{{"", "10.0.0.9", ""}, "5432"};
  EXPECT_EQ(cluster(book, {"", "", ""}, address_only), "10.0.0.9:5432") << "PGHOSTADDR, the compiled-in port";
}

TEST(ClusterAddress, HostListsAsLibpqTriesThem) {
  FakeDns dns;
  ClusterAddressBook book(dns.resolver());
  EXPECT_EQ(cluster(book, {"db.example.com,localhost", "", "5432"}), "10.0.0.5:5432,local:5432");
  EXPECT_EQ(cluster(book, {"db.example.com,localhost", "", "5432,5433"}), "10.0.0.5:5432,local:5433");
  EXPECT_EQ(cluster(book, {"db.example.com,localhost", "", "5432,"}), "10.0.0.5:5432,local:5432")
      << "an empty port in a list is the compiled-in one";
  EXPECT_EQ(cluster(book, {"a,b", "127.0.0.1,10.0.0.5", "5432"}), "local:5432,10.0.0.5:5432");
  EXPECT_EQ(cluster(book, {"db.example.com,", "", "5432"}), "10.0.0.5:5432,local:5432")
      << "an empty host in a list is the default socket";
}

TEST(ClusterAddress, NamesAreResolvedOncePerLifetime) {
  FakeDns dns;
  ClusterAddressBook book(dns.resolver());
  for (int i = 0; i < 1000; i++) cluster(book, {"db.example.com", "", "5432"});
  EXPECT_EQ(dns.lookups, 1) << "a call of 1,000 targets resolves a name once";
  cluster(book, {"nowhere.invalid", "", "5432"});
  cluster(book, {"nowhere.invalid", "", "5432"});
  EXPECT_EQ(dns.lookups, 2) << "a failure is kept too";
  dns.names["db.example.com"] = "10.0.0.6";
  EXPECT_EQ(book.cluster_of({"db.example.com", "", "5432"}, kNoEnvironment, kNow + std::chrono::seconds(5)),
            "10.0.0.5:5432");
  EXPECT_EQ(book.cluster_of({"db.example.com", "", "5432"}, kNoEnvironment,
                            kNow + ClusterAddressBook::kResolvedLifetime + std::chrono::seconds(1)),
            "10.0.0.6:5432")
      << "and resolved again once its lifetime is over";
}

TEST(ClusterAddress, TheCacheIsBounded) {
  FakeDns dns;
  ClusterAddressBook book(dns.resolver());
  for (std::size_t i = 0; i < 3 * ClusterAddressBook::kMaxResolved; i++)
    cluster(book, {"host" + std::to_string(i) + ".invalid", "", "5432"});
  EXPECT_EQ(static_cast<std::size_t>(dns.lookups), 3 * ClusterAddressBook::kMaxResolved);
  EXPECT_LE(book.names_kept(), ClusterAddressBook::kMaxResolved);
  EXPECT_EQ(cluster(book, {"host1.invalid", "", "5432"}), "host1.invalid:5432");
}

TEST(ClusterAddress, RealResolution) {
  EXPECT_EQ(multidb::resolve_first_address("127.0.0.1").value_or(""), "local");
  EXPECT_EQ(multidb::resolve_first_address("::1").value_or(""), "local");
  EXPECT_FALSE(multidb::resolve_first_address("nothing.invalid").has_value());
  EXPECT_EQ(multidb::normalized_address("not an address"), "not an address");
}
