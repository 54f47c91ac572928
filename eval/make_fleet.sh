#!/usr/bin/env bash
# make_fleet.sh COUNT READER: the eval's fleet of tenant databases on one server — t001 … tCOUNT (COUNT at most
# 999), each a copy of one template database with the shared schema (fleet_schema.sql), then filled with its own
# data (fleet_tenant.sql), readable by the role READER (which must exist). Every tenant but those of UNMIGRATED got
# the migration that adds orders.channel. The server is reached with psql ($PSQL, else the one on the PATH) and the
# usual PG* variables, as a role that may create databases. Used by eval/run.sh and test/t/021_eval.pl.
set -euo pipefail
count=${1:?usage: make_fleet.sh COUNT READER}
reader=${2:?usage: make_fleet.sh COUNT READER}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PSQL=${PSQL:-psql}
UNMIGRATED=" t013 t027 t048 "    # the tenants the channel migration has not reached

[[ "$count" =~ ^[0-9]+$ ]] && [ "$count" -ge 1 ] && [ "$count" -le 999 ] || {
  echo "make_fleet.sh: COUNT must be 1 to 999, not '$count'" >&2; exit 2; }
run_psql() { "$PSQL" -X -q -v ON_ERROR_STOP=1 "$@"; }

run_psql -d postgres -c "CREATE DATABASE fleet_template"
run_psql -d fleet_template -v reader="$reader" -f "$HERE/fleet_schema.sql"
# Copies of the template are quick (no per-database DDL); one psql makes them all, then fills each in turn.
printf '%s\n' "SELECT format('CREATE DATABASE %I TEMPLATE fleet_template STRATEGY file_copy', 't' || lpad(i::text, 3, '0'))
                 FROM generate_series(1, $count) i" '\gexec' | run_psql -d postgres
for ((i = 1; i <= count; i++)); do
  name=$(printf 't%03d' "$i")
  migrated=true
  [[ "$UNMIGRATED" == *" $name "* ]] && migrated=false
  printf '\\connect %s\n\\set i %d\n\\set migrated %s\n\\i %s\n' "$name" "$i" "$migrated" "$HERE/fleet_tenant.sql"
done | run_psql -d postgres
run_psql -d postgres -c "DROP DATABASE fleet_template"
