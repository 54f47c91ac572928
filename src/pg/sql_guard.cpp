#include "pg/sql_guard.hpp"

#include "pg/settings.hpp"

#include <climits>
#include <string>

extern "C" {
#include "catalog/namespace.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "parser/parser.h"
}

namespace multidb {

namespace {

struct GuardWalk {
  const char* refusal;  // the first reason found, palloc'd
};

bool refuse(GuardWalk* walk, const char* reason) {
  walk->refusal = reason;
  return true;  // stops the walk
}

bool guard_walker(Node* node, GuardWalk* walk) {
  if (node == nullptr) return false;
  switch (nodeTag(node)) {
    case T_SelectStmt: {
      SelectStmt* select = reinterpret_cast<SelectStmt*>(node);
      if (select->intoClause != nullptr) return refuse(walk, "SELECT INTO creates a table");
      if (select->lockingClause != NIL)
        return refuse(walk, "FOR UPDATE, FOR NO KEY UPDATE, FOR SHARE and FOR KEY SHARE take row locks");
      break;
    }
    case T_InsertStmt:
      return refuse(walk, "a WITH query contains INSERT");
    case T_UpdateStmt:
      return refuse(walk, "a WITH query contains UPDATE");
    case T_DeleteStmt:
      return refuse(walk, "a WITH query contains DELETE");
    case T_MergeStmt:
      return refuse(walk, "a WITH query contains MERGE");
    case T_FuncCall: {
      FuncCall* call = reinterpret_cast<FuncCall*>(node);
      const char* name = strVal(llast(call->funcname));
      const std::string* pattern = current_denylist().denying_pattern(name);
      if (pattern != nullptr)
        return refuse(walk, psprintf("function %s() acts outside the query (denied by pattern \"%s\")",
                                     NameListToString(call->funcname), pattern->c_str()));
      break;
    }
    default:
      break;
  }
  // Postgres 15 declares walkers as bool (*)() and calls them with (node, context).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-function-type"
  return raw_expression_tree_walker(node, reinterpret_cast<bool (*)()>(guard_walker), walk);
#pragma GCC diagnostic pop
}

const char* top_level_refusal(Node* stmt) {
  switch (nodeTag(stmt)) {
    case T_SelectStmt:
      return nullptr;
    case T_InsertStmt:
      return "INSERT writes data";
    case T_UpdateStmt:
      return "UPDATE writes data";
    case T_DeleteStmt:
      return "DELETE writes data";
    case T_MergeStmt:
      return "MERGE writes data";
    default:
      return psprintf("%s is not a query", CreateCommandName(stmt));
  }
}

GuardVerdict refused(const char* reason) { return GuardVerdict{false, ERRCODE_INSUFFICIENT_PRIVILEGE, reason}; }

}  // namespace

GuardVerdict judge_statement(const char* sql) {
  MemoryContext caller_context = CurrentMemoryContext;
  List* statements = NIL;
  ErrorData* parse_error = nullptr;
  PG_TRY();
  {
    statements = raw_parser(sql, RAW_PARSE_DEFAULT);
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(caller_context);
    parse_error = CopyErrorData();
    FlushErrorState();
  }
  PG_END_TRY();
  if (parse_error != nullptr)
    return GuardVerdict{false, parse_error->sqlerrcode, psprintf("the statement does not parse: %s", parse_error->message)};

  if (list_length(statements) == 0) return refused("the text holds no statement");
  if (list_length(statements) > 1)
    return refused(psprintf("the text holds %d statements; multidb sends exactly one", list_length(statements)));

  Node* stmt = linitial_node(RawStmt, statements)->stmt;
  if (const char* reason = top_level_refusal(stmt)) return refused(reason);

  GuardWalk walk{nullptr};
  bool walk_failed = false;
  PG_TRY();
  {
    guard_walker(stmt, &walk);
  }
  PG_CATCH();
  {
    // A node the raw walker does not know: refuse rather than send what we could not inspect.
    MemoryContextSwitchTo(caller_context);
    FlushErrorState();
    walk_failed = true;
  }
  PG_END_TRY();
  if (walk_failed) return refused("multidb could not inspect every part of this statement");
  if (walk.refusal != nullptr) return refused(walk.refusal);
  return GuardVerdict{true, 0, nullptr};
}

void require_read_only(const char* sql, const char* targets) {
  GuardVerdict verdict = judge_statement(sql);
  if (verdict.allowed) return;
  ereport(ERROR, (errcode(verdict.sqlstate), errmsg("multidb refused the statement for %s: %s", targets, verdict.reason),
                  errdetail("The statement: %s", sql),
                  errhint("multidb sends only a single read-only SELECT (WITH, VALUES and set operations "
                          "included) that calls no function listed by multidb.denied_functions().")));
}

}  // namespace multidb
