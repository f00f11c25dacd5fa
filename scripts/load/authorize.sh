#!/usr/bin/env bash
# HTTP load on online charging: starts a release server on a temporary
# SQLite database on 127.0.0.1, makes a tenant with ONLINE billing, a rate and
# a large balance, and runs a bounded wrk run against
# POST /api/charging/authorize (a new call id per request), printing req/s and
# p50/p99. Needs wrk (`apt-get install -y wrk`).
#
# Settings (environment): DURATION (10s), THREADS (2), CONNECTIONS (64),
# PORT (18887), DATABASE_URL (default: a temporary SQLite file; `postgres`
# makes a fresh database on the local PostgreSQL and drops it afterwards).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
load_init

duration="${DURATION:-10s}"
threads="${THREADS:-2}"
connections="${CONNECTIONS:-64}"
port="${PORT:-18887}"
base="http://127.0.0.1:$port"

need wrk wrk
cargo build --release -p server --bin ratedeck
fresh_database "${DATABASE_URL:-}"
start_server "$port" "$database_url" "${SERVER_LOG:-$work/server.log}"
online_tenant 1000000000

echo "wrk: $threads threads, $connections connections, $duration against $base/api/charging/authorize"
RATEDECK_TOKEN="$token" wrk -t"$threads" -c"$connections" -d"$duration" --latency \
  -s scripts/load/authorize.lua "$base/api/charging/authorize" | tail -n 20
