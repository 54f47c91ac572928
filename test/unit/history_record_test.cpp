// core/history_record: the record of an ask is always text jsonb accepts.
#include "core/history_record.hpp"
#include "core/text.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

using namespace multidb;
using nlohmann::json;

TEST(HistoryRecord, AlwaysStorableText) {
  nlohmann::json record;
  record["error"] = std::string("bad \xFF byte and a \0 NUL", 22);
  record["nested"] = {{"k\xFE", {std::string("x\0y", 3)}}};
  std::string text = history_record_text(record, true);
  EXPECT_EQ(valid_utf8(text), text);
  EXPECT_EQ(text.find("\\u0000"), std::string::npos) << text;
  std::string ascii = history_record_text({{"q", "caf\xC3\xA9 \xE2\x82\xAC"}}, false);
  EXPECT_EQ(ascii, R"({"q":"caf? ?"})");
}
