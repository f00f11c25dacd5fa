#!/usr/bin/env bash
# Builds Ratedeck (release, with the portal's wasm) and serves it on the
# embedded SQLite database, installing any missing build tool first.
# Settings come from the environment (see README.md): RATEDECK_LISTEN,
# DATABASE_URL, RATEDECK_ADMIN_PASSWORD.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup-tools.sh
# Release builds run wasm-opt: binaryen from npm (Debian's breaks hydration).
export PATH="$root/end2end/node_modules/.bin:$PATH"
exec cargo leptos serve --release
