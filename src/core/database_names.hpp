// A list of database names written compactly for a prompt: "t0001 … t1000" for names that count up in sequence,
// the group's name ("@tenants") when the names are exactly its members, and never more than a bounded text.
//
// Contract of compact_database_names(names, group):
//   - The names are deduplicated and sorted: by their stem (the name without its trailing digits), then by the
//     number those digits spell, then by the name. The same set gives the same text whatever order it came in.
//   - A run is at least kMinRangeLength names with one stem whose numbers count up by one, all written with the
//     same number of digits (t0001 … t0003; t8, t9, t10 never form one run, since t10 is written wider). A run is
//     written "first … last" (U+2026 between spaces). Every other name is written as it is.
//   - Items are joined by ", ". A name is written as it is: callers that need quoting quote before or after.
//   - When group.name is not empty and the set of names equals the set of group.members, the text is followed by
//     " (group @name)" — the members still written out (ranges keep that short), so that the model reads both.
//     The names are a group's members only when both sets are equal: a subset or a superset is not the group.
//   - The text is at most max_bytes bytes (kDefaultMaxNamesBytes unless given; at least 64 is used): past it,
//     the items that fit are kept and the rest are counted as "and N more" (N counts names, not items); when not
//     even the first item fits, the text is "N names" (and the group's suffix). A run is never cut in two.
//   - count is the number of distinct names; ranges the number of runs written as ranges.
//
// Owns: the compact text of a set of names. May not touch: Postgres headers, libpq.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace multidb {

constexpr std::size_t kMinRangeLength = 3;
constexpr std::size_t kDefaultMaxNamesBytes = 400;

struct DatabaseGroup {
  std::string name;                  // "@tenants" or "tenants" (written with one "@" either way); empty: no group
  std::vector<std::string> members;  // any order
};

struct CompactNames {
  std::string text;      // "t0001 … t1000 (group @tenants)", "a, b, t01 … t05 and 3 more"
  std::size_t count = 0; // distinct names
  std::size_t ranges = 0;
  bool is_group = false; // the names are exactly the group's members
  std::string group;     // then the group's name with one "@" ("@tenants"); else empty
  std::size_t left_out = 0;  // names counted in "and N more"
};

// 1000 -> "1,000": how the prompt writes a count of databases or tables.
std::string with_thousands_separator(std::size_t number);

CompactNames compact_database_names(const std::vector<std::string>& names, const DatabaseGroup& group = {},
                                    std::size_t max_bytes = kDefaultMaxNamesBytes);

}  // namespace multidb
