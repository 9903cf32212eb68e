#!/usr/bin/env bash
# make bench, part 2: releasing a real image. The 5-layer fixture image (Tests/Fixtures/images, ~86 MB of Debian
# package contents, built by buildah) pushed to 1 and to 20 repositories of a fresh docker-registry, side by side
# in one run with `skopeo copy` per repository (the status quo) and, for one repository, with curl doing the
# minimal monolithic upload of the same blobs (the registry's ceiling). Then a 1 GiB layer, for peak RSS.
#
#   BIN=.build/release REPOS="1 20" CONCURRENCY=8 bench/images.sh
#
# Columns: wall seconds, client CPU seconds (user+sys), peak RSS of the client, bytes that crossed loopback
# (the lo interface's transmit counter: requests and answers, both directions counted once), registry requests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SWIFT=${SWIFT:-swift}
REPOS=${REPOS:-"1 20"}
CONCURRENCY=${CONCURRENCY:-8}
if [[ -z ${BIN:-} ]]; then
    "$SWIFT" build -c release --product stevedore >/dev/null
    BIN=$("$SWIFT" build -c release --show-bin-path)
fi
FIXTURES=${STEVEDORE_IMAGE_CACHE:-$PWD/.test-tmp/image-fixtures}
bash Tests/Fixtures/images/build.sh "$FIXTURES" >/dev/null
BIG=$FIXTURES/big
WORK=$(mktemp -d "${TMPDIR:-/tmp}/stevedore-images.XXXXXX")
REG="$WORK/registry"
trap 'examples/local-registry.sh stop "$REG" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

fresh_registry() {
    examples/local-registry.sh stop "$REG" >/dev/null 2>&1 || true
    rm -rf "$REG"
    examples/local-registry.sh start "$REG"
}
registry_requests() { grep -c '"[A-Z]* /v2/[^ ]' "$REG/access.log" || true; }
lo_bytes() { awk '/^ *lo:/ { print $10 }' /proc/net/dev; }
measure() { # command... -> "wall cpu rss_mb bytes"
    local before after
    before=$(lo_bytes)
    /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$@" >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; exit 1; }
    after=$(lo_bytes)
    awk -v b=$((after - before)) '{ printf "%.2f %.2f %.1f %d", $1, $2 + $3, $4 / 1024, b }' "$WORK/time"
}
services() { # N -> services file releasing the big image to N repositories
    local file="$WORK/release-$1.yaml"
    { echo "namespace: bench"; echo "services:"
      for ((i = 0; i < $1; i++)); do echo "  - name: svc-$i"; echo "    image: \"oci:$BIG:1.0\""; done; } >"$file"
    echo "$file"
}

image_bytes=$(jq -r '.config.size + ([.layers[].size] | add)' "$BIG/blobs/sha256/$(jq -r '.manifests[0].digest' "$BIG/index.json" | cut -d: -f2)")
echo "bench: the fixture image: $(jq '.layers | length' "$BIG/blobs/sha256/$(jq -r '.manifests[0].digest' "$BIG/index.json" | cut -d: -f2)") layers, $image_bytes bytes of blobs"
printf '%-10s %5s %8s %7s %8s %12s %8s %9s %10s\n' tool repos wall_s cpu_s rss_mb lo_bytes requests MB/s bytes/img
declare -A wall
for n in $REPOS; do
    for tool in stevedore skopeo; do
        address=$(fresh_registry)
        case $tool in
        stevedore)
            line=$(measure "$BIN/stevedore" push "$(services "$n")" --version 1.0 --latest never --registry "$address" \
                --db "$WORK/images-$n.db" --concurrency "$CONCURRENCY" --quiet) ;;
        skopeo)
            line=$(measure bash -c "seq 0 $((n - 1)) | xargs -P $CONCURRENCY -I{} \
                skopeo copy -q --dest-tls-verify=false oci:$BIG:1.0 docker://$address/bench/svc-{}:1.0") ;;
        esac
        wall[$tool,$n]=$(echo "$line" | cut -d' ' -f1)
        echo "$line $(registry_requests)" | awk -v t=$tool -v n=$n -v img=$image_bytes \
            '{ printf "%-10s %5d %8.2f %7.2f %8.1f %12d %8d %9.1f %10.2f\n", t, n, $1, $2, $3, $4, $5, n * img / $1 / 1e6, $4 / img }'
    done
