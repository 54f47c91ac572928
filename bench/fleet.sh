# shellcheck shell=bash disable=SC2154 # the ${NAME}_PORT variables are set by start_cluster
# `make bench`, section (m): a fleet of tenant databases, sourced by bench/run.sh; `BENCH_ONLY=fleet make bench`
# runs only this section. It starts servers of its own: a coordinator (fleetc) that may open a socket per tenant
# (max_files_per_process raised for postgres_fdw's sake, which keeps one connection per foreign server) and
# $FLEET_CLUSTERS remote clusters holding $FLEET_TENANTS tenant databases of one schema between them (made from a
# template database, STRATEGY FILE_COPY). bench_fleet measures, bench_fleet_report prints:
#   - a one-row statement per tenant (SELECT count(*) FROM orders) over all of them with multidb.fanout_rows over
#     '@tenants', $FLEET_AT_ONCE targets at once in the backend: cold (a new session per run) and warm (one session,
#     its connections kept from the run before);
#   - the same total with postgres_fdw over a partitioned table of one foreign partition per tenant (a foreign
#     server each, async_capable 'true'), warm (one session; its connections kept) and cold (a new session);
#   - the coordinator backend's peak memory (VmHWM) for the cold fan-out, and for $FLEET_ROWS_TENANTS tenants x
#     $FLEET_ROWS rows.
# Each time is the median of $FLEET_REPS runs.

FLEET_TENANTS=${FLEET_TENANTS:-1000}
FLEET_CLUSTERS=${FLEET_CLUSTERS:-4}
FLEET_REPS=${FLEET_REPS:-5}
FLEET_AT_ONCE=${FLEET_AT_ONCE:-64}
FLEET_ROWS_TENANTS=${FLEET_ROWS_TENANTS:-300}
FLEET_ROWS=${FLEET_ROWS:-1000}

declare -A fleet_ms fleet_kb
fleet_create_s=0

# fleet_median_ms SETUP QUERY: the median time of $FLEET_REPS runs of QUERY in one session after SETUP and one
# warming run.
fleet_median_ms() {
  local args=(-c "$1" -c '\timing on') _
  for _ in $(seq $(( FLEET_REPS + 1 ))); do args+=(-c "$2"); done
  psql_on "$fleetc_PORT" postgres -At "${args[@]}" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n +2 | median
}

# fleet_cold_ms SETUP QUERY: the median of $FLEET_REPS runs of QUERY, each in a new session.
fleet_cold_ms() {
  local _
  for _ in $(seq "$FLEET_REPS"); do
    psql_on "$fleetc_PORT" postgres -At -c "$1" -c '\timing on' -c "$2" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
  done | median
}

# fleet_peak_kb SETUP QUERY: the backend's peak resident memory after QUERY, in a new session.
fleet_peak_kb() {
  psql_on "$fleetc_PORT" postgres -At -c "$1" -c "$2" \
    -c "SELECT (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'VmHWM:\s+(\d+)'))[1]" | tail -1
}

