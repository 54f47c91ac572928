#!/usr/bin/env bash
# `make bench`: multidb against dblink and postgres_fdw on the same data, in the same run, on throwaway
# servers, and the HTTP gateway's figures (bench/gateway.sh). Prints a table and writes bench/out/results.md.
# Each figure is the median of $RUNS runs.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../test/harness/lib.sh
source "$REPO_ROOT/test/harness/lib.sh"
# shellcheck source=gateway.sh
source "$REPO_ROOT/bench/gateway.sh"
# shellcheck source=views.sh
source "$REPO_ROOT/bench/views.sh"
# shellcheck source=fleet.sh
source "$REPO_ROOT/bench/fleet.sh"
# shellcheck source=ui.sh
source "$REPO_ROOT/bench/ui.sh"
# shellcheck source=builder.sh
source "$REPO_ROOT/bench/builder.sh"
# shellcheck source=roundtrip.sh
source "$REPO_ROOT/bench/roundtrip.sh"

RUNS=${RUNS:-3}
ROWS=${ROWS:-1000000}
CALLS=${CALLS:-200}
CHECK_CALLS=${CHECK_CALLS:-2000}
PASSWORD=bench-secret
# BENCH_ONLY=views: only section (k), written to bench/out/views.md; BENCH_ONLY=prompt: only section (l), the
# prompt's size for fleets of tenants (no server), in bench/out/prompt.md; BENCH_ONLY=fleet: only section (m),
# written to bench/out/fleet.md; BENCH_ONLY=ui: only section (n), the web UI in headless chromium, written to
# bench/out/ui.md; BENCH_ONLY=builder: only section (o), the query builder, written to bench/out/builder.md;
# BENCH_ONLY=roundtrip: only section (p), a warm fan-out's goals side by side, written to bench/out/roundtrip.md (the
# full run writes everything to results.md).
BENCH_ONLY=${BENCH_ONLY:-}
case "$BENCH_ONLY" in "" | views | prompt | fleet | ui | builder | roundtrip) ;;
  *) die "BENCH_ONLY is empty (every section), views, prompt, fleet, ui, builder or roundtrip, not '$BENCH_ONLY'" ;;
esac

# ---- (l) the plan prompt's bytes for 1 to 1,000 tenants of one schema (bench/prompt_size.cpp) -------------
bench_prompt_report() {
  echo
  echo "## (l) the plan prompt's system messages (rules and schema) for tenants of one schema, attached as @tenants"
  echo
  echo "Four tables a tenant, sampled values differing per tenant; goal: 1,000 identical tenants at most 1.2 x one tenant's prompt plus the compact name list."
  echo
  make -s -C "$REPO_ROOT" bench/prompt_size PG_CONFIG="$PG_CONFIG" >/dev/null
  "$REPO_ROOT/bench/prompt_size"
}
if [ "$BENCH_ONLY" = prompt ]; then
  mkdir -p "$REPO_ROOT/bench/out"
  { echo "# multidb benchmark, prompt size only — $(date -u '+%Y-%m-%d %H:%M UTC')"; bench_prompt_report; } > "$REPO_ROOT/bench/out/prompt.md"
  cat "$REPO_ROOT/bench/out/prompt.md"
  exit 0
fi

ensure_pg_user
[ -f "$("$PG_CONFIG" --sharedir)/extension/multidb.control" ] || die "multidb is not installed: run make install (or make bench)"
[ -x "$PG_BINDIR/multidb-web" ] || die "multidb-web is not installed in $PG_BINDIR: run make install (or make bench)"
make_work_dir
trap cleanup_work_dir EXIT

median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

# ms QUERY...: runs the statements in one session and prints the last statement's time in ms.
ms() {
  timed "$@" | tail -1
}

# timed QUERY...: like ms, but prints the last statement's result first, then its time.
timed() {
  local args=(-c '\timing on') statement output
  for statement in "$@"; do args+=(-c "$statement"); done
  output=$(psql_on "$coordinator_PORT" postgres -At "${args[@]}")
  printf '%s\n' "$output" | grep -v '^Time: ' | tail -1
  printf '%s\n' "$output" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
}

# peak_kb QUERY: the calling backend's peak resident memory (VmHWM) after QUERY, in a fresh session.
peak_kb() {
  psql_on "$coordinator_PORT" postgres -At -c "$1" \
    -c "SELECT (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'VmHWM:\s+(\d+)'))[1]" | tail -1
}

# BENCH_ONLY=fleet starts only the fleet's own servers.
if [ "$BENCH_ONLY" = fleet ]; then
  bench_fleet
  mkdir -p "$REPO_ROOT/bench/out"
  { echo "# multidb benchmark, fleet only — $(date -u '+%Y-%m-%d %H:%M UTC')"; echo
    echo "$(nproc) cores, $("$PG_BINDIR/postgres" --version); all servers on this machine (loopback)."; echo
    bench_fleet_report; } > "$REPO_ROOT/bench/out/fleet.md"
  cat "$REPO_ROOT/bench/out/fleet.md"
  exit 0
fi

# BENCH_ONLY=ui starts only the UI's own fixture.
if [ "$BENCH_ONLY" = ui ]; then
  bench_ui
  mkdir -p "$REPO_ROOT/bench/out"
  { echo "# multidb benchmark, web UI only — $(date -u '+%Y-%m-%d %H:%M UTC')"; echo
    echo "$(nproc) cores, $("$PG_BINDIR/postgres" --version), $(/usr/bin/chromium --version 2>/dev/null); all on this machine (loopback)."
    bench_ui_report; } > "$REPO_ROOT/bench/out/ui.md"
  cat "$REPO_ROOT/bench/out/ui.md"
  exit 0
