#!/usr/bin/env bash
# Builds the real test images (see README.md beside this script) into OUTDIR.
#
#   Tests/Fixtures/images/build.sh OUTDIR
#
# Contents are real Debian packages (apt-get download, dpkg-deb -x), layered with buildah (vfs storage,
# chroot isolation, --timestamp 0), so the same script and package versions give byte-identical
# layouts. A second call with the same OUTDIR, script and package versions does nothing (OUTDIR/.stamp).
#
# Environment:
#   STEVEDORE_FIXTURE_DEBS   directory holding (or receiving) the downloaded .deb files (default OUTDIR/.work/debs)
#   STEVEDORE_FIXTURE_KEEP   1 keeps the buildah storage under OUTDIR/.work after the build (default: removed)
#
# Nothing is written outside OUTDIR (and STEVEDORE_FIXTURE_DEBS): buildah gets a private storage.conf,
# registries.conf, --root/--runroot and TMPDIR; its blob-info cache, which it would keep in
# /var/lib/containers/cache for root, goes under OUTDIR/.work/xdg (see `isolate` below).
set -euo pipefail

if (( $# != 1 )); then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
for tool in buildah apt-get apt-cache dpkg-deb jq sha256sum tar flock; do
    command -v "$tool" >/dev/null || { echo "build.sh: $tool is missing: run make deps" >&2; exit 1; }
done

umask 022
export LC_ALL=C
SCRIPT=$(realpath "${BASH_SOURCE[0]}")
mkdir -p "$1"
OUTDIR=$(realpath "$1")
WORK=$OUTDIR/.work
DEBS=${STEVEDORE_FIXTURE_DEBS:-$WORK/debs}
OUTPUTS=(multi multi.oci.tar multi.docker.tar multi.docker25.tar index big)

# One build at a time per OUTDIR (several test processes may ask at once).
exec 9>"$OUTDIR/.lock"
flock 9

# The packages of each image's layers. Versions are what apt would download now.
BASE=(busybox-static base-files)
PACKAGES=(busybox-static base-files tzdata libpython3.11-minimal libpython3.11-stdlib libicu72 libllvm15 gcc-12)
declare -A VERSION=()
while read -r field value; do
    case $field in
    Package:) package=$value ;;
    Version:) VERSION[$package]=$value ;;
    esac
done < <(apt-cache show --no-all-versions "${PACKAGES[@]}" 2>/dev/null | grep -E '^(Package|Version):' || true)
for package in "${PACKAGES[@]}"; do
    if [[ -z ${VERSION[$package]:-} ]]; then
        echo "build.sh: apt knows no version of $package: run apt-get update (make deps)" >&2
        exit 1
    fi
done

stamp=$({
    sha256sum <"$SCRIPT"
    for package in "${PACKAGES[@]}"; do echo "$package=${VERSION[$package]}"; done
    buildah --version
} | sha256sum | cut -d' ' -f1)

complete=1
for output in "${OUTPUTS[@]}"; do [[ -e $OUTDIR/$output ]] || complete=0; done
if (( complete )) && [[ -f $OUTDIR/.stamp && $(<"$OUTDIR/.stamp") == "$stamp" ]]; then
    echo "build.sh: $OUTDIR is up to date ($stamp)"
    exit 0
fi

started=$SECONDS
step() { echo "build.sh: $1 ($((SECONDS - started)) s)"; }
rm -rf "$OUTDIR/.stamp" "${OUTPUTS[@]/#/$OUTDIR/}" "$WORK/storage" "$WORK/run" "$WORK/tmp" "$WORK/rootfs" "$WORK/staging" \
    "$WORK/xdg" "$WORK/home"
mkdir -p "$WORK/tmp" "$WORK/rootfs" "$WORK/staging" "$WORK/home" "$WORK/xdg/run" "$DEBS"

