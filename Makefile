# Stevedore: build, test and demo on Debian (bookworm) with Swift 6.
#
#   make deps    install the missing Debian packages the tests and the demo need (apt-get)
#   make build   swift build (debug)
#   make test    deps, then build everything and run every test (they start their own registries)
#   make demo    deps + build, then doctor and provision examples/stage0.yaml, release examples/release.yaml and
#                mirror examples/mirror.yaml (from a second local registry standing in for Docker Hub) into a
#                throw-away local registry, then doctor and publish examples/maven to a local nginx Maven repository
#   make install  a release binary with the Swift standard library linked in (runs without the toolchain), shell
#                completions for bash, zsh and fish, and the man page, under PREFIX (default /usr/local; DESTDIR too)
#   make man     regenerate docs/stevedore.1 from the command definitions (swift-argument-parser's generate-manual)
#   make bench   bench/run.sh (placeholders, audit store, reports), bench/images.sh (real images),
#                bench/mirror.sh (mirroring between registries), the Maven benchmark and the scale-out one
#                (bench/ScaleOutBench: 1 and 3 runners on PostgreSQL beside SQLite and a split by hand)
#   make check-html  render the HTML run report of a faulty run in headless Chromium (.demo/run.png)
#   make clean   swift package clean, remove .demo/ and .test-tmp/

SHELL := /bin/bash
.DEFAULT_GOAL := build
.PHONY: deps build test test-install install man demo bench check-html clean

SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
# Image tests: buildah/umoci build real images, podman pulls them; jq and curl for the fixture scripts.
IMAGE_PACKAGES := buildah podman umoci jq curl
# Maven tests: nginx (WebDAV repository fixture), Debian's Maven with the deploy and dependency plugins
# (junit4 is an undeclared need of the latter), and a JDK for javac/jar when none is on PATH.
MAVEN_PACKAGES := nginx maven libmaven-deploy-plugin-java libmaven-dependency-plugin-java junit4 \
	$(if $(shell command -v javac 2>/dev/null),,default-jdk-headless)
# PostgreSQL store tests: Debian's server (initdb, postgres, pg_ctl in /usr/lib/postgresql/15/bin).
POSTGRES_PACKAGES := postgresql
DEBIAN_PACKAGES := $(strip docker-registry skopeo apache2-utils libsqlite3-dev sqlite3 $(POSTGRES_PACKAGES) $(IMAGE_PACKAGES) $(MAVEN_PACKAGES))
# PyPI packages the tests import from python3 (oras-py: an image client independent of containers/image).
PYTHON_MODULES := oras
STEVEDORE := .build/debug/stevedore
DEMO_DIR := .demo
LOCAL_REGISTRY := bash examples/local-registry.sh
LOCAL_MAVEN := bash examples/local-maven.sh
# `stevedore --version` prints the git revision it was built from (Package.swift reads this variable).
export STEVEDORE_REVISION := $(shell git rev-parse --short=12 HEAD 2>/dev/null)$(shell git diff --quiet HEAD -- 2>/dev/null || echo -dirty)
PREFIX ?= /usr/local
# The installed binary is built apart from the debug and bench builds: static standard library, release mode.
INSTALL_BUILD := $(SWIFT) build -c release --scratch-path .build-release --static-swift-stdlib
# Tests write their registries' storage, logs and workspaces here (removed at the start of the next run).
TEST_TMP := .test-tmp

