#!/bin/sh
# What compose relies on of the official image's entrypoint: on an empty PGDATA, initdb with
# POSTGRES_USER and POSTGRES_PASSWORD (passwords required over TCP), then the scripts of
# /docker-entrypoint-initdb.d against a server listening on its socket only; then the server on
# every address.
set -eu
PATH="$(echo /usr/lib/postgresql/*/bin):$PATH"
SOCKETS=/var/run/postgresql
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwfile="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
        --encoding=UTF8 -D "$PGDATA" > /dev/null
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=$SOCKETS" -w start > /dev/null
    if [ "${POSTGRES_DB:-postgres}" != postgres ]; then
        createdb -h "$SOCKETS" -U "$POSTGRES_USER" "$POSTGRES_DB"
    fi
    for script in /docker-entrypoint-initdb.d/*.sh; do
        [ -e "$script" ] && PGHOST="$SOCKETS" sh "$script"
    done
    pg_ctl -D "$PGDATA" -m fast -w stop > /dev/null
    echo "PostgreSQL init process complete; ready for start up."
fi
exec postgres -c listen_addresses='*' -c unix_socket_directories="$SOCKETS"
