# shellcheck shell=bash disable=SC2154 # the ${NAME}_PORT variables are set by start_cluster
# `make bench`, section (j): the HTTP gateway's figures, sourced by bench/run.sh once its coordinator (with r1 and
# multidb) is up. bench_gateway measures, bench_gateway_report prints the section of results.md:
#   - its own cost per POST /api/multi-query/: the same ask in the same chat session through psql
#     (SELECT * FROM multidb.ask(...)) and through HTTP (bench/gateway_client.py, keep-alive), medians of $CALLS;
#   - $GATEWAY_CLIENTS concurrent clients for $GATEWAY_SECONDS: requests/s, p50/p99 latency, errors;
#   - $GATEWAY_STREAMS idle Server-Sent-Events streams held at once: the gateway's RSS and threads before and with;
#   - from the plan to the first SSE event (the plan NOTICE's time in the coordinator's log against the event's
#     arrival at the client, one clock), median of $GATEWAY_FIRST_EVENT_RUNS.
# The ask is cheap and deterministic on both sides: the scripted LLM, multidb's plan cache (history_turns 0, the
# same question), a kept remote connection, one database answering SELECT 1. The coordinator needs a connection
# and a background worker slot per ask in flight (each ask holds its history writer), so run.sh starts it with
# max_connections and max_worker_processes above $GATEWAY_STREAMS.

GATEWAY_CLIENTS=${GATEWAY_CLIENTS:-50}
GATEWAY_SECONDS=${GATEWAY_SECONDS:-10}
GATEWAY_STREAMS=${GATEWAY_STREAMS:-200}
GATEWAY_FIRST_EVENT_RUNS=${GATEWAY_FIRST_EVENT_RUNS:-15}
GATEWAY_BLOCKS=${GATEWAY_BLOCKS:-10}
GATEWAY_STREAM_PACE=${GATEWAY_STREAM_PACE:-0.05}   # seconds between two streams opened, in the paced run
GATEWAY_PARTS=${GATEWAY_PARTS:-cost load streams first}   # which of the four to measure
part() { [[ " $GATEWAY_PARTS " == *" $1 "* ]]; }
WEB_ROLE=bench_web
WEB_PASSWORD=bench-web-secret
AUTHENTICATOR_PASSWORD=bench-authenticator-secret

# start_gateway FLAGS...: multidb-web on a free loopback port; sets gateway_url and gateway_pid.
start_gateway() {
  local port
  port=$(free_port)
  gateway_url="http://127.0.0.1:$port"
  start_background "$WORK_DIR/multidb-web-$port.log" "$PG_BINDIR/multidb-web" --listen "127.0.0.1:$port" \
    --database "host=127.0.0.1 port=$coordinator_PORT dbname=postgres user=authenticator password=$AUTHENTICATOR_PASSWORD" "$@"
  local launcher=${BACKGROUND_PIDS[-1]}
  for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$gateway_url/api/health")" = 200 ] && break
    sleep 0.1
  done
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$gateway_url/api/health")" = 200 ] ||
    { cat "$WORK_DIR/multidb-web-$port.log" >&2; die "multidb-web did not start"; }
  # As root, start_background's process is runuser; the gateway is its child.
  gateway_pid=$(pgrep -P "$launcher" -x multidb-web || echo "$launcher")
}

# stop_gateway: ends the gateway start_gateway started last (cleanup_work_dir would too, at the end).
stop_gateway() {
  kill "${BACKGROUND_PIDS[-1]}" 2>/dev/null || true
  wait "${BACKGROUND_PIDS[-1]}" 2>/dev/null || true
}

client() { python3 "$REPO_ROOT/bench/gateway_client.py" "$@" --role "$WEB_ROLE" --password "$WEB_PASSWORD"; }
field() {
  python3 -c 'import json, sys
v = json.load(sys.stdin)[sys.argv[1]]
print(round(v, 2) if isinstance(v, float) else v if isinstance(v, (int, str)) else json.dumps(v))' "$1"
}