# Installs only what is missing: `apt-get install` would also upgrade a package that is present.
deps:
	@set -euo pipefail; \
	if ! command -v dpkg-query >/dev/null; then \
		echo "deps: no dpkg-query (not Debian?): make sure these are installed: $(DEBIAN_PACKAGES)"; \
		exit 0; \
	fi; \
	missing=(); \
	for package in $(DEBIAN_PACKAGES); do \
		status=$$(dpkg-query -W -f='$${Status}' "$$package" 2>/dev/null || true); \
		[[ $$status == "install ok installed" ]] || missing+=("$$package"); \
	done; \
	if (( $${#missing[@]} == 0 )); then \
		echo "deps: all present ($(DEBIAN_PACKAGES))"; \
		exit 0; \
	fi; \
	sudo=(); \
	if [[ $$(id -u) != 0 ]]; then \
		command -v sudo >/dev/null || { echo "deps: not root and no sudo: install $${missing[*]}" >&2; exit 1; }; \
		sudo=(sudo); \
	fi; \
	echo "deps: installing $${missing[*]}"; \
	"$${sudo[@]}" apt-get update -qq; \
	"$${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$${missing[@]}"
	@set -euo pipefail; \
	for module in $(PYTHON_MODULES); do \
		python3 -c "import $$module" 2>/dev/null && continue; \
		echo "deps: pip install $$module"; \
		python3 -m pip install -q "$$module"; \
	done

build:
	$(SWIFT) build

test: deps
	$(SWIFT) build --build-tests
	@rm -rf $(TEST_TMP) && mkdir -p $(TEST_TMP)
	TMPDIR="$(CURDIR)/$(TEST_TMP)" $(SWIFT) test --skip-build
	@$(MAKE) --no-print-directory test-install

# make install into a temporary PREFIX, then run the installed binary with the toolchain out of reach, and check
# that the completions and the man page name every subcommand (Tests/install/check.sh).
test-install:
	bash Tests/install/check.sh

install:
	$(INSTALL_BUILD) --product stevedore
	@set -euo pipefail; \
	binary="$$($(INSTALL_BUILD) --show-bin-path)/stevedore"; root="$(DESTDIR)$(PREFIX)"; \
	install -d "$$root/bin" "$$root/share/man/man1" "$$root/share/bash-completion/completions" \
		"$$root/share/zsh/site-functions" "$$root/share/fish/vendor_completions.d"; \
	install -m 0755 -s "$$binary" "$$root/bin/stevedore"; \
	"$$root/bin/stevedore" --generate-completion-script bash >"$$root/share/bash-completion/completions/stevedore"; \
	"$$root/bin/stevedore" --generate-completion-script zsh >"$$root/share/zsh/site-functions/_stevedore"; \
	"$$root/bin/stevedore" --generate-completion-script fish >"$$root/share/fish/vendor_completions.d/stevedore.fish"; \
	install -m 0644 docs/stevedore.1 "$$root/share/man/man1/stevedore.1"; \
	echo "install: $$root/bin/stevedore ($$("$$root/bin/stevedore" --version)), completions and man page under $$root/share"

# The man page is generated from the command definitions and committed (make install needs no second build);
# Tests/install/check.sh fails when it is out of date.
man:
	$(SWIFT) package plugin generate-manual --configuration debug >/dev/null
	cp .build/plugins/GenerateManual/outputs/StevedoreCLI/stevedore.1 docs/stevedore.1
	@echo "man: docs/stevedore.1 regenerated"

# A docker-registry on a free 127.0.0.1 port (examples/local-registry.sh), provisioned from
# examples/stage0.yaml, then the run's report; then a release of real images built with buildah
# (examples/release.yaml) and its report. The registry is stopped however the demo ends.
demo: deps build
	@$(LOCAL_REGISTRY) stop $(DEMO_DIR); $(LOCAL_REGISTRY) stop $(DEMO_DIR)/upstream; $(LOCAL_MAVEN) stop $(DEMO_DIR)/maven
	@mkdir -p $(DEMO_DIR) && find $(DEMO_DIR) -mindepth 1 -maxdepth 1 ! -name images -exec rm -rf {} +
	@set -euo pipefail; \
	trap '$(LOCAL_REGISTRY) stop $(DEMO_DIR); $(LOCAL_REGISTRY) stop $(DEMO_DIR)/upstream; $(LOCAL_MAVEN) stop $(DEMO_DIR)/maven' EXIT; \
	address=$$($(LOCAL_REGISTRY) start $(DEMO_DIR)); \
	echo "demo: docker-registry on $$address (config and logs in $(DEMO_DIR)/)"; \
	run() { echo "\$$ $$*"; "$$@"; }; \
	echo "demo: 1. provision Stage0's placeholders (examples/stage0.yaml), after doctor checks the set-up"; \
	run $(STEVEDORE) doctor examples/stage0.yaml --registry "$$address" --db $(DEMO_DIR)/audit.db; \
	run $(STEVEDORE) provision examples/stage0.yaml --registry "$$address" --db $(DEMO_DIR)/audit.db; \
	run $(STEVEDORE) report summary --db $(DEMO_DIR)/audit.db; \
	run $(STEVEDORE) report runs --db $(DEMO_DIR)/audit.db; \
	run $(STEVEDORE) report html -o $(DEMO_DIR)/run.html --db $(DEMO_DIR)/audit.db; \
	run $(STEVEDORE) audit verify --db $(DEMO_DIR)/audit.db; \
	echo "demo: 2. release real images as :1.0.0 and :latest (examples/release.yaml)"; \
	echo "demo: building real images with buildah (Tests/Fixtures/images/build.sh, about two minutes the first time)"; \
	bash Tests/Fixtures/images/build.sh $(DEMO_DIR)/images >/dev/null; \
	run $(STEVEDORE) push examples/release.yaml --version 1.0.0 --registry "$$address" --db $(DEMO_DIR)/audit.db; \
	run $(STEVEDORE) report release 1.0.0 --db $(DEMO_DIR)/audit.db; \
	echo "\$$ skopeo inspect --raw docker://$$address/acme/worker:latest (the index, as skopeo reads it)"; \
	skopeo inspect --tls-verify=false --raw "docker://$$address/acme/worker:latest" \
		| jq -c '.manifests[] | {platform, digest}'; \
	echo "demo: 3. mirror upstream images between registries (examples/mirror.yaml)"; \
	upstream=$$($(LOCAL_REGISTRY) start $(DEMO_DIR)/upstream); \
	echo "demo: a second docker-registry on $$upstream stands in for Docker Hub (examples/mirror.yaml's docker.io)"; \
	for image in library/alpine:3.20 library/debian:bookworm-slim library/python:3.12-slim; do \
		skopeo copy -q --all --dest-tls-verify=false oci:$(DEMO_DIR)/images/index:1.0 "docker://$$upstream/$$image"; \
	done; \
	skopeo copy -q --dest-tls-verify=false oci:$(DEMO_DIR)/images/multi:1.0 "docker://$$upstream/library/hello-world:latest"; \
	sed -e "s|docker://docker.io/|docker://$$upstream/|" -e "s|docker://python:|docker://$$upstream/library/python:|" \
		examples/mirror.yaml >$(DEMO_DIR)/mirror.yaml; \
	run $(STEVEDORE) copy "docker://$$upstream/library/alpine:3.20" "docker://$$address/acme/base:3.20" --db $(DEMO_DIR)/audit.db; \
	run $(STEVEDORE) push $(DEMO_DIR)/mirror.yaml --version mirror --latest never --registry "$$address" --db $(DEMO_DIR)/audit.db; \
	run $(STEVEDORE) report state --namespace org/mirror --db $(DEMO_DIR)/audit.db; \
	echo "demo: 4. publish a Maven library (examples/maven) to nginx standing in for GitHub Packages"; \
	maven=$$($(LOCAL_MAVEN) start $(DEMO_DIR)/maven); \
	bash examples/maven/stage.sh $(DEMO_DIR)/maven-staging >/dev/null; \
	export DEMO_MAVEN_TOKEN=demo-secret; \
	run $(STEVEDORE) doctor --maven $(DEMO_DIR)/maven-staging --repository "$$maven" -s examples/maven/settings.xml \
		--db $(DEMO_DIR)/audit.db; \
	run $(STEVEDORE) maven publish $(DEMO_DIR)/maven-staging --repository "$$maven" -s examples/maven/settings.xml \
		--db $(DEMO_DIR)/audit.db; \
	run $(STEVEDORE) maven verify $(DEMO_DIR)/maven-staging --repository "$$maven" --db $(DEMO_DIR)/audit.db; \
	run $(STEVEDORE) report runs --db $(DEMO_DIR)/audit.db; \
	run $(STEVEDORE) audit verify --db $(DEMO_DIR)/audit.db

# The HTML report of the integration test's faulty run (injected 503s, 429s, resets, two denied
# repositories), rendered by Debian's chromium; look at .demo/run.png.
check-html: deps
	@$(MAKE) --no-print-directory deps DEBIAN_PACKAGES=chromium
	$(SWIFT) build --build-tests
	@mkdir -p $(DEMO_DIR) $(TEST_TMP)
	STEVEDORE_KEEP_HTML="$(CURDIR)/$(DEMO_DIR)/run.html" TMPDIR="$(CURDIR)/$(TEST_TMP)" \
		$(SWIFT) test --skip-build --filter ReportTests
	@rm -f $(DEMO_DIR)/run.png
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,1400 \
		--screenshot="$(CURDIR)/$(DEMO_DIR)/run.png" "file://$(CURDIR)/$(DEMO_DIR)/run.html" 2>/dev/null
	@size=$$(stat -c %s $(DEMO_DIR)/run.png); \
	if (( size < 20000 )); then echo "check-html: $(DEMO_DIR)/run.png is only $$size bytes: the page did not render" >&2; exit 1; fi; \
	echo "check-html: rendered $(DEMO_DIR)/run.html to $(DEMO_DIR)/run.png ($$size bytes)"

# Placeholders (bench/run.sh: stevedore vs skopeo vs the ceiling client, tokens, scaling, the audit store and
# reports), real images (bench/images.sh: 1 and 20 repositories vs skopeo and curl, a 1 GiB layer), mirroring
# (bench/mirror.sh: a two-platform index into 50 repositories vs skopeo copy --all), then Maven
# (bench/MavenBench: 200 versions vs mvn deploy:deploy-file).
bench: deps
	bash bench/run.sh
	bash bench/images.sh
	bash bench/mirror.sh
	@set -euo pipefail; $(SWIFT) build -c release --product BenchMaven >/dev/null; \
	bin=$$($(SWIFT) build -c release --show-bin-path); work=$$(mktemp -d); trap 'rm -rf "$$work"' EXIT; \
	echo "bench: maven publish of 200 versions (jar, sources, pom) vs mvn deploy:deploy-file per version"; \
	echo "tool versions wall_s versions_per_s puts requests_per_file"; \
	"$$bin/BenchMaven" "$$bin/stevedore" "$$work" 200 20
	@set -euo pipefail; $(SWIFT) build -c release --product BenchScaleOut >/dev/null; \
	bin=$$($(SWIFT) build -c release --show-bin-path); work=$$(mktemp -d); trap 'rm -rf "$$work"' EXIT; \
	echo "bench: scale-out: 2000 services, 50 ms added to every request; SQLite, split by hand, 1 and 3 runners on PostgreSQL"; \
	"$$bin/BenchScaleOut" "$$bin/stevedore" "$$work" 2000 8 50; \
	echo "bench: the same at --concurrency 4 per runner (two cores not saturated)"; \
	SETUPS="postgres-1 postgres-3" "$$bin/BenchScaleOut" "$$bin/stevedore" "$$work" 2000 4 50 | tail -n +2

clean:
	@$(LOCAL_REGISTRY) stop $(DEMO_DIR)
	$(SWIFT) package clean
	rm -rf $(DEMO_DIR) $(TEST_TMP)