fi

log "starting a coordinator and three remote servers"
# JIT would switch on for the foreign-table plan alone and charge its compile time to postgres_fdw.
# Kept connections are multidb's default; here each method says what it uses (the kept ones set it on).
# Section (j) holds $GATEWAY_STREAMS asks at once, each a backend and a background worker (its history writer).
# multidb preloaded (docs/reference.md, settings): the connection bound covers the whole coordinator,
# workers skip the library load, and a backend keeps its history writer between asks (section (p)'s cached ask).
start_cluster coordinator "jit = off" "multidb.keep_connections = off" "shared_preload_libraries = 'multidb'" \
  "max_connections = $(( GATEWAY_STREAMS + 100 ))" "max_worker_processes = $(( GATEWAY_STREAMS + 100 ))"
for r in r1 r2 r3; do
  start_cluster "$r"
  port_var="${r}_PORT"
  psql_on "${!port_var}" postgres -c "CREATE ROLE bench LOGIN PASSWORD '$PASSWORD'"
done
if [ -z "$BENCH_ONLY" ]; then
  log "generating $ROWS rows x 4 columns on r1"
  psql_on "$r1_PORT" postgres -c "
    CREATE TABLE big AS SELECT g::int8 AS id, md5(g::text) AS t, (g * 1.25)::numeric AS n,
                               timestamptz '2024-01-01' + g * interval '1 second' AS ts
                          FROM generate_series(1, $ROWS) g;
    GRANT SELECT ON big TO bench;" -c "VACUUM ANALYZE big"
fi

conninfo() { local port_var="${1}_PORT"; echo "host=127.0.0.1 port=${!port_var} dbname=postgres user=bench password=$PASSWORD"; }
psql_on "$coordinator_PORT" postgres -c "
  CREATE EXTENSION multidb; CREATE EXTENSION dblink SCHEMA public; CREATE EXTENSION postgres_fdw SCHEMA public;
  SELECT multidb.add_connection('r1', '$(conninfo r1)');
  SELECT multidb.add_connection('r2', '$(conninfo r2)');
  SELECT multidb.add_connection('r3', '$(conninfo r3)');
  CREATE SERVER fdw_r1 FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '$r1_PORT', dbname 'postgres');
  CREATE USER MAPPING FOR CURRENT_USER SERVER fdw_r1 OPTIONS (user 'bench', password '$PASSWORD');
  CREATE FOREIGN TABLE public.big_fdw (id int8, t text, n numeric, ts timestamptz) SERVER fdw_r1 OPTIONS (schema_name 'public', table_name 'big');" >/dev/null

if [ "$BENCH_ONLY" = views ]; then
  bench_views
  mkdir -p "$REPO_ROOT/bench/out"
  { echo "# multidb benchmark, views only — $(date -u '+%Y-%m-%d %H:%M UTC')"; echo
    echo "$(nproc) cores, $("$PG_BINDIR/postgres" --version); all servers on this machine (loopback)."; echo
    bench_views_report; } > "$REPO_ROOT/bench/out/views.md"
  cat "$REPO_ROOT/bench/out/views.md"
  exit 0
fi

if [ "$BENCH_ONLY" = builder ]; then
  bench_builder
  mkdir -p "$REPO_ROOT/bench/out"
  { echo "# multidb benchmark, query builder only — $(date -u '+%Y-%m-%d %H:%M UTC')"; echo
    echo "$(nproc) cores, $("$PG_BINDIR/postgres" --version); all servers on this machine (loopback)."
    bench_builder_report; } > "$REPO_ROOT/bench/out/builder.md"
  cat "$REPO_ROOT/bench/out/builder.md"
  exit 0
fi

if [ "$BENCH_ONLY" = roundtrip ]; then
  bench_roundtrip
  mkdir -p "$REPO_ROOT/bench/out"
  { echo "# multidb benchmark, a warm fan-out's goals only — $(date -u '+%Y-%m-%d %H:%M UTC')"; echo
    echo "$(nproc) cores, $("$PG_BINDIR/postgres" --version); all servers on this machine (loopback)."
    bench_roundtrip_report; } > "$REPO_ROOT/bench/out/roundtrip.md"
  cat "$REPO_ROOT/bench/out/roundtrip.md"
  exit 0
fi

# ---- (a) three databases x a 1 s query --------------------------------------------------------------
log "(a) 3 databases x SELECT pg_sleep(1)"
fanout_a=() slowest_a=() dblink_a=()
for _ in $(seq "$RUNS"); do
  fanout_a+=("$(ms "SELECT count(*) FROM multidb.fanout('SELECT pg_sleep(1)', ARRAY['r1','r2','r3'])")")
  slowest=0
  for r in r1 r2 r3; do
    t=$(ms "SELECT count(*) FROM multidb.fanout('SELECT pg_sleep(1)', ARRAY['$r'])")
    slowest=$(awk -v a="$slowest" -v b="$t" 'BEGIN {print (b > a) ? b : a}')
  done
  slowest_a+=("$slowest")
  dblink_a+=("$(ms "SELECT (SELECT count(*) FROM dblink('$(conninfo r1)', 'SELECT pg_sleep(1)') AS t(x text))
                    + (SELECT count(*) FROM dblink('$(conninfo r2)', 'SELECT pg_sleep(1)') AS t(x text))
                    + (SELECT count(*) FROM dblink('$(conninfo r3)', 'SELECT pg_sleep(1)') AS t(x text))")")