# containers/image keeps a blob-info cache; for euid 0 it is /var/lib/containers/cache. An explicit
# rootless uid (the variable containers/storage reads) makes it use $XDG_DATA_HOME/containers/cache instead;
# storage paths come from --root/--runroot, and HOME/XDG_* point into OUTDIR for the rest (libpod's tmp dir,
# the CNI lock), so nothing is written elsewhere.
cat >"$WORK/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$WORK/storage"
runroot = "$WORK/run"
rootless_storage_path = "$WORK/storage"
EOF
cat >"$WORK/registries.conf" <<EOF
unqualified-search-registries = []
EOF
export CONTAINERS_STORAGE_CONF=$WORK/storage.conf CONTAINERS_REGISTRIES_CONF=$WORK/registries.conf
export BUILDAH_ISOLATION=chroot TMPDIR=$WORK/tmp HOME=$WORK/home XDG_DATA_HOME=$WORK/xdg/data
export XDG_CONFIG_HOME=$WORK/xdg/config XDG_RUNTIME_DIR=$WORK/xdg/run _CONTAINERS_ROOTLESS_UID=65534
buildah() { command buildah --root "$WORK/storage" --runroot "$WORK/run" --storage-driver vfs "$@"; }

# --- Real content -------------------------------------------------------------------------------

for package in "${PACKAGES[@]}"; do
    found=
    for deb in "$DEBS/${package}_"*.deb; do
        [[ -f $deb && $(dpkg-deb -f "$deb" Version) == "${VERSION[$package]}" ]] && found=$deb
    done
    if [[ -z $found ]]; then
        (cd "$DEBS" && apt-get -q -o APT::Sandbox::User=root download "$package=${VERSION[$package]}" >/dev/null)
    fi
done

# unpack NAME PACKAGE...: one directory with the packages' files (their mtimes come from the .deb).
unpack() {
    local name=$1 package deb
    shift
    mkdir -p "$WORK/rootfs/$name"
    for package in "$@"; do
        for deb in "$DEBS/${package}_"*.deb; do
            [[ $(dpkg-deb -f "$deb" Version) == "${VERSION[$package]}" ]] && dpkg-deb -x "$deb" "$WORK/rootfs/$name"
        done
    done
}
unpack base "${BASE[@]}"
unpack tzdata tzdata
unpack python-minimal libpython3.11-minimal
unpack python libpython3.11-minimal libpython3.11-stdlib tzdata
unpack icu libicu72
unpack llvm libllvm15
unpack gcc gcc-12

step "packages downloaded and unpacked"
# A small layer of our own: a file, a symlink, a hard link and an empty directory.
app=$WORK/rootfs/app
mkdir -p "$app/srv/fixture/empty"
printf 'stevedore image fixture\n' >"$app/srv/fixture/hello.txt"
ln -s hello.txt "$app/srv/fixture/hello.link"
ln "$app/srv/fixture/hello.txt" "$app/srv/fixture/hello.hardlink"

# --- Images -------------------------------------------------------------------------------------

