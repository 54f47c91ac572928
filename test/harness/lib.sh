# shellcheck shell=bash
# Shared by `make demo`, `make test` and `make bench`: the machine set-up (packages, the unprivileged
# user, build, install) and throwaway clusters. Source it from a bash script running with
# `set -euo pipefail`; it only defines variables and functions.
#
# Postgres refuses to run as root, and CI runs as root: then every cluster and every test process runs as
# the unprivileged OS user $MULTIDB_OS_USER. A normal user (with sudo for the packages and `make install`)
# runs them as themself. Clusters live under one temporary directory, listen on 127.0.0.1 only, demand a
# password over TCP and trust only their own unix socket, and are stopped and removed on exit.

# Sourced by scripts that make runs: a make started from here must not inherit the outer make's flags
# (they would hand it a closed jobserver, or the outer command line's TESTS=...). PG_CONFIG is passed
# explicitly instead.
unset MAKEFLAGS MFLAGS MAKELEVEL

MULTIDB_OS_USER=${MULTIDB_OS_USER:-multidb}

# The project targets PostgreSQL 15; Debian's /usr/bin/pg_config would pick the newest installed server.
if [ -z "${PG_CONFIG:-}" ] || [ "$PG_CONFIG" = pg_config ]; then
  PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
fi

# What `make demo` (and `make bench`, `make eval`) need on a bare Debian 12: the server and its development
# files, the build's libraries and compiler, contrib (dblink and postgres_fdw for the benchmarks), and python3
# for the scripted LLM stand-in; cpp-httplib (with OpenSSL) and pkg-config for multidb-web, which `make` builds;
# nodejs and npm, with which `make` builds the web UI in web/ (`npm ci`, then esbuild) and gets swagger-ui-dist
# for the API page at /api/docs (both installed beside the gateway);
# curl, with which the demo runs the seed's HTTP workflows against the gateway (and the gateway's tests use).
DEMO_PACKAGES=(postgresql-15 postgresql-server-dev-15 postgresql-contrib libpq-dev libcurl4-openssl-dev
               nlohmann-json3-dev g++ make python3 libcpp-httplib-dev libssl-dev pkg-config nodejs curl)
# Debian's npm is a package of its own; NodeSource's nodejs brings npm and conflicts with it.
command -v npm >/dev/null 2>&1 || DEMO_PACKAGES+=(npm)
# What `make test` adds: GoogleTest for the unit tests, pg_cron for the scheduled reports' TAP tests, IPC::Run
# for the TAP framework, rsync for the test copies, pgbouncer for a real pooler between multidb and a remote in
# test/t/015_guard_walls.pl, clang and its runtime libraries (libFuzzer, ASan, UBSan) for test/fuzz,
# python3-httpx and openssl (a certificate for HTTPS) for the gateway's test (test/t/034_gateway.pl),
# python3-jsonschema to check the gateway's answers against its OpenAPI document (test/t/036_gateway_api.pl);
# the BI clients of test/t/041_bi_clients.pl: a JDK and pgjdbc (a small program compiled in the test), SQLAlchemy
# (Debian 12's 1.4 reaches PostgreSQL through psycopg2) and psycopg 3; the web UI's browser test
# (test/t/048_web_ui.pl, make screenshots, the UI bench): chromium, chromium-driver and python3-selenium, all three
# Debian's, so the driver always matches the browser and Selenium never downloads either.
TEST_PACKAGES=(libgtest-dev postgresql-15-cron libipc-run-perl rsync pgbouncer clang libclang-rt-14-dev python3-httpx openssl
               python3-jsonschema default-jdk-headless libpostgresql-jdbc-java python3-sqlalchemy python3-psycopg2
               python3-psycopg chromium chromium-driver python3-selenium)