done
a_fanout=$(printf '%s\n' "${fanout_a[@]}" | median)
a_slowest=$(printf '%s\n' "${slowest_a[@]}" | median)
a_dblink=$(printf '%s\n' "${dblink_a[@]}" | median)

# ---- (b) a million rows x 4 columns from one database --------------------------------------------------
# Every method reads all four columns and gives the same aggregate; random() is volatile, so nothing
# can be pushed down to the remote: every row travels.
log "(b) $ROWS rows x 4 columns from one database"
consume="SELECT concat_ws('|', count(*), sum(id + 0 * random()), sum(length(t)), sum(n), max(ts)) FROM"
declare -A b_source=(
  [fanout_rows]="multidb.fanout_rows('SELECT id, t, n, ts FROM big', ARRAY['r1']) AS s(source_db text, id int8, t text, n numeric, ts timestamptz)"
  [fanout]="(SELECT (row_data->>'id')::int8 AS id, row_data->>'t' AS t, (row_data->>'n')::numeric AS n, (row_data->>'ts')::timestamptz AS ts FROM multidb.fanout('SELECT id, t, n, ts FROM big', ARRAY['r1'])) s"
  [postgres_fdw]="public.big_fdw"
  [dblink]="dblink('$(conninfo r1)', 'SELECT id, t, n, ts FROM big') AS s(id int8, t text, n numeric, ts timestamptz)"
)
b_source[fanout_rows_kept]=${b_source[fanout_rows]}
# The same through a connection kept in the calling backend (multidb.keep_connections), warmed by a first call
# in the same session (timed: only the last statement's time counts).
b_warm_up=("SET multidb.keep_connections = on" "SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['r1'])")
b_methods=(fanout_rows fanout_rows_kept fanout postgres_fdw dblink)
remote_plan=$(psql_on "$coordinator_PORT" postgres -At -c "EXPLAIN VERBOSE $consume public.big_fdw" | grep 'Remote SQL')
[[ "$remote_plan" == *"SELECT id, t, n, ts FROM public.big"* ]] || die "postgres_fdw pushes work down: $remote_plan"
declare -A b_ms b_rate b_peak
# A session that loaded every library and connected, but moved no rows: the baseline for peak memory.
idle_kb=$(peak_kb "SELECT multidb.check_sql('SELECT 1'), dblink_get_connections(), (SELECT count(*) FROM public.big_fdw WHERE id < 0)")
expected_result=""
for method in "${b_methods[@]}"; do
  query="$consume ${b_source[$method]}"
  setup=()
  [ "$method" = fanout_rows_kept ] && setup=("${b_warm_up[@]}")
  times=()
  for _ in $(seq "$RUNS"); do
    mapfile -t result_and_time < <(timed "${setup[@]}" "$query")
    [ -z "$expected_result" ] && expected_result=${result_and_time[0]}
    [ "${result_and_time[0]}" = "$expected_result" ] ||
      die "$method returned ${result_and_time[0]}, fanout_rows returned $expected_result"
    times+=("${result_and_time[1]}")
  done
  b_ms[$method]=$(printf '%s\n' "${times[@]}" | median)
  b_rate[$method]=$(awk -v r="$ROWS" -v t="${b_ms[$method]}" 'BEGIN {printf "%.0f", r / (t / 1000)}')
  if [ "$method" = fanout_rows_kept ]; then
    b_peak[$method]=$(peak_kb "SET multidb.keep_connections = on; $query")
  else
    b_peak[$method]=$(peak_kb "$query")
  fi
done

