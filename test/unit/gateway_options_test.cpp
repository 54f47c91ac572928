// multidb-web's flags: every flag from the command line and from MULTIDB_WEB_*, the command line winning, each
// bad value refused naming the flag, the rules between flags, --help listing every flag, the start WARNINGs.
#include <gtest/gtest.h>

#include <map>

#include "gateway/options.hpp"

using namespace multidb::gateway;

namespace {

std::optional<Options> parse(std::vector<std::string> args, std::map<std::string, std::string> env, std::string* error) {
  return parse_options(args, [&env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  }, error);
}

}  // namespace

TEST(GatewayOptions, FlagsAndDefaults) {
  std::string error;
  auto o = parse({"--listen", "127.0.0.1:9090", "--database", "dbname=app", "--pool-size=7", "--session-ttl", "600",
                  "--max-body", "2048", "--auth-delay", "0"}, {}, &error);
  ASSERT_TRUE(o) << error;
  EXPECT_EQ(o->listen_host, "127.0.0.1");
  EXPECT_EQ(o->listen_port, 9090);
  EXPECT_EQ(o->database, "dbname=app");
  EXPECT_EQ(o->pool_size, 7);
  EXPECT_EQ(o->max_streams, 16);
  EXPECT_EQ(o->per_role_limit, 8);
  EXPECT_EQ(o->session_ttl_s, 600);
  EXPECT_EQ(o->max_body_bytes, 2048u);
  EXPECT_EQ(o->auth_delay_ms, 0);
  EXPECT_EQ(o->threads, 16);  // a default
  auto v6 = parse({"--listen", "[::1]:8080", "--database", "x"}, {}, &error);
  ASSERT_TRUE(v6) << error;
  EXPECT_EQ(v6->listen_host, "::1");
}

TEST(GatewayOptions, EveryFlagAlsoFromTheEnvironmentTheCommandLineWins) {
  std::string error;
  auto o = parse({"--pool-size", "3"}, {{"MULTIDB_WEB_DATABASE", "dbname=env"}, {"MULTIDB_WEB_POOL_SIZE", "9"},
                                         {"MULTIDB_WEB_LISTEN", "127.0.0.2:1234"}, {"MULTIDB_WEB_TRUST_LOCAL", "alice"}},
                 &error);
  ASSERT_TRUE(o) << error;
  EXPECT_EQ(o->database, "dbname=env");
  EXPECT_EQ(o->pool_size, 3);
  EXPECT_EQ(o->listen_port, 1234);
  EXPECT_EQ(o->trust_local, "alice");
  EXPECT_EQ(env_name("pool-size"), "MULTIDB_WEB_POOL_SIZE");
  // Each flag but the actions (--help, --print-routes) has its variable, and --help lists both.
  const std::string help = help_text();
  for (const FlagInfo& flag : flag_table()) {
    EXPECT_NE(help.find(std::string("--") + flag.name), std::string::npos) << flag.name;
    if (std::string(flag.name) != "help" && std::string(flag.name) != "print-routes") {
      EXPECT_NE(help.find(env_name(flag.name)), std::string::npos) << flag.name;
    }
  }
}

TEST(GatewayOptions, PrintRoutesNeedsNoDatabaseAndDocsDirIsAFlag) {
  std::string error;
  auto o = parse({"--print-routes"}, {}, &error);
  ASSERT_TRUE(o) << error;
  EXPECT_TRUE(o->print_routes);
  EXPECT_FALSE(parse({"--listen", "127.0.0.1:1"}, {}, &error)) << "without --print-routes, --database is required";
  o = parse({"--database", "x"}, {{"MULTIDB_WEB_DOCS_DIR", "/srv/swagger"}}, &error);
  ASSERT_TRUE(o) << error;
  EXPECT_EQ(o->docs_dir, "/srv/swagger");
}

TEST(GatewayOptions, UiDirFromTheFlagOrTheEnvironment) {
  std::string error;
  auto o = parse({"--database", "x"}, {}, &error);
  ASSERT_TRUE(o) << error;
  EXPECT_NE(o->ui_dir.find("multidb-web/ui"), std::string::npos) << "the default is where make install puts it";
  o = parse({"--database", "x"}, {{"MULTIDB_WEB_UI_DIR", "/srv/ui"}}, &error);
  ASSERT_TRUE(o) << error;
  EXPECT_EQ(o->ui_dir, "/srv/ui");
  o = parse({"--database", "x", "--ui-dir=/opt/ui"}, {{"MULTIDB_WEB_UI_DIR", "/srv/ui"}}, &error);
  ASSERT_TRUE(o) << error;
  EXPECT_EQ(o->ui_dir, "/opt/ui") << "the command line wins";
  EXPECT_FALSE(parse({"--database", "x", "--ui-dir", ""}, {}, &error));
  EXPECT_NE(error.find("--ui-dir must name a directory"), std::string::npos) << error;
  EXPECT_NE(help_text().find("--ui-dir DIR"), std::string::npos);
  EXPECT_NE(help_text().find("[MULTIDB_WEB_UI_DIR]"), std::string::npos);
}

