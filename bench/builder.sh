# shellcheck shell=bash disable=SC2154 # the ${NAME}_PORT variables are set by start_cluster
# `make bench`, section (o): the query builder, sourced by bench/run.sh once its coordinator (with r1..r3 and
# multidb) is up; `BENCH_ONLY=builder make bench` runs only this section. bench_builder measures,
# bench_builder_report prints:
#   - the compiler's own cost per spec (bench/spec_compile_bench, the pure core: no server);
#   - a built query run against the same hand-written SQL through multidb.fanout over two databases (r1, r2): per
#     call, one client, pgbench, warm (one session: the schemas parsed once) — the goal: the same time within
#     noise; the spec's compile (build_plan alone) beside it.
# Each figure is the median of $RUNS pgbench runs of $BUILDER_CALLS calls, the two sides taking turns.

BUILDER_ROWS=${BUILDER_ROWS:-20000}
BUILDER_CALLS=${BUILDER_CALLS:-200}

# builder_latency SCRIPT: pgbench's average latency in ms for SCRIPT, $BUILDER_CALLS calls in one session.
builder_latency() {
  local output latency
  output=$(as_pg_user env PGPASSWORD="$PASSWORD" "$PG_BINDIR/pgbench" -n -t "$BUILDER_CALLS" -f "$1" \
             -h "$WORK_DIR" -p "$coordinator_PORT" -U "${PG_SUPERUSER:-postgres}" postgres 2>&1) ||
    die "pgbench failed on $1: $output"
  latency=$(printf '%s\n' "$output" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
  [ -n "$latency" ] || die "pgbench printed no latency for $1: $output"
  echo "$latency"
}

bench_builder() {
  log "(o) the query builder: the compiler per spec, and build() against the same SQL through fanout"
  make -s -C "$REPO_ROOT" bench/spec_compile_bench PG_CONFIG="$PG_CONFIG" >/dev/null
  o_compile=$("$REPO_ROOT/bench/spec_compile_bench")

  local r
  for r in r1 r2; do
    local port_var="${r}_PORT"
    psql_on "${!port_var}" postgres -c "
      DROP TABLE IF EXISTS orders;
      CREATE TABLE orders AS SELECT g::int AS id, 'c' || (g % 50) AS customer,
                                    (ARRAY['paid', 'open', 'refunded'])[1 + g % 3] AS status,
                                    (g % 1000 * 1.25)::numeric(12,2) AS total, date '2026-01-01' + g % 365 AS created_at
                               FROM generate_series(1, $BUILDER_ROWS) g;
      ALTER TABLE orders ADD PRIMARY KEY (id);
      GRANT SELECT ON orders TO bench;" -c "VACUUM ANALYZE orders" >/dev/null
  done
  # Two shapes: rows (a filter, 100 rows a database) and a summary (revenue per month of the paid orders).
  local rows_spec='{"connections": ["r1", "r2"], "table": "orders", "columns": ["id", "customer", "total"], "filter": {"and": [{"column": "status", "op": "=", "value": "paid"}, {"column": "id", "op": "<=", "value": 300}]}}'
  local rows_sql="SELECT id, customer, total FROM orders WHERE status = 'paid' AND id <= 300"
  local sum_spec='{"connections": ["r1", "r2"], "table": "orders", "filter": {"column": "status", "op": "=", "value": "paid"}, "group_by": [{"column": "created_at", "by": "month"}], "summaries": [{"fn": "count"}, {"fn": "sum", "column": "total"}]}'
  local sum_sql="SELECT CAST(date_trunc('month', created_at) AS date) AS created_at_month, count(*) AS count, sum(total) AS sum_total FROM orders WHERE status = 'paid' GROUP BY 1"
  local shape built hand expected
  for shape in rows sum; do
    local spec_var="${shape}_spec" sql_var="${shape}_sql"
    built="SELECT count(*) FROM multidb.build('${!spec_var}');"
    hand="SELECT count(*) FROM multidb.fanout(\$q\$${!sql_var}\$q\$, ARRAY['r1', 'r2']);"
    expected=$(psql_on "$coordinator_PORT" postgres -At -c "$hand")
    [ "$(psql_on "$coordinator_PORT" postgres -At -c "$built")" = "$expected" ] ||
      die "(o) build() and the hand-written SQL disagree on the $shape spec"
    printf '%s\n' "$built" > "$WORK_DIR/o_${shape}_built.sql"
    printf '%s\n' "$hand" > "$WORK_DIR/o_${shape}_hand.sql"
    printf '%s\n' "SELECT multidb.build_plan('${!spec_var}') IS NOT NULL;" > "$WORK_DIR/o_${shape}_plan.sql"
    o_rows[$shape]=$expected
  done
  chmod 644 "$WORK_DIR"/o_*.sql
  local run
  for shape in rows sum; do
    local built_times=() hand_times=() plan_times=()
    for run in $(seq "$RUNS"); do
      built_times+=("$(builder_latency "$WORK_DIR/o_${shape}_built.sql")")
      hand_times+=("$(builder_latency "$WORK_DIR/o_${shape}_hand.sql")")
      plan_times+=("$(builder_latency "$WORK_DIR/o_${shape}_plan.sql")")
    done
    o_ms[$shape.built]=$(printf '%s\n' "${built_times[@]}" | median)
    o_ms[$shape.hand]=$(printf '%s\n' "${hand_times[@]}" | median)
    o_ms[$shape.plan]=$(printf '%s\n' "${plan_times[@]}" | median)
  done
}
declare -A o_ms o_rows

bench_builder_report() {
  echo
  echo "## (o) the query builder"
  echo
  echo "The compiler alone (bench/spec_compile_bench, the pure core, no server):"
  echo
  echo "$o_compile"
  echo
  echo "multidb.build(spec) against the same hand-written SQL through multidb.fanout over two databases (r1, r2, $BUILDER_ROWS orders each), ms per call, one client in one session, median of $RUNS pgbench runs of $BUILDER_CALLS calls; build_plan alone is the spec's compile with its schema lookup and guard, nothing run. Goal: build within noise of fanout."
  echo
  echo "| spec | rows | build | fanout (hand-written) | build / fanout | build_plan alone |"
  echo "|---|---:|---:|---:|---:|---:|"
  echo "| rows: 2 filters, 3 columns | ${o_rows[rows]} | ${o_ms[rows.built]} | ${o_ms[rows.hand]} | $(ratio "${o_ms[rows.built]}" "${o_ms[rows.hand]}") | ${o_ms[rows.plan]} |"
  echo "| summary: count and sum per month, 1 filter | ${o_rows[sum]} | ${o_ms[sum.built]} | ${o_ms[sum.hand]} | $(ratio "${o_ms[sum.built]}" "${o_ms[sum.hand]}") | ${o_ms[sum.plan]} |"
}