# ---- (c) a one-row query, many calls --------------------------------------------------------------------
log "(c) SELECT 1, $CALLS calls"
echo "SELECT * FROM multidb.fanout('SELECT 1', ARRAY['r1']);" > "$WORK_DIR/c_fanout.sql"
printf '%s\n' "SET multidb.max_workers = 0;" "SELECT * FROM multidb.fanout('SELECT 1', ARRAY['r1']);" > "$WORK_DIR/c_inbackend.sql"
echo "SELECT * FROM dblink('$(conninfo r1)', 'SELECT 1') AS t(x int);" > "$WORK_DIR/c_dblink.sql"
chmod 644 "$WORK_DIR"/c_*.sql
# pgbench_latency SCRIPT CALLS PGBENCH-OPTIONS...: pgbench's average latency in ms for SCRIPT run CALLS times.
pgbench_latency() {
  local script=$1 calls=$2 output latency
  shift 2
  output=$(as_pg_user env PGPASSWORD="$PASSWORD" "$PG_BINDIR/pgbench" -n "$@" -t "$calls" -f "$script" postgres 2>&1) ||
    die "pgbench failed on $script: $output"
  latency=$(printf '%s\n' "$output" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
  [ -n "$latency" ] || die "pgbench printed no latency for $script: $output"
  echo "$latency"
}
per_call() { pgbench_latency "$1" "$CALLS" -h "$WORK_DIR" -p "$coordinator_PORT" -U "${PG_SUPERUSER:-postgres}"; }
# median_latency FUNCTION SCRIPT: the median of $RUNS latencies FUNCTION measures for SCRIPT.
median_latency() {
  local times=() run
  for run in $(seq "$RUNS"); do times+=("$("$1" "$2")"); done
  printf '%s\n' "${times[@]}" | median
}
declare -A c_ms
for method in fanout inbackend dblink; do c_ms[$method]=$(median_latency per_call "$WORK_DIR/c_$method.sql"); done

# ---- (h) what the guard's remote checks cost --------------------------------------------------------------
# multidb asks every remote, in the same message as its session set-up (no round trip of its own), about
# the remote role's privileges, the volatile functions the statement's calls could reach, and what any statement
# could reach unnamed. Its cost is the remote's work on those three questions: timed here against r1 directly, one
# message per transaction, as the same message with the checks taken out. Inline, as a connection that is not kept
# sends them; and prepared once per connection, executed per call, as a kept connection does (pgbench -M prepared,
# one command per statement: the checks' cost is what the three commands add to the others).
log "(h) the remote checks, $CHECK_CALLS calls"
h_case=0
setup_only="SET DateStyle = ISO \; SET TimeZone = 'UTC' \; BEGIN TRANSACTION READ ONLY \; ROLLBACK"
printf '%s;\n' "SET DateStyle = ISO" "SET TimeZone = 'UTC'" "BEGIN TRANSACTION READ ONLY" \
  "SET LOCAL search_path = pg_catalog, pg_temp" "ROLLBACK" > "$WORK_DIR/h_setup_separate.sql"
for names in "SELECT 1" "SELECT count(*), lower(t), abs(n), now() FROM big WHERE id < 0 ORDER BY 1 USING <"; do
  check=$(psql_on "$coordinator_PORT" postgres -At -c "SELECT multidb.remote_check_sql(\$q\$$names\$q\$)")
  printf '%s\n' "${setup_only% ROLLBACK} ${check//;/ \\;} \; ROLLBACK" > "$WORK_DIR/h_check_$((++h_case)).sql"
  # one statement per line: the pin, then the three questions, each prepared once by pgbench -M prepared
  { head -n 4 "$WORK_DIR/h_setup_separate.sql"; printf '%s;\n' "${check#*; }" | sed 's/; /;\n/g'; echo 'ROLLBACK;'; } \
    > "$WORK_DIR/h_prepared_$h_case.sql"
done
printf '%s\n' "$setup_only" > "$WORK_DIR/h_setup.sql"
chmod 644 "$WORK_DIR"/h_*.sql
direct_latency() { pgbench_latency "$1" "$CHECK_CALLS" -h 127.0.0.1 -p "$r1_PORT" -U bench; }
prepared_latency() { pgbench_latency "$1" "$CHECK_CALLS" -M prepared -h 127.0.0.1 -p "$r1_PORT" -U bench; }
declare -A h_ms
for script in setup check_1 check_2; do h_ms[$script]=$(median_latency direct_latency "$WORK_DIR/h_$script.sql"); done
for script in setup_separate prepared_1 prepared_2; do
  h_ms[$script]=$(median_latency prepared_latency "$WORK_DIR/h_$script.sql")
done

# ---- (d) the cost of an ask beyond the LLM and the remotes ---------------------------------------------------
# The scripted LLM answers at once; every ask's llm_ms and exec_ms are in query_history, so what is left of
# total_ms is multidb's own work (schema cache, prompt, plan cache, guard, history). The wall time measured
# by psql also includes waiting for the history writer's commit.
log "(d) ask overhead: 2-database session and a 2,000-table schema"
ASKS=${ASKS:-15}
psql_on "$r3_PORT" postgres -c "DO \$\$ BEGIN FOR i IN 1..2000 LOOP
    EXECUTE format('CREATE TABLE wide_%s (id int PRIMARY KEY, name text, amount numeric, created_at timestamptz)', i);
  END LOOP; END \$\$" -c "GRANT SELECT ON ALL TABLES IN SCHEMA public TO bench" >/dev/null
cat > "$WORK_DIR/llm_script.json" <<'JSON'
{"rules": [{"match": "wide", "reply": "{\"queries\": [{\"database\": \"r3\", \"sql\": \"SELECT 1 AS one\"}], \"explanation\": \"x\"}"}],
 "default": "{\"queries\": [{\"database\": \"r1\", \"sql\": \"SELECT 1 AS one\"}, {\"database\": \"r2\", \"sql\": \"SELECT 1 AS one\"}], \"explanation\": \"x\"}"}
JSON
chmod 644 "$WORK_DIR/llm_script.json"
cp "$REPO_ROOT/test/llm/llm_stub.py" "$REPO_ROOT/test/llm/provider_profiles.py" "$WORK_DIR/"
chmod 644 "$WORK_DIR/llm_stub.py" "$WORK_DIR/provider_profiles.py"
# start_background, not `as_pg_user ... &`: $! would be a subshell, and killing it would leave the stub running.
start_background /dev/null /usr/bin/python3 "$WORK_DIR/llm_stub.py" --script "$WORK_DIR/llm_script.json" --port-file "$WORK_DIR/llm.port"
stub_pid=${BACKGROUND_PIDS[-1]}
for _ in $(seq 50); do [ -s "$WORK_DIR/llm.port" ] && break; sleep 0.1; done
psql_on "$coordinator_PORT" postgres -c "CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm
    OPTIONS (provider 'openai', url 'http://127.0.0.1:$(cat "$WORK_DIR/llm.port")/v1', model 'stub')" \
  -c "CREATE USER MAPPING FOR PUBLIC SERVER llm" >/dev/null

# ask_overhead LABEL CONNECTIONS QUESTION_PREFIX REPEAT: median in-function overhead and wall-minus-remote.
declare -A d_overhead d_wall
ask_series() {
  local label=$1 connections=$2 prefix=$3 repeat=$4 i statements=()
  # one warm-up ask reads the schemas into the cache
  statements+=("SELECT count(*) FROM multidb.ask('$prefix warm-up', connections => ARRAY[$connections])")
  for i in $(seq "$ASKS"); do
    local question="$prefix $i"
    [ "$repeat" = hit ] && question="$prefix again"
    statements+=("SELECT count(*) FROM multidb.ask('$question', connections => ARRAY[$connections])")
  done
  local args=(-c '\timing on') statement
  for statement in "${statements[@]}"; do args+=(-c "$statement"); done
  mapfile -t walls < <(psql_on "$coordinator_PORT" postgres -At "${args[@]}" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n "$ASKS")
  mapfile -t rows < <(psql_on "$coordinator_PORT" postgres -At -F ' ' -c "
    SELECT total_ms - coalesce(llm_ms, 0) - coalesce(exec_ms, 0), coalesce(llm_ms, 0) + coalesce(exec_ms, 0)
      FROM multidb.query_history WHERE question LIKE '$prefix %' AND question <> '$prefix warm-up' ORDER BY id DESC LIMIT $ASKS")
  d_overhead[$label]=$(printf '%s\n' "${rows[@]}" | awk '{print $1}' | median | awk '{printf "%.2f", $1}')
  local remote_ms
  remote_ms=$(printf '%s\n' "${rows[@]}" | awk '{print $2}' | median)
  d_wall[$label]=$(printf '%s\n' "${walls[@]}" | median | awk -v r="$remote_ms" '{printf "%.2f", $1 - r}')
}
ask_series "2 databases, plan-cache miss" "'r1','r2'" "two" miss
ask_series "2 databases, plan-cache hit" "'r1','r2'" "two" hit
ask_series "2,000 tables, plan-cache miss" "'r3'" "wide" miss
ask_series "2,000 tables, plan-cache hit" "'r3'" "wide" hit
kill "$stub_pid" 2>/dev/null || true

# ---- (e) compare: a million rows per side; (f) fan-out over 20 tenant databases -----------------------------
log "(e) compare, $ROWS rows per side"
psql_on "$r2_PORT" postgres -c "
  CREATE TABLE big AS SELECT g::int8 AS id, md5(g::text) AS t, (g * 1.25)::numeric AS n,
                             timestamptz '2024-01-01' + g * interval '1 second' AS ts
                        FROM generate_series(1, $ROWS) g;
  UPDATE big SET t = 'changed' WHERE id % 100000 = 0; DELETE FROM big WHERE id = 1;
  GRANT SELECT ON big TO bench;" -c "VACUUM ANALYZE big" >/dev/null
compare_query="SELECT count(*) FROM multidb.compare('SELECT id, t, n, ts FROM big', 'r1', 'r2', ARRAY['id'])"
times=()
for _ in $(seq "$RUNS"); do
  mapfile -t result_and_time < <(timed "$compare_query")
  times+=("${result_and_time[1]}")
done
e_differences=${result_and_time[0]}
e_ms=$(printf '%s\n' "${times[@]}" | median)
e_rate=$(awk -v r="$ROWS" -v t="$e_ms" 'BEGIN {printf "%.0f", 2 * r / (t / 1000)}')
e_peak=$(peak_kb "$compare_query")

log "(g) a cross-database answer: rows of r1 missing or changed in r2, $ROWS rows per side"
psql_on "$coordinator_PORT" postgres -c "
  CREATE SERVER fdw_r2 FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '$r2_PORT', dbname 'postgres');
  CREATE USER MAPPING FOR CURRENT_USER SERVER fdw_r2 OPTIONS (user 'bench', password '$PASSWORD');
  CREATE FOREIGN TABLE public.big_fdw_r2 (id int8, t text, n numeric, ts timestamptz) SERVER fdw_r2 OPTIONS (schema_name 'public', table_name 'big');" >/dev/null
combine_plan='{"queries": [{"database": "r1", "sql": "SELECT id, t FROM big"}, {"database": "r2", "sql": "SELECT id, t FROM big"}],
  "combine": "SELECT count(*) AS n FROM (SELECT id, t FROM r1 EXCEPT SELECT id, t FROM r2) x"}'
