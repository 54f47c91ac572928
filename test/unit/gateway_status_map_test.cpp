// The one table from a coordinator ERROR's SQLSTATE to the HTTP status multidb-web answers with, the database an
// error message names, and the query spec member a 22023 names.
#include <gtest/gtest.h>

#include "gateway/status_map.hpp"

using namespace multidb::gateway;

TEST(GatewayStatusMap, EachKindOfErrorGetsItsStatus) {
  // Bad input of the request.
  EXPECT_EQ(http_status_for("22023", "which databases should multidb ask?"), 400);
  EXPECT_EQ(http_status_for("22004", "the question must not be NULL"), 400);
  // Not found / not the caller's.
  EXPECT_EQ(http_status_for("42704", "connection \"nope\" does not exist"), 404);
  EXPECT_EQ(http_status_for("42704", "connection \"x\" has no user mapping for role \"r\""), 404);
  // Conflicts.
  EXPECT_EQ(http_status_for("42710", "connection \"x\" already exists"), 409);
  EXPECT_EQ(http_status_for("2BP01", "cannot drop"), 409);
  // Permission, and the guard's refusals.
  EXPECT_EQ(http_status_for("42501", "permission denied for connection \"x\""), 403);
  EXPECT_EQ(http_status_for("42501", "multidb refused the statement for connection \"x\": DELETE writes data"), 422);
  EXPECT_EQ(http_status_for("42501", "multidb refused the LLM's combine step: it reads pg_authid"), 422);
  EXPECT_EQ(http_status_for("42601", "multidb refused the statement: it does not parse"), 422);
  EXPECT_EQ(http_status_for("42501", "connection \"x\": the remote role \"r\" is superuser; multidb refuses privileged remote roles"), 422);
  // Remote and LLM failures.
  EXPECT_EQ(http_status_for("08001", "connection \"x\": could not connect: refused"), 502);
  EXPECT_EQ(http_status_for("08006", "connection \"x\": no answer from the server within 5000 ms"), 502);
  EXPECT_EQ(http_status_for("42P01", "connection \"x\": relation \"nope\" does not exist"), 502);
  EXPECT_EQ(http_status_for("22012", "connection \"x\": division by zero"), 502);
  EXPECT_EQ(http_status_for("38000", "the LLM request failed: HTTP 500"), 502);
  EXPECT_EQ(http_status_for("39000", "the LLM's reply holds no plan"), 502);
  // Time limits, the coordinator going away.
  EXPECT_EQ(http_status_for("57014", "connection \"x\": canceling statement due to statement timeout"), 504);
  EXPECT_EQ(http_status_for("57014", "canceling statement due to statement timeout"), 504);
  EXPECT_EQ(http_status_for("57P01", "terminating connection due to administrator command"), 503);
  // Every time limit is 504: a remote's lock_timeout, the coordinator's lock_timeout and transaction_timeout.
  EXPECT_EQ(http_status_for("55P03", "connection \"x\": canceling statement due to lock timeout"), 504);
  EXPECT_EQ(http_status_for("55P03", "canceling statement due to lock timeout"), 504);
  EXPECT_EQ(http_status_for("25P04", "canceling statement due to transaction timeout"), 504);
  // A lock NOWAIT could not take is a conflict, not a time limit; a remote's the remote failing.
  EXPECT_EQ(http_status_for("55P03", "could not obtain lock on row in relation \"sessions\""), 409);
  EXPECT_EQ(http_status_for("55P03", "connection \"x\": could not obtain lock on relation \"t\""), 502);
  // The coordinator going away in any of its ways.
  EXPECT_EQ(http_status_for("57P02", "terminating connection because of crash of another server process"), 503);
  EXPECT_EQ(http_status_for("57P03", "the database system is starting up"), 503);
  EXPECT_EQ(http_status_for("57P04", "terminating connection because the database was dropped"), 503);
  EXPECT_EQ(http_status_for("57P05", "terminating connection due to idle-session timeout"), 503);
  EXPECT_EQ(http_status_for("53300", "too many connections"), 503);
  // The query builder: a table a database lacks is not found; a column it lacks, a bad spec: the request's fault.
  EXPECT_EQ(http_status_for("42P01", "table \"public.orders\" does not exist on database \"backup\""), 404);
  EXPECT_EQ(http_status_for("42703", "column \"discount\" of table \"public.orders\" does not exist on database \"backup\""), 400);
  EXPECT_EQ(http_status_for("22023", "invalid query spec: limit: must be 1 to 1000000"), 400);
  // Anything else is the gateway's or the server's fault.
  EXPECT_EQ(http_status_for("XX000", "internal error"), 500);
  EXPECT_EQ(http_status_for("", "no SQLSTATE"), 500);
}

TEST(GatewayStatusMap, NamesTheDatabase) {
  EXPECT_EQ(database_named("connection \"eu-1\": relation \"x\" does not exist"), "eu-1");
  EXPECT_EQ(database_named("multidb refused the statement for connection \"shop\": DELETE writes data"), "shop");
  EXPECT_EQ(database_named("connection \"tmpc\" of group \"@eu\" does not exist"), "tmpc");
  EXPECT_EQ(database_named("which databases should multidb ask?"), "");
  EXPECT_EQ(database_named("connection \"unterminated"), "");
  EXPECT_TRUE(from_remote("connection \"x\": relation \"nope\" does not exist"));
  EXPECT_FALSE(from_remote("connection \"x\" does not exist"));
  EXPECT_FALSE(from_remote("connection \"x\" has no user mapping for role \"r\""));
}

TEST(GatewayStatusMap, NamesTheDatabaseTheQueryBuilderLacks) {
  EXPECT_EQ(database_named("table \"public.orders\" does not exist on database \"backup\""), "backup");
  EXPECT_EQ(database_named("column \"discount\" of table \"public.orders\" does not exist on database \"eu-1\""), "eu-1");
  EXPECT_EQ(database_named("column \"x\" does not exist on database \"unterminated"), "");
  // A connection named first wins, as before.
  EXPECT_EQ(database_named("connection \"a\": relation \"t\" does not exist on database \"b\""), "a");
}

TEST(GatewayStatusMap, NamesTheSpecMemberAtFault) {
  EXPECT_EQ(spec_field_named("22023", "invalid query spec: filter.and[1].op: \"like\" needs a text column, and "
                                      "\"total\" is numeric on production"),
            "filter.and[1].op");
  EXPECT_EQ(spec_field_named("22023", "invalid query spec: summaries[0].fn: unknown function \"median\""),
            "summaries[0].fn");
  EXPECT_EQ(spec_field_named("22023", "invalid query spec: limit: must be 1 to 1000000"), "limit");
  // The message's next ": " ends the path, whatever the rest holds.
  EXPECT_EQ(spec_field_named("22023", "invalid query spec: compare.key[0]: \"a: b\" is no output column"),
            "compare.key[0]");
  // Only a 22023 of the query spec's form names one.
  EXPECT_EQ(spec_field_named("42703", "invalid query spec: limit: must be 1 to 1000000"), "");
  EXPECT_EQ(spec_field_named("22023", "which databases should multidb ask?"), "");
  EXPECT_EQ(spec_field_named("22023", "invalid query spec: no path here"), "");
  EXPECT_EQ(spec_field_named("22023", "invalid query spec: : empty path"), "");
  EXPECT_EQ(spec_field_named("22023", "the plan: invalid query spec: limit: x"), "");
  EXPECT_EQ(spec_field_named("22023", "invalid query spec: " + std::string(600, 'x') + ": too long"), "");
}
