// The C++ <-> Postgres error boundary.
//
// Postgres reports errors with ereport(ERROR), which longjmps: it skips C++ destructors. C++ reports
// errors with exceptions, which must never unwind through Postgres's C frames. multidb keeps the two
// apart with one rule and one helper:
//
//  * Code in src/pg/ and src/dispatch/ that calls Postgres functions (anything that may ereport) keeps
//    no C++ object with a destructor alive in that frame: it uses palloc'd memory and plain structs.
//  * When such code needs the pure C++ core, it calls it through cpp_call(): the lambda runs inside
//    try/catch, every C++ object it made dies inside it, and a caught exception comes back as a plain
//    CppError (fixed buffer, no destructor). The caller then raises it with raise_cpp_error(), outside
//    any C++ scope.
//  * A lambda passed to cpp_call() must not call Postgres functions that can ereport.
#pragma once

#include "pg/postgres.hpp"

#include <cstdio>
#include <exception>
#include <new>
#include <stdexcept>

namespace multidb {

struct CppError {
  bool failed;
  bool out_of_memory;
  bool invalid_argument;
  char message[1024];
};

template <typename Fn>
CppError cpp_call(Fn&& fn) noexcept {
  CppError error{};
  try {
    fn();
  } catch (const std::bad_alloc&) {
    error.failed = true;
    error.out_of_memory = true;
  } catch (const std::invalid_argument& e) {
    error.failed = true;
    error.invalid_argument = true;
    std::snprintf(error.message, sizeof(error.message), "%s", e.what());
  } catch (const std::exception& e) {
    error.failed = true;
    std::snprintf(error.message, sizeof(error.message), "%s", e.what());
  } catch (...) {
    error.failed = true;
    std::snprintf(error.message, sizeof(error.message), "unknown C++ exception");
  }
  return error;
}

// Raises a failed CppError as a Postgres ERROR: invalid arguments as 22023 with the given context
// prefix, anything else as an internal error.
void raise_cpp_error(const CppError& error, const char* what);

}  // namespace multidb
