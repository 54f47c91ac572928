# The project's own targets, included by the Makefile after PGXS (so that `all` stays the default goal).
#
#   make demo                   set-up, then a coordinator and two remote servers with a generated shop,
#                               and multidb.fanout comparing them (demo/run.sh)
#   make test                   set-up, then every test; ends with "N passed, N failed" (test/harness/)
#   make test TESTS=regress     only some runners, in the order given: any of unit, regress, tap, fuzz
#   make test TESTS=tap PROVE_TESTS=test/t/001_parallel.pl
#                               only some TAP files
#   make unit                   build and run the GoogleTest binary here (no server, no set-up)
#   make bench                  set-up, then the benchmarks against dblink and postgres_fdw
#   make eval                   set-up, then how well multidb answers eval/questions.json with the LLM the
#                               demo's variables name (else the scripted stand-in; EVAL_STUB=gold|mistakes)
#   make fuzz                   libFuzzer harnesses of the pure core with ASan + UBSan, FUZZ_SECONDS each
#   make screenshots            set-up, then a PNG of each screen of the web UI at 1366x900 and 390x844 in
#                               screenshots/ (gitignored), in headless chromium against the browser test's
#                               fixture (test/browser/screenshots.sh); screens the UI lacks are skipped
#
# Set-up (shared by demo, test, bench; idempotent): installs the missing Debian packages (apt, as root
# or through sudo), creates the OS user "multidb" when run as root (Postgres will not run as root),
# builds and installs the extension. Clusters are throwaway: a temporary directory, 127.0.0.1 only,
# removed on exit.

.PHONY: demo test unit bench eval unit-clean screenshots

