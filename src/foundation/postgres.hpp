// The Postgres headers, included from C++. Every file of the layers above the core
// (src/foundation/, src/fanout/, src/functions/, src/ask/) includes this first.
#pragma once

extern "C" {
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/memutils.h"
}

// Postgres defines these as macros; they collide with the C++ standard library.
#undef snprintf
#undef vsnprintf
#undef sprintf
#undef vsprintf
#undef fprintf
#undef vfprintf
#undef printf
#undef vprintf
#undef gettext
#undef dgettext
#undef ngettext
#undef dngettext
