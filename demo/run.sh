#!/usr/bin/env bash
# `make demo`: set the machine up, start three real servers — a coordinator and two remote "shops",
# production and a backup three orders behind — fill the shops with generated data (demo/shop_data.sql),
# and show multidb comparing them; then start the HTTP gateway (multidb-web) on the coordinator and run the
# seed's two curl workflows against it. Every statement and command is printed before its result. The servers
# and the gateway stay up until Enter is pressed (stdin a terminal) or stop at once (stdin not a terminal, as in CI).
# shellcheck disable=SC2154 # the ${NAME}_PORT variables are set by start_cluster
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../test/harness/lib.sh
source "$REPO_ROOT/test/harness/lib.sh"
# shellcheck source=shops.sh
source "$REPO_ROOT/demo/shops.sh"

# show TITLE SQL: prints each statement of SQL, then its result, on the coordinator; the demo stops if
# one fails.
show() {
  printf '\n%s-- %s%s\n' "$_BOLD" "$1" "$_PLAIN"
  # Statements come on stdin (not -c): psql then echoes each one, and ERRORs carry no file prefix.
  printf '%s\n' "$2" | as_pg_user "$PG_BINDIR/psql" -X -e -v ON_ERROR_STOP=1 -P pager=off -P format=aligned \
    -h "$WORK_DIR" -p "$coordinator_PORT" -U "$PG_SUPERUSER" -d postgres 2>&1
}

# show_error TITLE SQL: like show, for a statement whose ERROR is the point; the demo goes on.
show_error() {
  printf '\n%s-- %s%s\n' "$_BOLD" "$1" "$_PLAIN"
  printf '%s\n' "$2" | as_pg_user "$PG_BINDIR/psql" -X -e -P pager=off -P format=aligned \
    -h "$WORK_DIR" -p "$coordinator_PORT" -U "$PG_SUPERUSER" -d postgres 2>&1 || true
}

setup_machine
make_work_dir

log "starting three PostgreSQL servers under $WORK_DIR: coordinator, production, backup"
start_cluster coordinator
start_cluster production
start_cluster backup
# The superuser is named like the OS user, possibly "multidb": "$user" in the default search_path would
# then make the extension's schema the place where a user's new tables land.
psql_on "$coordinator_PORT" postgres -c "ALTER ROLE CURRENT_USER SET search_path = public" >/dev/null

log "generating the shop on production, and on backup without the newest $BACKUP_LAG orders"
make_shop production 0
make_shop backup "$BACKUP_LAG"

show "the extension, and one connection per remote database (a foreign server and your user mapping)" "
CREATE EXTENSION multidb;
SELECT multidb.add_connection('production', '$(conninfo production)', 'the live shop');
SELECT multidb.add_connection('backup', '$(conninfo backup)', 'last night''s copy');"
show "the connections (never a password)" \
  "SELECT * FROM multidb.connections;"
show "one statement on both databases at once, each row tagged with its source" \
  "SELECT * FROM multidb.fanout('SELECT count(*) AS orders, sum(total) AS revenue FROM orders', ARRAY['production','backup']);"
show "typed rows through a column definition list: the newest orders on each side" \
  "SELECT * FROM multidb.fanout_rows('SELECT id, placed_at FROM orders ORDER BY id DESC LIMIT 3', ARRAY['production','backup']) AS t(source_db text, id int, placed_at timestamptz);"
show "plain SQL over the typed rows: the orders the backup is missing" "
SELECT id, placed_at, total
  FROM multidb.fanout_rows('SELECT id, placed_at, total FROM orders', ARRAY['production','backup'])
       AS t(source_db text, id int, placed_at timestamptz, total numeric)
 GROUP BY id, placed_at, total
HAVING array_agg(source_db) = ARRAY['production']
 ORDER BY id;"
show "compare: the rows that differ between production and the backup, by key" \
  "SELECT status, key, a_row FROM multidb.compare('SELECT id, customer_id, status, total FROM orders', 'production', 'backup', ARRAY['id']);"
migrate_production
show "schema_diff: production got a migration (a new column, a new index) that the backup has not" \
  "SELECT object_kind, object_name, difference, a_definition FROM multidb.schema_diff('production', 'backup');"
log "four tenant databases on the production server, each with its own orders"
make_tenants production
connect_tenants_and_groups
show "connection groups: '@shops' stands for both connections wherever connections are listed" \
  "SELECT name, connections FROM multidb.connection_groups ORDER BY name;
SELECT * FROM multidb.fanout('SELECT count(*) AS customers FROM customers', ARRAY['@shops']);
SELECT * FROM multidb.fanout('SELECT count(*) AS orders FROM orders', ARRAY['@tenants']);"
show "a saved report: frozen SQL over the group, run now (schedule_report hands it to pg_cron)" \
  "SELECT multidb.save_report_sql('daily_revenue', 'SELECT count(*) AS orders, sum(total) AS revenue FROM orders', ARRAY['@shops']);