# The gateway's sources and build flags (its rules are below, with the other gateway targets).
GATEWAY_SRCS      = $(wildcard src/gateway/*.cpp)
GATEWAY_OBJS      = $(GATEWAY_SRCS:.cpp=.o)
GATEWAY_PURE_OBJS = $(addprefix src/gateway/,$(addsuffix .o,options status_map sign_in_token auth_throttle request_guard request_body ask_result event_stream run_registry request_head))
GATEWAY_BIN       = src/gateway/multidb-web
# Where make install puts swagger-ui-dist's files (from web/, `npm ci`) for the API page at /api/docs, and the
# web UI's built files (web/dist) that multidb-web serves at /.
GATEWAY_DOCS_DIR  = $(shell $(PG_CONFIG) --sharedir 2>/dev/null)/multidb-web/swagger-ui
GATEWAY_UI_DIR    = $(shell $(PG_CONFIG) --sharedir 2>/dev/null)/multidb-web/ui
GATEWAY_DOCS_FILES = swagger-ui.css swagger-ui-bundle.js favicon-32x32.png LICENSE NOTICE
GATEWAY_FLAGS     = -std=c++17 -O2 -g -Wall -Wextra -Werror -Isrc \
                    $(addprefix -I,$(shell $(PG_CONFIG) --includedir 2>/dev/null)) \
                    $(shell pkg-config --cflags cpp-httplib 2>/dev/null || echo -DCPPHTTPLIB_OPENSSL_SUPPORT -DCPPHTTPLIB_ZLIB_SUPPORT -DCPPHTTPLIB_BROTLI_SUPPORT)
GATEWAY_LIBS      = $(shell pkg-config --libs cpp-httplib 2>/dev/null || echo -lcpp-httplib) -lssl -lcrypto -lpq -lpthread


demo:
	@PG_CONFIG='$(PG_CONFIG)' bash demo/run.sh

test:
	@PG_CONFIG='$(PG_CONFIG)' TESTS='$(TESTS)' PROVE_TESTS='$(PROVE_TESTS)' bash test/harness/run_tests.sh

bench:
	@PG_CONFIG='$(PG_CONFIG)' bash test/harness/setup.sh
	@PG_CONFIG='$(PG_CONFIG)' bash bench/run.sh

eval:
	@PG_CONFIG='$(PG_CONFIG)' EVAL_STUB='$(EVAL_STUB)' bash eval/run.sh

screenshots:
	@PG_CONFIG='$(PG_CONFIG)' bash test/browser/screenshots.sh

# GoogleTest of the pure C++ core: every test/unit/*.cpp with the same src/core objects the extension is
# built from (PGXS compiles them), in one binary; it runs here, at the repository root, where
# test/unit/layering_test.cpp reads src/ to check that every include points down.
UNIT_TEST_BINARY  = test/unit/multidb_unit_tests
UNIT_TEST_OBJS    = $(patsubst %.cpp,%.o,$(wildcard test/unit/*.cpp))
UNIT_CORE_OBJS    = $(CORE_SRCS:.cpp=.o)
UNIT_TEST_FLAGS   = -std=c++17 -Wall -Wextra -Werror -g -O1 -Isrc $(addprefix -I,$(shell $(PG_CONFIG) --includedir 2>/dev/null))
UNIT_TEST_LIBS    = -lgtest -lgtest_main -lpthread -lpq -lcurl -lcrypto

test/unit/%.o: test/unit/%.cpp $(wildcard src/core/*.hpp) $(wildcard test/unit/*.hpp)
	$(CXX) $(UNIT_TEST_FLAGS) -c -o $@ $<

# The gateway's tests also depend on its headers (only theirs: a changed gateway header recompiles five files).
test/unit/gateway_%.o: test/unit/gateway_%.cpp $(wildcard src/core/*.hpp) $(wildcard src/gateway/*.hpp)
	$(CXX) $(UNIT_TEST_FLAGS) -c -o $@ $<

# PGXS tracks no header dependencies here; without this a changed core header would leave the tests
# running against stale core objects.
$(UNIT_CORE_OBJS): $(wildcard src/core/*.hpp)
# The same for the layers above the core: a changed struct in a header (the fan-out's, say) must rebuild every
# object that uses it, or objects of two layouts are linked together.
$(POSTGRES_SRCS:.cpp=.o): $(wildcard src/core/*.hpp src/foundation/*.hpp src/fanout/*.hpp src/functions/*.hpp src/ask/*.hpp)

$(UNIT_TEST_BINARY): $(UNIT_TEST_OBJS) $(UNIT_CORE_OBJS) $(GATEWAY_PURE_OBJS)
	$(CXX) -o $@ $^ $(UNIT_TEST_LIBS)

unit: $(UNIT_TEST_BINARY)
	./$(UNIT_TEST_BINARY)

unit-clean:
	rm -rf test/fuzz/build
	rm -f $(UNIT_TEST_BINARY) $(UNIT_TEST_OBJS)

clean: unit-clean gateway-clean

# ---- the HTTP gateway ----------------------------------------------------------------------------------------
# multidb-web (src/gateway/README.md): a program of its own beside the extension, on Debian's cpp-httplib (built
# with OpenSSL), libpq and nlohmann-json; `make` builds it, `make install` puts it in the server's bindir beside
# psql. Its pure parts (flags, statuses, bodies, sign-ins, the throttle, the origin check, the answer's shape)
# are linked into the unit tests too.
src/gateway/%.o: src/gateway/%.cpp $(wildcard src/gateway/*.hpp)
	$(CXX) $(GATEWAY_FLAGS) -c -o $@ $<

# The OpenAPI document is compiled in (GET /api/openapi.json), as a C++ raw string.
src/gateway/openapi.json.inc: src/gateway/openapi.json
	{ printf 'R"OPENAPI('; cat $<; printf ')OPENAPI"\n'; } > $@
src/gateway/routes_api_docs.o: src/gateway/openapi.json.inc
src/gateway/options.o: GATEWAY_FLAGS += -DMULTIDB_WEB_DOCS_DIR='"$(GATEWAY_DOCS_DIR)"' -DMULTIDB_WEB_UI_DIR='"$(GATEWAY_UI_DIR)"'

$(GATEWAY_BIN): $(GATEWAY_OBJS)
	$(CXX) -o $@ $^ $(GATEWAY_LIBS)

all: $(GATEWAY_BIN) web-ui

install: install-gateway
install-gateway: $(GATEWAY_BIN) web-ui
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) $(GATEWAY_BIN) '$(DESTDIR)$(bindir)/'
	@if [ -d web/node_modules/swagger-ui-dist ]; then \
	  $(MKDIR_P) '$(DESTDIR)$(GATEWAY_DOCS_DIR)' && \
	  for f in $(GATEWAY_DOCS_FILES); do $(INSTALL_DATA) web/node_modules/swagger-ui-dist/$$f '$(DESTDIR)$(GATEWAY_DOCS_DIR)/' || exit 1; done; \
	else echo "multidb-web: web/node_modules is missing (run npm ci in web/): /api/docs will have no swagger-ui files"; fi
	$(MKDIR_P) '$(DESTDIR)$(GATEWAY_UI_DIR)'
	$(INSTALL_DATA) $(WEB_UI_FILES) '$(DESTDIR)$(GATEWAY_UI_DIR)/'

gateway-clean:
	rm -f $(GATEWAY_BIN) $(GATEWAY_OBJS) src/gateway/openapi.json.inc
	rm -rf web/dist web/gen

.PHONY: install-gateway gateway-clean web-ui

# ---- the web UI ----------------------------------------------------------------------------------------------
# web/ (web/README.md): React + TypeScript, type-checked against the types generated from the gateway's OpenAPI
# document and bundled by esbuild into web/dist, which `make install` copies where multidb-web serves it. The npm
# packages are the ones web/package-lock.json pins (`npm ci`, again whenever the lock is newer than what is
# installed); nothing is fetched when the page runs. The build prints the bundle's gzipped size and fails above
# 400 kB.
WEB_UI_SOURCES = $(shell find web/src -type f 2>/dev/null) web/index.html web/build.mjs web/tsconfig.json src/gateway/openapi.json
# app.js.LEGAL.txt: the licence notices of the bundled packages (React, CodeMirror, Chart.js), which app.js links to.
WEB_UI_FILES   = web/dist/index.html web/dist/app.js web/dist/app.css web/dist/app.js.LEGAL.txt

web/node_modules/.package-lock.json: web/package-lock.json web/package.json
	@command -v npm >/dev/null || { echo "error: npm is missing (apt-get install nodejs npm): the web UI is built with it" >&2; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

web/dist/app.js: web/node_modules/.package-lock.json $(WEB_UI_SOURCES)
	node web/build.mjs web/dist

web/dist/index.html web/dist/app.css web/dist/app.js.LEGAL.txt: web/dist/app.js

web-ui: web/dist/app.js

# ---- fuzzing -------------------------------------------------------------------------------------------------
# libFuzzer harnesses (test/fuzz/fuzz_*.cpp) over the pure core and the gateway's pure parsers, built with Debian's clang with ASan and UBSan
# (float-cast-overflow included: no out-of-range float-to-integer conversion goes unnoticed), each run for
# FUZZ_SECONDS from its seed corpus (test/fuzz/corpus/<target>, copied: the checkout is never written).
#   make fuzz                    every target, FUZZ_SECONDS each (default 120)
#   make fuzz FUZZ_SECONDS=20    shorter (make test runs each for 15 s)
FUZZ_SECONDS   ?= 120
FUZZ_TARGETS    = $(patsubst test/fuzz/fuzz_%.cpp,%,$(wildcard test/fuzz/fuzz_*.cpp))
FUZZ_BUILD      = test/fuzz/build
FUZZ_CXX       ?= clang++
FUZZ_FLAGS      = -std=c++17 -g -O1 -fno-sanitize-recover=all -Isrc \
                  $(addprefix -I,$(shell $(PG_CONFIG) --includedir 2>/dev/null))
FUZZ_CORE_OBJS  = $(patsubst src/core/%.cpp,$(FUZZ_BUILD)/core/%.o,$(CORE_SRCS))

$(FUZZ_BUILD)/core/%.o: src/core/%.cpp $(wildcard src/core/*.hpp)
	@mkdir -p $(FUZZ_BUILD)/core
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: test/fuzz/fuzz_%.cpp $(FUZZ_CORE_OBJS)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_CORE_OBJS) -lpq -lcurl

# The gateway's target (fuzz_gateway_request) links the gateway's pure parsers instead of the core.
FUZZ_GATEWAY_OBJS = $(patsubst %,$(FUZZ_BUILD)/gateway/%.o,request_body request_head event_stream status_map request_guard ask_result)

$(FUZZ_BUILD)/gateway/%.o: src/gateway/%.cpp $(wildcard src/gateway/*.hpp)
	@mkdir -p $(FUZZ_BUILD)/gateway
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

$(FUZZ_BUILD)/fuzz_gateway_request: test/fuzz/fuzz_gateway_request.cpp $(FUZZ_GATEWAY_OBJS)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_GATEWAY_OBJS)

fuzz-build: $(addprefix $(FUZZ_BUILD)/fuzz_,$(FUZZ_TARGETS))

# Each target: a fresh copy of its corpus, FUZZ_SECONDS of fuzzing, crashes kept under $(FUZZ_BUILD)/crashes. Each
# target's run is a make target of its own (fuzz-run-<target>), so `make -j2 fuzz` runs two at once: libFuzzer
# runs on one core, so on two cores each target still fuzzes for FUZZ_SECONDS with a core of its own. make test
# runs them `-j$(nproc) -O` (-O: each target's lines together): five targets of 15 s in 45 s instead of 75.
FUZZ_RUNS = $(addprefix fuzz-run-,$(FUZZ_TARGETS))

fuzz: $(FUZZ_RUNS)

$(FUZZ_RUNS): fuzz-run-%: $(FUZZ_BUILD)/fuzz_%
	@set -e; target=$*; \
	  work=$$(mktemp -d); cp -r test/fuzz/corpus/$$target/. $$work/; mkdir -p $(FUZZ_BUILD)/crashes; \
	  echo "fuzz $$target: $(FUZZ_SECONDS) s"; \
	  if $(FUZZ_BUILD)/fuzz_$$target -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	       -artifact_prefix=$(FUZZ_BUILD)/crashes/$$target- -print_final_stats=1 $$work 2>$(FUZZ_BUILD)/$$target.log; then \
	    echo "fuzz $$target: ok ($$(grep -E 'stat::number_of_executed_units' $(FUZZ_BUILD)/$$target.log | awk '{print $$2}') runs)"; \
	  else echo "fuzz $$target: FAILED"; tail -40 $(FUZZ_BUILD)/$$target.log; rm -rf $$work; exit 1; fi; \
	  rm -rf $$work

.PHONY: fuzz fuzz-build $(FUZZ_RUNS)

# ---- the prompt's size for fleets of tenants (bench/run.sh, BENCH_ONLY=prompt) ------------------------------
# A program of the pure core alone, like the unit tests: no server.
PROMPT_SIZE_BIN = bench/prompt_size
$(PROMPT_SIZE_BIN): bench/prompt_size.cpp test/unit/tenant_fleet.hpp $(UNIT_CORE_OBJS)
	$(CXX) $(UNIT_TEST_FLAGS) -O2 -Itest/unit -o $@ bench/prompt_size.cpp $(UNIT_CORE_OBJS) -lpq -lcurl -lcrypto
clean: prompt-size-clean
prompt-size-clean:
	rm -f $(PROMPT_SIZE_BIN)
.PHONY: prompt-size-clean

# ---- the query builder's compiler (bench/builder.sh) ---------------------------------------------------------
# A program of the pure core alone, like the unit tests: no server. Median microseconds to read and compile three
# representative query specs over 2 and 1,000 databases.
SPEC_COMPILE_BENCH_BIN = bench/spec_compile_bench
$(SPEC_COMPILE_BENCH_BIN): bench/spec_compile_bench.cpp $(UNIT_CORE_OBJS)
	$(CXX) $(UNIT_TEST_FLAGS) -O2 -o $@ bench/spec_compile_bench.cpp $(UNIT_CORE_OBJS) -lpq -lcurl -lcrypto
clean: spec-compile-bench-clean
spec-compile-bench-clean:
	rm -f $(SPEC_COMPILE_BENCH_BIN)
.PHONY: spec-compile-bench-clean
