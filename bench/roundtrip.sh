# shellcheck shell=bash disable=SC2154 # the ${NAME}_PORT variables are set by start_cluster
# `make bench`, section (p): the goals of a warm fan-out side by side in one run, sourced by bench/run.sh once its
# coordinator (with r1..r3, multidb, dblink and postgres_fdw) is up; `BENCH_ONLY=roundtrip make bench` runs only
# this section. bench_roundtrip measures, bench_roundtrip_report prints one table per goal:
#   1. a one-row count(*) over a small table, warm, one session: multidb.fanout with kept connections over 2
#      databases (two clusters) and 20 (tenants of one cluster) against postgres_fdw's UNION ALL of foreign tables,
#      its connections cached, without and with async_capable;
#   2. the remote's server time per warm call (pg_stat_statements on r1): the guard's checks, and all multidb sent;
#   3. $ROWS rows x 4 columns through fanout_rows (kept, warm) against psql's \copy straight to the remote and
#      postgres_fdw;
#   4. 16 clients on two databases: calls/s, kept connections against postgres_fdw;
#   5. an ask whose plan and rows are cached (multidb.result_cache_ttl): its latency against SELECT 1's.
# Each figure is the median of $RUNS runs, the methods taking turns run by run (the machine may be busy with
# other work: a block of runs of one method would meet a different load than the other's). The section builds
# what it needs unless an earlier section did (the tenants, the foreign tables, the big table on r1), and turns
# pg_stat_statements on r1 on last, so that it weighs on no other figure.

P_CALLS=${P_CALLS:-${CALLS:-200}}
P_CHECK_CALLS=${P_CHECK_CALLS:-500}
P_CLIENT_SECONDS=${P_CLIENT_SECONDS:-10}
# A session's first calls are not warm: the first connects (and, for multidb, asks the checks unnamed), the second
# prepares them. Goal 1 leaves each session's first P_COLD_CALLS out of its mean.
P_COLD_CALLS=3

# p_pgbench FIGURE OPTIONS... -f SCRIPT: one pgbench run against the coordinator as the superuser, printing
# FIGURE (latency: the average ms per call; warm: the same without each session's first P_COLD_CALLS, from pgbench's
# log of every call; tps: calls/s). PGOPTIONS in the caller's environment reaches the sessions (kept connections, the
# result cache).
p_pgbench() {
  local figure=$1 output value log_options=()
  shift
  if [ "$figure" = warm ]; then
    rm -f "$WORK_DIR"/p_calls.*
    log_options=(--log "--log-prefix=$WORK_DIR/p_calls")
  fi
  output=$(as_pg_user env PGPASSWORD="$PASSWORD" PGOPTIONS="${PGOPTIONS:-}" "$PG_BINDIR/pgbench" -n "${log_options[@]}" \
             "$@" -h "$WORK_DIR" -p "$coordinator_PORT" -U "${PG_SUPERUSER:-postgres}" postgres 2>&1) ||
    die "(p) pgbench $* failed: $output"
  case "$figure" in
    latency) value=$(printf '%s\n' "$output" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p') ;;
    # A line of the log: client, its call's number from 0, the call's latency in µs, ...
    warm) value=$(cat "$WORK_DIR"/p_calls.* | awk -v cold="$P_COLD_CALLS" '$2 >= cold {sum += $3; n++}
                    END {if (n > 0) printf "%.3f", sum / n / 1000}') ;;
    tps) value=$(printf '%s\n' "$output" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | head -n 1) ;;
  esac
  [ -n "$value" ] || die "(p) pgbench printed no $figure for $*: $output"
  echo "$value"
}
p_median() { printf '%s\n' "$@" | median; }
p_kept="-c multidb.keep_connections=on"