SELECT multidb.run_report('daily_revenue') AS run_id;
SELECT run_id, status, source_db, row_data FROM multidb.report_runs ORDER BY id;"
show_error "a write is refused before anything is sent (SQLSTATE 42501)" \
  "SELECT multidb.fanout('DELETE FROM orders', ARRAY['production']);"
show_error "so is a function that acts outside the query" \
  "SELECT * FROM multidb.fanout('SELECT pg_terminate_backend(pid) FROM pg_stat_activity', ARRAY['production','backup']);"
show_error "a remote error names the database it came from" \
  "SELECT * FROM multidb.fanout('SELECT * FROM invoices', ARRAY['production','backup']);"

# Asking in plain language: a real LLM when one is configured in the environment, otherwise the test suite's
# scripted stand-in (test/llm/llm_stub.py), which knows only the six questions below and the two of the
# HTTP workflows.
if [ -n "${MULTIDB_DEMO_LLM_URL:-}" ]; then
  llm_provider=${MULTIDB_DEMO_LLM_PROVIDER:-openai}
  llm_url=$MULTIDB_DEMO_LLM_URL
  llm_model=${MULTIDB_DEMO_LLM_MODEL:-gpt-4o-mini}
  log "asking through the real LLM at $llm_url ($llm_provider, $llm_model)"
else
  llm_provider=openai
  llm_model=scripted-stand-in
  cp "$REPO_ROOT/demo/llm_script.json" "$REPO_ROOT/test/llm/llm_stub.py" "$REPO_ROOT/test/llm/provider_profiles.py" "$WORK_DIR/"
  chmod 644 "$WORK_DIR/llm_stub.py" "$WORK_DIR/provider_profiles.py"
  chmod 666 "$WORK_DIR/llm_script.json"
  start_background "$WORK_DIR/llm_stub.log" /usr/bin/python3 "$WORK_DIR/llm_stub.py" \
    --script "$WORK_DIR/llm_script.json" --port-file "$WORK_DIR/llm.port"
  for _ in $(seq 50); do [ -s "$WORK_DIR/llm.port" ] && break; sleep 0.1; done
  [ -s "$WORK_DIR/llm.port" ] || die "the scripted LLM stand-in did not start"
  llm_url="http://127.0.0.1:$(cat "$WORK_DIR/llm.port")/v1"
  log "no LLM configured (set MULTIDB_DEMO_LLM_URL to use one): asking a SCRIPTED STAND-IN, not a model"
fi
key_option=""
[ -n "${MULTIDB_LLM_API_KEY:-}" ] && key_option="OPTIONS (api_key '$MULTIDB_LLM_API_KEY')"
psql_on "$coordinator_PORT" postgres -c "CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm
    OPTIONS (provider '$llm_provider', url '$llm_url', model '$llm_model', timeout '60s')" \
  -c "CREATE USER MAPPING FOR PUBLIC SERVER llm $key_option" >/dev/null

show "a chat session over both databases" \
  "SELECT multidb.create_session('Demo', ARRAY['production', 'backup']) AS session;"
session=$(psql_on "$coordinator_PORT" postgres -At -c "SELECT id FROM multidb.chat_sessions ORDER BY created_at DESC LIMIT 1")
show "ask in plain language" \
  "SELECT * FROM multidb.ask('Compare total revenue in production and backup', '$session');"
show "a follow-up that relies on the conversation" \
  "SELECT * FROM multidb.ask('and only for September?', '$session');"
show "the LLM may pick a subset of the databases" \
  "SELECT * FROM multidb.ask('Which countries buy the most?', '$session');"
show "an answer that needs both databases at once: the LLM adds a combine step, run here over the two results" \
  "SELECT * FROM multidb.ask('Which orders are in production but missing from the backup?', '$session');"
show "the plan behind it: one statement per database, then the combine step (source_db 'combined')" \
  "SELECT * FROM multidb.plan('Which orders are in production but missing from the backup?', '$session');"
show "across the tenants: a session over '@tenants', and a ranking no single database can give" \
  "SELECT multidb.create_session('Tenants', ARRAY['@tenants']) AS session;
SELECT source_db, row_data FROM multidb.ask('Which tenant has the most revenue?',
       (SELECT id FROM multidb.chat_sessions WHERE name = 'Tenants'));"
show_error "an LLM that proposes a write is refused, and the refusal is recorded" \
  "SELECT * FROM multidb.ask('Delete the refunded orders', '$session');"
show "what happened: one history row per ask" \
  "SELECT question, status, databases_used, row_counts, round(llm_ms) AS llm_ms, round(exec_ms) AS exec_ms, cached FROM multidb.query_history ORDER BY id;"

