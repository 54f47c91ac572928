// Statements described on their databases without running them, typed with this coordinator's types: the describe
// fan-out (run_fanout's describe_only, remote_describe.hpp), each remote type named here, the databases' columns
// merged into one list (core/statement_description.hpp) with its errors raised, and a column list as JSON. What
// multidb.describe and multidb._describe_answer stand on.
#pragma once

#include "foundation/connections.hpp"

extern "C" {
#include "lib/stringinfo.h"
}

namespace multidb {

// One database's description: its columns in order, each typed with this coordinator's type.
struct TargetDescription {
  const char* database;
  int column_count;
  const char** names;
  const char** types;     // format_type here ("numeric(12,2)", "public.mood"), "text" where this database lacks it
  const Oid* remote_types;  // the OID on the remote of the type its values arrive as (a domain's base type):
                            // local_column_type makes a combine step's table of it
};

// Describes sql — or sqls[i] on targets[i] — on every target at once, without running it (the guard and the remote
// checks judge it as for a run); the first failure is raised as an ERROR naming its connection. A type this
// database lacks becomes text, with a NOTICE naming the connection, the column and the remote type.
TargetDescription* describe_on_targets(const char* sql, const char* const* sqls, const RemoteTarget* targets,
                                       int count);

struct MergedColumns {
  int count;
  const char** names;
  const char** types;
};

// The one column list of all the descriptions (core/statement_description.hpp's merge_descriptions): raises its
// 42804 or 42P16 with the columns, databases and types it names.
MergedColumns merge_target_descriptions(const TargetDescription* descriptions, int count);

// [{"name": ..., "type": ...}, ...]
void append_columns_json(StringInfo json, int count, const char* const* names, const char* const* types);

}  // namespace multidb