# layers NAME DIR...: one buildah commit per directory, NAME:layerN; leaves the last working container in $ctr.
layers() {
    local name=$1 index=0 dir
    shift
    ctr=$(buildah from --quiet scratch)
    for dir in "$@"; do
        index=$((index + 1))
        buildah copy --quiet "$ctr" "$WORK/rootfs/$dir" / >/dev/null
        (( index == $# )) && return
        buildah commit --quiet --format oci --timestamp 0 --identity-label=false "$ctr" "$name:layer$index" >/dev/null
        ctr=$(buildah from --quiet "$name:layer$index")
    done
}

# finish NAME TAG ARCH [VARIANT] [LABEL...]: configures the working container and commits NAME:TAG.
finish() {
    local name=$1 tag=$2 arch=$3 variant=$4 label
    shift 4
    local flags=(--os linux --arch "$arch" --variant "$variant" --cmd '["/bin/busybox","sh"]'
                 --env PATH=/usr/local/bin:/usr/bin:/bin --workingdir /srv/fixture)
    for label in "$@"; do flags+=(--label "$label"); done
    buildah config "${flags[@]}" "$ctr"
    buildah commit --quiet --format oci --timestamp 0 --identity-label=false "$ctr" "$name:$tag" >/dev/null
}

# multi: 4 layers, linux/amd64, tag 1.0; org.opencontainers.image.source is left out on purpose.
layers multi base tzdata python-minimal app
finish multi final amd64 "" org.opencontainers.image.title=stevedore-fixture-multi \
    org.opencontainers.image.version=1.0 "org.opencontainers.image.description=Stevedore test image (4 layers)"
buildah push --quiet multi:final "oci:$OUTDIR/multi:1.0"
buildah push --quiet multi:final "docker-archive:$OUTDIR/multi.docker.tar:stevedore-fixture/multi:1.0"

step "multi built"
# index: the same 2 layers as linux/amd64 and linux/arm64/v8 (only the config differs).
source_label=org.opencontainers.image.source=https://github.com/stevedore-fixtures/index
layers index base app
finish index amd64 amd64 "" "$source_label" org.opencontainers.image.title=stevedore-fixture-index
finish index arm64 arm64 v8 "$source_label" org.opencontainers.image.title=stevedore-fixture-index
buildah push --quiet index:amd64 "oci:$WORK/staging/index:amd64"
buildah push --quiet index:arm64 "oci:$WORK/staging/index:arm64"

step "index images built"
# big: 5 layers of real files, the benchmark image.
layers big base icu llvm gcc python
finish big final amd64 "" org.opencontainers.image.title=stevedore-fixture-big
buildah push --quiet big:final "oci:$OUTDIR/big:1.0"

step "big built"
# --- Hand-built parts ---------------------------------------------------------------------------

# blob FILE LAYOUT: stores FILE as a blob of LAYOUT and prints "DIGEST SIZE".
blob() {
    local hex size
    hex=$(sha256sum "$1" | cut -d' ' -f1)
    size=$(stat -c %s "$1")
    mkdir -p "$2/blobs/sha256"
    cp "$1" "$2/blobs/sha256/$hex"
    echo "sha256:$hex $size"
}

# deterministic_tar ARCHIVE DIR: a tar of DIR's contents (names without "./", as docker writes them) with
# fixed order, owners, modes and times.
deterministic_tar() {
    local names
    mapfile -t names < <(cd "$2" && ls -A)
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --mode=u+rw,go=rX --format=gnu \
        -C "$2" -cf "$1" "${names[@]}"
}

OCI_INDEX=application/vnd.oci.image.index.v1+json
OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json

# index/: index.json -> nested image index (amd64, arm64/v8, a BuildKit-style attestation) -> manifests.
staging=$WORK/staging/index
layout=$OUTDIR/index
mkdir -p "$layout/blobs/sha256"
cp "$staging/blobs/sha256/"* "$layout/blobs/sha256/"
printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
descriptor() { jq -c --arg tag "$1" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $tag) | del(.annotations)' "$staging/index.json"; }
amd64=$(descriptor amd64)
arm64=$(descriptor arm64)
amd64_digest=$(jq -r .digest <<<"$amd64")
amd64_layer=$(jq -r '.layers[-1].digest' "$staging/blobs/sha256/${amd64_digest#sha256:}")
jq -cj -n --arg d "${amd64_digest#sha256:}" '{
    _type: "https://in-toto.io/Statement/v0.1",
    predicateType: "https://slsa.dev/provenance/v0.2",
    subject: [{name: "pkg:docker/stevedore-fixtures/index@1.0?platform=linux%2Famd64", digest: {sha256: $d}}],
    predicate: {builder: {id: "https://github.com/stevedore-fixtures/build.sh"}, buildType: "https://mobyproject.org/buildkit@v1",
                metadata: {reproducible: true}}}' >"$WORK/staging/provenance.json"
read -r statement_digest statement_size < <(blob "$WORK/staging/provenance.json" "$layout")
jq -cj -n --arg s "$statement_digest" '{architecture: "unknown", os: "unknown", config: {},
    rootfs: {type: "layers", diff_ids: [$s]}}' >"$WORK/staging/attestation-config.json"
read -r config_digest config_size < <(blob "$WORK/staging/attestation-config.json" "$layout")
jq -cj -n --arg cd "$config_digest" --argjson cs "$config_size" --arg sd "$statement_digest" --argjson ss "$statement_size" '{
    schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
    layers: [{mediaType: "application/vnd.in-toto+json", digest: $sd, size: $ss,
              annotations: {"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"}}]}' \
    >"$WORK/staging/attestation.json"
