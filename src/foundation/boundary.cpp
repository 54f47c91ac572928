#include "foundation/boundary.hpp"

namespace multidb {

void raise_cpp_error(const CppError& error, const char* what) {
  if (!error.failed) return;
  if (error.out_of_memory)
    ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory"), errdetail("while %s", what)));
  if (error.invalid_argument)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s: %s", what, error.message)));
  ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("multidb internal error while %s: %s", what, error.message)));
}

}  // namespace multidb
