#!/usr/bin/env bash
# `make test`: set the machine up, then run every test and end with one line "N passed, N failed".
#
#   unit     GoogleTest binary of src/core (test/unit/*.cpp), one count per test case
#   regress  pg_regress (`make installcheck`, test/sql + test/expected) on one throwaway cluster, one count per test
#   tap      prove over test/t/*.pl (PostgreSQL::Test::Cluster starts its own clusters), one count per
#            assertion
#   fuzz     every libFuzzer harness of test/fuzz for FUZZ_SECONDS (default 15), one count per target, as many
#            targets at once as there are cores (each one core's worth: libFuzzer is single-threaded)
#
# TESTS="unit regress tap fuzz" (the default) picks the runners and their order; PROVE_TESTS="test/t/001_x.pl"
# picks TAP files. Tests run as the unprivileged cluster user in a copy of the tree under a temporary
# directory (pg_regress writes results/, prove tmp_check/), so the checkout stays clean and needs no
# permissions for that user. Exit status: 0 only if every test passed and no runner broke.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=lib.sh
source "$REPO_ROOT/test/harness/lib.sh"

TESTS=${TESTS:-unit regress tap fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-15}
PROVE_TESTS=${PROVE_TESTS:-}
# The regression SQL connects back to its own server over TCP as the superuser, with this password.
TEST_PASSWORD=multidb
# Upper bounds per runner, in seconds, so that a hang fails the run instead of stalling CI. The whole run should
# stay under 25 minutes on 2 cores; today it takes about 15, TAP about 9.5 of them (565 s, with the fleets of
# 021, 045 and 046 and the browser's 048), so the TAP bound leaves room for a slower machine: it catches hangs,
# not slowness.
UNIT_TIMEOUT=${UNIT_TIMEOUT:-420}  # it builds the unit tests too: 240 s was too short on a loaded machine
REGRESS_TIMEOUT=${REGRESS_TIMEOUT:-240}
TAP_TIMEOUT=${TAP_TIMEOUT:-1620}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-600}

# run_logged LOG SECONDS COMMAND...: runs COMMAND as the cluster user in the test copy, with a time limit,
# showing its output as it comes and keeping it in LOG; returns COMMAND's status (124: timed out).
# --foreground keeps the command in our process group, so that Ctrl-C reaches it.
run_logged() {
  local log=$1 seconds=$2; shift 2
  local status=0
  (cd "$SRC" && as_pg_user timeout --foreground --kill-after=20 "$seconds" "$@") 2>&1 | tee "$log" \
    || status=${PIPESTATUS[0]}
  if [ "$status" -eq 124 ]; then echo "timed out after $seconds s" | tee -a "$log"; fi
  return "$status"
}

# record RUNNER LOG KIND STATUS: counts LOG's tests into $WORK_DIR/counts. A runner that exited non-zero
# without a failed test (it crashed, timed out, or did not build) counts as one failure.
record() {
  local runner=$1 log=$2 kind=$3 status=$4 passed failed
  read -r passed failed < <(perl "$REPO_ROOT/test/harness/count_results.pl" "$kind" "$log")
  if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    echo "$runner: exited with status $status and no failed test: counted as one failure" | tee -a "$WORK_DIR/problems"
    failed=1
  fi
  echo "$runner $passed $failed" >>"$WORK_DIR/counts"
  log "$runner: passed $passed, failed $failed"
}

run_unit() {
  log "unit: GoogleTest (src/core, test/unit)"
  local status=0
  run_logged "$WORK_DIR/unit.log" "$UNIT_TIMEOUT" make -s -j "$(nproc)" PG_CONFIG="$PG_CONFIG" unit || status=$?
  record unit "$WORK_DIR/unit.log" gtest "$status"
}

