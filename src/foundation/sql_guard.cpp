// The read-only guard (the contract is in sql_guard.hpp): a walk of raw_parser's tree for what no remote statement
// may do or reach by name, and the names it calls as the statement wrote them, for the remote's own checks.
#include "foundation/sql_guard.hpp"

#include "foundation/settings.hpp"

#include <climits>
#include <string>

extern "C" {
#include "catalog/namespace.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "common/keywords.h"
#include "mb/pg_wchar.h"
#include "parser/parser.h"
#include "parser/scanner.h"
// After scanner.h, whose types it uses: the token numbers (IDENT, UIDENT).
#include "parser/gram.h"
#include "utils/builtins.h"
}

namespace multidb {

namespace {

struct GuardWalk {
  const char* refusal;  // the first reason found, palloc'd
  CalledNames names;
};

bool refuse(GuardWalk* walk, const char* reason) {
  walk->refusal = reason;
  return true;  // stops the walk
}

// written: the names as the statement wrote them (s.f, x.f), or NIL for (expression).f. Spelled out only for
// a refusal: most names pass.
bool refuse_denied_call(GuardWalk* walk, const char* name, List* written) {
  const std::string* pattern = current_denylist().denying_pattern(name);
  if (pattern == nullptr) return false;
  const char* spelled = written != NIL ? NameListToString(written) : psprintf("(...).%s", name);
  return refuse(walk, psprintf("function %s() acts outside the query (denied by pattern \"%s\")", spelled,
                               pattern->c_str()));
}

// x.f and (x).f call f(x) when x has no column f (attribute notation): the last name may be a function.
bool note_attribute_call(GuardWalk* walk, Node* field, List* written) {
  if (!IsA(field, String)) return false;  // x.* and subscripts
  const char* name = strVal(field);
  walk->names.attribute_calls = lappend(walk->names.attribute_calls, const_cast<char*>(name));
  return refuse_denied_call(walk, name, written);
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
    case T_RangeVar: {
      RangeVar* relation = reinterpret_cast<RangeVar*>(node);
      if (const std::string* denied = denied_relation(relation->relname))
        return refuse(walk, psprintf("relation %s exposes the server's files or secrets",
                                     quote_qualified_identifier(relation->schemaname, denied->c_str())));
      break;
    }
    case T_FuncCall: {
      FuncCall* call = reinterpret_cast<FuncCall*>(node);
      const char* name = strVal(llast(call->funcname));
      walk->names.functions = lappend(walk->names.functions, const_cast<char*>(name));
      walk->names.function_arguments =
          lappend_int(walk->names.function_arguments, call->func_variadic ? -1 : list_length(call->args));
      if (refuse_denied_call(walk, name, call->funcname)) return true;
      break;
    }
    case T_ColumnRef: {
      ColumnRef* column = reinterpret_cast<ColumnRef*>(node);
      if (list_length(column->fields) >= 2 &&
          note_attribute_call(walk, static_cast<Node*>(llast(column->fields)), column->fields))
        return true;
      break;
    }
    case T_A_Indirection: {
      ListCell* cell;
      foreach (cell, reinterpret_cast<A_Indirection*>(node)->indirection)
        if (note_attribute_call(walk, static_cast<Node*>(lfirst(cell)), NIL))
          return true;
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

GuardVerdict refused(const char* reason) { return GuardVerdict{false, ERRCODE_INSUFFICIENT_PRIVILEGE, reason, {}}; }

}  // namespace

// raw_parser as a standard-conforming server reads the text: the lexer follows the global
// standard_conforming_strings, which any role may turn off in its session.
List* parse_as_remote(const char* sql) {
  bool saved = standard_conforming_strings;
  standard_conforming_strings = true;
  List* statements = NIL;
  PG_TRY();
  {
    statements = raw_parser(sql, RAW_PARSE_DEFAULT);
  }
  PG_FINALLY();
  {
    standard_conforming_strings = saved;
  }
  PG_END_TRY();
  return statements;
}

namespace {

// One identifier-like token of a statement: what this server's lexer made of it, and where its text starts.
struct WordToken {
  const char* value;  // as read here: case-folded and cut (IDENT), or the keyword
  int start;
};

// The identifier tokens of sql (plain, quoted, keywords), in order; *ends receives each token's end: the next
// token's start, or the end of the text.
List* word_tokens(const char* sql, List** ends) {
  core_yy_extra_type extra;
  core_yyscan_t scanner = scanner_init(sql, &extra, &ScanKeywords, ScanKeywordTokens);
  extra.standard_conforming_strings = true;  // as the remote reads it (parse_as_remote)
  List* words = NIL;
  *ends = NIL;
  bool previous_is_word = false;
  for (;;) {
    core_YYSTYPE value;
    YYLTYPE location;
    int token = core_yylex(&value, &location, scanner);
    if (previous_is_word) *ends = lappend_int(*ends, token == 0 ? static_cast<int>(strlen(sql)) : location);
    if (token == 0) break;
    const char* word = nullptr;
    if (token == IDENT) {
      word = pstrdup(value.str);
    } else if (token != UIDENT && (isalpha(static_cast<unsigned char>(sql[location])) || sql[location] == '_')) {
      int length = 0;
      while (isalnum(static_cast<unsigned char>(sql[location + length])) || sql[location + length] == '_') length++;
      char* lowered = pnstrdup(sql + location, length);
      for (char* c = lowered; *c != '\0'; c++) *c = pg_ascii_tolower(static_cast<unsigned char>(*c));
      if (ScanKeywordLookup(lowered, &ScanKeywords) >= 0) word = lowered;
    }
    previous_is_word = word != nullptr;
    if (word != nullptr) {
      WordToken* entry = static_cast<WordToken*>(palloc(sizeof(WordToken)));
      *entry = WordToken{word, location};
      words = lappend(words, entry);
    }
  }
  scanner_finish(scanner);
  return words;
}

// The written forms of names, in order; with arguments (an int List beside names), *written_arguments receives
// each form's.
List* as_written(const char* sql, List* names, List* arguments, List* words, List* ends, List** written_arguments) {
  List* written = NIL;
  // A name this long may have been cut here, at a character boundary of this database's encoding.
  int may_be_cut = NAMEDATALEN - pg_database_encoding_max_length();
  for (int n = 0; n < list_length(names); n++) {
    const char* name = static_cast<const char*>(list_nth(names, n));
    int count = arguments != NIL ? list_nth_int(arguments, n) : 1;
    int before = list_length(written);
    for (int i = 0; i < list_length(words); i++) {
      const WordToken* word = static_cast<const WordToken*>(list_nth(words, i));
      if (strcmp(word->value, name) == 0)
        written = lappend(written, pnstrdup(sql + word->start, list_nth_int(ends, i) - word->start));
    }
    if (list_length(written) == before) {
      if (static_cast<int>(strlen(name)) >= may_be_cut)
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("multidb refused the statement: the long name \"%s\" is not written as a plain or "
                               "quoted identifier, so multidb cannot tell which function a remote cuts it to", name),
                        errhint("Write the function's name without Unicode escapes.")));
      // U&"...": read back exactly as decoded here (only its cut could differ, and it is short).
      StringInfoData quoted;
      initStringInfo(&quoted);
      appendStringInfoChar(&quoted, '"');
      for (const char* c = name; *c != '\0'; c++) {
        if (*c == '"') appendStringInfoChar(&quoted, '"');
        appendStringInfoChar(&quoted, *c);
      }
      appendStringInfoChar(&quoted, '"');
      written = lappend(written, quoted.data);
    }
    if (written_arguments != nullptr)
      for (int i = before; i < list_length(written); i++) *written_arguments = lappend_int(*written_arguments, count);
  }
  return written;
}

}  // namespace

CalledNames names_as_written(const char* sql, const CalledNames* names) {
  CalledNames written{NIL, NIL, NIL};
  if (names->functions == NIL && names->attribute_calls == NIL) return written;
  List* ends;
  List* words = word_tokens(sql, &ends);
  written.functions = as_written(sql, names->functions, names->function_arguments, words, ends,
                                 &written.function_arguments);
  written.attribute_calls = as_written(sql, names->attribute_calls, NIL, words, ends, nullptr);
  return written;
}

GuardVerdict judge_statement(const char* sql) {
  MemoryContext caller_context = CurrentMemoryContext;
  List* statements = NIL;
  ErrorData* parse_error = nullptr;
  PG_TRY();
  {
    statements = parse_as_remote(sql);
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(caller_context);
    parse_error = CopyErrorData();
    FlushErrorState();
  }
  PG_END_TRY();
  // The lexer raises a few other codes (22023, 22025, 0A000) for malformed escapes; to a caller they are all
  // text that does not parse.
  if (parse_error != nullptr)
    return GuardVerdict{false, ERRCODE_SYNTAX_ERROR, psprintf("the statement does not parse: %s", parse_error->message), {}};

  if (list_length(statements) == 0) return refused("the text holds no statement");
  if (list_length(statements) > 1)
    return refused(psprintf("the text holds %d statements; multidb sends exactly one", list_length(statements)));

  Node* stmt = linitial_node(RawStmt, statements)->stmt;
  if (const char* reason = top_level_refusal(stmt)) return refused(reason);

  GuardWalk walk{nullptr, {NIL, NIL, NIL}};
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
  return GuardVerdict{true, 0, nullptr, walk.names};
}

GuardVerdict require_read_only(const char* sql, const char* targets) {
  GuardVerdict verdict = judge_statement(sql);
  if (verdict.allowed) return verdict;
  ereport(ERROR, (errcode(verdict.sqlstate), errmsg("multidb refused the statement for %s: %s", targets, verdict.reason),
                  errdetail("The statement: %s", sql),
                  errhint("multidb sends only a single read-only SELECT (WITH, VALUES and set operations "
                          "included) that calls no function listed by multidb.denied_functions() and reads no "
                          "relation that exposes the server's files or secrets.")));
  return verdict;
}

}  // namespace multidb
