# shellcheck shell=bash disable=SC2154 # the ${NAME}_PORT variables are set by start_cluster
# `make bench`, section (k): multidb's views, sourced by bench/run.sh once its coordinator (with r1..r3 and multidb)
# is up; `BENCH_ONLY=views make bench` runs only this section. bench_views measures, bench_views_report prints:
#   - a dashboard query (an aggregate by source_db and region) and a point lookup over a snapshot view of
#     $VIEW_ROWS rows (half on r1, half on r2) against the same queries over a plain local table holding the same
#     rows (the goal: <= 1.5x);
#   - the same aggregate over a live view against the same SQL over multidb.fanout_rows directly (the same time
#     within noise);
#   - a refresh of the snapshot view (fetching all its rows anew).
# Each figure is the median of $VIEW_REPS runs in one session, the two sides of a comparison taking turns, after one
# run of each that warms it.

VIEW_ROWS=${VIEW_ROWS:-100000}
VIEW_REPS=${VIEW_REPS:-7}

# view_pair_ms QUERY_A QUERY_B: "median_a median_b" of $VIEW_REPS runs of each in one session, A and B taking turns
# (so that a change in the machine's load meets both), after one warming run of each.
view_pair_ms() {
  local args=(-c '\timing on') times
  for _ in $(seq $(( VIEW_REPS + 1 ))); do args+=(-c "$1" -c "$2"); done
  times=$(psql_on "$coordinator_PORT" postgres -At "${args[@]}" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n +3)
  echo "$(printf '%s\n' "$times" | awk 'NR % 2 == 1' | median) $(printf '%s\n' "$times" | awk 'NR % 2 == 0' | median)"
}