run_regress() {
  log "regress: pg_regress (make installcheck) on a throwaway coordinator"
  start_cluster coordinator
  # pg_regress connects through the socket; the tests' own loopback connections come over TCP.
  # shellcheck disable=SC2154 # coordinator_PORT is set by start_cluster
  psql_on "$coordinator_PORT" postgres -c "ALTER ROLE CURRENT_USER PASSWORD '$TEST_PASSWORD'"
  # make exports its command-line variables, so pg_regress and the tests' `\getenv pgport PGPORT` see them.
  local status=0
  run_logged "$WORK_DIR/regress.log" "$REGRESS_TIMEOUT" env MULTIDB_TEST_PASSWORD="$TEST_PASSWORD" \
    make -s PG_CONFIG="$PG_CONFIG" PGHOST="$WORK_DIR" PGPORT="$coordinator_PORT" PGUSER="$PG_SUPERUSER" installcheck \
    || status=$?
  if [ "$status" -ne 0 ]; then
    if [ -f "$SRC/regression.diffs" ]; then
      log "regression.diffs"
      cat "$SRC/regression.diffs"
    fi
    # A crashed backend shows in the server log rather than in the diffs.
    if grep -qE 'PANIC|terminated by signal|was terminated by exception' "$WORK_DIR/coordinator.log"; then
      log "the coordinator's log (a server process crashed)"
      tail -n 40 "$WORK_DIR/coordinator.log"
    fi
  fi
  stop_cluster coordinator    # frees memory and cores for the TAP clusters
  record regress "$WORK_DIR/regress.log" regress "$status"
}

