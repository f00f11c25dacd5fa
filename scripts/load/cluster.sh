#!/usr/bin/env bash
# Two Ratedeck servers on one PostgreSQL database behind nginx
# (deploy/nginx.conf), all on loopback: runs the online-charging load of
# authorize.sh through the balancer against one account whose funds run out
# during the run, then checks in the database that the holds never took more
# than the funds: no ledger row left the account below its credit limit, and
# the balance plus what the live calls hold is exactly what was recharged.
# Needs wrk and nginx (`apt-get install -y wrk nginx-light`).
#
# Settings (environment): DURATION (10s), THREADS (2), CONNECTIONS (64),
# FUNDS (the account's recharge; 100000 covers about 41,000 grants of 2.42,
# the hold of a call to the rate used), KEEP_LOGS (a directory to copy the servers' and nginx's logs to).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
load_init

duration="${DURATION:-10s}"
threads="${THREADS:-2}"
connections="${CONNECTIONS:-64}"
funds="${FUNDS:-100000}"
# The ports of deploy/nginx.conf.
balancer=18880
ports=(18881 18882)
base="http://127.0.0.1:$balancer"

# Debian installs nginx in /usr/sbin, outside most users' PATH.
PATH="$PATH:/usr/sbin"
need wrk wrk
need nginx nginx-light
cargo build --release -p server --bin ratedeck

fresh_database postgres
for port in "${ports[@]}"; do
  # The first applies the migrations; the second finds them applied.
  start_server "$port" "$database_url" "$work/server-$port.log"
done

cp deploy/nginx.conf "$work/nginx.conf"
nginx -p "$work" -c "$work/nginx.conf" -g 'daemon off;' 2>"$work/nginx.stderr" &
extra_pids="$!"
wait_ready "$base"
online_tenant "$funds"

echo "wrk: $threads threads, $connections connections, $duration through nginx to ${#ports[@]} servers"
RATEDECK_TOKENS="$token" wrk -t"$threads" -c"$connections" -d"$duration" --latency \
  -s scripts/load/authorize.lua "$base/api/charging/authorize" | tail -n 20

# Each server's share, from its own metrics (loopback, not through nginx).
for port in "${ports[@]}"; do
  granted="$(curl -sS "http://127.0.0.1:$port/metrics" |
    sed -n 's/^ratedeck_authorizations_total{outcome="granted"} //p')"
  refused="$(curl -sS "http://127.0.0.1:$port/metrics" |
    sed -n 's/^ratedeck_authorizations_total{outcome="INSUFFICIENT_FUNDS"} //p')"
  echo "server :$port granted ${granted:-0}, refused for funds ${refused:-0}"
done

sql() { psql -qtAX -h 127.0.0.1 -U postgres -d "$pg_database" -c "$1"; }
tenant_row="(SELECT id FROM tenants WHERE sip_domain = 'load.example.com')"
read -r balance credit <<<"$(sql "SELECT balance, credit_limit FROM tenants WHERE id = $tenant_row" | tr '|' ' ')"
lowest="$(sql "SELECT COALESCE(MIN(balance_after), 0) FROM balance_transactions WHERE tenant_id = $tenant_row AND user_id IS NULL")"
held="$(sql "SELECT COALESCE(SUM(held), 0) FROM charging_sessions WHERE tenant_id = $tenant_row AND state = 'LIVE'")"
live="$(sql "SELECT COUNT(*) FROM charging_sessions WHERE tenant_id = $tenant_row AND state = 'LIVE'")"
recharged="$(sql "SELECT COALESCE(SUM(amount), 0) FROM balance_transactions WHERE tenant_id = $tenant_row AND user_id IS NULL AND kind = 'RECHARGE'")"
echo "account: recharged $recharged, balance $balance, credit limit $credit, lowest balance $lowest; $live live calls hold $held (units of 1/100000)"

status=0
if [ "$lowest" -lt $((-credit)) ]; then
  echo "FAILED: a hold took the balance to $lowest, below the credit limit $credit" >&2
  status=1
fi
if [ $((balance + held)) -ne "$recharged" ]; then
  echo "FAILED: balance $balance + held $held is not the $recharged recharged" >&2
  status=1
fi
if [ "$live" -eq 0 ]; then
  echo "FAILED: no call was granted" >&2
  status=1
fi
if [ -n "${KEEP_LOGS:-}" ]; then
  mkdir -p "$KEEP_LOGS" && cp "$work"/*.log "$work/nginx.stderr" "$KEEP_LOGS"/ 2>/dev/null || true
fi
[ "$status" -eq 0 ] && echo "holds never exceeded the funds"
exit "$status"