# ---- over HTTP: multidb-web ------------------------------------------------------------------------------------
# The set-up docs/security.md gives: an authenticator role the gateway logs in as (NOINHERIT, no rights of its
# own), a group of the roles that may sign in, and one such role with the rights a psql user of the demo has.
WEB_ROLE=analyst
WEB_PASSWORD=analyst-demo-pw
AUTH_PASSWORD=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
tenant_servers=${DEMO_TENANTS// /, }
mappings=""
for server in production backup $DEMO_TENANTS; do
  mappings+="
CREATE USER MAPPING FOR $WEB_ROLE SERVER $server OPTIONS (user '$READER_ROLE', password '$READER_PASSWORD');"
done
show "over HTTP: the roles multidb-web needs (docs/security.md): an authenticator it logs in as, and a user" "
CREATE ROLE multidb_web NOLOGIN;
CREATE ROLE authenticator LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS PASSWORD '$AUTH_PASSWORD';
CREATE ROLE $WEB_ROLE LOGIN PASSWORD '$WEB_PASSWORD' IN ROLE multidb_web;
GRANT $WEB_ROLE TO authenticator;
-- browser sign-ins live in multidb's table, reached only through these three functions
GRANT EXECUTE ON FUNCTION multidb.open_web_sign_in, multidb.web_sign_in_role, multidb.end_web_sign_in TO authenticator;
-- and the user's rights, as for psql: the servers (the LLM's too) and its own user mappings
GRANT USAGE ON FOREIGN SERVER production, backup, $tenant_servers, llm TO $WEB_ROLE;$mappings"

# The gateway logs in over TCP, where the coordinator asks every role for its password (scram-sha-256), as
# signing in by password requires.
web_port=$(free_port)
web_url="http://127.0.0.1:$web_port"
web_database="host=127.0.0.1 port=$coordinator_PORT dbname=postgres user=authenticator password=$AUTH_PASSWORD"
printf '\n%s-- %s%s\n%s\n' "$_BOLD" "the gateway, on a loopback port, logged in as the authenticator" "$_PLAIN" \
  "$PG_BINDIR/multidb-web --listen 127.0.0.1:$web_port --database '$web_database'"
start_background "$WORK_DIR/multidb-web.log" "$PG_BINDIR/multidb-web" --listen "127.0.0.1:$web_port" \
  --database "$web_database"
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$web_url/api/health")" = 200 ] && break
  sleep 0.1
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$web_url/api/health")" = 200 ] ||
  { cat "$WORK_DIR/multidb-web.log" >&2; die "multidb-web did not start (its log above)"; }

# http TITLE COMMAND: prints the command (a curl line as the seed writes it), runs it, and prints its answer
# indented and trimmed (demo/show_json.py); the answer is also left in $http_answer.
http() {
  printf '\n%s-- %s%s\n%s\n' "$_BOLD" "$1" "$_PLAIN" "$2"
  http_answer=$(bash -c "$2") || die "the command failed: $2"
  printf '%s\n' "$http_answer" | python3 "$REPO_ROOT/demo/show_json.py"
}
# The web UI is the gateway's page at /: its page and bundle must be there (make install put them).
for ui_file in / /ui/app.js /ui/app.css; do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$web_url$ui_file")" = 200 ] ||
    die "multidb-web does not serve the web UI's $ui_file (run make install: it builds web/ with npm)"
done
http "the seed's workflow 1, step 1: a chat session with 2 databases (connection ids 1 and 2: production, backup)" \
"curl -s -u $WEB_ROLE:$WEB_PASSWORD -X POST $web_url/api/chat/sessions \\
  -H \"Content-Type: application/json\" \\
  -d '{\"name\": \"Analysis\", \"connection_ids\": [1, 2]}'"
web_session=$(printf '%s' "$http_answer" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
http "workflow 1, step 2: query across both databases in that session" \
"curl -s -u $WEB_ROLE:$WEB_PASSWORD -X POST $web_url/api/multi-query/ \\
  -H \"Content-Type: application/json\" \\
  -d '{
    \"question\": \"Compare total orders in both databases\",
    \"chat_session_id\": \"$web_session\"
  }'"
http "workflow 2: a direct multi-database query, no session (connection 3 is tenant_north)" \
"curl -s -u $WEB_ROLE:$WEB_PASSWORD -X POST $web_url/api/multi-query/ \\
  -H \"Content-Type: application/json\" \\
  -d '{
    \"question\": \"Show all products\",
    \"connection_ids\": [1, 2, 3]
  }'"

cat <<MSG

${_BOLD}The three servers and the gateway are running.${_PLAIN} To keep exploring, in another terminal:
  coordinator:  psql -h $WORK_DIR -p $coordinator_PORT -U $PG_SUPERUSER postgres
  production:   psql "$(conninfo production)"
  backup:       psql "$(conninfo backup)"

  in a browser: $web_url/   (the web UI: sign in as below; multidb-web's log: $WORK_DIR/multidb-web.log)
  the API page: $web_url/api/docs   (OpenAPI document: $web_url/api/openapi.json)
  sign in as:   user $WEB_ROLE, password $WEB_PASSWORD — HTTP Basic for programs, e.g.
                curl -u $WEB_ROLE:$WEB_PASSWORD $web_url/api/connections
                or POST /api/auth/login {"role": "$WEB_ROLE", "password": "$WEB_PASSWORD"} for a browser cookie
MSG
if [ -t 0 ]; then
  read -r -p "Press Enter to stop the servers and the gateway and remove $WORK_DIR. " _
else
  echo "stdin is not a terminal: stopping the servers and the gateway and removing $WORK_DIR now."
fi