declare -A g_query=(
  [run_plan_combine]="SELECT row_data->>'n' FROM multidb.run_plan('$combine_plan')"
  [fanout_rows_sql]="SELECT count(*) FROM (SELECT id, t FROM multidb.fanout_rows('SELECT id, t FROM big', ARRAY['r1']) AS a(s text, id int8, t text) EXCEPT SELECT id, t FROM multidb.fanout_rows('SELECT id, t FROM big', ARRAY['r2']) AS b(s text, id int8, t text)) x"
  [postgres_fdw]="SELECT count(*) FROM (SELECT id, t FROM public.big_fdw EXCEPT SELECT id, t FROM public.big_fdw_r2) x"
  [dblink]="SELECT count(*) FROM (SELECT * FROM dblink('$(conninfo r1)', 'SELECT id, t FROM big') AS a(id int8, t text) EXCEPT SELECT * FROM dblink('$(conninfo r2)', 'SELECT id, t FROM big') AS b(id int8, t text)) x"
)
g_methods=(run_plan_combine fanout_rows_sql postgres_fdw dblink)
declare -A g_ms g_peak
g_expected=""
for method in "${g_methods[@]}"; do
  times=()
  for _ in $(seq "$RUNS"); do
    mapfile -t result_and_time < <(timed "${g_query[$method]}")
    times+=("${result_and_time[1]}")
  done
  [ -z "$g_expected" ] && g_expected=${result_and_time[0]}
  [ "${result_and_time[0]}" = "$g_expected" ] || die "(g) $method found ${result_and_time[0]} rows, not $g_expected"
  g_ms[$method]=$(printf '%s\n' "${times[@]}" | median)
  g_peak[$method]=$(peak_kb "${g_query[$method]}")