TEST(GatewayOptions, BadValuesAreRefusedNamingTheFlag) {
  std::string error;
  EXPECT_FALSE(parse({"--listen", "8080", "--database", "x"}, {}, &error));
  EXPECT_NE(error.find("--listen"), std::string::npos) << error;
  EXPECT_FALSE(parse({"--database", "x", "--pool-size", "0"}, {}, &error));
  EXPECT_NE(error.find("--pool-size must be a whole number from 1 to 256"), std::string::npos) << error;
  EXPECT_FALSE(parse({"--database", "x", "--pool-size", "4x"}, {}, &error));
  EXPECT_FALSE(parse({"--database", "x", "--threads", "99999999999999999999999"}, {}, &error));
  EXPECT_FALSE(parse({"--database", "x", "--bogus", "1"}, {}, &error));
  EXPECT_NE(error.find("unknown flag --bogus"), std::string::npos) << error;
  EXPECT_FALSE(parse({"--database"}, {}, &error));
  EXPECT_NE(error.find("needs a value"), std::string::npos) << error;
  EXPECT_FALSE(parse({}, {{"MULTIDB_WEB_DATABASE", "x"}, {"MULTIDB_WEB_MAX_BODY", "-1"}}, &error));
  EXPECT_NE(error.find("MULTIDB_WEB_MAX_BODY"), std::string::npos) << error;
  EXPECT_FALSE(parse({}, {}, &error));
  EXPECT_NE(error.find("--database"), std::string::npos) << error;
  EXPECT_FALSE(parse({"--database", "x", "--tls-cert", "c.pem"}, {}, &error));
  EXPECT_NE(error.find("--tls-cert and --tls-key go together"), std::string::npos) << error;
  EXPECT_TRUE(parse({"--help"}, {}, &error));  // --help needs no --database
}

TEST(GatewayOptions, TrustLocalOnlyOnLoopbackAndWarned) {
  std::string error;
  EXPECT_FALSE(parse({"--database", "x", "--listen", "0.0.0.0:8080", "--trust-local", "alice"}, {}, &error));
  EXPECT_NE(error.find("--trust-local needs a loopback --listen"), std::string::npos) << error;
  auto o = parse({"--database", "x", "--listen", "127.0.0.1:8080", "--trust-local", "alice"}, {}, &error);
  ASSERT_TRUE(o) << error;
  auto warnings = start_warnings(*o);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("WARNING: --trust-local"), std::string::npos);
}

TEST(GatewayOptions, NonLoopbackWithoutTlsIsWarned) {
  std::string error;
  auto o = parse({"--database", "x", "--listen", "0.0.0.0:8080"}, {}, &error);
  ASSERT_TRUE(o) << error;
  auto warnings = start_warnings(*o);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("without TLS"), std::string::npos);
  o = parse({"--database", "x", "--listen", "0.0.0.0:8080", "--tls-cert", "c", "--tls-key", "k"}, {}, &error);
  ASSERT_TRUE(o) << error;
  EXPECT_TRUE(start_warnings(*o).empty());
  EXPECT_TRUE(is_loopback("127.0.0.1"));
  EXPECT_TRUE(is_loopback("::1"));
  EXPECT_TRUE(is_loopback("localhost"));
  EXPECT_FALSE(is_loopback("10.0.0.1"));
  EXPECT_FALSE(is_loopback("128.0.0.1"));
}

TEST(GatewayOptions, StreamsAndPerRoleLimit) {
  std::string error;
  auto o = parse({"--database", "dbname=app", "--max-streams", "200", "--per-role-limit=3"}, {}, &error);
  ASSERT_TRUE(o) << error;
  EXPECT_EQ(o->max_streams, 200);
  EXPECT_EQ(o->per_role_limit, 3);
  o = parse({"--database", "dbname=app"}, {{"MULTIDB_WEB_PER_ROLE_LIMIT", "5"}}, &error);
  ASSERT_TRUE(o) << error;
  EXPECT_EQ(o->per_role_limit, 5);
  EXPECT_FALSE(parse({"--database", "dbname=app", "--max-streams", "0"}, {}, &error));
  EXPECT_NE(error.find("--max-streams"), std::string::npos) << error;
  EXPECT_FALSE(parse({"--database", "dbname=app", "--per-role-limit", "x"}, {}, &error));
  EXPECT_NE(error.find("--per-role-limit"), std::string::npos) << error;
  EXPECT_NE(help_text().find("--max-streams"), std::string::npos);
  EXPECT_NE(help_text().find("--per-role-limit"), std::string::npos);
}
