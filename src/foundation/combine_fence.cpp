// The combine step's fence (the contract is in combine_fence.hpp): a second walk of raw_parser's tree, after the
// read-only guard's, for what the combine step's SQL reads (only the step tables and its own WITH queries) and names
// (only pg_catalog), then every function it could call judged against this server's pg_catalog: each pg_proc entry
// a called name could resolve to, each function an operator name could run, each type it casts to.
#include "foundation/combine_fence.hpp"

#include "core/combine_functions.hpp"
#include "foundation/boundary.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
}

namespace multidb {

namespace {

GuardVerdict refused(const char* reason) { return GuardVerdict{false, ERRCODE_INSUFFICIENT_PRIVILEGE, reason, {}}; }

// ---- the combine step's scope ----------------------------------------------------------------------------

struct ScopeWalk {
  const char* const* tables;
  int table_count;
  List* visible_ctes;  // names of the WITH queries in scope where the walk is
  const char* refusal;
  // What the statement could call, each name once (char*), judged after the walk against this server's
  // pg_catalog, where every unqualified name resolves (the combine step runs with search_path = pg_catalog).
  List* functions;        // f(...), in any position, FROM included
  List* attribute_calls;  // x.f and (x).f, a call of f(x) when x has no column f
  List* operators;        // named ones, and those a construct runs unnamed (BETWEEN, CASE x WHEN)
  List* types;            // TypeName*: casts, and column definition lists
};

const char* step_table_list(const ScopeWalk* walk) {
  StringInfoData list;
  initStringInfo(&list);
  for (int i = 0; i < walk->table_count; i++)
    appendStringInfo(&list, "%s%s", i > 0 ? ", " : "", quote_identifier(walk->tables[i]));
  return list.data;
}

bool names_step_or_cte(const ScopeWalk* walk, const char* name) {
  for (int i = 0; i < walk->table_count; i++)
    if (strcmp(walk->tables[i], name) == 0) return true;
  ListCell* cell;
  foreach (cell, walk->visible_ctes)
    if (strcmp(static_cast<const char*>(lfirst(cell)), name) == 0) return true;
  return false;
}

void note_once(List** names, const char* name) {
  ListCell* cell;
  foreach (cell, *names)
    if (strcmp(static_cast<const char*>(lfirst(cell)), name) == 0) return;
  *names = lappend(*names, const_cast<char*>(name));
}

// The operator a name list ends with (OPERATOR(pg_catalog.=) is ("pg_catalog", "=")).
void note_operator_name(ScopeWalk* walk, List* names) {
  if (names == NIL) return;
  Node* last = static_cast<Node*>(llast(names));
  if (IsA(last, String)) note_once(&walk->operators, strVal(last));
}

// A function, operator or type named with a schema other than pg_catalog: refused. (Unqualified names
// resolve in pg_catalog: the combine step runs with search_path = pg_catalog.)
// The refusal reads "the combine step <used_before><name><used_after>, but it may <allowed> (...)".
bool refuse_outside_catalog(ScopeWalk* walk, List* names, const char* used_before, const char* used_after,
                            const char* allowed) {
  if (list_length(names) < 2) return false;
  const char* schema = strVal(list_nth(names, list_length(names) - 2));
  if (strcmp(schema, "pg_catalog") == 0 && list_length(names) == 2) return false;
  walk->refusal = psprintf("the combine step %s%s%s, but it may %s (schema pg_catalog; \"%s\" is not)", used_before,
                           NameListToString(names), used_after, allowed, schema);
  return true;
}

bool refuse_operator_outside_catalog(ScopeWalk* walk, List* names) {
  return refuse_outside_catalog(walk, names, "uses operator ", "", "use only built-in operators");
}

// CURRENT_DATE and its kin are values of time; the others say who and where the session is.
const char* session_state_read(const SQLValueFunction* function) {
  switch (function->op) {
    case SVFOP_CURRENT_ROLE:
      return "CURRENT_ROLE";
    case SVFOP_CURRENT_USER:
      return "CURRENT_USER";
    case SVFOP_USER:
      return "USER";
    case SVFOP_SESSION_USER:
      return "SESSION_USER";
    case SVFOP_CURRENT_CATALOG:
      return "CURRENT_CATALOG";
    case SVFOP_CURRENT_SCHEMA:
      return "CURRENT_SCHEMA";
    default:
      return nullptr;
  }
}

bool scope_walker(Node* node, ScopeWalk* walk);

bool walk_children(Node* node, ScopeWalk* walk) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-function-type"
  return raw_expression_tree_walker(node, reinterpret_cast<bool (*)()>(scope_walker), walk);
#pragma GCC diagnostic pop
}

bool scope_walker(Node* node, ScopeWalk* walk) {
  if (node == nullptr) return false;
  switch (nodeTag(node)) {
    case T_RangeVar: {
      RangeVar* relation = reinterpret_cast<RangeVar*>(node);
      if (relation->schemaname == nullptr && relation->catalogname == nullptr &&
          names_step_or_cte(walk, relation->relname))
        return false;
      walk->refusal = psprintf("the combine step reads %s, but it may read only the results of the databases "
                               "(%s) and its own WITH queries",
                               quote_qualified_identifier(relation->schemaname, relation->relname),
                               step_table_list(walk));
      return true;
    }
    case T_FuncCall: {
      FuncCall* call = reinterpret_cast<FuncCall*>(node);
      if (refuse_outside_catalog(walk, call->funcname, "calls ", "()", "call only built-in functions")) return true;
      note_once(&walk->functions, strVal(llast(call->funcname)));
      break;
    }
    case T_ColumnRef: {
      ColumnRef* column = reinterpret_cast<ColumnRef*>(node);
      Node* last = list_length(column->fields) >= 2 ? static_cast<Node*>(llast(column->fields)) : nullptr;
      if (last != nullptr && IsA(last, String)) note_once(&walk->attribute_calls, strVal(last));
      break;
    }
    case T_A_Indirection: {
      ListCell* cell;
      foreach (cell, reinterpret_cast<A_Indirection*>(node)->indirection)
        if (IsA(lfirst(cell), String)) note_once(&walk->attribute_calls, strVal(lfirst(cell)));
      break;
    }
    case T_TypeName: {
      TypeName* type = reinterpret_cast<TypeName*>(node);
      if (refuse_outside_catalog(walk, type->names, "names type ", "", "use only built-in types")) return true;
      if (type->names != NIL) walk->types = lappend(walk->types, type);
      break;
    }
    case T_A_Expr: {
      A_Expr* expression = reinterpret_cast<A_Expr*>(node);
      switch (expression->kind) {
        case AEXPR_OP:
        case AEXPR_OP_ANY:
        case AEXPR_OP_ALL:
          if (refuse_operator_outside_catalog(walk, expression->name)) return true;
          note_operator_name(walk, expression->name);
          break;
        case AEXPR_BETWEEN:
        case AEXPR_NOT_BETWEEN:
        case AEXPR_BETWEEN_SYM:
        case AEXPR_NOT_BETWEEN_SYM:
          // x BETWEEN a AND b runs x >= a AND x <= b; NOT BETWEEN x < a OR x > b
          for (const char* comparison : {"<", "<=", ">", ">="}) note_once(&walk->operators, comparison);
          break;
        default:  // IS DISTINCT FROM, NULLIF, IN, LIKE, ILIKE, SIMILAR TO: the grammar names their operator
          note_operator_name(walk, expression->name);
          break;
      }
      break;
    }
    case T_SubLink: {
      SubLink* sublink = reinterpret_cast<SubLink*>(node);
      if (refuse_operator_outside_catalog(walk, sublink->operName)) return true;
      note_operator_name(walk, sublink->operName);
      break;
    }
    case T_SortBy: {
      SortBy* sort = reinterpret_cast<SortBy*>(node);
      if (refuse_operator_outside_catalog(walk, sort->useOp)) return true;
      note_operator_name(walk, sort->useOp);
      break;
    }
    case T_CaseExpr:
      if (reinterpret_cast<CaseExpr*>(node)->arg != nullptr) note_once(&walk->operators, "=");  // CASE x WHEN v
      break;
    case T_SQLValueFunction:
      if (const char* read = session_state_read(reinterpret_cast<SQLValueFunction*>(node))) {
        walk->refusal = psprintf("the combine step reads %s, which is the session's state, not a value", read);
        return true;
      }
      break;
    case T_SelectStmt: {
      SelectStmt* select = reinterpret_cast<SelectStmt*>(node);
      if (select->withClause == nullptr) break;
      // A WITH query sees the ones before it (all of them if RECURSIVE); the statement body sees all.
      int outer = list_length(walk->visible_ctes);
      List* ctes = select->withClause->ctes;
      ListCell* cell;
      if (select->withClause->recursive)
        foreach (cell, ctes) walk->visible_ctes = lappend(walk->visible_ctes, lfirst_node(CommonTableExpr, cell)->ctename);
      foreach (cell, ctes) {
        CommonTableExpr* cte = lfirst_node(CommonTableExpr, cell);
        if (scope_walker(cte->ctequery, walk)) return true;
        if (!select->withClause->recursive) walk->visible_ctes = lappend(walk->visible_ctes, cte->ctename);
      }
      SelectStmt body = *select;
      body.withClause = nullptr;
      bool stopped = walk_children(reinterpret_cast<Node*>(&body), walk);
      walk->visible_ctes = list_truncate(walk->visible_ctes, outer);
      return stopped;
    }
    default:
      break;
  }
  return walk_children(node, walk);
}

// ---- what the combine step may call: functions on values (core/combine_functions.hpp) ------------------

bool is_catalog_type_itself(Oid type) {
  static const Oid kCatalogTypes[] = {REGCLASSOID,  REGPROCOID,      REGPROCEDUREOID, REGOPEROID,
                                      REGOPERATOROID, REGTYPEOID,    REGROLEOID,      REGNAMESPACEOID,
                                      REGCONFIGOID, REGDICTIONARYOID, REGCOLLATIONOID, ACLITEMOID};
  for (Oid catalog_type : kCatalogTypes)
    if (type == catalog_type) return true;
  // pg_catalog's composite types are its catalogs' and views' row types, whose columns hold regproc, aclitem[]
  // and their kin (pg_type.typinput, pg_class.relacl).
  HeapTuple tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type));
  if (!HeapTupleIsValid(tuple)) return false;
  Form_pg_type entry = reinterpret_cast<Form_pg_type>(GETSTRUCT(tuple));
  bool catalog_row = entry->typtype == TYPTYPE_COMPOSITE && entry->typnamespace == PG_CATALOG_NAMESPACE;
  ReleaseSysCache(tuple);
  return catalog_row;
}

