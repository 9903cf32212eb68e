#!/usr/bin/env bash
# make bench: Stevedore vs skopeo (one `skopeo copy` per tag, the status quo) vs a minimal-sequence
# client (the registry's ceiling), side by side on fresh local docker-registry instances; the same in
# token mode (token requests per repository); Stevedore's scaling; the audit store's cost and the report
# latencies on a log of one million attempts. Prints tables of medians; see docs/PERFORMANCE.md.
#
#   N=1000 REPS=3 CONCURRENCY=8 SCALING="100 1000 10000" TOKEN_N=1000 AUDIT_JOBS=10000 bench/run.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

N=${N:-1000}
REPS=${REPS:-3}
CONCURRENCY=${CONCURRENCY:-8}
SCALING=${SCALING:-"100 1000 10000"}
TOKEN_N=${TOKEN_N:-1000}
AUDIT_JOBS=${AUDIT_JOBS:-10000}
BENCH_START=$(date +%s)
TAGS="latest,0.1.0"
SWIFT=${SWIFT:-swift}

echo "bench: building release binaries (a clean release build takes several minutes)"
"$SWIFT" build -c release --product stevedore >/dev/null
"$SWIFT" build -c release --product BenchCeiling >/dev/null
"$SWIFT" build -c release --product BenchAudit >/dev/null
"$SWIFT" build -c release --product BenchToken >/dev/null
echo "bench: release build done after $(( $(date +%s) - BENCH_START )) s"
BIN=$("$SWIFT" build -c release --show-bin-path)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/stevedore-bench.XXXXXX")
REG="$WORK/registry"
trap 'examples/local-registry.sh stop "$REG" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

services_file() { # N -> path of a services file with N services and two tags
    local file="$WORK/services-$1.yaml"
    { echo "namespace: bench"; echo "tags: [latest, \"0.1.0\"]"; echo "services:"
      for ((i = 0; i < $1; i++)); do echo "  - svc-$i"; done; } >"$file"
    echo "$file"
}

fresh_registry() { # -> address of an empty registry
    examples/local-registry.sh stop "$REG" >/dev/null 2>&1 || true
    examples/local-registry.sh start "$REG"
}

# Requests the registry saw, without the pings (GET /v2/) that every client sends once per process.
registry_requests() { grep -c '"[A-Z]* /v2/[^ ]' "$REG/access.log" || true; }

# Runs a command under /usr/bin/time; prints "wall user sys maxrss_kb".
measure() {
    /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$@" >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; exit 1; }
    cat "$WORK/time"
}

# The placeholder as an OCI layout, for skopeo to copy from.
seed=$(fresh_registry)
"$BIN/stevedore" provision "$(services_file 1)" --registry "$seed" --db "$WORK/seed.db" --quiet >/dev/null
skopeo copy -q --src-tls-verify=false "docker://$seed/bench/svc-0:latest" "oci:$WORK/oci:latest" >/dev/null

run_tool() { # tool N -> "wall user sys rss requests"
    local tool=$1 n=$2 address line
    address=$(fresh_registry)
    case $tool in
    stevedore)
        local db="$WORK/bench-$RANDOM$RANDOM.db"
        line=$(measure "$BIN/stevedore" provision "$(services_file "$n")" --registry "$address" \
            --db "$db" --concurrency "$CONCURRENCY" --quiet)
        # The share of the run's wall time spent in audit writes, as the run recorded it.
        line="$line $(sqlite3 "$db" "SELECT audit_write_ms || ' ' || audit_cpu_ms FROM runs")" ;;
    skopeo)
        line=$(measure bash -c "seq 0 $((n - 1)) | xargs -P $CONCURRENCY -I{} sh -c '
            skopeo copy -q --dest-tls-verify=false oci:$WORK/oci:latest docker://$address/bench/svc-{}:latest &&
            skopeo copy -q --dest-tls-verify=false oci:$WORK/oci:latest docker://$address/bench/svc-{}:0.1.0'") ;;
    ceiling)
        line=$(measure "$BIN/BenchCeiling" "$address" bench "$n" "$TAGS" "$CONCURRENCY") ;;
    esac
    [[ $tool == stevedore ]] || line="$line 0 0"
    echo "$line $(registry_requests)"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "bench: $N services x 2 tags, concurrency $CONCURRENCY, $REPS repetitions, anonymous registry"
declare -A results
for ((rep = 1; rep <= REPS; rep++)); do
    for tool in stevedore skopeo ceiling; do
        results[$tool,$rep]=$(run_tool "$tool" "$N")
        echo "  rep $rep $tool: wall/user/sys/rss_kb/audit_ms/audit_cpu_ms/requests = ${results[$tool,$rep]}"
    done
done

pushes=$((N * 2))
printf '\n%-10s %9s %12s %14s %12s %12s %12s\n' tool wall_s pushes_per_s requests/push cpu_s cpu_ms/push peak_rss_mb
declare -A rate cpu
for tool in stevedore skopeo ceiling; do
    wall=$(for ((r = 1; r <= REPS; r++)); do echo "${results[$tool,$r]}" | awk '{ print $1 }'; done | median)
    cpus=$(for ((r = 1; r <= REPS; r++)); do echo "${results[$tool,$r]}" | awk '{ print $2 + $3 }'; done | median)
    rss=$(for ((r = 1; r <= REPS; r++)); do echo "${results[$tool,$r]}" | awk '{ print $4 }'; done | median)
    reqs=$(for ((r = 1; r <= REPS; r++)); do echo "${results[$tool,$r]}" | awk '{ print $7 }'; done | median)
    rate[$tool]=$(awk -v p="$pushes" -v w="$wall" 'BEGIN { printf "%.1f", p / w }')
    cpu[$tool]=$(awk -v c="$cpus" -v p="$pushes" 'BEGIN { printf "%.2f", 1000 * c / p }')
    printf '%-10s %9.2f %12s %14.2f %12.2f %12s %12.1f\n' "$tool" "$wall" "${rate[$tool]}" \
        "$(awk -v r="$reqs" -v p="$pushes" 'BEGIN { print r / p }')" "$cpus" "${cpu[$tool]}" \
        "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
