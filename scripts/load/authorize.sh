#!/usr/bin/env bash
# HTTP load on online charging: starts a release server on a temporary
# SQLite database on 127.0.0.1, makes a tenant with ONLINE billing, a rate and
# a large balance, and runs a bounded wrk run against
# POST /api/charging/authorize (a new call id per request), printing req/s and
# p50/p99. Needs wrk (`apt-get install -y wrk`).
#
# Two modes:
# - one account (the default): every call is billed to one tenant's account;
# - TENANTS=N (e.g. TENANTS=100): N tenants, each with its own PBX token, rate
#   and balance, the requests spread over them in turn (each wrk connection
#   cycles through the N tokens).
#
# Settings (environment): DURATION (10s), THREADS (2), CONNECTIONS (64),
# TENANTS (1), PORT (18887), DATABASE_URL (default: a temporary SQLite file;
# `postgres` makes a fresh database on the local PostgreSQL and drops it
# afterwards).
#
# Measured (release build, this repository's 2-core machine, 64 connections,
# 10 s): see README, "Load".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
load_init

duration="${DURATION:-10s}"
threads="${THREADS:-2}"
connections="${CONNECTIONS:-64}"
tenants="${TENANTS:-1}"
port="${PORT:-18887}"
base="http://127.0.0.1:$port"

need wrk wrk
cargo build --release -p server --bin ratedeck
fresh_database "${DATABASE_URL:-}"
start_server "$port" "$database_url" "${SERVER_LOG:-$work/server.log}"
if [ "$tenants" -le 1 ]; then
  online_tenant 1000000000
  tokens="$token"
  accounts="one account"
else
  tokens=""
  for n in $(seq 1 "$tenants"); do
    online_tenant 1000000000 "load$n"
    tokens="$tokens $token"
  done
  accounts="$tenants tenants' accounts"
fi

echo "wrk: $threads threads, $connections connections, $duration against $base/api/charging/authorize ($accounts)"
RATEDECK_TOKENS="$tokens" wrk -t"$threads" -c"$connections" -d"$duration" --latency \
  -s scripts/load/authorize.lua "$base/api/charging/authorize" | tail -n 20
