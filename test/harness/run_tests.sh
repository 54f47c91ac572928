#!/usr/bin/env bash
# `make test`: set the machine up, then run every test — GoogleTest (core), pg_regress (SQL behaviour on a
# throwaway server), TAP (several real clusters) — and end with one line "N passed, N failed".
# TESTS="unit regress tap" (the default) picks the runners.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=lib.sh
source "$REPO_ROOT/test/harness/lib.sh"

TESTS=${TESTS:-unit regress tap}
TEST_PASSWORD=multidb
passed=0
failed=0
broken=()

count() { passed=$((passed + $1)); failed=$((failed + $2)); }

run_unit() {
  log "GoogleTest: src/core"
  local out="$WORK_DIR/unit.log"
  if as_pg_user make -s -C "$SRC" unit >"$out" 2>&1; then :; fi
  cat "$out"
  local ok bad
  ok=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
  bad=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
  [ -n "$ok$bad" ] || { broken+=("unit (no result)"); return; }
  count "${ok:-0}" "${bad:-0}"
}

run_regress() {
  log "pg_regress: sql/ against a throwaway server"
  start_cluster coordinator
  psql_on "$coordinator_PORT" postgres -c "ALTER ROLE postgres PASSWORD '$TEST_PASSWORD'"
  local out="$WORK_DIR/regress.log"
  if as_pg_user env PGHOST="$WORK_DIR" PGPORT="$coordinator_PORT" PGUSER=postgres \
      MULTIDB_TEST_PASSWORD="$TEST_PASSWORD" make -s -C "$SRC" installcheck >"$out" 2>&1; then :; fi
  cat "$out"
  [ -f "$SRC/regression.diffs" ] && cat "$SRC/regression.diffs"
  local ok bad
  ok=$(grep -cE '\.\.\. ok' "$out" || true)
  bad=$(grep -cE '\.\.\. FAILED' "$out" || true)
  [ $((ok + bad)) -gt 0 ] || { broken+=("pg_regress (no result)"); return; }
  count "$ok" "$bad"
}

run_tap() {
  log "TAP: test/t with several real clusters"
  compgen -G "$SRC/test/t/*.pl" >/dev/null || { log "no TAP tests"; return; }
  local out="$WORK_DIR/tap.log" status=0
  as_pg_user mkdir -p "$SRC/tmp_check"
  (cd "$SRC" && as_pg_user env TESTDIR="$SRC" PATH="$PG_BINDIR:$PATH" \
      PG_REGRESS="$(dirname "$(pg_config --pgxs)")/../test/regress/pg_regress" \
      prove --timer -I "$(dirname "$(pg_config --pgxs)")/../test/perl" -I test/t test/t/*.pl) >"$out" 2>&1 || status=$?
  cat "$out"
  # prove's summary: "Files=N, Tests=M"; failures per file in "Tests: M Failed: K" lines of the report.
  local total bad died
  total=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$out" | tail -1)
  [ -n "$total" ] || { broken+=("TAP (no result)"); return; }
  bad=$(sed -n 's/.*Tests: [0-9]* Failed: \([0-9]*\)).*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
  # a file that died (non-zero exit) without a failed assertion still counts as one failure
  died=$(grep -E 'Wstat: [1-9][0-9]* Tests: [0-9]+ Failed: 0\)' "$out" | wc -l || true)
  count $((total - bad)) $((bad + died))
  [ "$status" -eq 0 ] || [ $((bad + died)) -gt 0 ] || broken+=("TAP (prove exited $status)")
}

setup_machine
make_work_dir
trap cleanup_work_dir EXIT
SRC="$WORK_DIR/src"
rsync -a --exclude .git --exclude '*.o' --exclude '*.so' --exclude results --exclude tmp_check "$REPO_ROOT/" "$SRC/"
[ "$(id -u)" -eq 0 ] && chown -R "$MULTIDB_OS_USER" "$SRC"

for suite in $TESTS; do
  case "$suite" in
    unit) run_unit ;;
    regress) run_regress ;;
    tap) run_tap ;;
    *) die "unknown test suite '$suite' (use unit, regress, tap)" ;;
  esac
done

for problem in "${broken[@]:-}"; do [ -n "$problem" ] && echo "runner failed: $problem"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ -z "${broken[*]:-}" ]