bench_views() {
  log "(k) views: a snapshot view of $VIEW_ROWS rows against a plain table, a live view against fanout_rows"
  local half=$(( VIEW_ROWS / 2 )) r offset
  for r in r1 r2; do
    local port_var="${r}_PORT"
    offset=0; [ "$r" = r2 ] && offset=$half
    psql_on "${!port_var}" postgres -c "
      DROP TABLE IF EXISTS sales;
      CREATE TABLE sales AS SELECT (g + $offset)::int8 AS id, 'region ' || (g % 8) AS region,
                                   ((g * 37) % 100000 / 100.0)::numeric(12,2) AS amount
                              FROM generate_series(1, $half) g;
      GRANT SELECT ON sales TO bench;" -c "VACUUM ANALYZE sales" >/dev/null
  done
  local select="SELECT id, region, amount FROM sales"
  psql_on "$coordinator_PORT" postgres -c "
    SELECT multidb.create_view_sql('public.sales_snapshot', '$select', ARRAY['r1', 'r2']);
    SELECT multidb.create_view_sql('public.sales_live', '$select', ARRAY['r1', 'r2'], mode => 'live');
    CREATE TABLE public.sales_local AS SELECT * FROM public.sales_snapshot;" >/dev/null
  # Both read at their steady state: vacuumed and analyzed (autovacuum would, a little later).
  local snapshot_table
  snapshot_table=$(psql_on "$coordinator_PORT" postgres -At -c "
    SELECT format('%I.%I', n.nspname, c.relname) FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
      JOIN pg_class c ON c.oid = d.refobjid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
       AND r.ev_class = 'public.sales_snapshot'::regclass AND n.nspname = 'multidb_snapshots' LIMIT 1")
  psql_on "$coordinator_PORT" postgres -c "VACUUM ANALYZE $snapshot_table" -c "VACUUM ANALYZE public.sales_local" >/dev/null
  k_rows=$(psql_on "$coordinator_PORT" postgres -At -c "SELECT count(*) FROM public.sales_snapshot")
  local dashboard="SELECT source_db, region, sum(amount) FROM %s GROUP BY 1, 2"
  local lookup="SELECT * FROM %s WHERE source_db = 'r2' AND id = $(( half + 4242 ))"
  local fanout="multidb.fanout_rows('$select', ARRAY['r1', 'r2']) AS t(source_db text, id int8, region text, amount numeric(12,2))"
  # shellcheck disable=SC2059 # the queries are the formats
  read -r k_dash_snapshot k_dash_local < <(view_pair_ms "$(printf "$dashboard" public.sales_snapshot)" "$(printf "$dashboard" public.sales_local)")
  # shellcheck disable=SC2059
  read -r k_lookup_snapshot k_lookup_local < <(view_pair_ms "$(printf "$lookup" public.sales_snapshot)" "$(printf "$lookup" public.sales_local)")
  # shellcheck disable=SC2059
  read -r k_dash_live k_dash_fanout < <(view_pair_ms "$(printf "$dashboard" public.sales_live)" "$(printf "$dashboard" "$fanout")")
  # As a schedule leaves it: one refresh (the old snapshot's rows dead, not yet vacuumed) ...
  local refreshed_at
  refreshed_at=$(psql_on "$coordinator_PORT" postgres -At -c "SELECT multidb.refresh_view('public.sales_snapshot')" \
                   -c "SELECT now()" | tail -n 1)
  # shellcheck disable=SC2059
  read -r k_dash_once k_dash_local_once < <(view_pair_ms "$(printf "$dashboard" public.sales_snapshot)" "$(printf "$dashboard" public.sales_local)")
  # ... then once autovacuum has come to the table (the snapshot tables ask it to come after any refresh of more than a
  # thousand rows): waited for, up to three naptimes.
  local waited=0
  until [ "$(psql_on "$coordinator_PORT" postgres -At -c "SELECT coalesce(last_autovacuum > '$refreshed_at', false)
                                                            FROM pg_stat_user_tables WHERE relid = '$snapshot_table'::regclass")" = t ] \
        || [ "$waited" -ge 180 ]; do
    sleep 5; waited=$(( waited + 5 ))
  done
  k_vacuum_wait=$waited
  # shellcheck disable=SC2059
  read -r k_dash_vacuumed k_dash_local_vacuumed < <(view_pair_ms "$(printf "$dashboard" public.sales_snapshot)" "$(printf "$dashboard" public.sales_local)")
  read -r k_refresh _ < <(view_pair_ms "SELECT multidb.refresh_view('public.sales_snapshot')" "SELECT 1")
  # Right after those back-to-back refreshes, before a vacuum could come between them: each inserted its rows into
  # new pages, so the table holds that many snapshots' pages.
  # shellcheck disable=SC2059
  read -r k_dash_refreshed k_dash_local_again < <(view_pair_ms "$(printf "$dashboard" public.sales_snapshot)" "$(printf "$dashboard" public.sales_local)")
}

bench_views_report() {
  echo "## (k) views: a snapshot view against a plain table, a live view against fanout_rows ($k_rows rows, half on r1, half on r2)"
  echo
  echo "\`multidb.create_view_sql('public.sales_snapshot', 'SELECT id, region, amount FROM sales', ARRAY['r1', 'r2'])\`; the plain table is \`CREATE TABLE sales_local AS SELECT * FROM sales_snapshot\` (the same rows and types); both vacuumed and analyzed, no index on either. The live view is the same statement with \`mode => 'live'\`. Medians of $VIEW_REPS runs of each side in one session, the two sides taking turns, after a warming run of each."
  echo
  echo "| query | view ms | same query, plain table / fanout_rows ms | ratio | goal |"
  echo "|---|---:|---:|---:|---|"
  echo "| dashboard: \`SELECT source_db, region, sum(amount) … GROUP BY 1, 2\`, snapshot view vs plain table | $k_dash_snapshot | $k_dash_local | $(ratio "$k_dash_snapshot" "$k_dash_local") | <= 1.5 |"
  echo "| point lookup: \`WHERE source_db = 'r2' AND id = …\`, snapshot view vs plain table | $k_lookup_snapshot | $k_lookup_local | $(ratio "$k_lookup_snapshot" "$k_lookup_local") | <= 1.5 |"
  echo "| dashboard, live view vs the same SQL over \`multidb.fanout_rows\` | $k_dash_live | $k_dash_fanout | $(ratio "$k_dash_live" "$k_dash_fanout") | ~1.0 (noise) |"
  echo "| dashboard, snapshot view right after one refresh (the old snapshot's rows dead, not yet vacuumed) vs plain table | $k_dash_once | $k_dash_local_once | $(ratio "$k_dash_once" "$k_dash_local_once") | <= 1.5 |"
  echo "| dashboard, snapshot view after that refresh once autovacuum came to it (${k_vacuum_wait} s later) vs plain table | $k_dash_vacuumed | $k_dash_local_vacuumed | $(ratio "$k_dash_vacuumed" "$k_dash_local_vacuumed") | <= 1.5 |"
  echo "| dashboard, snapshot view right after $(( VIEW_REPS + 1 )) refreshes (no VACUUM of ours since; autovacuum may have come) vs plain table | $k_dash_refreshed | $k_dash_local_again | $(ratio "$k_dash_refreshed" "$k_dash_local_again") | <= 1.5 |"
  echo
  echo "A refresh of the snapshot view (\`multidb.refresh_view\`: its columns described again, $k_rows rows fetched, deleted and inserted in one transaction): $k_refresh ms."
  echo
}