done
echo
awk -v s="${rate[stevedore]}" -v k="${rate[skopeo]}" -v c="${rate[ceiling]}" \
    'BEGIN { printf "stevedore/skopeo pushes/s: %.2fx   stevedore/ceiling: %.0f%%\n", s / k, 100 * s / c }'
awk -v s="${cpu[stevedore]}" -v k="${cpu[skopeo]}" \
    'BEGIN { printf "stevedore CPU per push / skopeo CPU per push: %.3f\n", s / k }'
for ((r = 1; r <= REPS; r++)); do echo "${results[stevedore,$r]}" | awk '{ print 100 * $5 / ($1 * 1000) }'; done | median |
    awk '{ printf "audit writes: %.2f%% of stevedore'"'"'s wall time (median; the store busy)\n", $1 }'
for ((r = 1; r <= REPS; r++)); do echo "${results[stevedore,$r]}" | awk '{ print 100 * $6 / ($1 * 1000) }'; done | median |
    awk '{ printf "audit writes CPU: %.2f%% of stevedore'"'"'s wall time (median)\n", $1 }'

echo
echo "bench: token mode ($TOKEN_N services x 2 tags, concurrency $CONCURRENCY; one run per tool)"
printf '%-10s %9s %12s %14s %16s %14s\n' tool wall_s pushes_per_s token_requests tokens/repository requests/push
mkdir -p "$WORK/token"
TMPDIR="$WORK/token" "$BIN/BenchToken" "$BIN/stevedore" "$WORK/oci" "$WORK/token" "$TOKEN_N" "$CONCURRENCY" |
    awk '{ printf "%-10s %9.2f %12.1f %14d %16.2f %14.2f\n", $1, $2, $3, $4, $5, $6 }'

echo
echo "bench: scaling (stevedore alone, 2 tags per service)"
printf '%-8s %9s %12s %12s\n' services wall_s pushes_per_s peak_rss_mb
for n in $SCALING; do
    line=$(run_tool stevedore "$n")
    echo "$line" | awk -v n="$n" '{ printf "%-8d %9.2f %12.1f %12.1f\n", n, $1, 2 * n / $1, $4 / 1024 }'
done

echo
echo "bench: audit store alone ($AUDIT_JOBS jobs: pending insert, a failed attempt, then the succeeded attempt + finish + 2 item results)"
"$BIN/BenchAudit" "$WORK/audit.db" "$AUDIT_JOBS" | awk '{ printf "%d transactions in %.2f s: %d per s, %d attempts/s, %.1f us per transaction (ledger entries included); %d ledger entries\n", $2, $3, $4, $5, $6, $7 }'
start=$(date +%s%N)
"$BIN/stevedore" audit verify --db "$WORK/audit.db" >/dev/null
echo "audit verify of that log: $(( ($(date +%s%N) - start) / 1000000 )) ms"

echo
echo "bench: report latency on a log of 1 000 000 attempts (500 runs x 1 000 jobs; median of 5, whole process)"
# Created and migrated by stevedore itself: a provision that cannot reach its registry (its run is removed again).
"$BIN/stevedore" provision "$(services_file 1)" --registry 127.0.0.1:1 --db "$WORK/million.db" --quiet 2>/dev/null || true
start=$(date +%s%N)
sqlite3 "$WORK/million.db" <bench/million.sql
echo "generated in $(( ($(date +%s%N) - start) / 1000000000 )) s: $(sqlite3 "$WORK/million.db" "SELECT count(*) FROM attempts") attempts, $(( $(stat -c %s "$WORK/million.db") / 1048576 )) MiB"
latency() { # report arguments... -> median milliseconds of 5 runs
    for _ in 1 2 3 4 5; do
        local t0=$(date +%s%N)
        "$BIN/stevedore" report "$@" --db "$WORK/million.db" >/dev/null
        echo $(( ($(date +%s%N) - t0) / 1000000 ))
    done | median
}
printf '%-52s %8s %6s\n' report median_ms rows
for args in "runs" "summary" "failures" "attempts" "service svc-0500" "service svc-0500 --format json" "state" \
            "state --service svc-0500" "state --format csv" "failures --since 2026-02-20 --until 2026-02-22"; do
    # shellcheck disable=SC2086
    rows=$("$BIN/stevedore" report $args --format json --db "$WORK/million.db" 2>/dev/null | grep -c '^  {' || true)
    # shellcheck disable=SC2086
    printf '%-52s %8s %6s\n' "report $args" "$(latency $args)" "$rows"
done
start=$(date +%s%N)
"$BIN/stevedore" --version >/dev/null
echo "(process start-up alone: $(( ($(date +%s%N) - start) / 1000000 )) ms)"
echo
echo "bench: done in $(( $(date +%s) - BENCH_START )) s"