done

log "(f) 20 tenant databases x SELECT pg_sleep(0.5)"
tenants=()
for i in $(seq -w 1 20); do
  psql_on "$r3_PORT" postgres -c "CREATE DATABASE tenant_$i" >/dev/null
  psql_on "$coordinator_PORT" postgres -c "SELECT multidb.add_connection('tenant_$i',
    'host=127.0.0.1 port=$r3_PORT dbname=tenant_$i user=bench password=$PASSWORD')" >/dev/null
  tenants+=("'tenant_$i'")
done
psql_on "$coordinator_PORT" postgres -c "SELECT multidb.create_group('tenants', ARRAY[$(IFS=,; echo "${tenants[*]}")])" >/dev/null
f_single=() f_default=() f_all=()
for _ in $(seq "$RUNS"); do
  f_single+=("$(ms "SELECT count(*) FROM multidb.fanout('SELECT pg_sleep(0.5)', ARRAY['tenant_01'])")")
  f_default+=("$(ms "SELECT count(*) FROM multidb.fanout('SELECT pg_sleep(0.5)', ARRAY['@tenants'])")")
  f_all+=("$(ms "SET multidb.max_workers = 20" "SELECT count(*) FROM multidb.fanout('SELECT pg_sleep(0.5)', ARRAY['@tenants'])")")
done
f_single_ms=$(printf '%s\n' "${f_single[@]}" | median)
f_default_ms=$(printf '%s\n' "${f_default[@]}" | median)
f_all_ms=$(printf '%s\n' "${f_all[@]}" | median)

# ---- (i) a small fan-out, many calls: 1, 2 and 20 databases, warm and cold --------------------------------------
# Per-call latency of a one-row query on each database, one client running the calls in one session (warm:
# postgres_fdw keeps its connections for the session) or reconnecting before every call (pgbench -C: cold);
# then 16 clients at once on two databases, with the most connections one remote held meanwhile.
log "(i) a one-row query on 1, 2 and 20 databases"
one_table="CREATE TABLE one AS SELECT 1 AS x; GRANT SELECT ON one TO bench"
psql_on "$r1_PORT" postgres -c "$one_table" >/dev/null
psql_on "$r2_PORT" postgres -c "$one_table" >/dev/null
i_targets=("r1:$r1_PORT:postgres" "r2:$r2_PORT:postgres")
for i in $(seq -w 1 20); do
  psql_on "$r3_PORT" "tenant_$i" -c "$one_table" >/dev/null
  i_targets+=("tenant_$i:$r3_PORT:tenant_$i")
done
fdw_sql=""
for spec in "${i_targets[@]}"; do
  IFS=: read -r name port db <<<"$spec"
  fdw_sql+="CREATE SERVER fdwi_$name FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '$port', dbname '$db');
    CREATE USER MAPPING FOR CURRENT_USER SERVER fdwi_$name OPTIONS (user 'bench', password '$PASSWORD');
    CREATE FOREIGN TABLE public.one_$name (x int) SERVER fdwi_$name OPTIONS (table_name 'one');"
done
psql_on "$coordinator_PORT" postgres -c "$fdw_sql" >/dev/null
# i_scripts SIZE NAMES...: the four methods' scripts for a fan-out over NAMES.
i_scripts() {
  local size=$1 spec name port db list="" union="" dblinks=""
  shift
  for name in "$@"; do
    for spec in "${i_targets[@]}"; do
      [ "${spec%%:*}" = "$name" ] || continue
      IFS=: read -r name port db <<<"$spec"
      list+="${list:+, }'$name'"
      union+="${union:+ UNION ALL }SELECT x FROM public.one_$name"
      dblinks+="${dblinks:+ UNION ALL }SELECT x FROM dblink('host=127.0.0.1 port=$port dbname=$db user=bench password=$PASSWORD', 'SELECT x FROM one') AS t(x int)"
    done
  done
  echo "SELECT count(*) FROM multidb.fanout('SELECT x FROM one', ARRAY[$list]);" >"$WORK_DIR/i_${size}_workers.sql"
  printf '%s\n' "SET multidb.max_workers = 0;" "SELECT count(*) FROM multidb.fanout('SELECT x FROM one', ARRAY[$list]);" \
    >"$WORK_DIR/i_${size}_inbackend.sql"
  printf '%s\n' "SET multidb.keep_connections = on;" "SELECT count(*) FROM multidb.fanout('SELECT x FROM one', ARRAY[$list]);" \
    >"$WORK_DIR/i_${size}_kept.sql"
  echo "SELECT count(*) FROM ($union) t;" >"$WORK_DIR/i_${size}_postgres_fdw.sql"
  echo "SELECT count(*) FROM ($dblinks) t;" >"$WORK_DIR/i_${size}_dblink.sql"
  chmod 644 "$WORK_DIR"/i_"${size}"_*.sql
}
i_scripts 1 r1
i_scripts 2 r1 r2
# shellcheck disable=SC2046 # the tenant names are words
i_scripts 20 $(for i in $(seq -w 1 20); do echo "tenant_$i"; done)
i_methods=(workers inbackend kept postgres_fdw dblink)
declare -A i_warm i_cold
warm_call() { pgbench_latency "$1" "$I_CALLS" -h "$WORK_DIR" -p "$coordinator_PORT" -U "${PG_SUPERUSER:-postgres}"; }
cold_call() { pgbench_latency "$1" "$I_CALLS" -C -h "$WORK_DIR" -p "$coordinator_PORT" -U "${PG_SUPERUSER:-postgres}"; }
for size in 1 2 20; do
  I_CALLS=$CALLS
  [ "$size" = 20 ] && I_CALLS=$(( CALLS / 4 > 10 ? CALLS / 4 : 10 ))
  for method in "${i_methods[@]}"; do
    i_warm[$size.$method]=$(median_latency warm_call "$WORK_DIR/i_${size}_$method.sql")
    i_cold[$size.$method]=$(median_latency cold_call "$WORK_DIR/i_${size}_$method.sql")
  done