done

# The ceiling: curl POST + monolithic PUT of each blob (3 at a time, as stevedore), then the manifest.
address=$(fresh_registry)
manifest=$(jq -r '.manifests[0].digest' "$BIG/index.json")
cat >"$WORK/ceiling.sh" <<EOF
set -euo pipefail
upload() {
    location=\$(curl -sS -o /dev/null -w '%header{location}' -X POST "http://$address/v2/bench/ceiling/blobs/uploads/")
    [[ \$location == http* ]] || location="http://$address\$location"
    curl -sS -f -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$BIG/blobs/sha256/\${1#sha256:}" \
        "\$location&digest=\$1"
}
export -f upload
jq -r '.config.digest, .layers[].digest' "$BIG/blobs/sha256/${manifest#sha256:}" | xargs -P 3 -I{} bash -c 'upload {}'
curl -sS -f -o /dev/null -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
    --data-binary "@$BIG/blobs/sha256/${manifest#sha256:}" "http://$address/v2/bench/ceiling/manifests/1.0"
EOF
line=$(measure bash "$WORK/ceiling.sh")
echo "$line $(registry_requests)" | awk -v img=$image_bytes \
    '{ printf "%-10s %5d %8.2f %7.2f %8.1f %12d %8d %9.1f %10.2f\n", "curl", 1, $1, $2, $3, $4, $5, img / $1 / 1e6, $4 / img }'
ceiling=$(echo "$line" | cut -d' ' -f1)
echo
for n in $REPOS; do
    awk -v s="${wall[stevedore,$n]}" -v k="${wall[skopeo,$n]}" -v n="$n" \
        'BEGIN { printf "%d repositories: stevedore %.1fx faster than skopeo\n", n, k / s }'
done
first=${REPOS%% *}
awk -v s="${wall[stevedore,$first]}" -v c="$ceiling" \
    'BEGIN { printf "one repository: stevedore at %.0f%% of the curl ceiling'"'"'s MB/s\n", 100 * c / s }'

# A 1 GiB layer (random, so nothing compresses it away): peak RSS must not grow with the blob.
GIANT=$WORK/giant
mkdir -p "$GIANT/blobs/sha256"
head -c $((1 << 30)) /dev/urandom >"$WORK/layer"
layer=$(sha256sum "$WORK/layer" | cut -d' ' -f1)
mv "$WORK/layer" "$GIANT/blobs/sha256/$layer"
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$layer" >"$WORK/config"
config=$(sha256sum "$WORK/config" | cut -d' ' -f1)
config_size=$(stat -c %s "$WORK/config")
mv "$WORK/config" "$GIANT/blobs/sha256/$config"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%d}]}' \
    "$config" "$config_size" "$layer" $((1 << 30)) >"$WORK/manifest"
manifest=$(sha256sum "$WORK/manifest" | cut -d' ' -f1)
manifest_size=$(stat -c %s "$WORK/manifest")
mv "$WORK/manifest" "$GIANT/blobs/sha256/$manifest"
echo '{"imageLayoutVersion":"1.0.0"}' >"$GIANT/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"1.0"}}]}' \
    "$manifest" "$manifest_size" >"$GIANT/index.json"
printf 'namespace: bench\nservices:\n  - name: giant\n    image: "oci:%s:1.0"\n' "$GIANT" >"$WORK/giant.yaml"
echo
echo "bench: one 1 GiB layer, each upload mode (peak RSS of the whole process)"
printf '%-12s %8s %7s %8s %9s\n' mode wall_s cpu_s rss_mb MB/s
for mode in stream monolithic chunked; do
    address=$(fresh_registry)
    line=$(measure "$BIN/stevedore" push "$WORK/giant.yaml" --version 1.0 --latest never --registry "$address" \
        --db "$WORK/giant-$mode.db" --upload-mode "$mode" --quiet)
    echo "$line" | awk -v m=$mode '{ printf "%-12s %8.2f %7.2f %8.1f %9.1f\n", m, $1, $2, $3, 1073.741824 / $1 }'
done
