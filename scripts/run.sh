#!/usr/bin/env bash
# Builds Ratedeck (release, with the portal's wasm) and serves it on the
# embedded SQLite database, installing any missing build tool first.
# Settings come from the environment (see README.md): RATEDECK_LISTEN,
# DATABASE_URL, RATEDECK_ADMIN_PASSWORD.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup-tools.sh
scripts/build-site.sh --release
cargo build --release -p server --bin ratedeck

export LEPTOS_OUTPUT_NAME="ratedeck" LEPTOS_SITE_ROOT="target/site" LEPTOS_SITE_PKG_DIR="pkg"
exec target/release/ratedeck "$@"