run_tap() {
  log "tap: prove test/t (several real clusters per test)"
  local tests=()
  if [ -n "$PROVE_TESTS" ]; then
    read -r -a tests <<<"$PROVE_TESTS"
  else
    # Relative names, so prove's output reads test/t/001_x.pl.
    mapfile -t tests < <(cd "$SRC" && compgen -G 'test/t/*.pl' | sort)
  fi
  if [ ${#tests[@]} -eq 0 ]; then
    log "tap: no test files in test/t, skipped"
    return 0
  fi
  local pgxs_dir status=0
  pgxs_dir=$(dirname "$(dirname "$("$PG_CONFIG" --pgxs)")")   # .../lib/postgresql/15/lib/pgxs/src
  # The environment of PGXS's prove_installcheck: TESTDIR (tmp_check/ goes there), the server's programs
  # first on PATH, pg_regress for PostgreSQL::Test::Cluster's helpers.
  as_pg_user rm -rf "$SRC/tmp_check"
  local memory_dir
  if memory_dir=$(tap_memory_dir); then
    log "tap: the clusters' data directories in memory ($memory_dir; MULTIDB_TAP_TMPFS=0 keeps them on disk)"
    as_pg_user ln -s "$memory_dir" "$SRC/tmp_check"
  else
    as_pg_user mkdir -p "$SRC/tmp_check"
  fi
  run_logged "$WORK_DIR/tap.log" "$TAP_TIMEOUT" \
    env TESTDIR="$SRC" PATH="$PG_BINDIR:$PATH" PG_REGRESS="$pgxs_dir/test/regress/pg_regress" \
    prove --timer -I "$pgxs_dir/test/perl" -I test/t "${tests[@]}" || status=$?
  if [ "$status" -ne 0 ]; then summarize_tap_failures; fi
  record tap "$WORK_DIR/tap.log" tap "$status"
}

# tap_memory_dir: prints a new directory on the tmpfs /dev/shm for tmp_check/ (the TAP clusters, their logs) when it
# has 8 GB free (a run holds one test's clusters at a time: at most about 2.5 GB, 046's 300 databases), else fails.
# On disk, removing a fleet's data directories cost minutes per run: on ext4 mounted with `discard` each unlink of
# a file that reached the disk waits for the device (a tenant database's 350 files took 0.2 to 1 s). The clusters
# run with fsync = off already; nothing a test checks depends on where their files are. Removed with WORK_DIR.
tap_memory_dir() {
  local dir
  dir=$(work_memory_dir)
  [ "${MULTIDB_TAP_TMPFS:-1}" != 0 ] || return 1
  [ "$(stat -f -c %T "${dir%/*}" 2>/dev/null)" = tmpfs ] || return 1
  [ "$(df --output=avail -B1G "${dir%/*}" 2>/dev/null | tail -n 1 | tr -d ' ')" -ge 8 ] 2>/dev/null || return 1
  mkdir -m 755 "$dir" || return 1
  if is_root; then chown "$MULTIDB_OS_USER": "$dir"; fi
  echo "$dir"
}

# CI shows only the tail of a run, and prove's summary names a failed assertion by its number alone: the
# failed assertions' diagnostics (printed before each file's verdict line) go to the problems printed just
# before the counts.
summarize_tap_failures() {
  awk '
    /^#/ { diag = diag "    " $0 "\n"; next }
    /test\/t\/[^ ]+\.pl / {
      if (diag ~ /Failed test/) { match($0, /test\/t\/[^ ]+\.pl/); printf "tap: %s failed:\n%s", substr($0, RSTART, RLENGTH), diag }
      diag = ""
    }
  ' "$WORK_DIR/tap.log" | head -n 60 >>"$WORK_DIR/problems"
  # A file that died (an exception, a lost server) says why only in its own log.
  local file log
  for file in $(sed -n 's/^\(test\/t\/[^ ]*\.pl\) (Wstat: [0-9]* (exited [0-9]*) Tests: [0-9]* Failed: 0)$/\1/p' "$WORK_DIR/tap.log"); do
    log="$SRC/tmp_check/log/regress_log_$(basename "$file" .pl)"
    [ -f "$log" ] || continue
    # the clusters' teardown comes after the reason: left out
    { echo "tap: $file died; the end of its log:"
      grep -v -E '^(### Stopping node|# Running: pg_ctl .* stop|waiting for server|server stopped|# No postmaster PID|done$)' "$log" |
        tail -n 12 | sed 's/^/    /'; } >>"$WORK_DIR/problems"
  done
}

run_fuzz() {
  log "fuzz: libFuzzer with ASan and UBSan over the pure core, $FUZZ_SECONDS s per target, $(nproc) at once (make fuzz for longer)"
  local status=0
  run_logged "$WORK_DIR/fuzz.log" "$FUZZ_TIMEOUT" make -s -j "$(nproc)" -O PG_CONFIG="$PG_CONFIG" \
    FUZZ_SECONDS="$FUZZ_SECONDS" fuzz || status=$?
  record fuzz "$WORK_DIR/fuzz.log" fuzz "$status"
}

# run_runner NAME: runs run_NAME in a subshell with errexit, so that a runner that breaks half-way (a
# cluster that does not start, say) is counted as a failure and the other runners still run.
run_runner() {
  local runner=$1 status=0
  set +e
  (set -e; "run_$runner")
  status=$?
  set -e
  if [ "$status" -ne 0 ] && ! grep -q "^$runner " "$WORK_DIR/counts" 2>/dev/null; then
    echo "$runner: broke with status $status before counting its tests: counted as one failure" \
      | tee -a "$WORK_DIR/problems"
    echo "$runner 0 1" >>"$WORK_DIR/counts"
  fi
}

main() {
  local runner
  for runner in $TESTS; do
    case "$runner" in
      unit | regress | tap | fuzz) ;;
      *) die "unknown runner '$runner' in TESTS (use unit, regress, tap, fuzz)" ;;
    esac
  done

  ensure_packages "${DEMO_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
  ensure_pg_user
  # A tree that does not build is a failed run too, and is reported like one.
  set +e
  (set -e; build_and_install)
  local status=$?
  set -e
  if [ "$status" -ne 0 ]; then
    echo "set-up: building or installing multidb failed (status $status): counted as one failure"
    echo "0 passed, 1 failed"
    return 1
  fi

  make_work_dir
  touch "$WORK_DIR/counts"

  # The copy keeps build products (make unit then only compiles the tests) but no earlier test output.
  SRC="$WORK_DIR/src"
  rsync -a --exclude .git --exclude results/ --exclude tmp_check/ --exclude log/ --exclude bench/out/ \
    --exclude regression.diffs --exclude regression.out "$REPO_ROOT/" "$SRC/"
  if is_root; then chown -R "$MULTIDB_OS_USER": "$SRC"; fi

  for runner in $TESTS; do run_runner "$runner"; done

  local passed=0 failed=0 name p f
  while read -r name p f; do
    printf '  %-8s passed %4d, failed %d\n' "$name" "$p" "$f"
    passed=$((passed + p)) failed=$((failed + f))
  done <"$WORK_DIR/counts"
  if [ -s "$WORK_DIR/problems" ]; then cat "$WORK_DIR/problems"; fi
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

main "$@"