done
# 16 clients on two databases: throughput, and the most sessions r1 held for them at once.
declare -A i_tps i_held
for method in "${i_methods[@]}"; do
  held_file="$WORK_DIR/i_held_$method"
  echo 0 >"$held_file"
  touch "$WORK_DIR/i_sampling"
  ( while [ -f "$WORK_DIR/i_sampling" ]; do
      n=$(psql_on "$r1_PORT" postgres -At -c "SELECT count(*) FROM pg_stat_activity WHERE usename = 'bench'")
      [ "$n" -gt "$(cat "$held_file")" ] && echo "$n" >"$held_file"
      sleep 0.05
    done ) &
  sampler=$!
  output=$(as_pg_user env PGPASSWORD="$PASSWORD" "$PG_BINDIR/pgbench" -n -c 16 -j 2 -t "$(( CALLS / 4 > 10 ? CALLS / 4 : 10 ))" \
    -f "$WORK_DIR/i_2_$method.sql" -h "$WORK_DIR" -p "$coordinator_PORT" -U "${PG_SUPERUSER:-postgres}" postgres 2>&1) ||
    die "pgbench -c 16 failed on $method: $output"
  rm -f "$WORK_DIR/i_sampling"
  wait "$sampler" || true
  i_tps[$method]=$(printf '%s\n' "$output" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | head -n 1)
  i_held[$method]=$(cat "$held_file")
done

# ---- (j) the HTTP gateway (bench/gateway.sh) -------------------------------------------------------------------
bench_gateway

# ---- (k) views (bench/views.sh) ---------------------------------------------------------------------------------
bench_views

# ---- (m) a fleet of tenant databases (bench/fleet.sh) -------------------------------------------------------------
bench_fleet

# ---- (n) the web UI in headless chromium (bench/ui.sh) ----------------------------------------------------------
bench_ui

# ---- (o) the query builder (bench/builder.sh) -------------------------------------------------------------------
bench_builder

# ---- (p) a warm fan-out's goals side by side (bench/roundtrip.sh); last: it turns pg_stat_statements on in r1 ----
bench_roundtrip

