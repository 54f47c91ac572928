# The project's own targets, included by the Makefile after PGXS (so that `all` stays the default goal).
#
#   make demo                   set-up, then a coordinator and two remote servers with a generated shop,
#                               and multidb.fanout comparing them (demo/run.sh)
#   make test                   set-up, then every test; ends with "N passed, N failed" (test/harness/)
#   make test TESTS=regress     only some runners, in the order given: any of unit, regress, tap
#   make test TESTS=tap PROVE_TESTS=test/t/001_parallel.pl
#                               only some TAP files
#   make unit                   build and run the GoogleTest binary here (no server, no set-up)
#   make bench                  set-up, then the benchmarks against dblink and postgres_fdw
#
# Set-up (shared by demo, test, bench; idempotent): installs the missing Debian packages (apt, as root
# or through sudo), creates the OS user "multidb" when run as root (Postgres will not run as root),
# builds and installs the extension. Clusters are throwaway: a temporary directory, 127.0.0.1 only,
# removed on exit.

.PHONY: demo test unit bench unit-clean

demo:
	@PG_CONFIG='$(PG_CONFIG)' bash demo/run.sh

test:
	@PG_CONFIG='$(PG_CONFIG)' TESTS='$(TESTS)' PROVE_TESTS='$(PROVE_TESTS)' bash test/harness/run_tests.sh

bench:
	@PG_CONFIG='$(PG_CONFIG)' bash test/harness/setup.sh
	@PG_CONFIG='$(PG_CONFIG)' bash bench/run.sh

# GoogleTest of the pure C++ core: every test/unit/*.cpp with the same src/core objects the extension is
# built from (PGXS compiles them), in one binary.
UNIT_TEST_BINARY  = test/unit/multidb_unit_tests
UNIT_TEST_OBJS    = $(patsubst %.cpp,%.o,$(wildcard test/unit/*.cpp))
UNIT_CORE_OBJS    = $(CORE_SRCS:.cpp=.o)
UNIT_TEST_FLAGS   = -std=c++17 -Wall -Wextra -Werror -g -O1 -Isrc $(addprefix -I,$(shell $(PG_CONFIG) --includedir 2>/dev/null))
UNIT_TEST_LIBS    = -lgtest -lgtest_main -lpthread -lpq -lcurl

test/unit/%.o: test/unit/%.cpp $(wildcard src/core/*.hpp)
	$(CXX) $(UNIT_TEST_FLAGS) -c -o $@ $<

# PGXS tracks no header dependencies here; without this a changed core header would leave the tests
# running against stale core objects.
$(UNIT_CORE_OBJS): $(wildcard src/core/*.hpp)

$(UNIT_TEST_BINARY): $(UNIT_TEST_OBJS) $(UNIT_CORE_OBJS)
	$(CXX) -o $@ $^ $(UNIT_TEST_LIBS)

unit: $(UNIT_TEST_BINARY)
	./$(UNIT_TEST_BINARY)

unit-clean:
	rm -f $(UNIT_TEST_BINARY) $(UNIT_TEST_OBJS)

clean: unit-clean