bench_fleet() {
  log "(m) fleet: $FLEET_TENANTS tenant databases on $FLEET_CLUSTERS clusters"
  local per=$(( (FLEET_TENANTS + FLEET_CLUSTERS - 1) / FLEET_CLUSTERS )) c i name port_var start
  start_cluster fleetc "jit = off" "max_files_per_process = $(( FLEET_TENANTS * 3 + 1000 ))" "max_connections = 40"
  # A backend may hold a third of its descriptors as sockets (AcquireExternalFD, multidb's and postgres_fdw's alike),
  # and a login's soft limit is often 1,024: started again with the hard limit, so that both can hold a socket per
  # tenant (with 1,024, postgres_fdw's async Append fails at about 330 partitions: "epoll_create1 failed").
  as_pg_user "$PG_BINDIR/pg_ctl" -D "$WORK_DIR/fleetc" -m fast -w stop >/dev/null
  as_pg_user bash -c "ulimit -n \$(ulimit -Hn) && exec '$PG_BINDIR/pg_ctl' -D '$WORK_DIR/fleetc' -l '$WORK_DIR/fleetc.log' -w start" >/dev/null
  start=$(date +%s.%N)
  for c in $(seq "$FLEET_CLUSTERS"); do
    start_cluster "fleet$c" "max_connections = $(( per + 40 ))"
    port_var="fleet${c}_PORT"
    psql_on "${!port_var}" postgres -c "CREATE ROLE bench LOGIN PASSWORD '$PASSWORD'" -c "CREATE DATABASE fleet_template"
    psql_on "${!port_var}" fleet_template -c "
      CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, country text NOT NULL);
      CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers, status text NOT NULL,
                           total numeric(12,2) NOT NULL);
      CREATE TABLE items (order_id int, n int);
      INSERT INTO customers VALUES (1, 'Ada', 'DE'), (2, 'Bo', 'SE'), (3, 'Cy', 'US');
      INSERT INTO orders SELECT g, 1 + g % 3, 'open', g * 10 FROM generate_series(1, 10) g;
      INSERT INTO items SELECT g, g FROM generate_series(1, $FLEET_ROWS) g;
      GRANT SELECT ON ALL TABLES IN SCHEMA public TO bench;" >/dev/null
  done
  local -a creates=()
  for i in $(seq "$FLEET_TENANTS"); do
    printf -v name 't%04d' "$i"
    c=$(( (i - 1) % FLEET_CLUSTERS + 1 ))
    creates[c]+="CREATE DATABASE $name TEMPLATE fleet_template STRATEGY FILE_COPY;"$'\n'
  done
  for c in $(seq "$FLEET_CLUSTERS"); do
    port_var="fleet${c}_PORT"
    printf '%s' "${creates[c]}" | psql_on "${!port_var}" postgres >/dev/null &
  done
  wait
  fleet_create_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')

  # multidb's connections and group, postgres_fdw's servers, mappings and partitions: one transaction.
  local sql="CREATE EXTENSION multidb; CREATE EXTENSION postgres_fdw SCHEMA public;
    CREATE TABLE public.orders_all (tenant int, id int, customer_id int, status text, total numeric(12,2))
      PARTITION BY LIST (tenant);
    CREATE TABLE public.items_all (tenant int, order_id int, n int) PARTITION BY LIST (tenant);
    BEGIN;" members=""
  for i in $(seq "$FLEET_TENANTS"); do
    printf -v name 't%04d' "$i"
    port_var="fleet$(( (i - 1) % FLEET_CLUSTERS + 1 ))_PORT"
    sql+="SELECT multidb.add_connection('$name', 'host=127.0.0.1 port=${!port_var} dbname=$name user=bench password=$PASSWORD', validate => false);
      CREATE SERVER fdw_$name FOREIGN DATA WRAPPER postgres_fdw
        OPTIONS (host '127.0.0.1', port '${!port_var}', dbname '$name', async_capable 'true');
      CREATE USER MAPPING FOR CURRENT_USER SERVER fdw_$name OPTIONS (user 'bench', password '$PASSWORD');
      CREATE FOREIGN TABLE public.orders_$name PARTITION OF public.orders_all FOR VALUES IN ($i)
        SERVER fdw_$name OPTIONS (schema_name 'public', table_name 'orders');
      CREATE FOREIGN TABLE public.items_$name PARTITION OF public.items_all FOR VALUES IN ($i)
        SERVER fdw_$name OPTIONS (schema_name 'public', table_name 'items');"
    members+="${members:+,}'$name'"
  done
  sql+="SELECT multidb.create_group('tenants', ARRAY[$members]); COMMIT;"
  printf '%s\n' "$sql" | psql_on "$fleetc_PORT" postgres >/dev/null

  local total=$(( FLEET_TENANTS * 10 ))
  local multidb_sql="SELECT sum(n) FROM multidb.fanout_rows('SELECT count(*) FROM orders', ARRAY['@tenants']) AS t(source_db text, n int8)"
  local fdw_sql="SELECT count(*) FROM public.orders_all"
  local got
  got=$(psql_on "$fleetc_PORT" postgres -At -c "SET multidb.max_workers = $FLEET_AT_ONCE; SET multidb.connect_timeout = 60" -c "$multidb_sql")
  [ "$got" = "$total" ] || die "fleet: multidb counted $got orders, not $total"
  got=$(psql_on "$fleetc_PORT" postgres -At -c "$fdw_sql")
  [ "$got" = "$total" ] || die "fleet: postgres_fdw counted $got orders, not $total"

  log "(m) fleet: one row per tenant, cold and warm, multidb and postgres_fdw"
  # Cold: a new session per run, so nothing is kept from an earlier one; warm: one session, after a run that opened
  # the connections. Both in the backend, $FLEET_AT_ONCE targets at once (multidb.max_workers = 0 would open all
  # 1,000 connections at once, more than four clusters on a shared machine accept within the connect timeout).
  # A generous connect timeout: a thousand logins on a shared machine may queue behind each other.
  local cold_setup="SET multidb.max_workers = $FLEET_AT_ONCE; SET multidb.connect_timeout = 60"
  local warm_setup="$cold_setup"
  fleet_ms[multidb_cold]=$(fleet_cold_ms "$cold_setup" "$multidb_sql")
  fleet_ms[multidb_warm]=$(fleet_median_ms "$warm_setup" "$multidb_sql")
  fleet_ms[fdw_cold]=$(fleet_cold_ms "SELECT 1" "$fdw_sql")
  fleet_ms[fdw_warm]=$(fleet_median_ms "SELECT 1" "$fdw_sql")
  fleet_kept=$(psql_on "$fleetc_PORT" postgres -At -c "$warm_setup" -c "$multidb_sql" -c "SELECT count(*) FROM multidb.open_connections()" | tail -1)

  log "(m) fleet: the coordinator backend's peak memory"
  fleet_kb[idle]=$(fleet_peak_kb "SELECT 1" "SELECT 1")
  fleet_kb[multidb_cold]=$(fleet_peak_kb "$cold_setup" "$multidb_sql")
  fleet_kb[multidb_warm]=$(fleet_peak_kb "$warm_setup" "$multidb_sql")
  fleet_kb[fdw]=$(fleet_peak_kb "SELECT 1" "$fdw_sql")
  local members_rows="" rows_sql
  for i in $(seq "$FLEET_ROWS_TENANTS"); do printf -v name "'t%04d'" "$i"; members_rows+="${members_rows:+,}$name"; done
  rows_sql="SELECT count(*), sum(n) FROM multidb.fanout_rows('SELECT order_id, n FROM items', ARRAY[$members_rows]) AS t(source_db text, order_id int, n int)"
  fleet_kb[multidb_rows]=$(fleet_peak_kb "$cold_setup" "$rows_sql")
  fleet_ms[multidb_rows]=$(fleet_cold_ms "$cold_setup" "$rows_sql")
}

