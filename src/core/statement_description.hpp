// The columns a statement returns, as each remote database describes them without running it, merged into the one
// typed column list of an answer (the columns of a view over it), and the drift of a later description from a
// stored one.
//
// A column's type is the text the remote's format_type(oid, typmod) gives: "integer", "numeric(12,2)",
// "character varying(40)", "timestamp(3) with time zone", "integer[]", or a user type ("public.mood", "\"My T\"").
// The layer that describes (PQprepare + PQdescribePrepared, format_type on the remote) fills the model; this file
// only judges it, knowing nothing of Postgres or libpq.
//
// Merging follows what Postgres does for a UNION of the databases' statements (select_common_type), on a small
// table of built-in types; any type outside it merges only with itself:
//   - equal types are kept, typmod and all;
//   - numbers widen along smallint < integer < bigint < numeric < real < double precision (each casts implicitly
//     to the next): integer + bigint is bigint, integer + numeric is numeric;
//   - strings: text wins over any other (varchar + text is text); character + character varying is character
//     varying. Postgres keeps whichever came first in both cases (each casts implicitly to the other); multidb
//     chooses independently of the databases' order, the type that holds both;
//   - date + timestamp without time zone is timestamp without time zone;
//   - arrays merge by their element type (integer[] + bigint[] is bigint[]);
//   - one type with different typmods loses its typmod (numeric(12,2) + numeric(10,4) is numeric), as in
//     Postgres, except character varying(n) and character(n), which take the longest length (varchar(40) +
//     varchar(80) is varchar(80); either without a length gives none): every value of both fits, and BI tools
//     show the length. Two different types never keep a typmod (integer + numeric(12,2) is numeric). A type
//     that loses its typmod is written as format_type writes it without one: "bpchar" and "\"bit\"", never
//     "character" or "bit", which in SQL mean a length of 1.
// Deliberately refused although Postgres would merge them (an implicit cast exists): a type with a time zone and
// one without (timestamp + timestamptz, date + timestamptz, time + timetz). Postgres converts the value through
// the session's TimeZone, so the answer would change with the reader's settings; the ERROR asks for an explicit
// cast on the remote instead.
// Anything else (integer + text, timestamp + interval, a user type + another) is an ERROR naming the column, the
// databases and their types.
//
// Owns: the model, the merge rules and the drift. May not touch: Postgres headers, libpq.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace multidb {

// At most this many columns per statement: Postgres's own limit on a row (MaxTupleAttributeNumber).
constexpr std::size_t kMaxDescribedColumns = 1664;

struct DescribedColumn {
  std::string name;  // as the statement names it (the view's column name)
  std::string type;  // format_type(oid, typmod) as the remote gives it
  bool operator==(const DescribedColumn& other) const { return name == other.name && type == other.type; }
};

// One database's description of the statement it is sent.
struct DescribedStatement {
  std::string database;
  std::vector<DescribedColumn> columns;
};

// The merged columns, or why there are none. On failure sqlstate is 42804 (datatype_mismatch: names, order or
// types that do not match, as Postgres says of a UNION that cannot be matched) or 42P16 (invalid_table_definition:
// no database, too many columns, a name given twice), and message/detail/hint are ready for an ERROR.
struct DescriptionMerge {
  bool ok = false;
  std::vector<DescribedColumn> columns;
  std::string sqlstate;
  std::string message;
  std::string detail;
  std::string hint;
};

// The common type of two format_type texts under the rules above, or "" when there is none.
std::string common_column_type(const std::string& a, const std::string& b);

// The one column list of all the databases' descriptions (at least one): the same names in the same order
// everywhere, each column typed with the common type of all its databases' types.
DescriptionMerge merge_descriptions(const std::vector<DescribedStatement>& statements);

// A difference between the columns stored for a view and what one database describes now.
enum class DriftKind { kRemoved, kAdded, kRetyped };
struct DriftItem {
  DriftKind kind;
  std::string column;
  std::string database;
  std::string expected;  // the stored type ("" for kAdded)
  std::string found;     // the database's type now ("" for kRemoved)
};

// "removed", "added", "retyped".
const char* drift_kind_name(DriftKind kind);

// The drift of each database's description now from the stored (merged) columns, by column name; database by
// database in the order given, for each first the stored columns in their order, then the added ones in its
// order. A stored column a database no longer returns is removed; a column it returns
// that is not stored is added; a column whose type no longer fits the stored type (their common type is not the
// stored type: bigint stored, integer found still fits; integer stored, bigint found does not) is retyped. Per
// database, so that each difference names the database at fault even when the new descriptions cannot be merged.
// Empty: no drift.
std::vector<DriftItem> description_drift(const std::vector<DescribedColumn>& stored,
                                         const std::vector<DescribedStatement>& now);

}  // namespace multidb