read -r attestation_digest attestation_size < <(blob "$WORK/staging/attestation.json" "$layout")
jq -cj -n --argjson amd64 "$amd64" --argjson arm64 "$arm64" --arg ad "$attestation_digest" --argjson asize "$attestation_size" \
    --arg amd "$amd64_digest" --arg source "${source_label#*=}" '{
    schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [
        ($amd64 + {platform: {architecture: "amd64", os: "linux"}}),
        ($arm64 + {platform: {architecture: "arm64", os: "linux", variant: "v8"}}),
        {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $ad, size: $asize,
         annotations: {"vnd.docker.reference.digest": $amd, "vnd.docker.reference.type": "attestation-manifest"},
         platform: {architecture: "unknown", os: "unknown"}}],
    annotations: {"org.opencontainers.image.source": $source}}' >"$WORK/staging/nested-index.json"
read -r nested_digest nested_size < <(blob "$WORK/staging/nested-index.json" "$layout")
jq -cj -n --arg d "$nested_digest" --argjson s "$nested_size" --arg t "$OCI_INDEX" '{
    schemaVersion: 2, mediaType: $t,
    manifests: [{mediaType: $t, digest: $d, size: $s, annotations: {"org.opencontainers.image.ref.name": "1.0"}}]}' \
    >"$layout/index.json"
[[ $amd64_layer == "$(jq -r '.layers[-1].digest' "$layout/blobs/sha256/$(jq -r .digest <<<"$arm64" | cut -d: -f2)")" ]] || {
    echo "build.sh: the amd64 and arm64 images of index/ do not share their layers" >&2
    exit 1
}

# multi.oci.tar: the multi layout as an oci-archive.
deterministic_tar "$OUTDIR/multi.oci.tar" "$OUTDIR/multi"

# multi.docker25.tar: what `docker save` writes since Docker 25: an OCI layout plus a manifest.json into blobs/.
docker25=$WORK/staging/docker25
mkdir -p "$docker25/blobs/sha256"
cp "$OUTDIR/multi/blobs/sha256/"* "$docker25/blobs/sha256/"
printf '{"imageLayoutVersion":"1.0.0"}' >"$docker25/oci-layout"
multi_manifest=$(jq -c '.manifests[0] | del(.annotations)' "$OUTDIR/multi/index.json")
multi_blob=$OUTDIR/multi/blobs/sha256/$(jq -r .digest <<<"$multi_manifest" | cut -d: -f2)
jq -cj --argjson m "$multi_manifest" -n '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [$m + {annotations: {"io.containerd.image.name": "docker.io/stevedore-fixture/multi:1.0",
                                    "org.opencontainers.image.ref.name": "1.0"}}]}' >"$docker25/index.json"
jq -c '[{Config: ("blobs/sha256/" + (.config.digest | ltrimstr("sha256:"))), RepoTags: ["stevedore-fixture/multi:1.0"],
         Layers: [.layers[].digest | "blobs/sha256/" + ltrimstr("sha256:")]}]' "$multi_blob" >"$docker25/manifest.json"
deterministic_tar "$OUTDIR/multi.docker25.tar" "$docker25"

step "archives and index written"
# --- Checks and clean-up ------------------------------------------------------------------------

# Every blob of every layout matches its name.
for layout in "$OUTDIR/multi" "$OUTDIR/index" "$OUTDIR/big"; do
    (cd "$layout/blobs/sha256" && for hex in *; do echo "$hex  $hex"; done | sha256sum --quiet -c -) || {
        echo "build.sh: a blob of $layout does not match its digest" >&2
        exit 1
    }
done

if [[ ${STEVEDORE_FIXTURE_KEEP:-0} != 1 ]]; then
    rm -rf "$WORK/storage" "$WORK/run" "$WORK/tmp" "$WORK/rootfs" "$WORK/staging" \
    "$WORK/xdg" "$WORK/home"
fi
echo "$stamp" >"$OUTDIR/.stamp"
echo "build.sh: built ${OUTPUTS[*]} in $OUTDIR in $((SECONDS - started)) s"
