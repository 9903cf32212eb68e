#!/usr/bin/env bash
# Starts or stops a throw-away docker-registry on a free 127.0.0.1 port (used by `make demo`).
#
#   examples/local-registry.sh start DIR   writes DIR/registry.yml, starts the registry, prints HOST:PORT
#   examples/local-registry.sh stop DIR    stops it (SIGTERM, SIGKILL after 5 s) and removes its storage
#
# DIR also receives registry.pid, registry.log (the registry's log), access.log (one line per request)
# and address. The image storage is a temporary directory, removed by `stop`.
set -euo pipefail

REGISTRY_BIN=${REGISTRY_BIN:-/usr/bin/docker-registry}

usage() {
    echo "usage: $0 start|stop DIR" >&2
    exit 2
}

# Prints the HTTP status of GET /v2/ on 127.0.0.1:$1, using bash's /dev/tcp (no curl needed).
ping_status() {
    local port=$1 status_line
    (
        exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
        printf 'GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1:%s\r\nUser-Agent: local-registry.sh\r\n\r\n' "$port" >&3
        IFS= read -r -t 2 status_line <&3 || exit 1
        set -- $status_line
        echo "${2:-}"
    ) 2>/dev/null
}

write_config() {
    local dir=$1 port=$2 storage=$3
    cat >"$dir/registry.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: "$storage"
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: "127.0.0.1:$port"
  secret: "stevedore-demo-http-secret"
EOF
}

start() {
    local dir=$1 storage port pid attempt tries
    if [[ ! -x $REGISTRY_BIN ]]; then
        echo "error: $REGISTRY_BIN not found: install docker-registry (make deps)" >&2
        exit 1
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [[ -f $dir/registry.pid ]] && kill -0 "$(cat "$dir/registry.pid")" 2>/dev/null; then
        echo "error: a registry started from $dir is still running (pid $(cat "$dir/registry.pid")); run: $0 stop $dir" >&2
        exit 1
    fi
    storage=$(mktemp -d "${TMPDIR:-/tmp}/stevedore-demo-registry.XXXXXX")
    echo "$storage" >"$dir/storage-path"

    for attempt in 1 2 3 4 5; do
        # A random high port nobody answers on; if the registry still cannot bind it, try another.
        port=$((20000 + RANDOM % 40000))
        if ping_status "$port" >/dev/null; then continue; fi
        write_config "$dir" "$port" "$storage"
        "$REGISTRY_BIN" serve "$dir/registry.yml" >"$dir/access.log" 2>"$dir/registry.log" </dev/null &
        pid=$!
        echo "$pid" >"$dir/registry.pid"
        for ((tries = 0; tries < 100; tries++)); do  # 10 s
            if ! kill -0 "$pid" 2>/dev/null; then
                if grep -q "address already in use" "$dir/registry.log"; then continue 2; fi
                echo "error: docker-registry exited before it was ready; its log:" >&2
                cat "$dir/registry.log" >&2
                stop "$dir"
                exit 1
            fi
            if grep -q "listening on 127.0.0.1:$port" "$dir/registry.log" &&
                [[ $(ping_status "$port") == 200 ]]; then
                echo "127.0.0.1:$port" | tee "$dir/address"
                return 0
            fi
            sleep 0.1
        done
        echo "error: docker-registry was not ready within 10 s; its log:" >&2
        cat "$dir/registry.log" >&2
        stop "$dir"
        exit 1
    done
    echo "error: no free port found for docker-registry" >&2
    stop "$dir"
    exit 1
}

stop() {
    local dir=$1 pid tries
    if [[ -f $dir/registry.pid ]]; then
        pid=$(cat "$dir/registry.pid")
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            tries=0
            while kill -0 "$pid" 2>/dev/null && ((tries < 50)); do  # 5 s
                sleep 0.1
                tries=$((tries + 1))
            done
            kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f "$dir/registry.pid"
    fi
    if [[ -f $dir/storage-path ]]; then
        rm -rf "$(cat "$dir/storage-path")"
        rm -f "$dir/storage-path"
    fi
}

[[ $# -eq 2 ]] || usage
case $1 in
    start) start "$2" ;;
    stop) stop "$2" ;;
    *) usage ;;
esac
