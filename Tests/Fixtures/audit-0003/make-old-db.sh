#!/usr/bin/env bash
# How old.db was made: with stevedore 0.1.0 as released (commit 11a56e6, schema 0001-0003, ledger encoding 1),
# against a local docker-registry and a throttling proxy (proxy.py, every 7th request answered 429), so the log
# holds every audited table: runs of each command, failed and retried jobs, a killed and resumed run, limiter
# pauses with a REAL rate, a pruned run with its anchor. Kept for reference; the test uses the committed file.
#
#   make-old-db.sh OLD_STEVEDORE OUTDIR
set -euo pipefail
old=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
mkdir -p "$out" && cd "$out"
addr=$(bash "$root/examples/local-registry.sh" start "$out/registry")
trap 'bash "$root/examples/local-registry.sh" stop "$out/registry"; kill $proxy 2>/dev/null || true' EXIT
python3 "$here/proxy.py" 27911 "$addr" & proxy=$!
sleep 3
printf 'namespace: legacy\ntags: [latest, "1.0"]\nservices: [api, web, worker, db-migrate, tool_x]\n' > a.yaml
python3 -c "print('namespace: bulk\ntags: [latest]\nservices:'); [print(f'  - svc-{i}') for i in range(120)]" > bulk.yaml
"$old" provision a.yaml --registry "$addr" --db old.db
"$old" provision a.yaml --registry 127.0.0.1:27911 --rate 50 --db old.db
"$old" verify a.yaml --registry "$addr" --db old.db
timeout -s KILL 0.5 "$old" provision bulk.yaml --registry 127.0.0.1:27911 --rate 200 --db old.db || true
sleep 3
"$old" resume --registry "$addr" --db old.db || "$old" resume --registry "$addr" --db old.db
"$old" provision a.yaml --registry 127.0.0.1:1 --db old.db || true
"$old" retry --registry "$addr" --db old.db
"$old" prune --before "$(sqlite3 old.db 'select started_at from runs where id = 2')" --db old.db
sqlite3 old.db 'PRAGMA wal_checkpoint(TRUNCATE)'
"$old" audit head --db old.db > old.head
"$old" audit verify --db old.db
