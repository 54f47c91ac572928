#!/usr/bin/env bash
# `make eval`: set the machine up, start the demo's servers (production, backup, four tenants; demo/shops.sh) and
# the eval's fleet (EVAL_FLEET tenant databases t001 … of one schema on the production server, eval/make_fleet.sh;
# connections of those names and the group '@fleet'), and measure how well multidb answers eval/questions.json
# with the LLM the demo's variables name (MULTIDB_DEMO_LLM_URL, MULTIDB_DEMO_LLM_PROVIDER, MULTIDB_DEMO_LLM_MODEL,
# MULTIDB_LLM_API_KEY) — or, without them, with the scripted stand-in answering the gold plans
# (EVAL_STUB=gold|mistakes picks the script).
# shellcheck disable=SC2154 # the ${NAME}_PORT variables are set by start_cluster
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../test/harness/lib.sh
source "$REPO_ROOT/test/harness/lib.sh"
# shellcheck source=../demo/shops.sh
source "$REPO_ROOT/demo/shops.sh"

EVAL_FLEET=60    # the fleet's tenant databases (at least 50: the multi-tenant questions are about a real fleet)

setup_machine
make_work_dir
log "starting the coordinator and the two shop servers under $WORK_DIR"
start_cluster coordinator
start_cluster production
start_cluster backup
psql_on "$coordinator_PORT" postgres -c "ALTER ROLE CURRENT_USER SET search_path = public" >/dev/null
make_shop production 0
make_shop backup "$BACKUP_LAG"
migrate_production
make_tenants production
psql_on "$coordinator_PORT" postgres -c "CREATE EXTENSION multidb" \
  -c "SELECT multidb.add_connection('production', '$(conninfo production)')" \
  -c "SELECT multidb.add_connection('backup', '$(conninfo backup)')" >/dev/null
connect_tenants_and_groups
log "making the fleet: $EVAL_FLEET tenant databases of one schema on production, the group @fleet"
PGHOST=$WORK_DIR PGPORT=$production_PORT PGUSER=$PG_SUPERUSER PSQL=$PG_BINDIR/psql \
  bash "$REPO_ROOT/eval/make_fleet.sh" "$EVAL_FLEET" "$READER_ROLE"
psql_on "$coordinator_PORT" postgres -v port="$production_PORT" -v count="$EVAL_FLEET" \
  -v reader="$READER_ROLE" -v password="$READER_PASSWORD" >/dev/null <<'SQL'
SELECT multidb.add_connection(name, format('host=127.0.0.1 port=%s dbname=%s user=%s password=%s',
                                           :'port', name, :'reader', :'password'))
  FROM (SELECT 't' || lpad(i::text, 3, '0') AS name FROM generate_series(1, :count) i) t ORDER BY name;
SELECT multidb.create_group('fleet', ARRAY(SELECT 't' || lpad(i::text, 3, '0') FROM generate_series(1, :count) i));
SQL

stub_option=()
if [ -n "${EVAL_STUB:-}" ]; then stub_option=(--stub "$EVAL_STUB"); fi
mkdir -p "$REPO_ROOT/eval/out"
log "asking every question of eval/questions.json (each outcome: eval/out/results.json)"
PGHOST=$WORK_DIR PGPORT=$coordinator_PORT PGUSER=$PG_SUPERUSER PGDATABASE=postgres \
  /usr/bin/python3 "$REPO_ROOT/eval/evaluate.py" --psql "$PG_BINDIR/psql" "${stub_option[@]}" \
  --json "$REPO_ROOT/eval/out/results.json"
