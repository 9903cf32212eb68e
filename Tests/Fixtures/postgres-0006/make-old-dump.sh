#!/usr/bin/env bash
# How old.sql was made: with stevedore 0.2.0 as released (commit faa7805, PostgreSQL schema 0001-0006: the store and
# the queue's table, no worker) against a throw-away PostgreSQL 15, a local docker-registry and the throttling proxy
# of ../audit-0003 (every 7th request answered 429), so the log holds every audited table: runs of each command,
# failed and retried jobs, a killed and resumed run, limiter pauses with a rate, a pruned run with its anchor.
# Kept for reference; the test restores the committed dump.
#
#   make-old-dump.sh OLD_STEVEDORE OUTDIR
set -euo pipefail
old=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
bin=/usr/lib/postgresql/15/bin
mkdir -p "$out" && cd "$out" && rm -rf pg && mkdir -p pg/sock && chown -R nobody pg
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
as_nobody "$bin/initdb" -D "$out/pg/data" -U stevedore --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
as_nobody "$bin/pg_ctl" -D "$out/pg/data" -l "$out/pg/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=27932 -c unix_socket_directories=$out/pg/sock" start >/dev/null
db="postgres://stevedore@127.0.0.1:27932/audit?sslmode=disable"
addr=$(bash "$root/examples/local-registry.sh" start "$out/registry")
trap 'bash "$root/examples/local-registry.sh" stop "$out/registry"; kill $proxy 2>/dev/null || true;
      as_nobody "$bin/pg_ctl" -D "$out/pg/data" -m fast -w stop >/dev/null' EXIT
psql "postgres://stevedore@127.0.0.1:27932/postgres" -qc "CREATE DATABASE audit"
python3 "$root/Tests/Fixtures/audit-0003/proxy.py" 27912 "$addr" & proxy=$!
sleep 3
printf 'namespace: legacy\ntags: [latest, "1.0"]\nservices: [api, web, worker, db-migrate, tool_x]\n' > a.yaml
python3 -c "print('namespace: bulk\ntags: [latest]\nservices:'); [print(f'  - svc-{i}') for i in range(40)]" > bulk.yaml
"$old" provision a.yaml --registry "$addr" --db "$db"
"$old" provision a.yaml --registry 127.0.0.1:27912 --rate 50 --db "$db"
"$old" verify a.yaml --registry "$addr" --db "$db"
timeout -s KILL 0.5 "$old" provision bulk.yaml --registry 127.0.0.1:27912 --rate 200 --db "$db" || true
sleep 1
"$old" resume --registry "$addr" --db "$db" || "$old" resume --registry "$addr" --db "$db"
"$old" provision a.yaml --registry 127.0.0.1:1 --db "$db" || true
"$old" retry --registry "$addr" --db "$db"
"$old" prune --before "$(psql "$db" -Atc 'select started_at from runs where id = 2')" --db "$db"
"$old" audit head --db "$db" > "$here/old.head"
"$old" audit verify --db "$db"
pg_dump --no-owner --no-privileges "$db" > "$here/old.sql"
