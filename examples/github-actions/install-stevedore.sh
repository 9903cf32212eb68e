#!/usr/bin/env bash
# Builds stevedore from source and installs it into /usr/local (binary, completions, man page); used by the
# workflows in this folder. The swift:6.1-bookworm container has the toolchain; the binary links the Swift
# standard library statically, so it can be copied to runners without one.
#   STEVEDORE_REPOSITORY: the git URL stevedore is cloned from (required; set it as a repository variable)
#   STEVEDORE_REF: the tag or branch to build (default: main)
set -euo pipefail
ref=${STEVEDORE_REF:-main}
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libsqlite3-dev git make ca-certificates
git clone --depth 1 --branch "$ref" "${STEVEDORE_REPOSITORY:?set STEVEDORE_REPOSITORY to the git url of stevedore}" /tmp/stevedore
make -C /tmp/stevedore install PREFIX=/usr/local
stevedore --version