bool takes_or_returns_catalog_type(HeapTuple tuple, Form_pg_proc procedure) {
  if (type_reads_catalog(procedure->prorettype)) return true;
  for (int i = 0; i < procedure->pronargs; i++)
    if (type_reads_catalog(procedure->proargtypes.values[i])) return true;
  bool no_out_arguments;
  Datum all = SysCacheGetAttr(PROCOID, tuple, Anum_pg_proc_proallargtypes, &no_out_arguments);
  if (no_out_arguments) return false;
  ArrayType* types = DatumGetArrayTypeP(all);
  const Oid* oids = reinterpret_cast<const Oid*>(ARR_DATA_PTR(types));
  for (int i = 0; i < ArrayGetNItems(ARR_NDIM(types), ARR_DIMS(types)); i++)
    if (type_reads_catalog(oids[i])) return true;
  return false;
}

bool has_volatile_support(Form_pg_proc procedure) {
  if (procedure->prokind != PROKIND_AGGREGATE) return false;
  HeapTuple tuple = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(procedure->oid));
  if (!HeapTupleIsValid(tuple)) return true;
  Form_pg_aggregate aggregate = reinterpret_cast<Form_pg_aggregate>(GETSTRUCT(tuple));
  Oid support[] = {aggregate->aggtransfn,  aggregate->aggfinalfn,    aggregate->aggcombinefn,
                   aggregate->aggserialfn, aggregate->aggdeserialfn, aggregate->aggmtransfn,
                   aggregate->aggminvtransfn, aggregate->aggmfinalfn};
  ReleaseSysCache(tuple);
  for (Oid function : support)
    if (OidIsValid(function) && func_volatile(function) == PROVOLATILE_VOLATILE) return true;
  return false;
}

