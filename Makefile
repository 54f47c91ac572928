# multidb — PGXS build of a C++17 extension.
#   make / make install       build and install into the server found by pg_config
#   make demo                  set everything up and show the main job working
#   make test                  set everything up and run every test (unit, pg_regress, TAP)
#   make bench                 benchmarks against dblink and postgres_fdw

EXTENSION   = multidb
MODULE_big  = multidb
DATA        = sql/multidb--0.1.sql sql/multidb--0.1--0.2.sql sql/multidb--0.2--0.3.sql sql/multidb--0.3--0.4.sql sql/multidb--0.4--0.5.sql sql/multidb--0.5--0.6.sql sql/multidb--0.6--0.7.sql sql/multidb--0.7--0.8.sql sql/multidb--0.8--0.9.sql sql/multidb--0.9--1.0.sql sql/multidb--1.0--1.1.sql
PGFILEDESC  = "multidb - ask many PostgreSQL databases at once"

# One folder per layer, bottom to top; each includes only its own headers and those of the layers below
# (src/*/README.md, docs/architecture.md; test/unit/layering_test.cpp fails otherwise).
CORE_SRCS       = $(wildcard src/core/*.cpp)
FOUNDATION_SRCS = $(wildcard src/foundation/*.cpp)
FANOUT_SRCS     = $(wildcard src/fanout/*.cpp)
FUNCTIONS_SRCS  = $(wildcard src/functions/*.cpp)
ASK_SRCS        = $(wildcard src/ask/*.cpp)
# Everything above the core: the Postgres side of the extension.
POSTGRES_SRCS   = $(FOUNDATION_SRCS) $(FANOUT_SRCS) $(FUNCTIONS_SRCS) $(ASK_SRCS)
OBJS = $(CORE_SRCS:.cpp=.o) $(POSTGRES_SRCS:.cpp=.o)

REGRESS      = setup connections guard fanout fanout_rows sessions groups compare schema_diff reports default_connections report_from_history build
REGRESS_OPTS = --load-extension=multidb --inputdir=test
EXTRA_CLEAN  = test/unit/multidb_unit_tests

PG_CONFIG ?= pg_config
PG_CPPFLAGS  = -Isrc -I$(shell $(PG_CONFIG) --includedir 2>/dev/null)
PG_CXXFLAGS  = -std=c++17 -Wno-missing-field-initializers -Wno-register
SHLIB_LINK   = -lpq -lcurl -lstdc++

# The server is built with LLVM JIT; we ship no bitcode for C++ objects.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
# A fresh machine: `make demo` and `make test` install the server development files themselves.
all install installcheck:
	@echo "PostgreSQL 15 server development files are missing: run 'make demo' or 'make test'," \
	      "which install them, or apt-get install postgresql-server-dev-15" >&2; exit 1
endif

# demo, test, unit, bench: the project's own targets (after PGXS so that `all` stays the default).
include mk/targets.mk
