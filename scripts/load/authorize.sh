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

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
duration="${DURATION:-10s}"
threads="${THREADS:-2}"
connections="${CONNECTIONS:-64}"
port="${PORT:-18887}"
base="http://127.0.0.1:$port"

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
cargo build --release -p server --bin ratedeck

work="$(mktemp -d)"
password="load-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
server_pid=""
pg_database=""
database_url="${DATABASE_URL:-sqlite://$work/load.db}"
if [ "$database_url" = postgres ]; then
  pg_database="ratedeck_load_$$"
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $pg_database"
  database_url="postgres://postgres@127.0.0.1/$pg_database"
fi
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$pg_database" ]; then
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $pg_database" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

RATEDECK_LISTEN="127.0.0.1:$port" \
DATABASE_URL="$database_url" \
RATEDECK_ADMIN_PASSWORD="$password" \
RUST_LOG="${RUST_LOG:-warn}" \
  target/release/ratedeck >"${SERVER_LOG:-$work/server.log}" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -s -o /dev/null "$base/api/openapi.json" && break
  sleep 0.1
done

# call METHOD PATH TOKEN BODY: the JSON answer; fails on an HTTP error.
call() {
  local answer
  answer="$(curl -sS -w '\n%{http_code}' -X "$1" "$base$2" -H "Authorization: Bearer $3" \
    -H 'Content-Type: application/json' -d "$4")"
  case "${answer##*$'\n'}" in
    2*) printf '%s\n' "${answer%$'\n'*}" ;;
    *) echo "$1 $2 failed: $answer" >&2; return 1 ;;
  esac
}
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }

root_token="$(curl -sS --fail-with-body "$base/api/login" -H 'Content-Type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$password\"}" | field access_token)"
tenant="$(call POST /api/tenants "$root_token" '{"name":"Load","sip_domain":"load.example.com"}' | field id)"
call POST /api/users "$root_token" \
  "{\"username\":\"pbx\",\"password\":\"$password\",\"role\":\"Admin\",\"tenant_id\":\"$tenant\"}" >/dev/null
token="$(call POST /api/tokens "$(curl -sS --fail-with-body "$base/api/login" -H 'Content-Type: application/json' \
  -d "{\"username\":\"pbx\",\"password\":\"$password\",\"domain\":\"load.example.com\"}" | field access_token)" \
  '{"name":"load"}' | field token)"
call POST /api/tenant/billing "$token" '{"enabled":true,"type":"ONLINE"}' >/dev/null
call POST /api/call_rates "$token" '{"prefix":"44","type":"INTERNATIONAL","interval_1":60,"interval_n":6,"free_seconds":0,"grace_period":0,"postcall_surcharge":0,
  "connect_fee":0.01,"price_1":0.02,"price_n":0.01,"description":"load"}' >/dev/null
call POST "/api/tenant/balance?tenant_id=$tenant" "$root_token" '{"balance":1000000000}' >/dev/null

echo "wrk: $threads threads, $connections connections, $duration against $base/api/charging/authorize"
RATEDECK_TOKEN="$token" wrk -t"$threads" -c"$connections" -d"$duration" --latency \
  -s scripts/load/authorize.lua "$base/api/charging/authorize" | tail -n 20
