// An answer's description as a JSON document (multidb._describe_answer's), and the drift between two.
#include "core/description_document.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

using multidb::description_document_drift;
using multidb::DescriptionDocument;
using multidb::DriftItem;
using multidb::DriftKind;
using multidb::read_description_document;

namespace {

// "kind column database expected found" per item, for compact expectations.
std::vector<std::string> drift(const std::string& stored, const std::string& now) {
  std::vector<std::string> lines;
  for (const DriftItem& item :
       description_document_drift(read_description_document(stored), read_description_document(now)))
    lines.push_back(std::string(multidb::drift_kind_name(item.kind)) + " " + item.column + " " + item.database + " " +
                    item.expected + "|" + item.found);
  return lines;
}

const char* kStored =
    R"J({"columns": [{"name": "id", "type": "bigint"}, {"name": "name", "type": "text"}],
        "databases": [{"database": "r1", "columns": [{"name": "id", "type": "integer"}, {"name": "name", "type": "text"}]},
                      {"database": "r2", "columns": [{"name": "id", "type": "bigint"}, {"name": "name", "type": "text"}]}]})J";

}  // namespace

TEST(DescriptionDocument, ReadsWhatDescribeAnswerWrites) {
  DescriptionDocument document = read_description_document(kStored);
  ASSERT_EQ(document.columns.size(), 2u);
  EXPECT_EQ(document.columns[0].name, "id");
  EXPECT_EQ(document.columns[0].type, "bigint");
  ASSERT_EQ(document.databases.size(), 2u);
  EXPECT_EQ(document.databases[1].database, "r2");
  EXPECT_FALSE(document.has_combine);
  EXPECT_TRUE(read_description_document(R"J({"columns": [], "databases": [], "combine": {"columns": []}})J").has_combine);
}

TEST(DescriptionDocument, RefusesWhatIsNoDescription) {
  for (const char* bad : {"", "[]", "{}", R"J({"columns": 1})J", R"J({"columns": [{"name": "a"}]})J",
                          R"J({"columns": [{"name": "a", "type": 1}]})J", R"J({"columns": [], "databases": {}})J",
                          R"J({"columns": [], "databases": [{"columns": []}]})J"})
    EXPECT_THROW(read_description_document(bad), std::invalid_argument) << bad;
  std::string wide = R"J({"columns": [)J";
  for (int i = 0; i <= 1664; i++) wide += std::string(i > 0 ? "," : "") + R"J({"name": "c", "type": "integer"})J";
  EXPECT_THROW(read_description_document(wide + "]}"), std::invalid_argument);
}

TEST(DescriptionDocumentDrift, NoneWhenNothingChanged) { EXPECT_TRUE(drift(kStored, kStored).empty()); }

TEST(DescriptionDocumentDrift, EachDatabaseAgainstTheStoredAnswer) {
  // r2 lost name, gained extra, and its id became numeric: bigint stored no longer holds it.
  EXPECT_EQ(drift(kStored, R"J({"columns": [], "databases": [
                     {"database": "r1", "columns": [{"name": "id", "type": "integer"}, {"name": "name", "type": "text"}]},
                     {"database": "r2", "columns": [{"name": "id", "type": "numeric"}, {"name": "extra", "type": "integer"}]}]})J"),
            (std::vector<std::string>{"retyped id r2 bigint|numeric", "removed name r2 text|", "added extra r2 |integer"}));
}

TEST(DescriptionDocumentDrift, WithACombineStepEachStepAndTheCombinedColumns) {
  const char* stored = R"J({"columns": [{"name": "total", "type": "numeric"}],
      "databases": [{"database": "r1", "columns": [{"name": "price", "type": "numeric(10,2)"}]}],
      "combine": {"columns": [{"name": "total", "type": "numeric"}]}})J";
  EXPECT_TRUE(drift(stored, stored).empty());
  const char* now = R"J({"columns": [{"name": "total", "type": "double precision"}],
      "databases": [{"database": "r1", "columns": [{"name": "price", "type": "double precision"}]},
                    {"database": "r9", "columns": [{"name": "x", "type": "text"}]}],
      "combine": {"columns": [{"name": "total", "type": "double precision"}]}})J";
  EXPECT_EQ(drift(stored, now), (std::vector<std::string>{"retyped price r1 numeric(10,2)|double precision",
                                                          "added x r9 |text",
                                                          "retyped total combined numeric|double precision"}));
}
