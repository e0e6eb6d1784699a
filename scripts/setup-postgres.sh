#!/usr/bin/env bash
# Idempotent local PostgreSQL 15 + PostGIS + pgRouting setup for the lifecircle
# peer benchmarks (Debian 12, run as root). Safe to re-run: every step checks
# first and only acts when something is missing.
#
#   bash scripts/setup-postgres.sh
#
# Result: cluster 15/main listening on 127.0.0.1:5432, role `lifecircle`
# (password `lifecircle`, LOGIN SUPERUSER - local test cluster only) owning
# database `lifecircle` with extensions postgis and pgrouting.
# Connection string: postgres://lifecircle:lifecircle@127.0.0.1:5432/lifecircle
set -euo pipefail

export DEBIAN_FRONTEND="${DEBIAN_FRONTEND:-noninteractive}"

PG_VERSION=15
PG_CLUSTER=main
PG_HOST=127.0.0.1
PG_PORT=5432
DB_ROLE=lifecircle
DB_PASS=lifecircle
DB_NAME=lifecircle
PACKAGES=(postgresql-15 postgresql-15-postgis-3 postgresql-15-pgrouting)

log() { printf '[setup-postgres] %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  log "must be run as root (uses apt-get, pg_ctlcluster and su postgres)"
  exit 1
fi

# 1. Packages: install only those not already installed.
missing=()
for p in "${PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
  if [ "$status" != "installed" ]; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing: ${missing[*]}"
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
else
  log "packages already installed: ${PACKAGES[*]}"
fi

# 2. Cluster: create if the package did not (e.g. create_main_cluster=false), then start.
if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -qx "$PG_VERSION $PG_CLUSTER"; then
  log "creating cluster $PG_VERSION/$PG_CLUSTER"
  pg_createcluster "$PG_VERSION" "$PG_CLUSTER" --port "$PG_PORT"
fi
pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start || true

# 3. Wait until it accepts TCP connections (bounded: ~30 s).
ready=0
for _ in $(seq 1 60); do
  if pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
    ready=1
    break
  fi
  sleep 0.5
done
if [ "$ready" -ne 1 ]; then
  log "PostgreSQL did not become ready on $PG_HOST:$PG_PORT within 30 s"
  pg_lsclusters || true
  exit 1
fi
log "PostgreSQL is accepting connections on $PG_HOST:$PG_PORT"

# Run SQL as the postgres superuser over the local Unix socket (peer auth).
psql_admin() {
  su postgres -c "psql -X -q -v ON_ERROR_STOP=1 -p $PG_PORT $*"
}

# 4. Role and database.
if [ "$(psql_admin "-tAc \"SELECT 1 FROM pg_roles WHERE rolname = '$DB_ROLE'\"")" != "1" ]; then
  log "creating role $DB_ROLE"
  psql_admin "-c \"CREATE ROLE $DB_ROLE WITH LOGIN SUPERUSER PASSWORD '$DB_PASS'\""
else
  log "role $DB_ROLE exists"
fi
if [ "$(psql_admin "-tAc \"SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'\"")" != "1" ]; then
  log "creating database $DB_NAME"
  psql_admin "-c \"CREATE DATABASE $DB_NAME OWNER $DB_ROLE\""
else
  log "database $DB_NAME exists"
fi

# 5. Extensions (IF NOT EXISTS makes this idempotent).
psql_admin "-d $DB_NAME -c \"SET client_min_messages = warning\" -c \"CREATE EXTENSION IF NOT EXISTS postgis\" -c \"CREATE EXTENSION IF NOT EXISTS pgrouting\""

versions="$(psql_admin "-d $DB_NAME -tAc \"SELECT 'postgis ' || postgis_lib_version() || ', pgrouting ' || pgr_version()\"")"
log "ready: $versions"
log "url: postgres://$DB_ROLE:$DB_PASS@$PG_HOST:$PG_PORT/$DB_NAME"