# The tables and foreign tables every goal reads; idempotent (section (f) and (i) of a full run made most).
p_fixture() {
  local one_table="CREATE TABLE IF NOT EXISTS one AS SELECT 1 AS x; GRANT SELECT ON one TO bench" i name fdw_sql=""
  psql_on "$r1_PORT" postgres -c "$one_table" >/dev/null
  psql_on "$r2_PORT" postgres -c "$one_table" >/dev/null
  p_targets=("r1:$r1_PORT:postgres" "r2:$r2_PORT:postgres")
  p_tenants=()
  for i in $(seq -w 1 20); do
    name="tenant_$i"
    if [ -z "$(psql_on "$r3_PORT" postgres -At -c "SELECT 1 FROM pg_database WHERE datname = '$name'")" ]; then
      psql_on "$r3_PORT" postgres -c "CREATE DATABASE $name" >/dev/null
    fi
    psql_on "$r3_PORT" "$name" -c "$one_table" >/dev/null
    psql_on "$coordinator_PORT" postgres -c "SELECT multidb.add_connection('$name',
      'host=127.0.0.1 port=$r3_PORT dbname=$name user=bench password=$PASSWORD')
      WHERE NOT EXISTS (SELECT FROM multidb.connections WHERE name = '$name')" >/dev/null
    p_targets+=("$name:$r3_PORT:$name")
    p_tenants+=("$name")
  done
  # fdwi_*: as section (i) makes them (connections cached for the session); fdwa_*: the same with async_capable,
  # so that an Append runs their scans at once. Each asks the remote for the count (aggregate pushed down), as
  # multidb's statement does.
  local spec port db
  for spec in "${p_targets[@]}"; do
    IFS=: read -r name port db <<<"$spec"
    fdw_sql+="CREATE SERVER IF NOT EXISTS fdwi_$name FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '$port', dbname '$db');
      CREATE USER MAPPING IF NOT EXISTS FOR CURRENT_USER SERVER fdwi_$name OPTIONS (user 'bench', password '$PASSWORD');
      CREATE FOREIGN TABLE IF NOT EXISTS public.one_$name (x int) SERVER fdwi_$name OPTIONS (table_name 'one');
      CREATE SERVER IF NOT EXISTS fdwa_$name FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '$port', dbname '$db', async_capable 'true');
      CREATE USER MAPPING IF NOT EXISTS FOR CURRENT_USER SERVER fdwa_$name OPTIONS (user 'bench', password '$PASSWORD');
      CREATE FOREIGN TABLE IF NOT EXISTS public.onea_$name (x int) SERVER fdwa_$name OPTIONS (table_name 'one');"
  done
  psql_on "$coordinator_PORT" postgres -c "$fdw_sql" >/dev/null
  psql_on "$r1_PORT" postgres -c "
    CREATE TABLE IF NOT EXISTS big AS SELECT g::int8 AS id, md5(g::text) AS t, (g * 1.25)::numeric AS n,
                                             timestamptz '2024-01-01' + g * interval '1 second' AS ts
                                        FROM generate_series(1, $ROWS) g;
    GRANT SELECT ON big TO bench;" -c "VACUUM ANALYZE big" >/dev/null
}

