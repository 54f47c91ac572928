# Shared by `make demo` and `make test`: packages, the unprivileged user, build and install, and
# throwaway clusters. Source it; it defines functions only (and a few variables).
#
# Postgres refuses to run as root, and CI runs as root: every cluster and every test process runs as
# the unprivileged OS user $MULTIDB_OS_USER, under a temporary directory, on loopback ports.

MULTIDB_OS_USER=${MULTIDB_OS_USER:-multidb}
PG_BINDIR=/usr/lib/postgresql/15/bin
REQUIRED_PACKAGES=(postgresql-15 postgresql-client-15 postgresql-contrib postgresql-server-dev-15 libpq-dev
                   libcurl4-openssl-dev nlohmann-json3-dev libgtest-dev postgresql-15-cron libipc-run-perl
                   g++ make rsync python3)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command with root rights: directly as root, else through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Runs a command as the user that owns the clusters.
as_pg_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$MULTIDB_OS_USER" -- "$@"; else "$@"; fi
}

ensure_packages() {
  local missing=() package
  for package in "${REQUIRED_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# As root the clusters need an unprivileged owner; as a normal user, that user owns them.
ensure_pg_user() {
  if [ "$(id -u)" -eq 0 ]; then
    id "$MULTIDB_OS_USER" >/dev/null 2>&1 || useradd --system --create-home --shell /bin/bash "$MULTIDB_OS_USER"
  else
    MULTIDB_OS_USER=$(id -un)
  fi
}

build_and_install() {
  log "building and installing multidb"
  make -s -C "$REPO_ROOT" >/dev/null
  as_root make -s -C "$REPO_ROOT" install >/dev/null
}

setup_machine() {
  ensure_packages
  ensure_pg_user
  build_and_install
}

# A work directory owned by the cluster user, removed (with its clusters) by cleanup_work_dir.
make_work_dir() {
  WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/multidb.XXXXXX")
  chmod 755 "$WORK_DIR"
  [ "$(id -u)" -eq 0 ] && chown "$MULTIDB_OS_USER" "$WORK_DIR"
  CLUSTERS=()
}

cleanup_work_dir() {
  local data
  for data in "${CLUSTERS[@]:-}"; do
    [ -n "$data" ] && [ -f "$data/postmaster.pid" ] && as_pg_user "$PG_BINDIR/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1
  done
  [ -n "${WORK_DIR:-}" ] && rm -rf "$WORK_DIR"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_cluster NAME [extra postgresql.conf lines...]: sets ${NAME}_PORT; the superuser is "postgres"
# (a role named like the OS user "multidb" would collide with the extension's schema through "$user").
# Unix sockets trust; TCP on 127.0.0.1 demands a password (scram-sha-256).
start_cluster() {
  local name=$1; shift
  local data="$WORK_DIR/$name" port
  port=$(free_port)
  as_pg_user "$PG_BINDIR/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >/dev/null
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $port"
    echo "unix_socket_directories = '$WORK_DIR'"
    echo "max_worker_processes = 32"
    echo "fsync = off"
    echo "log_min_messages = warning"
    local line
    for line in "$@"; do echo "$line"; done
  } | as_pg_user tee -a "$data/postgresql.conf" >/dev/null
  as_pg_user "$PG_BINDIR/pg_ctl" -D "$data" -l "$WORK_DIR/$name.log" -w start >/dev/null \
    || { cat "$WORK_DIR/$name.log" >&2; die "cluster $name did not start"; }
  CLUSTERS+=("$data")
  printf -v "${name}_PORT" '%s' "$port"
}

# psql_on PORT DB [psql args...]: psql over the unix socket as the superuser.
psql_on() {
  local port=$1 db=$2; shift 2
  as_pg_user "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK_DIR" -p "$port" -U postgres -d "$db" "$@"
}
