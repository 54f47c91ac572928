// The one way to declare a SQL-callable function of multidb (in the spirit of pg_duckdb's
// DECLARE_PG_FUNCTION):
//
//   MULTIDB_FUNCTION(multidb_fanout) { return fanout_entry(fcinfo, RowShape::kJson); }
//
// declares the fmgr V1 symbol with C linkage, which only forwards to the body that follows, a C++ function
// that is noexcept: a C++ exception reaching it ends the process at once (std::terminate) instead of
// unwinding through Postgres's C frames. Bodies reach the pure core only through cpp_call()
// (boundary.hpp) and report errors with ereport, which longjmps and is no exception.
#pragma once

#include "foundation/postgres.hpp"

#define MULTIDB_FUNCTION(name)                                           \
  extern "C" {                                                           \
  PG_FUNCTION_INFO_V1(name);                                             \
  }                                                                      \
  static Datum name##_body(FunctionCallInfo fcinfo) noexcept;            \
  extern "C" Datum name(PG_FUNCTION_ARGS) { return name##_body(fcinfo); } \
  static Datum name##_body(FunctionCallInfo fcinfo) noexcept
