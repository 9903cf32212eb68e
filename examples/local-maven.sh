#!/usr/bin/env bash
# Starts or stops a throw-away Maven repository on a free 127.0.0.1 port: Debian's nginx with WebDAV PUT, anonymous
# reads and one writer (user "demo", password "demo-secret"), like GitHub Packages minus its rules (used by
# `make demo`).
#
#   examples/local-maven.sh start DIR   writes DIR/conf/nginx.conf, starts nginx, prints http://127.0.0.1:PORT
#   examples/local-maven.sh stop DIR    stops it and removes DIR
#
# DIR/repository holds what was published, DIR/logs/access.log one line per request.
set -euo pipefail

NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}

usage() {
    echo "usage: $0 start|stop DIR" >&2
    exit 2
}

write_config() {
    local dir=$1 port=$2
    cat >"$dir/conf/nginx.conf" <<CONFIG
daemon off;
master_process off;
worker_processes 1;
pid $dir/logs/nginx.pid;
error_log $dir/logs/error.log notice;
events { worker_connections 256; }
http {
    default_type application/octet-stream;
    client_body_temp_path $dir/temp/client_body;
    proxy_temp_path $dir/temp/proxy;
    fastcgi_temp_path $dir/temp/fastcgi;
    uwsgi_temp_path $dir/temp/uwsgi;
    scgi_temp_path $dir/temp/scgi;
    map \$request_method \$maven_realm { GET off; HEAD off; default "stevedore demo"; }
    server {
        listen 127.0.0.1:$port;
        root $dir/repository;
        access_log $dir/logs/access.log;
        client_max_body_size 0;
        location / {
            auth_basic \$maven_realm;
            auth_basic_user_file $dir/conf/htpasswd;
            dav_methods PUT;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
        }
    }
}
CONFIG
}

# True when something answers on 127.0.0.1:$1.
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
    local dir=$1 port tries pid
    [[ -x $NGINX_BIN ]] || { echo "error: $NGINX_BIN not found: install nginx (make deps)" >&2; exit 1; }
    command -v htpasswd >/dev/null || { echo "error: htpasswd not found: install apache2-utils (make deps)" >&2; exit 1; }
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    mkdir -p "$dir/conf" "$dir/logs" "$dir/temp" "$dir/repository"
    # As root, nginx's workers run as nobody: the repository must be theirs to write.
    if [[ $(id -u) == 0 ]]; then chown nobody "$dir/repository" "$dir/temp"; fi
    htpasswd -bBc -C 4 "$dir/conf/htpasswd" demo demo-secret 2>/dev/null
    for _ in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 40000))
        if answers "$port"; then continue; fi
        write_config "$dir" "$port"
        "$NGINX_BIN" -p "$dir" -c "$dir/conf/nginx.conf" -e "$dir/logs/error.log" </dev/null >/dev/null 2>&1 &
        pid=$!
        echo "$pid" >"$dir/nginx.pid"
        for ((tries = 0; tries < 50; tries++)); do  # 5 s
            kill -0 "$pid" 2>/dev/null || continue 2
            if answers "$port"; then
                echo "http://127.0.0.1:$port"
                return 0
            fi
            sleep 0.1
        done
    done
    echo "error: nginx did not start; its log:" >&2
    cat "$dir/logs/error.log" >&2 || true
    stop "$dir"
    exit 1
}

stop() {
    local dir=$1 pid
    if [[ -f $dir/nginx.pid ]]; then
        pid=$(cat "$dir/nginx.pid")
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}

[[ $# -eq 2 ]] || usage
case $1 in
    start) start "$2" ;;
    stop) stop "$2" ;;
    *) usage ;;
esac
