#!/usr/bin/env bash
# `make test`'s last step: `make install` into a temporary PREFIX, then
#  - the installed binary runs and prints its version and git revision, with the Swift toolchain out of reach
#    (a private mount namespace hides the toolchain directory; without one, ldd must show no Swift library);
#  - the bash, zsh and fish completions and the man page exist and name every subcommand (from the binary's own
#    --experimental-dump-help);
#  - docs/stevedore.1 is what swift-argument-parser's generate-manual makes of the current command definitions.
set -euo pipefail
cd "$(dirname "$0")/../.."
SWIFT=${SWIFT:-$(command -v swift || echo /opt/swift/usr/bin/swift)}
prefix=$(mktemp -d "${TMPDIR:-/tmp}/stevedore-prefix.XXXXXX")
trap 'rm -rf "$prefix"' EXIT
fail() { echo "install check: $*" >&2; exit 1; }

echo "install check: make install PREFIX=$prefix (a release build; several minutes the first time)"
make --no-print-directory install PREFIX="$prefix" >"$prefix.log" 2>&1 || { tail -30 "$prefix.log" >&2; fail "make install failed"; }
rm -f "$prefix.log"
binary="$prefix/bin/stevedore"
[[ -x $binary ]] || fail "no executable $binary"

revision=$(git rev-parse --short=12 HEAD)
toolchain=$(dirname "$(dirname "$(dirname "$(readlink -f "$SWIFT")")")")
if ldd "$binary" | grep -E 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime' >&2; then
	fail "the installed binary links Swift libraries dynamically"
fi
if unshare -m true 2>/dev/null; then
	version=$(unshare -m sh -c "mount -t tmpfs tmpfs '$toolchain' && '$binary' --version")
	where="with $toolchain hidden"
else
	version=$(env -i PATH=/usr/bin:/bin "$binary" --version)
	where="without a mount namespace (ldd shows no Swift library)"
fi
[[ $version == *"(git $revision"* ]] || fail "--version printed '$version', expected the revision $revision"
echo "install check: $binary --version $where: $version"

# The installed binary does a real job: doctor, then provision examples/stage0.yaml into a local registry.
registry_dir="$prefix/registry"
address=$(bash examples/local-registry.sh start "$registry_dir")
trap 'bash examples/local-registry.sh stop "$registry_dir"; rm -rf "$prefix"' EXIT
job="'$binary' doctor examples/stage0.yaml --registry $address --db '$prefix/audit.db' && \
'$binary' provision examples/stage0.yaml --registry $address --quiet --db '$prefix/audit.db' && \
'$binary' verify examples/stage0.yaml --registry $address --quiet --db '$prefix/audit.db'"
if unshare -m true 2>/dev/null; then
	output=$(unshare -m sh -c "mount -t tmpfs tmpfs '$toolchain' && $job" 2>&1) || { echo "$output" >&2; fail "the installed binary failed a job"; }
else
	output=$(sh -c "$job" 2>&1) || { echo "$output" >&2; fail "the installed binary failed a job"; }
fi
grep -q "doctor: all 7 checks passed" <<<"$output" || { echo "$output" >&2; fail "doctor did not pass"; }
echo "install check: the installed binary ran doctor, provision and verify of examples/stage0.yaml against $address"

subcommands=$("$binary" --experimental-dump-help | python3 -c '
import json, sys
def walk(command):
    for sub in command.get("subcommands", []):
        if sub["commandName"] != "help":
            yield sub["commandName"]
            yield from walk(sub)
print("\n".join(sorted(set(walk(json.load(sys.stdin)["command"])))))')
[[ $(wc -l <<<"$subcommands") -ge 20 ]] || fail "only $(wc -l <<<"$subcommands") subcommands found"
for file in share/bash-completion/completions/stevedore share/zsh/site-functions/_stevedore \
	share/fish/vendor_completions.d/stevedore.fish share/man/man1/stevedore.1; do
	[[ -s $prefix/$file ]] || fail "missing $file"
	while read -r name; do
		grep -qw -- "$name" "$prefix/$file" || fail "$file does not mention the subcommand '$name'"
	done <<<"$subcommands"
done
echo "install check: completions (bash, zsh, fish) and the man page name all $(wc -l <<<"$subcommands") subcommands"

"$SWIFT" package plugin generate-manual --configuration debug >/dev/null 2>&1 || fail "generate-manual failed"
generated=.build/plugins/GenerateManual/outputs/StevedoreCLI/stevedore.1
diff <(grep -v '^\.Dd ' "$generated") <(grep -v '^\.Dd ' docs/stevedore.1) >/dev/null \
	|| fail "docs/stevedore.1 is out of date with the command definitions: run make man"
echo "install check: docs/stevedore.1 matches the command definitions"
