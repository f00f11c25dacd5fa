#!/usr/bin/env bash
# HTTP load on CDR ingestion: starts a release server on a fresh database on
# 127.0.0.1, makes a tenant with billing on, ten rates (prefixes 1 to 9, and
# 44) and a large balance, and runs a bounded wrk run of CLIENTS connections,
# each posting batches of 1,000 new CDRs to POST /api/cdrs (stored, rated and
# charged), printing CDRs/s, on SQLite and on PostgreSQL in turn. Needs wrk
# (`apt-get install -y wrk`).
#
# Settings (environment): DURATION (10s), CLIENTS (3), BATCH (1000),
# DATABASES (`sqlite postgres`), PORT (18887).
#
# Measured (release build, this repository's 2-core machine): see README,
# "Load".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
load_init

duration="${DURATION:-10s}"
clients="${CLIENTS:-3}"
port="${PORT:-18887}"
base="http://127.0.0.1:$port"
export BATCH="${BATCH:-1000}"

need wrk wrk
cargo build --release -p server --bin ratedeck

for database in ${DATABASES:-sqlite postgres}; do
  case "$database" in
    sqlite) fresh_database "sqlite://$work/ingest.db" ;;
    postgres) fresh_database postgres ;;
    *) echo "DATABASES names sqlite or postgres, not $database" >&2; exit 1 ;;
  esac
  start_server "$port" "$database_url" "$work/server-$database.log"
  pbx_tenant ingest
  call POST /api/tenant/billing "$token" '{"enabled":true}' >/dev/null
  for prefix in 1 2 3 4 5 6 7 8 9 44; do
    call POST /api/call_rates "$token" "{\"prefix\":\"$prefix\",\"type\":\"INTERNATIONAL\",\"interval_1\":60,\"interval_n\":6,\"free_seconds\":0,\"grace_period\":0,\"postcall_surcharge\":0,
      \"connect_fee\":0.01,\"price_1\":0.02,\"price_n\":0.01,\"description\":\"rate $prefix\"}" >/dev/null
  done
  call POST "/api/tenant/balance?tenant_id=$tenant" "$root_token" '{"balance":1000000000}' >/dev/null

  echo "$database: wrk, $clients connections posting batches of $BATCH CDRs for $duration to $base/api/cdrs"
  RATEDECK_TOKEN="$token" wrk -t"$clients" -c"$clients" -d"$duration" --timeout 10s \
    -s scripts/load/ingest.lua "$base/api/cdrs" | tail -n 1
  stored="$(call GET "/api/cdrs?top=1" "$token" '' | sed -n 's/.*"count":\([0-9]*\).*/\1/p')"
  echo "$database: ${stored:-?} CDRs stored"

  # The next database on the same port.
  kill "${servers[-1]}"
  wait "${servers[-1]}" 2>/dev/null || true
  unset 'servers[-1]'
  root_token=""
done