# ---- report ----------------------------------------------------------------------------------------------
mkdir -p "$REPO_ROOT/bench/out"
report="$REPO_ROOT/bench/out/results.md"
{
  echo "# multidb benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $("$PG_BINDIR/postgres" --version); medians of $RUNS runs; all servers on this machine (loopback)."
  echo
  echo "## (a) 3 databases x SELECT pg_sleep(1)"
  echo
  echo "| method | wall ms | vs slowest single query |"
  echo "|---|---:|---:|"
  echo "| multidb.fanout, 3 databases at once | $a_fanout | $(ratio "$a_fanout" "$a_slowest") (goal <= 1.15) |"
  echo "| slowest single query (multidb.fanout on one) | $a_slowest | 1.00 |"
  echo "| dblink, once per database | $a_dblink | $(ratio "$a_dblink" "$a_slowest") |"
  echo
  echo "## (b) $ROWS rows x 4 columns (int8, text, numeric, timestamptz) from one database"
  echo
  echo "Each method reads all four columns: \`$consume <source>\` (random() is volatile: nothing is pushed down; postgres_fdw's remote SQL is \`SELECT id, t, n, ts FROM public.big\`). All returned \`$expected_result\`. Peak = VmHWM of the calling backend, fresh session, work_mem 4MB, JIT off."
  echo
  echo "| method | ms | rows/s | vs postgres_fdw | caller's peak RSS | above idle (idle: $idle_kb kB) |"
  echo "|---|---:|---:|---:|---:|---:|"
  for method in "${b_methods[@]}"; do
    echo "| $method | ${b_ms[$method]} | ${b_rate[$method]} | $(ratio "${b_rate[$method]}" "${b_rate[postgres_fdw]}") | ${b_peak[$method]} kB | $(( b_peak[$method] - idle_kb )) kB |"
  done
  echo
  echo "Goal: fanout_rows >= postgres_fdw."
  echo
  echo "## (c) SELECT 1, $CALLS calls, one connection each (pgbench -t $CALLS)"
  echo
  echo "| method | ms per call | vs dblink |"
  echo "|---|---:|---:|"
  echo "| multidb.fanout (a background worker per call) | ${c_ms[fanout]} | $(ratio "${c_ms[fanout]}" "${c_ms[dblink]}") |"
  echo "| multidb.fanout, multidb.max_workers = 0 (in the backend) | ${c_ms[inbackend]} | $(ratio "${c_ms[inbackend]}" "${c_ms[dblink]}") |"
  echo "| dblink with a connection string | ${c_ms[dblink]} | 1.00 |"
  echo
  echo "## (h) the guard's remote checks (role privileges, volatile names, implicit reach), sent with the set-up; pgbench -t $CHECK_CALLS against r1 directly"
  echo
  echo "| set-up message | ms per call | added by the checks |"
  echo "|---|---:|---:|"
  echo "| settings, BEGIN READ ONLY, ROLLBACK | ${h_ms[setup]} | |"
  echo "| ... and the checks for 'SELECT 1' (no names) | ${h_ms[check_1]} | $(awk -v a="${h_ms[check_1]}" -v b="${h_ms[setup]}" 'BEGIN { printf "%.3f ms", a - b }') |"
  echo "| ... and the checks for four functions (count, lower, abs, now) and an operator (<) | ${h_ms[check_2]} | $(awk -v a="${h_ms[check_2]}" -v b="${h_ms[setup]}" 'BEGIN { printf "%.3f ms", a - b }') |"
  echo "| prepared (a kept connection): settings, BEGIN READ ONLY, the search_path pin, ROLLBACK, one command each | ${h_ms[setup_separate]} | |"
  echo "| ... and the three prepared checks for 'SELECT 1' | ${h_ms[prepared_1]} | $(awk -v a="${h_ms[prepared_1]}" -v b="${h_ms[setup_separate]}" 'BEGIN { printf "%.3f ms", a - b }') |"
  echo "| ... and the three prepared checks for four functions and an operator | ${h_ms[prepared_2]} | $(awk -v a="${h_ms[prepared_2]}" -v b="${h_ms[setup_separate]}" 'BEGIN { printf "%.3f ms", a - b }') |"
  echo
  echo "## (d) an ask beyond the LLM and the remotes (scripted LLM answering at once; $ASKS asks, medians)"
  echo
  echo "| case | multidb's own work: total_ms - llm_ms - exec_ms | wall time - llm_ms - exec_ms (adds the history commit) | goal |"
  echo "|---|---:|---:|---|"
  for label in "2 databases, plan-cache miss" "2 databases, plan-cache hit" "2,000 tables, plan-cache miss" "2,000 tables, plan-cache hit"; do
    goal="<= 5 ms"; [[ "$label" == *hit ]] && goal="<= 1 ms"
    echo "| $label | ${d_overhead[$label]} ms | ${d_wall[$label]} ms | $goal |"
  done
  echo
  echo "## (e) compare, $ROWS rows x 4 columns per side, keyed (work_mem 4MB)"
  echo
  echo "| ms | rows/s (both sides) | differences found | caller's peak RSS above idle |"
  echo "|---:|---:|---:|---:|"
  echo "| $e_ms | $e_rate | $e_differences | $(( e_peak - idle_kb )) kB |"
  echo
  echo "## (g) a cross-database answer: rows of r1 missing or changed in r2 ($ROWS rows x (int8, text) per side)"
  echo
  echo "The same EXCEPT over both sides, run here; every method found $g_expected rows. run_plan is what an ask with a combine step runs once planned. Peak = VmHWM of the calling backend, fresh session, work_mem 4MB."
  echo
  echo "| method | ms | vs postgres_fdw | caller's peak RSS | above idle (idle: $idle_kb kB) |"
  echo "|---|---:|---:|---:|---:|"
  for method in "${g_methods[@]}"; do
    echo "| $method | ${g_ms[$method]} | $(ratio "${g_ms[$method]}" "${g_ms[postgres_fdw]}") | ${g_peak[$method]} kB | $(( g_peak[$method] - idle_kb )) kB |"
  done
  echo
  echo "## (f) 20 tenant databases (one server) x SELECT pg_sleep(0.5), through the group @tenants"
  echo
  echo "| method | wall ms | vs one tenant |"
  echo "|---|---:|---:|"
  echo "| one tenant | $f_single_ms | 1.00 |"
  echo "| 20 tenants, multidb.max_workers = 8 (default: three waves) | $f_default_ms | $(ratio "$f_default_ms" "$f_single_ms") |"
  echo "| 20 tenants, multidb.max_workers = 20 | $f_all_ms | $(ratio "$f_all_ms" "$f_single_ms") |"
  echo
  echo "## (i) a one-row query on 1, 2 and 20 databases, one client (ms per call, median of $RUNS pgbench runs)"
  echo
  echo "Methods (the bench's coordinator has multidb.keep_connections = off, multidb's default being on): multidb with a worker per target (workers), in the calling backend (inbackend: multidb.max_workers = 0), in the backend keeping its connections (kept: multidb.keep_connections = on, the default); postgres_fdw over one foreign table per database; dblink with a connection string per call. Warm: every call in one session (postgres_fdw and kept reuse their connections); cold: a new session per call (pgbench -C). postgres_fdw's foreign scans run one after another (async_capable is off by default); 20 databases: $(( CALLS / 4 > 10 ? CALLS / 4 : 10 )) calls per run."
  echo
  echo "| method | 1 warm | 1 cold | 2 warm | 2 cold | 20 warm | 20 cold | 2 warm vs postgres_fdw |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  for method in "${i_methods[@]}"; do
    echo "| $method | ${i_warm[1.$method]} | ${i_cold[1.$method]} | ${i_warm[2.$method]} | ${i_cold[2.$method]} | ${i_warm[20.$method]} | ${i_cold[20.$method]} | $(ratio "${i_warm[2.$method]}" "${i_warm[2.postgres_fdw]}") |"
  done
  echo
  echo "16 clients at once on two databases (pgbench -c 16 -j 2):"
  echo
  echo "| method | calls/s | most sessions r1 held at once |"
  echo "|---|---:|---:|"
  for method in "${i_methods[@]}"; do echo "| $method | ${i_tps[$method]} | ${i_held[$method]} |"; done
  echo
  bench_gateway_report
  bench_views_report
  bench_fleet_report
  bench_ui_report
  bench_builder_report
  bench_roundtrip_report
  bench_prompt_report
} > "$report"
cat "$report"
