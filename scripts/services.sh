#!/usr/bin/env bash
# Real PostgreSQL and MariaDB servers for the SQL connector's tests, on fixed non-default ports so they never
# clash with system services. The ports sit below Linux's ephemeral range (32768-60999): a port in that range
# can be taken at any moment as the local end of some client's connection (a CI run lost PostgreSQL's old
# port 55432 to one of the test brokers' clients). Idempotent and non-interactive.
#
#   scripts/services.sh start   initialise (first time) and start both; create the test database and user
#   scripts/services.sh stop    stop both (data kept under $CRMHUB_SERVICES_DIR)
#   scripts/services.sh env     print CRMHUB_TEST_PG_URL=... and CRMHUB_TEST_MARIADB_URL=...
#   scripts/services.sh status  say which ones are running
#
# Needs the Debian packages postgresql and mariadb-server (only their binaries: the system services are not
# used). Run as root, the servers run as the postgres / mysql users (runuser); otherwise as the caller.
# Exit code 3 from start means a server's binaries are missing.
set -euo pipefail

DIR="${CRMHUB_SERVICES_DIR:-/tmp/crmhub-services}"
PG_PORT="${CRMHUB_PG_PORT:-25432}"
MARIADB_PORT="${CRMHUB_MARIADB_PORT:-23306}"
DB_NAME="crmhub_test"
DB_USER="crmhub"
DB_PASSWORD="crmhub-test-pw"

PG_DATA="$DIR/pg/data"
PG_SOCK="$DIR/pg"
MY_DATA="$DIR/mariadb/data"
MY_SOCK="$DIR/mariadb/mariadb.sock"
# wal_level=logical and the slots and senders let a logical decoding client (Debezium's PostgreSQL connector,
# bench/bench_capture.py) read the test server; the tests do not need them and are not slowed by them
PG_OPTS="-p $PG_PORT -k $PG_SOCK -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
PG_OPTS="$PG_OPTS -c wal_level=logical -c max_replication_slots=10 -c max_wal_senders=10"

