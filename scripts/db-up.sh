#!/usr/bin/env bash
# Brings up a local PostgreSQL for `make run` and `make test` on a Debian machine:
# installs the `postgresql` package when it is missing, starts (or creates) a cluster,
# and makes sure the role `passport` (password `passport`, CREATEDB) and the database
# `passport` exist. Safe to run again: every step checks before it acts.
set -euo pipefail

log() { printf 'db-up: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root (or sudo) to run: $*"; exit 1; fi
}
# Runs as the postgres user from /, which it can read: from a checkout in a private folder
# psql would print "could not change directory ... Permission denied".
as_postgres() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else (cd / && sudo -u postgres "$@"); fi
}

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  log "PostgreSQL is not installed: installing Debian's postgresql package"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

cluster=$(pg_lsclusters -h | awk '$3 == 5432 {print $1, $2, $4; exit}')
if [ -z "$cluster" ]; then
  cluster=$(pg_lsclusters -h | awk '{print $1, $2, $4; exit}')
fi
if [ -z "$cluster" ]; then
  ver=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  log "no cluster: creating $ver/main"
  as_root pg_createcluster "$ver" main >/dev/null
  cluster="$ver main down"
fi
read -r ver name status <<<"$cluster"
port=$(pg_lsclusters -h | awk -v v="$ver" -v n="$name" '$1 == v && $2 == n {print $3}')
if [ "$port" != 5432 ]; then
  log "cluster $ver/$name listens on port $port, but Passport's defaults expect 5432"
  log "set PASSPORT_DATABASE_URL and PASSPORT_TEST_DATABASE_URL accordingly"
fi
if [ "$status" != online ]; then
  log "starting cluster $ver/$name"
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start
fi
for _ in $(seq 1 60); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$port" || { log "PostgreSQL did not become ready on port $port"; exit 1; }

as_postgres psql -q -p "$port" -v ON_ERROR_STOP=1 -d postgres >/dev/null <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'passport') THEN
    CREATE ROLE passport LOGIN CREATEDB PASSWORD 'passport';
  END IF;
END $$;
SQL
if ! as_postgres psql -p "$port" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'passport'" | grep -q 1; then
  as_postgres createdb -p "$port" -O passport passport
fi
log "PostgreSQL $ver/$name is ready on 127.0.0.1:$port (role and database: passport)"
