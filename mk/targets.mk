# The project's own targets. Included after PGXS so that `all` stays the default.
#   make demo           set-up (packages, build, install) and a guided run on throwaway servers
#   make test           set-up and every test; TESTS="unit regress tap" picks runners, e.g.
#                       make test TESTS=regress
#   make unit           build and run the GoogleTest binary only (no server needed)
#   make bench          set-up and the benchmarks against dblink and postgres_fdw

.PHONY: demo test unit bench

demo:
	bash demo/run.sh

test:
	TESTS="$(TESTS)" bash test/harness/run_tests.sh

UNIT_TEST_BINARY = test/unit/multidb_unit_tests
UNIT_TEST_SOURCES = $(wildcard src/core/*.cpp test/unit/*.cpp)

$(UNIT_TEST_BINARY): $(UNIT_TEST_SOURCES) $(wildcard src/core/*.hpp)
	$(CXX) -std=c++17 -Wall -Wextra -Werror -g -O1 -Isrc -I$(shell $(PG_CONFIG) --includedir) \
	    $(UNIT_TEST_SOURCES) -lgtest -lgtest_main -lpthread -lpq -lcurl -o $@

unit: $(UNIT_TEST_BINARY)
	./$(UNIT_TEST_BINARY)

bench:
	bash test/harness/setup.sh
	bash bench/run.sh
