# shellcheck shell=bash disable=SC2154 # the ${NAME}_PORT variables are set by start_cluster
# `make bench`, section (k): views of multidb's answers for BI tools, sourced by bench/run.sh once its
# coordinator (with r1, its table big of $ROWS rows, and multidb) is up. bench_views measures, bench_views_report
# prints the section of results.md, medians of $RUNS:
#   - a dashboard query (rows per hour: count, sum, max) over a snapshot view of big against the same query over a
#     plain local table of the same rows and types (goal: <= 1.5x; the view is a plain VIEW over the snapshot's
#     typed table, so the planner inlines it);
#   - the same query over a live view against fanout_rows called directly with the same column list (goal: the
#     same within noise: the live view is that call, typed once when it was made).

bench_views() {
  log "(k) views: a snapshot view of $ROWS rows against a local table; a live view against fanout_rows"
  local big_sql='SELECT id, t, n, ts FROM big'
  psql_on "$coordinator_PORT" postgres -v ON_ERROR_STOP=1 -c "
    SELECT multidb.create_view_sql('public.big_snapshot', '$big_sql', ARRAY['r1']);
    SELECT multidb.create_view_sql('public.big_live', '$big_sql', ARRAY['r1'], mode => 'live');
    CREATE TABLE public.big_local AS SELECT * FROM public.big_snapshot;" -c "VACUUM ANALYZE public.big_local" >/dev/null
  # refresh_view fills the snapshot inside the calling transaction: VACUUM ANALYZE it as a table of its own.
  local snapshot_table
  snapshot_table=$(psql_on "$coordinator_PORT" postgres -At -c \
    "SELECT snapshot_table FROM multidb.saved_views WHERE view_name = 'big_snapshot'")
  psql_on "$coordinator_PORT" postgres -c "VACUUM ANALYZE multidb_snapshots.\"$snapshot_table\"" >/dev/null
  k_refresh=$(ms "SELECT multidb.refresh_view('public.big_snapshot')")
  psql_on "$coordinator_PORT" postgres -c "VACUUM ANALYZE multidb_snapshots.\"$snapshot_table\"" >/dev/null

  k_sizes=$(psql_on "$coordinator_PORT" postgres -At -c "SELECT pg_size_pretty(pg_relation_size('public.big_local')) || ' | '
    || pg_size_pretty(pg_relation_size('multidb_snapshots.\"$snapshot_table\"'))")
  k_dashboard="SELECT md5(string_agg(concat_ws('|', h, c, s, m), ',' ORDER BY h)) FROM (SELECT date_trunc('hour', ts) AS h, count(*) AS c, sum(n) AS s, max(length(t)) AS m FROM %s GROUP BY 1) x"
  declare -gA k_ms
  # k_pair NAME_A FROM_A NAME_B FROM_B QUERY-FORMAT: both sources answer the same; timed alternately, run by run, so
  # that a change in the machine's load meets both.
  k_pair() {
    local name_a=$1 from_a=$2 name_b=$3 from_b=$4 format=$5 expected='' name from run result_and_time
    local -a times_a=() times_b=()
    for run in $(seq "$RUNS"); do
      for name in "$name_a" "$name_b"; do
        from=$from_a; [ "$name" = "$name_b" ] && from=$from_b
        # shellcheck disable=SC2059 # the query is the format
        mapfile -t result_and_time < <(timed "$(printf "$format" "$from")")
        [ -z "$expected" ] && expected=${result_and_time[0]}
        [ "${result_and_time[0]}" = "$expected" ] || die "(k) $name answered ${result_and_time[0]}, $name_a $expected"
        if [ "$name" = "$name_a" ]; then times_a+=("${result_and_time[1]}"); else times_b+=("${result_and_time[1]}"); fi
      done
    done
    k_ms[$name_a]=$(printf '%s\n' "${times_a[@]}" | median)
    k_ms[$name_b]=$(printf '%s\n' "${times_b[@]}" | median)
  }
  k_pair big_local public.big_local big_snapshot public.big_snapshot "$k_dashboard"
  k_pair fanout_rows "multidb.fanout_rows('$big_sql', ARRAY['r1']) AS s(source_db text, id bigint, t text, n numeric, ts timestamp with time zone)" \
    big_live public.big_live "$consume %s"
}

bench_views_report() {
  echo "## (k) views for BI tools, $ROWS rows x 4 columns from r1"
  echo
  echo "A dashboard query (rows per hour: count, sum(n), max(length(t))) over a snapshot view (create_view_sql; refreshing it took $k_refresh ms) and over a plain local table of the same rows; then a live view against the fanout_rows call it stands for, read with \`$consume <source>\`."
  echo
  echo "Sizes after one refresh and VACUUM ANALYZE (local table | snapshot table): $k_sizes."
  echo
  echo "| relation | ms | vs its baseline | goal |"
  echo "|---|---:|---:|---|"
  echo "| plain local table | ${k_ms[big_local]} | 1.00 | |"
  echo "| snapshot view | ${k_ms[big_snapshot]} | $(ratio "${k_ms[big_snapshot]}" "${k_ms[big_local]}") | <= 1.5 |"
  echo "| fanout_rows called directly | ${k_ms[fanout_rows]} | 1.00 | |"
  echo "| live view | ${k_ms[big_live]} | $(ratio "${k_ms[big_live]}" "${k_ms[fanout_rows]}") | the same within noise |"
  echo
}