bench_fleet_report() {
  echo "## (m) A fleet: $FLEET_TENANTS tenant databases on $FLEET_CLUSTERS clusters"
  echo
  echo "$FLEET_TENANTS databases of one schema created in ${fleet_create_s} s (CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY, the clusters in parallel). One row per tenant (\`SELECT count(*) FROM orders\`, summed); medians of $FLEET_REPS runs, ms. multidb: \`multidb.max_workers = $FLEET_AT_ONCE\` (targets in the backend, $FLEET_AT_ONCE at once), cold: a new session per run, warm: one session, its connections kept from the run before (${fleet_kept} kept after a call). postgres_fdw: \`SELECT count(*)\` over a partitioned table of $FLEET_TENANTS foreign partitions (a server each, \`async_capable 'true'\`), cold: a new session per run, warm: one session."
  echo
  echo "| method | cold | warm | warm vs postgres_fdw warm |"
  echo "|---|---:|---:|---:|"
  echo "| multidb.fanout_rows over @tenants | ${fleet_ms[multidb_cold]} | ${fleet_ms[multidb_warm]} | $(ratio "${fleet_ms[multidb_warm]}" "${fleet_ms[fdw_warm]}") |"
  echo "| postgres_fdw, async | ${fleet_ms[fdw_cold]} | ${fleet_ms[fdw_warm]} | 1.00 |"
  echo
  echo "The coordinator backend's peak resident memory (VmHWM, kB; a session that ran \`SELECT 1\`: ${fleet_kb[idle]}):"
  echo
  echo "| call | VmHWM kB |"
  echo "|---|---:|"
  echo "| multidb, $FLEET_TENANTS x one row, cold | ${fleet_kb[multidb_cold]} |"
  echo "| multidb, $FLEET_TENANTS x one row, warm | ${fleet_kb[multidb_warm]} |"
  echo "| postgres_fdw, $FLEET_TENANTS x count | ${fleet_kb[fdw]} |"
  echo "| multidb, $FLEET_ROWS_TENANTS x $FLEET_ROWS rows, cold (${fleet_ms[multidb_rows]} ms) | ${fleet_kb[multidb_rows]} |"
  echo
}