# p_scripts SIZE NAMES...: the scripts of goal 1 for a fan-out over NAMES.
p_scripts() {
  local size=$1 name list="" union="" async=""
  shift
  for name in "$@"; do
    list+="${list:+, }'$name'"
    union+="${union:+ UNION ALL }SELECT count(*) AS n FROM public.one_$name"
    async+="${async:+ UNION ALL }SELECT count(*) AS n FROM public.onea_$name"
  done
  # Each sums the counts: an outer count(*) alone would let the planner drop postgres_fdw's scans (an aggregate
  # without GROUP BY always gives one row), where a function call always runs.
  local method
  printf '%s\n' "SELECT sum((row_data->>'count')::int8) FROM multidb.fanout('SELECT count(*) FROM one', ARRAY[$list]);" \
    >"$WORK_DIR/p_${size}_kept.sql"
  echo "SELECT sum(n) FROM ($union) t;" >"$WORK_DIR/p_${size}_fdw.sql"
  echo "SELECT sum(n) FROM ($async) t;" >"$WORK_DIR/p_${size}_fdw_async.sql"
  chmod 644 "$WORK_DIR"/p_"${size}"_*.sql
  for method in kept fdw fdw_async; do
    [ "$(psql_on "$coordinator_PORT" postgres -At -f "$WORK_DIR/p_${size}_$method.sql")" = "$size" ] ||
      die "(p) $method over $size databases does not count $size rows"
  done
  # What postgres_fdw sends (the aggregate pushed down) and whether its Append runs the scans at once.
  p_plan[$size]=$(psql_on "$coordinator_PORT" postgres -At -c "EXPLAIN (VERBOSE, COSTS OFF) SELECT sum(n) FROM ($async) t" |
                  grep -c 'Async Foreign Scan' || true)
  p_remote_sql=$(psql_on "$coordinator_PORT" postgres -At -c "EXPLAIN (VERBOSE, COSTS OFF) SELECT sum(n) FROM ($union) t" |
                 sed -n 's/^ *Remote SQL: //p' | head -n 1)
}
declare -A p_plan

# The CPU time each process spends per warm call over 2 databases, one client: the coordinator's backend and r1's and
# r2's serving it, from /proc/PID/schedstat (ns on a CPU) over a window of a running pgbench -T, divided by the calls
# that window held (its tps times its length). What bounds 16 clients and 20 databases on a machine whose cores all
# servers share is this sum, not a call's latency.
p_cpu_per_call() {
  local method pids_c pids_1 pids_2 pgb t0 t1 c0 c1 a0 a1 b0 b1 tps
  cpu_ns() { local total=0 pid value; for pid in "$@"; do
      value=$(cut -d' ' -f1 "/proc/$pid/schedstat" 2>/dev/null || echo 0); total=$((total + value)); done; echo "$total"; }
  backends() { psql_on "$1" postgres -At -c "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE $2"; }
  declare -gA p_cpu
  local -A samples
  for _ in $(seq "$RUNS"); do
    for method in kept fdw; do
      local options=""
      [ "$method" = kept ] && options=$p_kept
      as_pg_user env PGPASSWORD="$PASSWORD" PGOPTIONS="$options" "$PG_BINDIR/pgbench" -n -T 6 -f "$WORK_DIR/p_2_$method.sql" \
        -h "$WORK_DIR" -p "$coordinator_PORT" -U "${PG_SUPERUSER:-postgres}" postgres >"$WORK_DIR/p_cpu.out" 2>&1 &
      pgb=$!
      sleep 1.5
      pids_c=$(backends "$coordinator_PORT" "application_name = 'pgbench'")
      pids_1=$(backends "$r1_PORT" "usename = 'bench'")
      pids_2=$(backends "$r2_PORT" "usename = 'bench'")
      # shellcheck disable=SC2086 # the pids are words
      { c0=$(cpu_ns $pids_c); a0=$(cpu_ns $pids_1); b0=$(cpu_ns $pids_2); t0=$(date +%s%N); sleep 3
        c1=$(cpu_ns $pids_c); a1=$(cpu_ns $pids_1); b1=$(cpu_ns $pids_2); t1=$(date +%s%N); }
      wait "$pgb" || die "(p) pgbench for the CPU per call failed: $(cat "$WORK_DIR/p_cpu.out")"
      tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$WORK_DIR/p_cpu.out" | head -n 1)
      if [ -z "$tps" ] || [ -z "$pids_1" ] || [ -z "$pids_2" ]; then die "(p) no calls or no remote backend to measure"; fi
      samples[$method.coordinator]+=" $(awk -v c=$((c1 - c0)) -v t="$tps" -v w=$((t1 - t0)) 'BEGIN {printf "%.1f", c / (t * w / 1e9) / 1000}')"
      samples[$method.r1]+=" $(awk -v c=$((a1 - a0)) -v t="$tps" -v w=$((t1 - t0)) 'BEGIN {printf "%.1f", c / (t * w / 1e9) / 1000}')"
      samples[$method.r2]+=" $(awk -v c=$((b1 - b0)) -v t="$tps" -v w=$((t1 - t0)) 'BEGIN {printf "%.1f", c / (t * w / 1e9) / 1000}')"
    done
  done
  # shellcheck disable=SC2086 # the samples are words
  for method in "${!samples[@]}"; do p_cpu[$method]=$(p_median ${samples[$method]}); done
}