// The core's verdict on one pg_proc entry; a failure to judge is a refusal.
CombineCall judge_builtin(HeapTuple tuple, bool through_operator) {
  Form_pg_proc procedure = reinterpret_cast<Form_pg_proc>(GETSTRUCT(tuple));
  bool catalog_type = through_operator ? false : takes_or_returns_catalog_type(tuple, procedure);
  bool volatile_support = through_operator ? false : has_volatile_support(procedure);
  const char* name = NameStr(procedure->proname);
  CombineCall verdict = CombineCall::kNotValueFunction;
  CppError error = cpp_call([&] {
    BuiltinFunction function{name, procedure->provolatile, procedure->prokind, volatile_support, catalog_type};
    verdict = through_operator ? judge_operator_function(function) : judge_combine_function(function);
  });
  return error.failed ? CombineCall::kNotValueFunction : verdict;
}

const char* reason_for(CombineCall verdict) {
  const char* reason = "refused";
  CppError error = cpp_call([&] { reason = combine_call_reason(verdict); });
  return error.failed ? "refused" : reason;
}

// Every pg_catalog function the name could resolve to (with one required argument only, for an attribute
// call) must be a function on values: the judgement is made before the arguments' types are known.
const char* function_refusal(const char* name, bool attribute_call) {
  CatCList* candidates = SearchSysCacheList1(PROCNAMEARGSNSP, CStringGetDatum(name));
  const char* refusal = nullptr;
  for (int i = 0; i < candidates->n_members && refusal == nullptr; i++) {
    HeapTuple tuple = &candidates->members[i]->tuple;
    Form_pg_proc procedure = reinterpret_cast<Form_pg_proc>(GETSTRUCT(tuple));
    if (procedure->pronamespace != PG_CATALOG_NAMESPACE) continue;
    if (attribute_call && (procedure->pronargs < 1 || procedure->pronargs - procedure->pronargdefaults > 1)) continue;
    CombineCall verdict = judge_builtin(tuple, false);
    if (verdict != CombineCall::kAllowed)
      refusal = psprintf("the combine step calls %s, which is %s", format_procedure(procedure->oid), reason_for(verdict));
  }
  ReleaseSysCacheList(candidates);
  return refusal;
}

