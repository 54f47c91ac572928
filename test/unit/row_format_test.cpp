#include "core/row_format.hpp"

#include <gtest/gtest.h>

using multidb::ColumnFormat;
using multidb::ColumnTypeFacts;

namespace {

constexpr unsigned kInt4 = 23, kInt8 = 20, kText = 25, kNumeric = 1700, kRegclass = 2205;

ColumnTypeFacts same_builtin(unsigned type) { return ColumnTypeFacts{type, true, type, true, false}; }

}  // namespace

TEST(ColumnFormat, ABuiltInTypeReceivedAsItselfWithBinaryIoIsBinary) {
  EXPECT_EQ(multidb::column_format(same_builtin(kInt4)), ColumnFormat::kBinary);
  EXPECT_EQ(multidb::column_format(same_builtin(kNumeric)), ColumnFormat::kBinary);
}

TEST(ColumnFormat, ATypeOfTheRemotesOwnIsText) {
  EXPECT_EQ(multidb::column_format(ColumnTypeFacts{16394, false, 16394, true, false}),
            ColumnFormat::kTextRemoteOwnType);
  EXPECT_EQ(multidb::column_format(ColumnTypeFacts{16394, false, kText, true, false}),
            ColumnFormat::kTextRemoteOwnType);
}

TEST(ColumnFormat, AnotherLocalTypeIsTextSoThatItsInputConverts) {
  EXPECT_EQ(multidb::column_format(ColumnTypeFacts{kInt4, true, kInt8, true, false}),
            ColumnFormat::kTextOtherLocalType);
  EXPECT_EQ(multidb::column_format(ColumnTypeFacts{kNumeric, true, kText, true, false}),
            ColumnFormat::kTextOtherLocalType);
}

TEST(ColumnFormat, NoBinaryIoOrCatalogNamesIsText) {
  EXPECT_EQ(multidb::column_format(ColumnTypeFacts{kInt4, true, kInt4, false, false}), ColumnFormat::kTextNoBinaryIo);
  EXPECT_EQ(multidb::column_format(ColumnTypeFacts{kRegclass, true, kRegclass, true, true}),
            ColumnFormat::kTextReadsCatalog);
}

TEST(ColumnFormat, EveryTextReasonIsSaid) {
  for (ColumnFormat format : {ColumnFormat::kTextRemoteOwnType, ColumnFormat::kTextOtherLocalType,
                              ColumnFormat::kTextNoBinaryIo, ColumnFormat::kTextReadsCatalog})
    EXPECT_STRNE(multidb::column_format_reason(format), "");
  EXPECT_STREQ(multidb::column_format_reason(ColumnFormat::kBinary), "");
}

TEST(ResultFormat, BinaryOnlyWhenEveryColumnIsAndTheEncodingsMatch) {
  ColumnFormat all[] = {ColumnFormat::kBinary, ColumnFormat::kBinary};
  multidb::ResultFormat result = multidb::result_format(all, 2, true);
  EXPECT_TRUE(result.binary);
  EXPECT_EQ(result.first_text_column, -1);

  result = multidb::result_format(all, 2, false);
  EXPECT_FALSE(result.binary);
  EXPECT_TRUE(result.encoding_blocks);

  ColumnFormat one_text[] = {ColumnFormat::kBinary, ColumnFormat::kTextNoBinaryIo, ColumnFormat::kBinary};
  result = multidb::result_format(one_text, 3, true);
  EXPECT_FALSE(result.binary);
  EXPECT_EQ(result.first_text_column, 1);
  EXPECT_FALSE(result.encoding_blocks);
}

TEST(ResultFormat, NoColumnsIsBinaryButNothingToRead) {
  EXPECT_TRUE(multidb::result_format(nullptr, 0, true).binary);
}