# Goal 1: warm one-row fan-outs, one client, one session.
p_small_calls() {
  local size calls method
  p_scripts 2 r1 r2
  p_scripts 20 "${p_tenants[@]}"
  declare -gA p_one
  local -A samples
  for _ in $(seq "$RUNS"); do
    for size in 2 20; do
      calls=$P_CALLS
      [ "$size" = 20 ] && calls=$(( P_CALLS / 4 > 10 ? P_CALLS / 4 : 10 ))
      for method in kept fdw fdw_async; do
        local options=""
        [ "$method" = kept ] && options=$p_kept
        samples[$size.$method]+=" $(PGOPTIONS=$options p_pgbench warm -t "$calls" -f "$WORK_DIR/p_${size}_$method.sql")"
      done
    done
  done
  for method in "${!samples[@]}"; do
    # shellcheck disable=SC2086 # the samples are words
    p_one[$method]=$(p_median ${samples[$method]})
  done
}

# Goal 3: a million rows x 4 columns. fanout_rows is read two ways: counted (count(*): every row received, decoded
# and stored, nothing computed over its values; the like of \copy's read-and-discard) and under section (b)'s aggregate
# (which sums and measures every value besides), which postgres_fdw is read under too (its count(*) would be pushed
# down, or fetch no column: "SELECT NULL FROM big"). \copy is psql's wall time, its start and connection included.
p_big_rows() {
  local consume_p="SELECT concat_ws('|', count(*), sum(id + 0 * random()), sum(length(t)), sum(n), max(ts)) FROM"
  local rows="multidb.fanout_rows('SELECT id, t, n, ts FROM big', ARRAY['r1']) AS s(source_db text, id int8, t text, n numeric, ts timestamptz)"
  local warm="SET multidb.keep_connections = on" warm_call="SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['r1'])"
  local copy_sql="\\copy (SELECT id, t, n, ts FROM big) TO /dev/null"
  local start end result expected="" method
  local -A times=()
  for _ in $(seq "$RUNS"); do
    mapfile -t result < <(timed "$warm" "$warm_call" "SELECT count(*) FROM $rows")
    [ "${result[0]}" = "$ROWS" ] || die "(p) fanout_rows counted ${result[0]} rows, not $ROWS"
    times[fanout_count]+=" ${result[1]}"
    mapfile -t result < <(timed "$warm" "$warm_call" "$consume_p $rows")
    [ -z "$expected" ] && expected=${result[0]}
    [ "${result[0]}" = "$expected" ] || die "(p) fanout_rows returned ${result[0]}, not $expected"
    times[fanout_rows]+=" ${result[1]}"
    mapfile -t result < <(timed "$consume_p public.big_fdw")
    [ "${result[0]}" = "$expected" ] || die "(p) postgres_fdw returned ${result[0]}, fanout_rows $expected"
    times[fdw]+=" ${result[1]}"
    start=$(date +%s%N)
    as_pg_user env PGPASSWORD="$PASSWORD" "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$r1_PORT" \
      -U bench -d postgres -c "$copy_sql" >/dev/null
    end=$(date +%s%N)
    times[copy]+=" $(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.1f", (b - a) / 1e6}')"
  done
  p_big_result=$expected
  # shellcheck disable=SC2086 # the samples are words
  for method in "${!times[@]}"; do p_big[$method]=$(p_median ${times[$method]}); done
}
declare -A p_big

