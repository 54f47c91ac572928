#!/usr/bin/env bash
# `make demo`: set the machine up, start a coordinator and two remote servers (production and a backup a
# few orders behind), and show multidb comparing them.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../test/harness/lib.sh
source "$REPO_ROOT/test/harness/lib.sh"

READER_PASSWORD=reader-secret

setup_machine
make_work_dir
trap cleanup_work_dir EXIT

log "starting three PostgreSQL servers under $WORK_DIR"
start_cluster coordinator
start_cluster production
start_cluster backup

log "generating the shop on production and backup (backup is 3 orders behind)"
cp "$REPO_ROOT/demo/shop_data.sql" "$WORK_DIR/shop_data.sql"
for server in production backup; do
  port_var="${server}_PORT"
  missing=0
  [ "$server" = backup ] && missing=3
  psql_on "${!port_var}" postgres -c "CREATE DATABASE shop" \
    -c "CREATE ROLE shop_reader LOGIN PASSWORD '$READER_PASSWORD'"
  psql_on "${!port_var}" shop -v missing_orders="$missing" -f "$WORK_DIR/shop_data.sql"
  psql_on "${!port_var}" shop -c "GRANT SELECT ON ALL TABLES IN SCHEMA public TO shop_reader"
done

# Shows each statement, then what came back; a failing statement shows its ERROR and the demo goes on.
show() {
  printf '\n\033[1m-- %s\033[0m\n' "$1"
  as_pg_user "$PG_BINDIR/psql" -X -e -h "$WORK_DIR" -p "$coordinator_PORT" -U postgres -d postgres \
    -P pager=off -c "$2" 2>&1 || true
}

log "connecting the coordinator to both"
show "the extension, and a connection per remote database (a foreign server plus a user mapping)" "
CREATE EXTENSION multidb;
SELECT multidb.add_connection('production',
  'host=127.0.0.1 port=$production_PORT dbname=shop user=shop_reader password=$READER_PASSWORD', 'the live shop');
SELECT multidb.add_connection('backup',
  'host=127.0.0.1 port=$backup_PORT dbname=shop user=shop_reader password=$READER_PASSWORD', 'last night''s copy');"
show "connections (never a password)" "SELECT * FROM multidb.connections;"
show "one statement on both databases at once, rows tagged with their source" \
  "SELECT * FROM multidb.fanout('SELECT count(*) AS orders, sum(total) AS revenue, max(placed_at) AS newest FROM orders', ARRAY['production', 'backup']);"
show "typed rows: the newest orders on each side" \
  "SELECT * FROM multidb.fanout_rows('SELECT id, placed_at, total FROM orders ORDER BY id DESC LIMIT 4', ARRAY['production', 'backup']) AS t(source_db text, id int, placed_at timestamptz, total numeric);"
show "plain SQL over the typed rows: which orders the backup is missing" "
SELECT id, placed_at, total
  FROM multidb.fanout_rows('SELECT id, placed_at, total FROM orders', ARRAY['production', 'backup'])
       AS t(source_db text, id int, placed_at timestamptz, total numeric)
 GROUP BY id, placed_at, total HAVING array_agg(source_db) = ARRAY['production']
 ORDER BY id;"
show "revenue per country on each side" \
  "SELECT source_db, row_data->>'country' AS country, (row_data->>'revenue')::numeric AS revenue FROM multidb.fanout('SELECT c.country, sum(o.total) AS revenue FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY 1 ORDER BY 1', ARRAY['production', 'backup']) ORDER BY 2, 1;"
show "a write is refused before anything is sent (SQLSTATE 42501)" \
  "SELECT * FROM multidb.fanout('DELETE FROM orders', ARRAY['production']);"
show "so is a function that acts outside the query" \
  "SELECT * FROM multidb.fanout('SELECT pg_terminate_backend(pid) FROM pg_stat_activity', ARRAY['production', 'backup']);"
show "a remote error names the database it came from" \
  "SELECT * FROM multidb.fanout('SELECT * FROM invoices', ARRAY['production', 'backup']);"

connect_as=""
[ "$(id -u)" -eq 0 ] && connect_as="runuser -u $MULTIDB_OS_USER -- "
cat <<MSG

The servers are still running. To keep exploring:
  ${connect_as}$PG_BINDIR/psql -h $WORK_DIR -p $coordinator_PORT -U postgres
  (production: port $production_PORT, backup: port $backup_PORT, database shop)
MSG
if [ -t 0 ]; then
  read -r -p "Press Enter to stop the servers and remove $WORK_DIR. " _
else
  echo "stdin is not a terminal: stopping the servers now."
fi
