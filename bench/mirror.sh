#!/usr/bin/env bash
# make bench, part 3: mirroring. The two-platform index of Tests/Fixtures/images (amd64 + arm64/v8 + a BuildKit
# attestation, in a nested index) is put into a source docker-registry, then mirrored into 50 repositories of a
# fresh destination, side by side in one run with one `skopeo copy --all` per repository (the status quo,
# REPOS at a time as stevedore's --concurrency).
#
#   BIN=.build/release REPOS=50 CONCURRENCY=8 bench/mirror.sh
#
# Columns: wall seconds, client CPU seconds, peak RSS, blob bytes the source sent (its access log), that figure
# over the distinct blob bytes of the image, and requests to each side.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SWIFT=${SWIFT:-swift}
REPOS=${REPOS:-50}
CONCURRENCY=${CONCURRENCY:-8}
if [[ -z ${BIN:-} ]]; then
    "$SWIFT" build -c release --product stevedore >/dev/null
    BIN=$("$SWIFT" build -c release --show-bin-path)
fi
FIXTURES=${STEVEDORE_IMAGE_CACHE:-$PWD/.test-tmp/image-fixtures}
bash Tests/Fixtures/images/build.sh "$FIXTURES" >/dev/null
WORK=$(mktemp -d "${TMPDIR:-/tmp}/stevedore-mirror.XXXXXX")
SRC="$WORK/source" DST="$WORK/destination"
trap 'for d in "$SRC" "$DST"; do examples/local-registry.sh stop "$d" >/dev/null 2>&1 || true; done; rm -rf "$WORK"' EXIT

source_address=$(examples/local-registry.sh start "$SRC")
skopeo copy -q --all --preserve-digests --dest-tls-verify=false "oci:$FIXTURES/index:1.0" \
    "docker://$source_address/upstream/app:1.0"
skopeo copy -q --preserve-digests --dest-tls-verify=false "oci:$FIXTURES/big:1.0" \
    "docker://$source_address/upstream/big:1.0"
# Distinct blob bytes of the whole index: every config and layer of every child, once.
distinct=$(find "$FIXTURES/index/blobs/sha256" -type f -printf '%s %f\n' | while read -r size hex; do
    if jq -e '.config and .layers' "$FIXTURES/index/blobs/sha256/$hex" >/dev/null 2>&1; then
        jq -r '.config.digest + " " + (.config.size|tostring), (.layers[] | .digest + " " + (.size|tostring))' \
            "$FIXTURES/index/blobs/sha256/$hex"
    fi
done | sort -u | awk '{ s += $2 } END { print s }')

requests() { grep -c '"[A-Z]* /v2/[^ ]' "$1/access.log" || true; }
# Bytes of the blob GET answers (the access log's combined format: status, then bytes).
blob_bytes() { { grep '"GET /v2/[^ ]*/blobs/' "$1/access.log" || true; } | awk '{ for (i = 1; i < NF; i++) if ($i ~ /^HTTP\//) { print $(i + 2); break } }' | awk '{ s += $1 } END { print s + 0 }'; }
measure() { # command... -> "wall cpu rss_mb"
    /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$@" >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; exit 1; }
    awk '{ printf "%.2f %.2f %.1f", $1, $2 + $3, $4 / 1024 }' "$WORK/time"
}
mirror() { # IMAGE REPOS DISTINCT_BYTES
local image=$1 repos=$2 distinct=$3 file="$WORK/mirror-$1.yaml"
{ echo "namespace: bench"; echo "services:"
  for ((i = 0; i < repos; i++)); do echo "  - name: svc-$i"; echo "    image: docker://$source_address/upstream/$image:1.0"; done; } >"$file"
printf '%-10s %5s %8s %7s %8s %12s %9s %9s %9s\n' tool repos wall_s cpu_s rss_mb src_bytes src/blobs src_req dst_req
for tool in stevedore skopeo; do
    examples/local-registry.sh stop "$DST" >/dev/null 2>&1 || true
    rm -rf "$DST"
    destination=$(examples/local-registry.sh start "$DST")
    before_requests=$(requests "$SRC") before_bytes=$(blob_bytes "$SRC")
    case $tool in
    stevedore)
        line=$(measure "$BIN/stevedore" push "$file" --version 1.0 --latest never --registry "$destination" \
            --db "$WORK/mirror-$image.db" --concurrency "$CONCURRENCY" --quiet) ;;
    skopeo)
        line=$(measure bash -c "seq 0 $((repos - 1)) | xargs -P $CONCURRENCY -I{} skopeo copy -q --all \
            --src-tls-verify=false --dest-tls-verify=false docker://$source_address/upstream/$image:1.0 \
            docker://$destination/bench/svc-{}:1.0") ;;
    esac
    wall[$tool]=$(echo "$line" | cut -d' ' -f1)
    read_bytes=$(( $(blob_bytes "$SRC") - before_bytes ))
    echo "$line $read_bytes $(( $(requests "$SRC") - before_requests )) $(requests "$DST")" | \
        awk -v t=$tool -v n=$repos -v d=$distinct \
        '{ printf "%-10s %5d %8.2f %7.2f %8.1f %12d %9.2f %9d %9d\n", t, n, $1, $2, $3, $4, $4 / d, $5, $6 }'
done
awk -v s="${wall[stevedore]}" -v k="${wall[skopeo]}" -v n="$repos" -v i="$image" \
    'BEGIN { printf "%s into %d repositories: stevedore %.1fx faster than skopeo copy --all\n\n", i, n, k / s }'
}

declare -A wall
echo "bench: mirror the two-platform index ($distinct bytes of distinct blobs) into $REPOS repositories"
mirror app "$REPOS" "$distinct"
big_manifest=$(jq -r '.manifests[0].digest' "$FIXTURES/big/index.json")
big_bytes=$(jq -r '.config.size + ([.layers[].size] | add)' "$FIXTURES/big/blobs/sha256/${big_manifest#sha256:}")
echo "bench: mirror the 5-layer image ($big_bytes bytes of blobs) into ${BIG_REPOS:-10} repositories (peak RSS: streamed, not held)"
mirror big "${BIG_REPOS:-10}" "$big_bytes"
