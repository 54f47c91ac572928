// The C++ <-> Postgres error boundary.
//
// Postgres reports errors with ereport(ERROR), which longjmps: it skips C++ destructors. C++ reports
// errors with exceptions, which must never unwind through Postgres's C frames. multidb keeps the two
// apart with one rule and one helper:
//
//  * Code of the layers above the core (src/foundation/, src/fanout/, src/functions/, src/ask/) that calls
//    Postgres functions (anything that may ereport) keeps no C++ object with a destructor alive in that frame:
//    it uses palloc'd memory and plain structs.
//  * When such code needs the pure C++ core, it calls it through cpp_call(): the lambda runs inside
//    try/catch, every C++ object it made dies inside it, and a caught exception comes back as a plain
//    CppError (fixed buffer, no destructor) that says what kind of error it was and its SQLSTATE (the
//    core's HttpError, LlmError and PlanError included: this is the only boundary). The caller then raises
//    it with raise_cpp_error(), or with its own words and the error's SQLSTATE, outside any C++ scope.
//  * A lambda passed to cpp_call() must not call Postgres functions that can ereport.
#pragma once

#include "foundation/postgres.hpp"

#include "core/http_client.hpp"
#include "core/llm_protocol.hpp"
#include "core/plan_parser.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <exception>
#include <new>
#include <stdexcept>

namespace multidb {

struct CppError {
  bool failed;
  bool out_of_memory;
  bool invalid_argument;
  bool interrupted;  // an HTTP call stopped because the caller's cancel or termination is pending
  int sqlstate;      // what the error is as a Postgres error: 38000 an LLM or HTTP failure, 39000 a reply
                     // that holds no usable plan, 53200 out of memory, 22023 a bad argument, XX000 else
  char message[2048];
};

template <typename Fn>
CppError cpp_call(Fn&& fn) noexcept {
  CppError error{};
  error.sqlstate = ERRCODE_INTERNAL_ERROR;
  auto fail = [&](int sqlstate, const char* text) {
    error.failed = true;
    error.sqlstate = sqlstate;
    std::snprintf(error.message, sizeof(error.message), "%s", text);
  };
  try {
    fn();
  } catch (const HttpError& e) {
    fail(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION, e.what());
    error.interrupted = e.kind() == HttpError::Kind::kAborted;
  } catch (const LlmError& e) {
    fail(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION, e.what());
  } catch (const PlanError& e) {
    fail(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION, e.what());
  } catch (const std::bad_alloc&) {
    fail(ERRCODE_OUT_OF_MEMORY, "out of memory");
    error.out_of_memory = true;
  } catch (const std::invalid_argument& e) {
    fail(ERRCODE_INVALID_PARAMETER_VALUE, e.what());
    error.invalid_argument = true;
  } catch (const std::exception& e) {
    fail(ERRCODE_INTERNAL_ERROR, e.what());
  } catch (...) {
    fail(ERRCODE_INTERNAL_ERROR, "unknown C++ exception");
  }
  return error;
}

// A string made inside cpp_call() leaves it as a malloc'd copy (no destructor runs later) and is taken
// into palloc'd memory outside it, where the malloc'd copy is freed.
inline char* malloc_copy(const std::string& text) {
  char* copy = static_cast<char*>(std::malloc(text.size() + 1));
  if (copy == nullptr) throw std::bad_alloc();
  std::memcpy(copy, text.c_str(), text.size() + 1);
  return copy;
}

// palloc'd copy of malloced (nullptr stays nullptr), freeing malloced.
inline char* take(char* malloced) {
  if (malloced == nullptr) return nullptr;
  char* copy = pstrdup(malloced);
  std::free(malloced);
  return copy;
}

// Raises a failed CppError as a Postgres ERROR: invalid arguments as 22023 with the given context
// prefix, anything else as an internal error.
void raise_cpp_error(const CppError& error, const char* what);

}  // namespace multidb
