#include "core/repair_policy.hpp"

// Last, so that it also sees what every header above pulled in.
#include "core/cpp_only.hpp"

namespace multidb {

bool llm_may_repair(std::string_view sqlstate, FailedStep step, bool refused) {
  if (refused || sqlstate.size() != 5) return false;
  std::string_view error_class = sqlstate.substr(0, 2);
  if (step == FailedStep::kCombineStep)
    // Syntax and access rules (a missing column) but not a privilege, data exceptions, cardinality.
    return (error_class == "42" && sqlstate != "42501") || error_class == "22" || error_class == "21";
  // A remote statement: anything the remote's SQL raised, not the way to it or an interruption.
  return error_class != "08" && error_class != "28" && sqlstate != "2F003" && sqlstate != "57014" &&
         sqlstate != "57P01";
}

}  // namespace multidb
