#include "core/conn_options.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

static multidb::OptionList sorted(multidb::OptionList options) {
  std::sort(options.begin(), options.end());
  return options;
}

using multidb::OptionPlace;

TEST(ClassifyOption, WhereToConnectGoesOnTheServer) {
  for (const char* name : {"host", "hostaddr", "port", "dbname", "sslmode", "connect_timeout", "application_name",
                           "options", "target_session_attrs"})
    EXPECT_EQ(multidb::classify_option(name), OptionPlace::kServer) << name;
}

TEST(ClassifyOption, WhoConnectsGoesOnTheUserMapping) {
  for (const char* name : {"user", "password", "sslcert", "sslkey", "sslpassword", "password_required"})
    EXPECT_EQ(multidb::classify_option(name), OptionPlace::kUserMapping) << name;
}

TEST(ClassifyOption, ReservedAndUnknown) {
  EXPECT_EQ(multidb::classify_option("client_encoding"), OptionPlace::kReserved);
  EXPECT_EQ(multidb::classify_option("replication"), OptionPlace::kReserved);
  EXPECT_EQ(multidb::classify_option("fallback_application_name"), OptionPlace::kReserved);
  EXPECT_EQ(multidb::classify_option("hostname"), OptionPlace::kUnknown);
  EXPECT_EQ(multidb::classify_option("fetch_size"), OptionPlace::kUnknown);  // postgres_fdw's, not libpq's
}

TEST(ValidOptionsList, ListsOnlyThatPlace) {
  std::string server = multidb::valid_options_list(OptionPlace::kServer);
  EXPECT_NE(server.find("host"), std::string::npos);
  EXPECT_EQ(server.find("password"), std::string::npos);
  EXPECT_EQ(multidb::valid_options_list(OptionPlace::kUserMapping),
            "password, password_required, sslcert, sslkey, sslpassword, user");
}

TEST(SplitConninfo, KeywordForm) {
  auto split = multidb::split_conninfo("host=db1 port=5433 dbname=shop user=reader password='s e'");
  EXPECT_EQ(sorted(split.server), (multidb::OptionList{{"dbname", "shop"}, {"host", "db1"}, {"port", "5433"}}));
  EXPECT_EQ(sorted(split.user_mapping), (multidb::OptionList{{"password", "s e"}, {"user", "reader"}}));
}

TEST(SplitConninfo, UriForm) {
  auto split = multidb::split_conninfo("postgresql://reader:pw@db1:5433/shop?sslmode=require");
  EXPECT_EQ(sorted(split.server),
            (multidb::OptionList{{"dbname", "shop"}, {"host", "db1"}, {"port", "5433"}, {"sslmode", "require"}}));
  EXPECT_EQ(sorted(split.user_mapping), (multidb::OptionList{{"password", "pw"}, {"user", "reader"}}));
}

TEST(SplitConninfo, ErrorsSayWhatIsWrong) {
  try {
    multidb::split_conninfo("host=db1 port");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("missing \"=\" after \"port\""), std::string::npos) << e.what();
  }
  EXPECT_THROW(multidb::split_conninfo("nosuchoption=1"), std::invalid_argument);
  EXPECT_THROW(multidb::split_conninfo("client_encoding=LATIN1"), std::invalid_argument);
  EXPECT_THROW(multidb::split_conninfo("replication=database"), std::invalid_argument);
}
