#!/usr/bin/env bash
# Deck import and export of a generated deck of ROWS rates (1,000,000) over
# HTTP, on SQLite (a temporary file) and on PostgreSQL (a fresh database on
# the local server, dropped afterwards), each on a release server of its own
# on PORT (18891): the import (POST /api/call_rates/import, merge), the
# export (GET /api/call_rates/export), the first quote after the import, and
# the server's peak memory after each. On PostgreSQL, beside them, psql's
# `\copy` of the same file into a plain table and `\copy … to` of it out.
# Prints a side-by-side table. Needs curl and psql.
#
# Settings (environment): ROWS (1000000), PORT (18891), BACKENDS
# ("sqlite postgres").
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../load/common.sh"
load_init

rows="${ROWS:-1000000}"
port="${PORT:-18891}"
backends="${BACKENDS:-sqlite postgres}"
base="http://127.0.0.1:$port"
need curl curl
need psql postgresql-client

cargo build --release -p server --bin ratedeck

deck="$work/deck.csv"
awk -v n="$rows" 'BEGIN {
  print "prefix,type,free_seconds,grace_period,interval_1,interval_n,connect_fee,postcall_surcharge,price_1,price_n,description"
  for (i = 0; i < n; i++) {
    description = (i % 1000 == 0) ? sprintf("\"Route %d, \"\"bench\"\"\"", i) : sprintf("Route %d", i)
    printf "%d,INTERNATIONAL,0,0,60,6,0.01,0,%.5f,%.5f,%s\n", 100000000 + i, 0.01 + (i % 500) / 100000, 0.005 + (i % 300) / 100000, description
  }
}' >"$deck"
echo "deck: $rows rates, $(du -h "$deck" | cut -f1)"

now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
peak_mb() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
declare -A result

# run BACKEND: the import, export and quote on BACKEND's database.
run() {
  local backend="$1" url="" answer code t0 t1 pid
  [ "$backend" = postgres ] && url=postgres
  fresh_database "$url"
  start_server "$port" "$database_url" "$work/server-$backend.log"
  pid="${servers[-1]}"
  online_tenant 1000000

  t0="$(now)"
  code="$(curl -sS -o "$work/import.json" -w '%{http_code}' -X POST "$base/api/call_rates/import" \
    -H "Authorization: Bearer $token" -H 'Content-Type: text/csv' --data-binary @"$deck")"
  t1="$(now)"
  [ "$code" = 200 ] || { echo "import on $backend failed ($code): $(head -c 500 "$work/import.json")" >&2; exit 1; }
  result[$backend,import]="$(seconds "$t0" "$t1")"
  result[$backend,import_mb]="$(peak_mb "$pid")"
  echo "$backend import: ${result[$backend,import]} s, $(head -c 200 "$work/import.json")"

  t0="$(now)"
  code="$(curl -sS -o "$work/export-$backend.csv" -w '%{http_code}' "$base/api/call_rates/export" \
    -H "Authorization: Bearer $token")"
  t1="$(now)"
  [ "$code" = 200 ] || { echo "export on $backend failed ($code)" >&2; exit 1; }
  result[$backend,export]="$(seconds "$t0" "$t1")"
  result[$backend,export_mb]="$(peak_mb "$pid")"
  echo "$backend export: ${result[$backend,export]} s, $(($(wc -l <"$work/export-$backend.csv") - 1)) rates"

  t0="$(now)"
  answer="$(call POST /api/rating/quote "$token" '{"callee":"100000777","duration":60}')"
  t1="$(now)"
  result[$backend,quote]="$(seconds "$t0" "$t1")"
  echo "$backend quote: ${result[$backend,quote]} s, $answer"

  if [ "$backend" = postgres ]; then
    local psql=(psql -q -h 127.0.0.1 -U postgres -d "$pg_database" -v ON_ERROR_STOP=1)
    "${psql[@]}" -c "CREATE TABLE plain_deck (prefix TEXT, type TEXT, free_seconds BIGINT, grace_period BIGINT,
      interval_1 BIGINT, interval_n BIGINT, connect_fee NUMERIC, postcall_surcharge NUMERIC, price_1 NUMERIC,
      price_n NUMERIC, description TEXT)"
    t0="$(now)"
    "${psql[@]}" -c "\\copy plain_deck FROM '$deck' WITH (FORMAT csv, HEADER true)"
    t1="$(now)"
    result[psql,import]="$(seconds "$t0" "$t1")"
    t0="$(now)"
    "${psql[@]}" -c "\\copy plain_deck TO '$work/plain.csv' WITH (FORMAT csv, HEADER true)"
    t1="$(now)"
    result[psql,export]="$(seconds "$t0" "$t1")"
  fi

  cleanup_backend "$pid"
}

# cleanup_backend PID: stops the server and drops the PostgreSQL database.
cleanup_backend() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  servers=()
  if [ -n "$pg_database" ]; then
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $pg_database"
    pg_database=""
  fi
}

for backend in $backends; do
  run "$backend"
done
if [[ " $backends " == *" sqlite "* && " $backends " == *" postgres "* ]] &&
  ! cmp -s <(cut -d, -f2- "$work/export-sqlite.csv") <(cut -d, -f2- "$work/export-postgres.csv"); then
  echo "the exports differ (beyond their ids)" >&2
  exit 1
fi

echo
printf '%-26s %10s %10s %10s\n' "$rows rates" sqlite postgresql "psql \\copy"
for step in import export quote; do
  printf '%-26s %10s %10s %10s\n' "$step (s)" "${result[sqlite,$step]:--}" "${result[postgres,$step]:--}" "${result[psql,$step]:--}"
done
printf '%-26s %10s %10s %10s\n' "peak RSS after import (MB)" "${result[sqlite,import_mb]:--}" "${result[postgres,import_mb]:--}" -
printf '%-26s %10s %10s %10s\n' "peak RSS after export (MB)" "${result[sqlite,export_mb]:--}" "${result[postgres,export_mb]:--}" -