pg_bin() {
  local d
  for d in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

as_user() {  # as_user USER CMD... : run CMD as USER when root, else as the caller
  local user="$1"; shift
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

owner_of() {  # the account a server runs as
  if [ "$(id -u)" -eq 0 ]; then echo "$1"; else id -un; fi
}

port_holder() {  # port_holder PORT : who listens on or holds 127.0.0.1:PORT, empty when it is free
  python3 - "$1" <<'PY' 2>/dev/null || true
import socket, sys
s = socket.socket()
# as the servers bind: connections of a server stopped a moment ago (TIME-WAIT) do not make the port taken
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError as e:
    print(e.strerror)
PY
}

check_port() {  # check_port NAME PORT : fail with a clear message when PORT is taken by something else
  local held; held="$(port_holder "$2")"
  [ -z "$held" ] && return 0
  echo "services: $1 cannot start: 127.0.0.1:$2 is taken ($held). Set CRMHUB_${1^^}_PORT to a free port." >&2
  command -v ss >/dev/null 2>&1 && ss -tanp "( sport = :$2 )" >&2 || true
  return 1
}

pg_running() {
  local bin; bin="$(pg_bin)" || return 1
  [ -f "$PG_DATA/PG_VERSION" ] && as_user postgres "$bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

pg_start() {
  local bin; bin="$(pg_bin)" || { echo "services: PostgreSQL binaries not found (install postgresql)" >&2; return 3; }
  mkdir -p "$DIR/pg"; chmod 755 "$DIR" "$DIR/pg"
  chown "$(owner_of postgres)" "$DIR/pg"
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    local pwfile="$DIR/pg/.pw"
    printf '%s\n' "$DB_PASSWORD" >"$pwfile"; chown "$(owner_of postgres)" "$pwfile"; chmod 600 "$pwfile"
    as_user postgres "$bin/initdb" -D "$PG_DATA" -U postgres --pwfile="$pwfile" --auth-local=trust \
      --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$DIR/pg/initdb.log" 2>&1
    rm -f "$pwfile"
  fi
  if ! pg_running; then
    check_port pg "$PG_PORT" || return 1
    # a server killed with its machine (a CI run ends so) leaves postmaster.pid behind; pg_ctl just said no
    # server runs on this data directory, and a reused PID in that file would make postgres refuse to start
    rm -f "$PG_DATA/postmaster.pid"
    as_user postgres "$bin/pg_ctl" -D "$PG_DATA" -l "$DIR/pg/server.log" -w -t 60 -o "$PG_OPTS" start >/dev/null
  fi
  local psql=("$bin/psql" -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA)
  # a server started before logical decoding was part of PG_OPTS: wal_level only changes with a restart
  if [ "$(as_user postgres "${psql[@]}" -c "SHOW wal_level")" != "logical" ]; then
    as_user postgres "$bin/pg_ctl" -D "$PG_DATA" -l "$DIR/pg/server.log" -m fast -w -t 60 -o "$PG_OPTS" \
      restart >/dev/null
  fi
  if [ "$(as_user postgres "${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname='$DB_USER'")" != "1" ]; then
    as_user postgres "${psql[@]}" -c "CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASSWORD'"
  fi
  if [ "$(as_user postgres "${psql[@]}" -c "SELECT rolreplication FROM pg_roles WHERE rolname='$DB_USER'")" != "t" ]; then
    as_user postgres "${psql[@]}" -c "ALTER ROLE $DB_USER REPLICATION"  # logical replication slots (Debezium)
  fi
  if [ "$(as_user postgres "${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'")" != "1" ]; then
    as_user postgres "${psql[@]}" -c "CREATE DATABASE $DB_NAME OWNER $DB_USER"
  fi
}

pg_stop() {
  local bin; bin="$(pg_bin)" || return 0
  if pg_running; then as_user postgres "$bin/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null; fi
}

my_bin() { command -v mariadbd || command -v mysqld || ls /usr/sbin/mariadbd /usr/sbin/mysqld 2>/dev/null | head -1; }
my_client() { command -v mariadb || command -v mysql; }
my_admin() { command -v mariadb-admin || command -v mysqladmin; }
my_install() { command -v mariadb-install-db || command -v mysql_install_db; }

my_running() {
  local admin; admin="$(my_admin)" || return 1
  [ -S "$MY_SOCK" ] && "$admin" --no-defaults --socket="$MY_SOCK" -uroot ping >/dev/null 2>&1
}

my_start() {
  local server install client
  server="$(my_bin)" && install="$(my_install)" && client="$(my_client)" || {
    echo "services: MariaDB binaries not found (install mariadb-server)" >&2; return 3; }
  local user; user="$(owner_of mysql)"
  mkdir -p "$DIR/mariadb"; chmod 755 "$DIR" "$DIR/mariadb"; chown "$user" "$DIR/mariadb"
  if [ ! -d "$MY_DATA/mysql" ]; then
    "$install" --no-defaults --datadir="$MY_DATA" --user="$user" --auth-root-authentication-method=socket \
      --skip-test-db >"$DIR/mariadb/install.log" 2>&1
  fi
  if ! my_running; then
    check_port mariadb "$MARIADB_PORT" || return 1
    rm -f "$MY_SOCK"
    setsid "$server" --no-defaults --datadir="$MY_DATA" --port="$MARIADB_PORT" --bind-address=127.0.0.1 \
      --socket="$MY_SOCK" --pid-file="$DIR/mariadb/mariadb.pid" --log-error="$DIR/mariadb/server.log" \
      --skip-name-resolve --innodb-flush-log-at-trx-commit=0 --user="$user" </dev/null >/dev/null 2>&1 &
    local i
    for i in $(seq 1 120); do my_running && break; sleep 0.5; done
    my_running || { echo "services: MariaDB did not start; see $DIR/mariadb/server.log" >&2; return 1; }
  fi
  "$client" --no-defaults --socket="$MY_SOCK" -uroot -e "
    CREATE DATABASE IF NOT EXISTS $DB_NAME;
    CREATE USER IF NOT EXISTS '$DB_USER'@'%' IDENTIFIED BY '$DB_PASSWORD';
    GRANT ALL ON $DB_NAME.* TO '$DB_USER'@'%';"
}

my_stop() {
  local admin; admin="$(my_admin)" || return 0
  if my_running; then "$admin" --no-defaults --socket="$MY_SOCK" -uroot shutdown; fi
}

print_env() {
  echo "CRMHUB_TEST_PG_URL=postgresql+psycopg2://$DB_USER:$DB_PASSWORD@127.0.0.1:$PG_PORT/$DB_NAME"
  echo "CRMHUB_TEST_MARIADB_URL=mysql+pymysql://$DB_USER:$DB_PASSWORD@127.0.0.1:$MARIADB_PORT/$DB_NAME"
}

case "${1:-}" in
  start)
    rc=0
    pg_start || rc=$?
    my_start || rc=$?
    exit "$rc"
    ;;
  stop)
    pg_stop
    my_stop
    ;;
  env)
    print_env
    ;;
  status)
    if pg_running; then echo "postgresql: running on $PG_PORT"; else echo "postgresql: stopped"; fi
    if my_running; then echo "mariadb: running on $MARIADB_PORT"; else echo "mariadb: stopped"; fi
    ;;
  *)
    echo "usage: $0 start|stop|env|status" >&2
    exit 2
    ;;
esac
