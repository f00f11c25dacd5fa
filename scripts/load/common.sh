# Shared by the load scripts (sourced, not run): a release server on a fresh
# database, the REST calls that set up an online-charging tenant, and clean-up.
#
# After `load_init`: $work (a temporary directory), $password (the admin's and
# the PBX user's), and `cleanup` on exit stops every server started with
# `start_server` and drops the PostgreSQL database made by `fresh_database`.

load_init() {
  root="$(cd "$(dirname "${BASH_SOURCE[1]}")/../.." && pwd)"
  cd "$root"
  work="$(mktemp -d)"
  password="load-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  servers=()
  pg_database=""
  trap cleanup EXIT
}

cleanup() {
  local pid
  for pid in "${servers[@]}" ${extra_pids:-}; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$pg_database" ]; then
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $pg_database" || true
  fi
  rm -rf "$work"
}

need() {
  command -v "$1" >/dev/null || { echo "$1 is missing: apt-get install -y $2" >&2; exit 1; }
}

# fresh_database URL: sets $database_url to URL itself, to a temporary SQLite
# file for an empty URL, or for `postgres` to a new database on the local
# PostgreSQL (dropped on exit).
fresh_database() {
  database_url="${1:-sqlite://$work/load.db}"
  if [ "$database_url" = postgres ]; then
    pg_database="ratedeck_load_$$"
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $pg_database"
    database_url="postgres://postgres@127.0.0.1/$pg_database"
  fi
}

# start_server PORT DATABASE_URL LOG: a release server in the background,
# answered once its /readyz says ready.
start_server() {
  RATEDECK_LISTEN="127.0.0.1:$1" \
  DATABASE_URL="$2" \
  RATEDECK_ADMIN_PASSWORD="$password" \
  RUST_LOG="${RUST_LOG:-warn}" \
    target/release/ratedeck >"$3" 2>&1 &
  servers+=("$!")
  wait_ready "http://127.0.0.1:$1"
}

# wait_ready BASE: until BASE/readyz answers 200 (10 s at most).
wait_ready() {
  local _
  for _ in $(seq 1 100); do
    curl -sf -o /dev/null "$1/readyz" && return 0
    sleep 0.1
  done
  echo "$1 did not become ready" >&2
  return 1
}

# call METHOD PATH TOKEN BODY: the JSON answer from $base; fails on an HTTP error.
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

# root_login: the system administrator's access token in $root_token.
root_login() {
  root_token="$(curl -sS --fail-with-body "$base/api/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$password\"}" | field access_token)"
}

# pbx_tenant NAME: through $base, a tenant (SIP domain NAME.example.com) with
# an administrator `pbx`. Sets $root_token (once), $tenant and $token (an API
# token of that user, as its PBX would hold).
pbx_tenant() {
  [ -n "${root_token:-}" ] || root_login
  tenant="$(call POST /api/tenants "$root_token" "{\"name\":\"$1\",\"sip_domain\":\"$1.example.com\"}" | field id)"
  call POST /api/users "$root_token" \
    "{\"username\":\"pbx\",\"password\":\"$password\",\"role\":\"Admin\",\"tenant_id\":\"$tenant\"}" >/dev/null
  token="$(call POST /api/tokens "$(curl -sS --fail-with-body "$base/api/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"pbx\",\"password\":\"$password\",\"domain\":\"$1.example.com\"}" | field access_token)" \
    '{"name":"load"}' | field token)"
}

# online_tenant BALANCE [NAME]: through $base, a tenant charging online on its
# own account (SIP domain NAME.example.com, default `load`) with one rate on
# prefix 44 and BALANCE of funds. Sets $root_token (once), $tenant and $token
# (an API token of the tenant's PBX user).
online_tenant() {
  local name="${2:-load}"
  pbx_tenant "$name"
  call POST /api/tenant/billing "$token" '{"enabled":true,"type":"ONLINE"}' >/dev/null
  call POST /api/call_rates "$token" '{"prefix":"44","type":"INTERNATIONAL","interval_1":60,"interval_n":6,"free_seconds":0,"grace_period":0,"postcall_surcharge":0,
    "connect_fee":0.01,"price_1":0.02,"price_n":0.01,"description":"load"}' >/dev/null
  call POST "/api/tenant/balance?tenant_id=$tenant" "$root_token" "{\"balance\":$1}" >/dev/null
}