if [ -t 2 ]; then _BOLD=$'\033[1m' _PLAIN=$'\033[0m'; else _BOLD='' _PLAIN=''; fi
log() { printf '%s==> %s%s\n' "$_BOLD" "$*" "$_PLAIN" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# PG_BINDIR: the server's programs (initdb, pg_ctl, psql, ...). Known only once the packages are there.
resolve_pg_paths() {
  PG_BINDIR=$("$PG_CONFIG" --bindir 2>/dev/null) || PG_BINDIR=/usr/lib/postgresql/15/bin
}
resolve_pg_paths

is_root() { [ "$(id -u)" -eq 0 ]; }

# Runs a command with root rights: directly as root, else through sudo.
as_root() {
  if is_root; then "$@"; else sudo "$@"; fi
}

# Runs a command as the user that owns the clusters. runuser keeps the command in our process group, so
# Ctrl-C reaches it directly.
as_pg_user() {
  if is_root; then runuser -u "$MULTIDB_OS_USER" -- "$@"; else "$@"; fi
}

# ensure_packages [PACKAGE...]: installs those of the packages (default: the demo's) that are missing.
ensure_packages() {
  local missing=() package
  [ $# -gt 0 ] || set -- "${DEMO_PACKAGES[@]}"
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  log "installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 \
    --no-install-recommends "${missing[@]}" >/dev/null
  resolve_pg_paths
}

# As root the clusters need an unprivileged owner; as a normal user, that user owns them.
ensure_pg_user() {
  if is_root; then
    if ! id "$MULTIDB_OS_USER" >/dev/null 2>&1; then
      log "creating the unprivileged OS user $MULTIDB_OS_USER (Postgres will not run as root)"
      useradd --system --create-home --shell /bin/bash "$MULTIDB_OS_USER"
    fi
  else
    MULTIDB_OS_USER=$(id -un)
  fi
  # initdb makes the OS user the bootstrap superuser; every helper below connects as that role.
  PG_SUPERUSER=$MULTIDB_OS_USER
}

build_and_install() {
  log "building and installing multidb"
  # make runs `npm ci` in web/ (the web UI's packages and swagger-ui-dist, pinned by web/package-lock.json).
  make -s -C "$REPO_ROOT" -j "$(nproc)" PG_CONFIG="$PG_CONFIG"
  as_root make -s -C "$REPO_ROOT" PG_CONFIG="$PG_CONFIG" install >/dev/null
}

# The set-up shared by demo, test and bench: idempotent, and quick when everything is already there.
setup_machine() {
  ensure_packages
  ensure_pg_user
  build_and_install
}

# WORK_DIR: a fresh directory owned by the cluster user, for clusters, sockets, logs and test copies.
# Removed, with every server still running under it, when the script exits for any reason.
make_work_dir() {
  WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/multidb.XXXXXX")
  chmod 755 "$WORK_DIR"     # others may connect to the sockets in it (the demo prints how)
  if is_root; then chown "$MULTIDB_OS_USER": "$WORK_DIR"; fi
  as_pg_user test -w "$WORK_DIR" || die "$MULTIDB_OS_USER cannot write to $WORK_DIR (set TMPDIR to a shared directory)"
  trap cleanup_work_dir EXIT
  # A signal ends the script through exit, so that the EXIT trap runs.
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
}

# start_background LOG COMMAND...: runs COMMAND (a helper server, say) as the cluster user in the
# background, output to LOG; cleanup_work_dir ends it. Started as a plain command, not through a
# function, so that $! is the process to signal (runuser passes SIGTERM on to its child).
BACKGROUND_PIDS=()
start_background() {
  local log=$1; shift
  if is_root; then
    runuser -u "$MULTIDB_OS_USER" -- "$@" >"$log" 2>&1 &
  else
    "$@" >"$log" 2>&1 &
  fi
  BACKGROUND_PIDS+=("$!")
}

# work_memory_dir: WORK_DIR's companion on the tmpfs /dev/shm (the TAP tests' tmp_check/ when run_tests.sh puts
# it in memory); removed with WORK_DIR.
work_memory_dir() { echo "/dev/shm/${WORK_DIR##*/}.tap"; }

# Ends the background processes, stops every server whose data directory lies under WORK_DIR or its memory
# companion, ours and those of the TAP tests alike (pg_ctl starts the postmaster in a session of its own, so
# no signal to us reaches it), then removes both. Keeps the script's exit status.
cleanup_work_dir() {
  local status=$? pid pidfile dir
  trap - EXIT INT TERM HUP
  for pid in "${BACKGROUND_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${BACKGROUND_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for dir in ${WORK_DIR:+"$WORK_DIR" "$(work_memory_dir)"}; do
    [ -d "$dir" ] || continue
    while IFS= read -r pidfile; do
      as_pg_user "$PG_BINDIR/pg_ctl" -D "$(dirname "$pidfile")" -m immediate -w stop >/dev/null 2>&1 || true
    done < <(find "$dir" -name postmaster.pid -type f 2>/dev/null)
    rm -rf "$dir"
  done
  exit "$status"
}

# run_web_fixture SCRIPT [ARGS...]: starts the browser test's fixture (test/t/MultidbWeb.pm: two remote
# clusters, a coordinator, the scripted LLM, multidb-web) and runs test/browser/SCRIPT against it
# (test/browser/with_fixture.pl), as the cluster user, in a copy of the tree under $WORK_DIR (the TAP framework
# writes tmp_check/ beside the tests). `make screenshots` and the UI bench use it; test/t/048_web_ui.pl starts the
# same fixture itself.
run_web_fixture() {
  local src="$WORK_DIR/web-fixture" pgxs_dir
  pgxs_dir=$(dirname "$(dirname "$("$PG_CONFIG" --pgxs)")")   # .../lib/postgresql/15/lib/pgxs/src
  rsync -a --exclude .git --exclude web/node_modules/ --exclude results/ --exclude tmp_check/ --exclude log/ \
    --exclude bench/out/ --exclude screenshots/ "$REPO_ROOT/" "$src/"
  if is_root; then chown -R "$MULTIDB_OS_USER": "$src"; fi
  (cd "$src" && as_pg_user env TESTDIR="$src" PATH="$PG_BINDIR:$PATH" \
     PG_REGRESS="$pgxs_dir/test/regress/pg_regress" \
     perl -I "$pgxs_dir/test/perl" -I test/t test/browser/with_fixture.pl "$@")
}

# A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it).
free_port() {
  perl -MIO::Socket::INET -e \
    'my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 1, ReuseAddr => 1)
       or die "no free port: $!\n"; print $s->sockport, "\n"'
}

# start_cluster NAME [postgresql.conf line...]: a new cluster in $WORK_DIR/NAME, started; sets ${NAME}_PORT.
# The bootstrap superuser is $PG_SUPERUSER (the OS user) without a password: it logs in through the unix
# socket in $WORK_DIR (trusted); TCP on 127.0.0.1 demands a password (scram-sha-256).
start_cluster() {
  local name=$1; shift
  local data="$WORK_DIR/$name" port line
  as_pg_user "$PG_BINDIR/initdb" -D "$data" -E UTF8 --locale=C.UTF-8 --auth=trust --no-instructions >/dev/null
  printf '%s\n' 'local all all                trust' \
                'host  all all 127.0.0.1/32 scram-sha-256' | as_pg_user tee "$data/pg_hba.conf" >/dev/null
  {
    echo "# throwaway cluster of multidb's test harness"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$WORK_DIR'"
    echo "shared_preload_libraries = ''"
    echo "max_worker_processes = 32"
    echo "fsync = off"                  # nothing here needs to survive a crash
    for line in "$@"; do echo "$line"; done
  } | as_pg_user tee -a "$data/postgresql.conf" >/dev/null
  # The port is free when picked but could be taken before the postmaster binds it: then try another.
  # (The last "port" line of postgresql.conf wins.)
  for _ in 1 2 3; do
    port=$(free_port)
    echo "port = $port" | as_pg_user tee -a "$data/postgresql.conf" >/dev/null
    if as_pg_user "$PG_BINDIR/pg_ctl" -D "$data" -l "$WORK_DIR/$name.log" -w -t 60 start >/dev/null; then
      printf -v "${name}_PORT" '%s' "$port"
      return 0
    fi
    grep -q 'could not bind\|could not create any TCP/IP sockets' "$WORK_DIR/$name.log" || break
  done
  tail -n 20 "$WORK_DIR/$name.log" >&2
  die "cluster $name did not start (log above)"
}

# stop_cluster NAME: stops a cluster started by start_cluster (the data stays until cleanup).
stop_cluster() {
  as_pg_user "$PG_BINDIR/pg_ctl" -D "$WORK_DIR/$1" -m fast -w stop >/dev/null
}

# psql_on PORT DB [psql args...]: psql as the superuser over the unix socket, stopping at the first error.
psql_on() {
  local port=$1 db=$2; shift 2
  as_pg_user "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK_DIR" -p "$port" -U "$PG_SUPERUSER" -d "$db" "$@"
}
