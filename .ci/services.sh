#!/usr/bin/env bash
# Make sure the local PostgreSQL and Redis answer on 127.0.0.1, starting whichever is down.
# Exits non-zero if one of them is still unreachable afterwards. See DEVELOPERS.md.
set -euo pipefail

PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
REDIS_PORT="${REDIS_PORT:-6379}"
WAIT_SECONDS="${SERVICES_WAIT_SECONDS:-30}"

postgres_up() { pg_isready -q -h "$PGHOST" -p "$PGPORT" >/dev/null 2>&1; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

wait_for() {  # wait_for <name> <check function>
    local i
    for ((i = 0; i < WAIT_SECONDS * 5; i++)); do
        "$2" && return 0
        sleep 0.2
    done
    echo "services: $1 did not come up within ${WAIT_SECONDS}s" >&2
    return 1
}

status=0

if postgres_up; then
    echo "services: PostgreSQL is up"
elif command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    version="$(ls /etc/postgresql | sort -V | tail -n 1)"
    echo "services: starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    wait_for PostgreSQL postgres_up || status=1
else
    echo "services: PostgreSQL is down and pg_ctlcluster is not available" >&2
    status=1
fi

if redis_up; then
    echo "services: Redis is up"
elif command -v redis-server >/dev/null 2>&1; then
    echo "services: starting Redis"
    mkdir -p /var/lib/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
        --save "" --appendonly no --dir /var/lib/redis >/dev/null
    wait_for Redis redis_up || status=1
else
    echo "services: Redis is down and redis-server is not installed" >&2
    status=1
fi

exit "$status"
