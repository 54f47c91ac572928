// Which failures of a plan go back to the LLM for a corrected one: errors in the SQL it wrote (a wrong column,
// a bad cast, a division by zero), never a connection or credential failure, a cancel, a shutdown, or a
// statement multidb itself refused. One place for the rule that the executor and the ask used to split.
#pragma once

#include <string_view>

namespace multidb {

enum class FailedStep {
  kRemoteStatement,  // a database's statement, run remotely
  kCombineStep,      // the combine step, run here over the step tables
};

// sqlstate: the five characters of the error's SQLSTATE. refused: multidb's own checks refused the statement.
bool llm_may_repair(std::string_view sqlstate, FailedStep step, bool refused);

}  // namespace multidb