# Goal 4: 16 clients on two databases, for P_CLIENT_SECONDS (their first calls, which connect, a small part of it).
p_many_clients() {
  local kept=() fdw=()
  for _ in $(seq "$RUNS"); do
    kept+=("$(PGOPTIONS=$p_kept p_pgbench tps -c 16 -j 2 -T "$P_CLIENT_SECONDS" -f "$WORK_DIR/p_2_kept.sql")")
    fdw+=("$(p_pgbench tps -c 16 -j 2 -T "$P_CLIENT_SECONDS" -f "$WORK_DIR/p_2_fdw.sql")")
  done
  p_tps[kept]=$(p_median "${kept[@]}" | awk '{printf "%.0f", $1}')
  p_tps[fdw]=$(p_median "${fdw[@]}" | awk '{printf "%.0f", $1}')
}
declare -A p_tps

# Goal 5: an ask whose plan and rows are cached, against SELECT 1 in a session alike. The scripted LLM answers the
# first ask of each session (a miss fills both caches); every later one is a hit.
p_cached_ask() {
  cat > "$WORK_DIR/p_llm_script.json" <<'JSON'
{"rules": [], "default": "{\"queries\": [{\"database\": \"r1\", \"sql\": \"SELECT count(*) AS n FROM one\"}, {\"database\": \"r2\", \"sql\": \"SELECT count(*) AS n FROM one\"}], \"explanation\": \"x\"}"}
JSON
  chmod 644 "$WORK_DIR/p_llm_script.json"
  cp "$REPO_ROOT/test/llm/llm_stub.py" "$REPO_ROOT/test/llm/provider_profiles.py" "$WORK_DIR/"
  chmod 644 "$WORK_DIR/llm_stub.py" "$WORK_DIR/provider_profiles.py"
  rm -f "$WORK_DIR/p_llm.port"
  start_background "$WORK_DIR/p_llm.log" /usr/bin/python3 "$WORK_DIR/llm_stub.py" --script "$WORK_DIR/p_llm_script.json" \
    --port-file "$WORK_DIR/p_llm.port"
  local stub_pid=${BACKGROUND_PIDS[-1]} url
  for _ in $(seq 50); do [ -s "$WORK_DIR/p_llm.port" ] && break; sleep 0.1; done
  [ -s "$WORK_DIR/p_llm.port" ] || die "(p) the scripted LLM did not start: $(cat "$WORK_DIR/p_llm.log")"
  url="http://127.0.0.1:$(cat "$WORK_DIR/p_llm.port")/v1"
  psql_on "$coordinator_PORT" postgres -c "CREATE SERVER IF NOT EXISTS llm FOREIGN DATA WRAPPER multidb_llm
      OPTIONS (provider 'openai', url '$url', model 'stub')" \
    -c "ALTER SERVER llm OPTIONS (SET url '$url')" -c "CREATE USER MAPPING IF NOT EXISTS FOR PUBLIC SERVER llm" >/dev/null
  echo "SELECT count(*) FROM multidb.ask('how many rows has one, cached', connections => ARRAY['r1', 'r2']);" \
    > "$WORK_DIR/p_ask.sql"
  echo "SELECT 1;" > "$WORK_DIR/p_select1.sql"
  chmod 644 "$WORK_DIR"/p_ask.sql "$WORK_DIR"/p_select1.sql
  [ "$(psql_on "$coordinator_PORT" postgres -At -c "SET multidb.result_cache_ttl = '1h'" -f "$WORK_DIR/p_ask.sql")" = 2 ] ||
    die "(p) the cached ask did not return the two databases' rows"
  local ask=() select1=() options="$p_kept -c multidb.result_cache_ttl=1h"
  for _ in $(seq "$RUNS"); do
    ask+=("$(PGOPTIONS=$options p_pgbench warm -t "$P_CALLS" -f "$WORK_DIR/p_ask.sql")")
    select1+=("$(PGOPTIONS=$options p_pgbench warm -t "$P_CALLS" -f "$WORK_DIR/p_select1.sql")")
  done
  p_ask[ask]=$(p_median "${ask[@]}")
  p_ask[select1]=$(p_median "${select1[@]}")
  # What the ask's own clock says of its hits (history written by a background worker: give it a moment).
  sleep 1
  p_ask[hits]=$(psql_on "$coordinator_PORT" postgres -At -c "
    SELECT count(*) FROM multidb.query_history WHERE question = 'how many rows has one, cached' AND cached = 'result'")
  p_ask[total_ms]=$(psql_on "$coordinator_PORT" postgres -At -c "
    SELECT coalesce(round(percentile_cont(0.5) WITHIN GROUP (ORDER BY total_ms)::numeric, 3)::text, 'not recorded')
      FROM multidb.query_history WHERE question = 'how many rows has one, cached' AND cached = 'result'")
  kill "$stub_pid" 2>/dev/null || true
}
declare -A p_ask

# Goal 2, last (it restarts r1 with pg_stat_statements): one coordinator session makes a warm call, resets r1's
# statistics, makes $P_CHECK_CALLS calls; then r1's server time for the bench role's statements, those of the
# guard's checks (they read pg_roles, pg_proc, pg_depend: whether sent as SQL PREPARE/EXECUTE, where the inner
# statement is counted under its PREPARE text, or prepared at the protocol level) and all of them.
p_server_time() {
  # (ALTER SYSTEM refuses a setting of a library not loaded yet; the last line of postgresql.conf wins.)
  printf '%s\n' "shared_preload_libraries = 'pg_stat_statements'" "pg_stat_statements.track_planning = on" |
    as_pg_user tee -a "$WORK_DIR/r1/postgresql.conf" >/dev/null
  as_pg_user "$PG_BINDIR/pg_ctl" -D "$WORK_DIR/r1" -l "$WORK_DIR/r1.log" -w -t 60 restart >/dev/null
  psql_on "$r1_PORT" postgres -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
  {
    echo "SET multidb.keep_connections = on;"
    echo "SELECT count(*) FROM multidb.fanout('SELECT count(*) FROM one', ARRAY['r1', 'r2']);"
    echo "\\! $PG_BINDIR/psql -X -q -h $WORK_DIR -p $r1_PORT -U ${PG_SUPERUSER:-postgres} -d postgres -c 'SELECT pg_stat_statements_reset()' >/dev/null"
    for _ in $(seq "$P_CHECK_CALLS"); do
      echo "SELECT count(*) FROM multidb.fanout('SELECT count(*) FROM one', ARRAY['r1', 'r2']);"
    done
  } > "$WORK_DIR/p_checks.sql"
  chmod 644 "$WORK_DIR/p_checks.sql"
  psql_on "$coordinator_PORT" postgres -f "$WORK_DIR/p_checks.sql" >/dev/null
  # (pg_current_snapshot: the statement that compares the catalog state, standing for the checks while it is the same;
  # unnamed, its parsing is in no figure of pg_stat_statements: the CPU table below has it)
  local checks="query ~ 'pg_roles|pg_proc|pg_depend|pg_current_snapshot'"
  IFS='|' read -r p_checks_ms p_all_ms p_checks_plan_ms p_statements p_checks_calls p_reset_ms < <(psql_on "$r1_PORT" postgres -At -c "
    SELECT round((sum(total_exec_time + total_plan_time) FILTER (WHERE $checks) / $P_CHECK_CALLS)::numeric, 4),
           round((sum(total_exec_time + total_plan_time) / $P_CHECK_CALLS)::numeric, 4),
           round((sum(total_plan_time) FILTER (WHERE $checks) / $P_CHECK_CALLS)::numeric, 4),
           count(*), coalesce(sum(calls) FILTER (WHERE $checks), 0),
           coalesce(round((sum(total_exec_time + total_plan_time) FILTER (WHERE query ~ 'pg_prepared_statement|pg_advisory_unlock_all')
                           / $P_CHECK_CALLS)::numeric, 4), 0)
      FROM pg_stat_statements WHERE userid = 'bench'::regrole")
  # The statements, most expensive first, for the report.
  p_top=$(psql_on "$r1_PORT" postgres -At -F ' | ' -c "
    SELECT calls, round(((total_exec_time + total_plan_time) / $P_CHECK_CALLS)::numeric, 4),
           left(regexp_replace(query, '\s+', ' ', 'g'), 90)
      FROM pg_stat_statements WHERE userid = 'bench'::regrole ORDER BY total_exec_time + total_plan_time DESC LIMIT 12")
}

bench_roundtrip() {
  log "(p) the warm fan-out's goals side by side"
  p_fixture
  log "(p) 1. a one-row count(*) on 2 and 20 databases, warm"
  p_small_calls
  log "(p) 3. $ROWS rows x 4 columns: fanout_rows, \\copy, postgres_fdw"
  p_big_rows
  log "(p) 4. 16 clients on two databases"
  p_many_clients
  log "(p) 5. an ask whose plan and rows are cached"
  p_cached_ask
  log "(p) 2. the CPU per warm call of each process"
  p_cpu_per_call
  log "(p) 2. the remote's server time per warm call (pg_stat_statements on r1)"
  p_server_time
}

# goal_row LABEL FIGURE BASE GOAL: a row giving FIGURE / BASE beside the goal.
p_goal_row() { echo "| $1 | $2 | $3 | $(ratio "$2" "$3") | $4 |"; }

bench_roundtrip_report() {
  local calls20=$(( P_CALLS / 4 > 10 ? P_CALLS / 4 : 10 ))
  echo
  echo "## (p) a warm fan-out: the goals side by side"
  echo
  echo "Medians of $RUNS runs, the methods taking turns run by run."
  echo
  echo "### 1. one-row count(*) over a small table, warm, one session (ms per warm call: pgbench -t $P_CALLS, 20 databases -t $calls20, each session's first $P_COLD_CALLS calls left out)"
  echo
  echo "multidb: \`SELECT sum((row_data->>'count')::int8) FROM multidb.fanout('SELECT count(*) FROM one', ARRAY[...])\` with multidb.keep_connections on. postgres_fdw: \`SELECT sum(n) FROM (SELECT count(*) AS n FROM one_r1 UNION ALL ...)\`, remote SQL \`$p_remote_sql\`; its connections cached for the session; async: the same servers with async_capable 'true' (Async Foreign Scans in the plan: ${p_plan[2]} of 2, ${p_plan[20]} of 20). Each run is a new session: its first call connects, and its first $P_COLD_CALLS calls are left out of the mean (pgbench --log)."
  echo
  echo "| measure | multidb | against | ratio | goal |"
  echo "|---|---:|---:|---:|---|"
  p_goal_row "2 databases vs postgres_fdw cached" "${p_one[2.kept]}" "${p_one[2.fdw]}" "<= 1.0"
  p_goal_row "2 databases vs postgres_fdw async" "${p_one[2.kept]}" "${p_one[2.fdw_async]}" "(none)"
  p_goal_row "20 databases vs postgres_fdw cached" "${p_one[20.kept]}" "${p_one[20.fdw]}" "<= 0.5"
  p_goal_row "20 databases vs postgres_fdw async" "${p_one[20.kept]}" "${p_one[20.fdw_async]}" "<= 1.0"
  echo
  echo "### 2. the remote's server time per warm call (pg_stat_statements on r1, track_planning on; $P_CHECK_CALLS calls over r1 and r2 after a warm one)"
  echo
  echo "| measure | ms per call | goal |"
  echo "|---|---:|---|"
  echo "| the guard's checks (statements reading pg_roles, pg_proc or pg_depend, or comparing the catalog state in their stead: $p_checks_calls calls), exec + plan | $p_checks_ms | <= 0.1 |"
  echo "| ... of which planning | $p_checks_plan_ms | |"
  echo "| the reset's release of advisory locks before a connection is kept, and the look at its prepared statements (pg_prepared_statement()) before a call runs the prepared checks (neither a check of the statement) | $p_reset_ms | |"
  echo "| everything multidb sent ($p_statements distinct statements), exec + plan | $p_all_ms | |"
  echo
  echo "pg_stat_statements counts a statement's planning and execution, not the executor's start-up (which the extended protocol does at Bind) nor parsing, transaction start and end, or the protocol. The CPU time each process spent per warm call over r1 and r2 (µs; /proc/PID/schedstat over 3 s of a running \`pgbench -T 6\`, one client, divided by the calls in that window):"
  echo
  echo "| method | coordinator | r1 | r2 | sum |"
  echo "|---|---:|---:|---:|---:|"
  local method
  for method in kept fdw; do
    echo "| $([ "$method" = kept ] && echo "multidb kept" || echo "postgres_fdw cached") | ${p_cpu[$method.coordinator]} | ${p_cpu[$method.r1]} | ${p_cpu[$method.r2]} | $(awk -v a="${p_cpu[$method.coordinator]}" -v b="${p_cpu[$method.r1]}" -v c="${p_cpu[$method.r2]}" 'BEGIN {printf "%.1f", a + b + c}') |"
  done
  echo
  echo "The statements, most server time first (calls | ms per fan-out call | text):"
  echo
  echo '```'
  echo "$p_top"
  echo '```'
  echo
  echo "### 3. $ROWS rows x 4 columns (int8, text, numeric, timestamptz) from r1 (ms)"
  echo
  echo "fanout_rows through a kept connection warmed in the same session: counted (\`SELECT count(*) FROM multidb.fanout_rows(...)\`: every row received, decoded and stored, nothing computed over its values, as \\copy reads and discards them), and under section (b)'s aggregate, which sums and measures every value besides, as postgres_fdw is read (all returned \`$p_big_result\`; postgres_fdw would push a count(*) down); \\copy: \`psql -c \"\\copy (SELECT id, t, n, ts FROM big) TO /dev/null\"\` straight to r1, wall time with psql's start and connection."
  echo
  echo "| measure | fanout_rows | against | ratio | goal |"
  echo "|---|---:|---:|---:|---|"
  p_goal_row "counted, vs psql \\copy" "${p_big[fanout_count]}" "${p_big[copy]}" "<= 1.0"
  p_goal_row "aggregate, vs psql \\copy" "${p_big[fanout_rows]}" "${p_big[copy]}" "(the aggregate's own work is in it)"
  p_goal_row "aggregate, vs postgres_fdw's aggregate" "${p_big[fanout_rows]}" "${p_big[fdw]}" "<= 0.5"
  echo
  echo "### 4. 16 clients on two databases (pgbench -c 16 -j 2 -T $P_CLIENT_SECONDS), calls/s"
  echo
  echo "| measure | multidb kept | postgres_fdw cached | ratio | goal |"
  echo "|---|---:|---:|---:|---|"
  p_goal_row "calls/s" "${p_tps[kept]}" "${p_tps[fdw]}" ">= 1.0"
  echo
  echo "### 5. an ask whose plan and rows are cached (multidb.result_cache_ttl = 1h, kept connections; pgbench -t $P_CALLS, one session, its first $P_COLD_CALLS calls left out of both means)"
  echo
  echo "| measure | ms |"
  echo "|---|---:|"
  echo "| the cached ask, per call | ${p_ask[ask]} |"
  echo "| SELECT 1, per call | ${p_ask[select1]} |"
  echo "| multidb's overhead: the difference (goal <= 0.5) | $(awk -v a="${p_ask[ask]}" -v b="${p_ask[select1]}" 'BEGIN {printf "%.3f", a - b}') |"
  echo "| total_ms in query_history, median of the ${p_ask[hits]} result-cache hits | ${p_ask[total_ms]} |"
}