// Every pg_catalog operator of that name runs a function that must be IMMUTABLE, or STABLE on values.
const char* operator_refusal(const char* name) {
  CatCList* candidates = SearchSysCacheList1(OPERNAMENSP, CStringGetDatum(name));
  const char* refusal = nullptr;
  for (int i = 0; i < candidates->n_members && refusal == nullptr; i++) {
    Form_pg_operator operator_entry = reinterpret_cast<Form_pg_operator>(GETSTRUCT(&candidates->members[i]->tuple));
    if (operator_entry->oprnamespace != PG_CATALOG_NAMESPACE || !OidIsValid(operator_entry->oprcode)) continue;
    HeapTuple function = SearchSysCache1(PROCOID, ObjectIdGetDatum(operator_entry->oprcode));
    if (!HeapTupleIsValid(function)) continue;
    CombineCall verdict = judge_builtin(function, true);
    ReleaseSysCache(function);
    if (verdict != CombineCall::kAllowed)
      refusal = psprintf("the combine step uses operator %s, which can run %s, %s", name,
                         format_procedure(operator_entry->oprcode), reason_for(verdict));
  }
  ReleaseSysCacheList(candidates);
  return refusal;
}

// A cast (or a column definition) names a type of pg_catalog by now (refuse_outside_catalog): one whose input
// or output reads the catalog is refused. An unqualified name pg_catalog lacks could still resolve in this
// session's temporary schema, which search_path = pg_catalog searches first for types: refused too.
const char* type_refusal(const TypeName* type) {
  const char* name = strVal(llast(type->names));
  Oid named = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum(name),
                              ObjectIdGetDatum(PG_CATALOG_NAMESPACE));
  if (!OidIsValid(named)) {
    Oid temporary = InvalidOid, temporary_toast = InvalidOid;
    GetTempNamespaceState(&temporary, &temporary_toast);
    if (OidIsValid(temporary) &&
        OidIsValid(GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum(name), ObjectIdGetDatum(temporary))))
      return psprintf("the combine step names type %s, which is not a built-in type", quote_identifier(name));
    return nullptr;  // no such type: the statement's own error (42704) when it runs
  }
  if (!type_reads_catalog(named)) return nullptr;
  Oid shown = type->arrayBounds != NIL && OidIsValid(get_array_type(named)) ? get_array_type(named) : named;
  return psprintf("the combine step casts to %s, whose input or output reads the catalog", format_type_be(shown));
}

const char* combine_call_refusal(const ScopeWalk* walk) {
  ListCell* cell;
  foreach (cell, walk->types)
    if (const char* refusal = type_refusal(static_cast<TypeName*>(lfirst(cell)))) return refusal;
  foreach (cell, walk->functions)
    if (const char* refusal = function_refusal(static_cast<const char*>(lfirst(cell)), false)) return refusal;
  foreach (cell, walk->attribute_calls)
    if (const char* refusal = function_refusal(static_cast<const char*>(lfirst(cell)), true)) return refusal;
  foreach (cell, walk->operators)
    if (const char* refusal = operator_refusal(static_cast<const char*>(lfirst(cell)))) return refusal;
  return nullptr;
}

}  // namespace

bool type_reads_catalog(Oid type) {
  Oid element = get_element_type(type);
  return is_catalog_type_itself(type) || (OidIsValid(element) && is_catalog_type_itself(element));
}

GuardVerdict judge_combine(const char* sql, const char* const* tables, int table_count) {
  GuardVerdict verdict = judge_statement(sql);
  if (!verdict.allowed) return verdict;
  MemoryContext caller_context = CurrentMemoryContext;
  ScopeWalk walk{tables, table_count, NIL, nullptr, NIL, NIL, NIL, NIL};
  bool walk_failed = false;
  PG_TRY();
  {
    List* statements = parse_as_remote(sql);
    scope_walker(linitial_node(RawStmt, statements)->stmt, &walk);
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(caller_context);
    FlushErrorState();
    walk_failed = true;
  }
  PG_END_TRY();
  if (walk_failed) return refused("multidb could not inspect every part of the combine step");
  if (walk.refusal != nullptr) return refused(walk.refusal);
  if (const char* reason = combine_call_refusal(&walk)) return refused(reason);
  return verdict;
}

}  // namespace multidb
