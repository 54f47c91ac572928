// The prompt's text of the attached databases' schemas: each shape of schema written once, whatever the number of
// databases that share it, so that the prompt grows with the number of schemas, not of databases.
//
// Contract of format_combined_schema(schemas, question, max_tables, groups):
//   - The databases are grouped by the shape of their schema (core/schema_shape: group_by_shape), largest first.
//   - A shape one database has is written as before: each table on a line "database "x", table s.t (about N
//     rows) -- comment", its columns on the next.
//   - A shape several databases share is written once, under the line
//     "databases t0001 … t1000 (1,000; group @tenants) share this schema:" — the names written compactly
//     (core/database_names), their count with a thousands separator, "; group @g" only when they are exactly the
//     members of one of the groups given — then each table as "table s.t (about N rows each)" or "(about N to M
//     rows each)" and its columns. A column's sampled values are the union of every member's, sorted; when the
//     union has more than kMaxCommonValues values, none are shown (the column is no short list of values then).
//   - A variant (a shape other than the largest) that keeps at least half of the largest shape's tables as they
//     are, and whose differences are all listed, is written as "databases … (N) have the schema of <the largest
//     shape's names> with these differences:" (or "database x has …") and one line per difference; a table it
//     adds is written out in full there. Any other shape is written in full, like the largest.
//   - multidb.max_prompt_tables (max_tables) counts each shape's tables once, and a variant's differences on one
//     table as one table. Past it, the tables most relevant to the question (words of its name, columns and
//     comment) are kept, then a variant's differences on them, then their neighbours by foreign key in the same
//     shape, then the others by relevance, and a last line says how many were left out, per shape:
//     "-- 1,942 more tables not shown (wide: 1,940, t0001 … t1000: 2); ask about them by name" (at most
//     kMaxLeftOutShapesListed shapes named, then "… N more").
//   - The same input gives the same text, whatever order the members of a shape came in.
//
// Owns: the combined schema text. May not touch: Postgres headers, libpq.
#pragma once

#include "core/database_names.hpp"
#include "core/schema_model.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace multidb {

constexpr std::size_t kMaxShapeNamesBytes = 200;  // the names of a shape in its header line
constexpr std::size_t kMaxLeftOutShapesListed = 20;

std::string format_combined_schema(const std::vector<DatabaseSchema>& schemas, const std::string& question,
                                   std::size_t max_tables, const std::vector<DatabaseGroup>& groups = {});

}  // namespace multidb
