#!/usr/bin/env bash
# Stages examples/maven's library as `mvn deploy -DaltDeploymentRepository=staging::file:DIR` would: a jar (built
# with the JDK's jar tool) and the pom, deployed by Debian's Maven offline (its plugins from /usr/share/maven-repo)
# into DIR with all four checksums. Prints DIR.
#
#   examples/maven/stage.sh DIR
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
staging=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/classes/com/example/stevedore"
echo "Hello from the stevedore demo" >"$work/classes/com/example/stevedore/greeting.txt"
jar cf "$work/greeter-1.0.0.jar" -C "$work/classes" .
cat >"$work/settings.xml" <<SETTINGS
<settings>
  <localRepository>$work/m2</localRepository>
  <mirrors><mirror><id>debian</id><mirrorOf>central</mirrorOf><url>file:///usr/share/maven-repo</url></mirror></mirrors>
</settings>
SETTINGS
mvn -B -q -s "$work/settings.xml" org.apache.maven.plugins:maven-deploy-plugin:3.0.0:deploy-file \
    -Dfile="$work/greeter-1.0.0.jar" -DpomFile="$here/pom.xml" -DrepositoryId=staging -Durl="file://$staging" \
    -Daether.checksums.algorithms=SHA-512,SHA-256,SHA-1,MD5 >/dev/null
echo "$staging"