bench_gateway() {
  log "(j) the HTTP gateway: its cost per ask, $GATEWAY_CLIENTS clients, $GATEWAY_STREAMS streams, the first event"
  # The roles of docs/security.md, a user with r1 and the LLM, the scripted LLM: an instant plan, or a slow one.
  cat > "$WORK_DIR/llm_gateway.json" <<'JSON'
{"rules": [{"match": "hold the stream", "delay": 120, "reply": "{\"queries\": [{\"database\": \"r1\", \"sql\": \"SELECT 1 AS one\"}]}"}],
 "default": "{\"queries\": [{\"database\": \"r1\", \"sql\": \"SELECT 1 AS one\"}], \"explanation\": \"one\"}"}
JSON
  chmod 644 "$WORK_DIR/llm_gateway.json"
  start_background "$WORK_DIR/llm_gateway.log" /usr/bin/python3 "$WORK_DIR/llm_stub.py" \
    --script "$WORK_DIR/llm_gateway.json" --port-file "$WORK_DIR/llm_gateway.port"
  for _ in $(seq 50); do [ -s "$WORK_DIR/llm_gateway.port" ] && break; sleep 0.1; done
  [ -s "$WORK_DIR/llm_gateway.port" ] || die "the scripted LLM did not start"
  psql_on "$coordinator_PORT" postgres -c "
    DROP SERVER IF EXISTS llm CASCADE;
    CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm
      OPTIONS (provider 'openai', url 'http://127.0.0.1:$(cat "$WORK_DIR/llm_gateway.port")/v1', model 'stub', timeout '300s');
    CREATE USER MAPPING FOR PUBLIC SERVER llm;
    CREATE ROLE multidb_web NOLOGIN;
    CREATE ROLE authenticator LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS PASSWORD '$AUTHENTICATOR_PASSWORD';
    CREATE ROLE $WEB_ROLE LOGIN PASSWORD '$WEB_PASSWORD' IN ROLE multidb_web;
    GRANT $WEB_ROLE TO authenticator;
    GRANT EXECUTE ON FUNCTION multidb.open_web_sign_in, multidb.web_sign_in_role, multidb.end_web_sign_in TO authenticator;
    GRANT USAGE ON FOREIGN SERVER r1, llm TO $WEB_ROLE;
    CREATE USER MAPPING FOR $WEB_ROLE SERVER r1 OPTIONS (user 'bench', password '$PASSWORD');
    ALTER ROLE $WEB_ROLE SET multidb.history_turns = 0;
    ALTER ROLE $WEB_ROLE SET multidb.keep_connections = on;" >/dev/null
  local web_conninfo="host=127.0.0.1 port=$coordinator_PORT dbname=postgres user=$WEB_ROLE password=$WEB_PASSWORD"
  local session
  session=$(as_pg_user "$PG_BINDIR/psql" -X -At -v ON_ERROR_STOP=1 "$web_conninfo" -c \
    "SELECT multidb.create_session('bench', ARRAY['r1'])")
  local question="How many are there"

  if part cost; then
  # Its own cost: psql and HTTP in turn, in blocks ($GATEWAY_BLOCKS of each, $CALLS calls per side in all), so that
  # a change in the machine's load meets both alike; each block warms up with its first two calls.
  local body="{\"question\": \"$question\", \"chat_session_id\": \"$session\"}" per_block answer
  per_block=$(( CALLS / GATEWAY_BLOCKS > 1 ? CALLS / GATEWAY_BLOCKS : 1 ))
  local psql_args=(-c '\timing on')
  for _ in $(seq $(( per_block + 2 ))); do psql_args+=(-c "SELECT * FROM multidb.ask('$question', '$session')"); done
  start_gateway --pool-size 8 --threads 64 --per-role-limit 64
  : >"$WORK_DIR/j_psql.ms"
  : >"$WORK_DIR/j_http.ms"
  for _ in $(seq "$GATEWAY_BLOCKS"); do
    as_pg_user "$PG_BINDIR/psql" -X -At -v ON_ERROR_STOP=1 "$web_conninfo" "${psql_args[@]}" |
      sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n "$per_block" >>"$WORK_DIR/j_psql.ms"
    answer=$(client latency "$gateway_url" --body "$body" --calls "$per_block" --warm-up 2)
    field ms <<<"$answer" | tr -d '[] ' | tr ',' '\n' >>"$WORK_DIR/j_http.ms"
    j_http_cache=$(field caches <<<"$answer")
  done
  j_psql=$(median <"$WORK_DIR/j_psql.ms" | awk '{printf "%.2f", $1}')
  j_http=$(median <"$WORK_DIR/j_http.ms" | awk '{printf "%.2f", $1}')
  j_calls=$(wc -l <"$WORK_DIR/j_psql.ms")/$(wc -l <"$WORK_DIR/j_http.ms")
  j_psql_cache=$(psql_on "$coordinator_PORT" postgres -At -c "SELECT string_agg(DISTINCT coalesce(cached, 'none'), ',')
      FROM (SELECT cached FROM multidb.query_history WHERE session_id = '$session' ORDER BY id DESC LIMIT $CALLS) h")
  answer=$(client latency "$gateway_url" --body "$body" --calls "$per_block" --basic)
  j_basic=$(field median_ms <<<"$answer")
  stop_gateway
  fi

  if part load; then
  start_gateway --pool-size 8 --threads 64 --per-role-limit 64
  # Many clients at once: a one-off ask (no session: no session row they all update), plan-cache hits.
  answer=$(client load "$gateway_url" --body "{\"question\": \"$question\", \"connection_ids\": [\"r1\"]}" \
             --clients "$GATEWAY_CLIENTS" --seconds "$GATEWAY_SECONDS")
  for key in requests_per_s p50_ms p99_ms errors requests error_statuses; do
    printf -v "j_load_$key" '%s' "$(field "$key" <<<"$answer")"
  done
  stop_gateway
  # The same ask from as many psql-like clients at once, straight to the coordinator (pgbench): what the
  # coordinator itself serves, for comparison.
  echo "SELECT * FROM multidb.ask('$question', connections => ARRAY['r1']);" >"$WORK_DIR/j_ask.sql"
  chmod 644 "$WORK_DIR/j_ask.sql"
  answer=$(as_pg_user env PGPASSWORD="$WEB_PASSWORD" "$PG_BINDIR/pgbench" -n -c "$GATEWAY_CLIENTS" -j 2 -T "$GATEWAY_SECONDS" \
             -f "$WORK_DIR/j_ask.sql" -h 127.0.0.1 -p "$coordinator_PORT" -U "$WEB_ROLE" postgres 2>&1) ||
    die "pgbench on the ask failed: $answer"
  j_pgbench_tps=$(printf '%s\n' "$answer" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | head -n 1)
  j_pgbench_latency=$(printf '%s\n' "$answer" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
  j_pgbench_failed=$(printf '%s\n' "$answer" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
  fi

  # Idle streams: asks waiting on a slow LLM, each stream open with its run event read. Each holds a worker
  # thread and, while its ask runs, a coordinator connection: --max-streams and --pool-size allow them.
  local stream_flags=(--max-streams "$GATEWAY_STREAMS" --pool-size "$(( GATEWAY_STREAMS + 8 > 256 ? 256 : GATEWAY_STREAMS + 8 ))"
                      --per-role-limit "$(( GATEWAY_STREAMS + 8 ))")
  local warm_body="{\"question\": \"$question\", \"connection_ids\": [\"r1\"]}"
  if part streams; then
  local running=""
  is_root && running="runuser -u $MULTIDB_OS_USER -- "
  running+="$(printf '%q ' "$PG_BINDIR/psql" -X -At -h "$WORK_DIR" -p "$coordinator_PORT" -U "$PG_SUPERUSER" -d postgres) -c \"SELECT count(*) FROM pg_stat_activity WHERE usename = 'authenticator' AND state = 'active'\""
  # Twice, each on a fresh gateway: all at once (every ask then opens its coordinator connection at the same
  # moment), and paced.
  local run pace began left
  for run in burst paced; do
    pace=0
    [ "$run" = paced ] && pace=$GATEWAY_STREAM_PACE
    start_gateway "${stream_flags[@]}"
    client latency "$gateway_url" --body "$warm_body" --calls 5 >/dev/null   # the pool's first connection, warm
    answer=$(client streams "$gateway_url" --body '{"question": "hold the stream", "connection_ids": ["r1"]}' \
               --count "$GATEWAY_STREAMS" --gateway-pid "$gateway_pid" --hold 45 --ready "$running" --pace "$pace")
    for key in opened alive_after_hold open_seconds running_at_coordinator all_running_after_s rss_kb_before rss_kb_with \
               threads_before threads_with failures ended; do
      printf -v "j_streams_${key}_$run" '%s' "$(field "$key" <<<"$answer")"
    done
    # The readers left: every ask is cancelled on the coordinator (none still active a little later).
    began=$(date +%s.%N)
    for _ in $(seq 120); do
      left=$(eval "$running")
      [ "$left" = 0 ] && break
      sleep 0.2
    done
    printf -v "j_streams_cancelled_in_$run" '%s' "$(awk -v a="$(date +%s.%N)" -v b="$began" 'BEGIN {printf "%.1f", a - b}') s (asks still running then: $left)"
    stop_gateway
  done
  fi

  if part first; then
  # From the plan to the first SSE event: the plan NOTICE's log time against the event's arrival.
  start_gateway "${stream_flags[@]}"
  client latency "$gateway_url" --body "$warm_body" --calls 5 >/dev/null
  psql_on "$coordinator_PORT" postgres -c "ALTER SYSTEM SET log_min_messages = notice" \
    -c "ALTER SYSTEM SET log_line_prefix = '%m [%p] '" -c "ALTER SYSTEM SET log_timezone = 'UTC'" \
    -c "SELECT pg_reload_conf()" >/dev/null
  sleep 0.5
  answer=$(client first-event "$gateway_url" --body '{"question": "first event", "connection_ids": ["r1"]}' \
             --runs "$GATEWAY_FIRST_EVENT_RUNS" --log "$WORK_DIR/coordinator.log")
  j_first=$(field median_ms <<<"$answer")
  j_first_max=$(field max_ms <<<"$answer")
  psql_on "$coordinator_PORT" postgres -c "ALTER SYSTEM RESET log_min_messages" -c "ALTER SYSTEM RESET log_line_prefix" \
    -c "ALTER SYSTEM RESET log_timezone" -c "SELECT pg_reload_conf()" >/dev/null
  stop_gateway
  fi
}

bench_gateway_report() {
  echo "## (j) the HTTP gateway (multidb-web), on the same coordinator"
  echo
  echo "The ask: one database (r1) answering \`SELECT 1 AS one\`, the scripted LLM, the plan cache (the same question; \`multidb.history_turns = 0\` for the role), a kept remote connection (\`multidb.keep_connections = on\` for the role); role \`$WEB_ROLE\` signed in as docs/security.md sets up. psql and the gateway both reach the coordinator over TCP on 127.0.0.1."
  echo
  if part cost; then
  echo "| the same ask in the same chat session, psql and HTTP in turn in $GATEWAY_BLOCKS blocks ($j_calls calls), each block warmed by 2 | median ms |"
  echo "|---|---:|"
  echo "| psql: \`SELECT * FROM multidb.ask(question, session)\` (cache: $j_psql_cache) | $j_psql |"
  echo "| HTTP: \`POST /api/multi-query/\` with \`chat_session_id\`, one keep-alive connection, signed in once (the cookie; cache: $j_http_cache) | $j_http |"
  echo "| **the gateway's own cost** (HTTP - psql; goal <= 1 ms) | **$(awk -v a="$j_http" -v b="$j_psql" 'BEGIN {printf "%.2f", a - b}')** |"
  echo "| HTTP with Basic on every request (a SCRAM password check each: docs/security.md) | $j_basic |"
  echo
  fi
  if part load; then
  echo "$GATEWAY_CLIENTS concurrent clients, each its own keep-alive connection, for $GATEWAY_SECONDS s (\`--threads 64 --pool-size 8 --per-role-limit 64\`; \`POST /api/multi-query/\` with \`connection_ids\`):"
  echo
  echo "| requests/s | p50 ms | p99 ms | requests | errors |"
  echo "|---:|---:|---:|---:|---:|"
  echo "| $j_load_requests_per_s | $j_load_p50_ms | $j_load_p99_ms | $j_load_requests | $j_load_errors $([ "$j_load_errors" = 0 ] || echo "($j_load_error_statuses)") |"
  echo
  echo "For comparison, the same ask from $GATEWAY_CLIENTS clients straight to the coordinator (pgbench -c $GATEWAY_CLIENTS -T $GATEWAY_SECONDS, a backend each): $j_pgbench_tps asks/s, $j_pgbench_latency ms average, ${j_pgbench_failed:-0} failed."
  echo
  fi
  if part streams; then
  echo
  echo "$GATEWAY_STREAMS idle live-progress streams (\`Accept: text/event-stream\`, asks waiting on a slow LLM; \`--max-streams $GATEWAY_STREAMS\`, a coordinator connection each while its ask runs):"
  echo
  echo "| opened | streams open (run event read) | asks running at the coordinator | all running after | still open then | gateway RSS before | with them | per stream | threads before / with | every ask ended after the readers left |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  local run
  for run in burst paced; do
    s() { local name="j_streams_${1}_$run"; echo "${!name}"; }
    echo "| $([ "$run" = burst ] && echo "all at once" || echo "one every $GATEWAY_STREAM_PACE s") | $(s opened) of $GATEWAY_STREAMS in $(s open_seconds) s | $(s running_at_coordinator) | $([ "$(s all_running_after_s)" = null ] && echo "not within 45 s" || echo "$(s all_running_after_s) s") | $(s alive_after_hold) | $(s rss_kb_before) kB | $(s rss_kb_with) kB | $(awk -v a="$(s rss_kb_with)" -v b="$(s rss_kb_before)" -v n="$(s opened)" 'BEGIN {printf "%.0f kB", n ? (a - b) / n : 0}') | $(s threads_before) / $(s threads_with) | $(s cancelled_in) |"
    [ "$(s failures)" = "[]" ] || echo "| | refused: $(s failures) |"
    [ "$(s ended)" = "{}" ] || echo "| | ended early (error event: count): $(s ended) |"
  done
  echo
  fi
  if part first; then
  echo "From the plan to the first SSE event (\`plan\`): its NOTICE's time in the coordinator's log to its arrival at the client, median of $GATEWAY_FIRST_EVENT_RUNS asks: **$j_first ms** (the slowest $j_first_max ms; goal <= 50 ms)."
  fi
}
