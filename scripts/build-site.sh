#!/usr/bin/env bash
# Builds the portal's browser side into target/site, where the server serves
# it from (LEPTOS_SITE_ROOT):
#   target/site/pkg/ratedeck.<hash>.js, .wasm  the hydrate entry (frontend crate)
#   target/site/pkg/ratedeck.<hash>.css        style/main.css
#   target/site/hash.txt                       the hashes, read by the server
#   target/site/*                              public/
# Each name under pkg/ carries the first 16 hex digits of its content's
# SHA-256, so browsers may keep it for a year; each file also gets its .gz and
# (with Debian's brotli) .br twin, served to clients that accept them.
#
# Usage: scripts/build-site.sh [--release]
# --release builds the wasm with the size-optimised `wasm-release` profile and
# shrinks it with wasm-opt; without it, a debug build (quicker to compile, for
# tests). Needs the wasm32 target, wasm-bindgen-cli and, for --release,
# binaryen's wasm-opt: scripts/setup-tools.sh installs them.
# Every build here is type-erased (`--cfg erase_components`, set for all
# cargo builds in .cargo/config.toml), as the server's is: the two must agree
# for the pages to hydrate. A RUSTFLAGS in the environment would replace it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

profile="dev"
profile_dir="debug"
if [ "${1:-}" = "--release" ]; then
    profile="wasm-release"
    profile_dir="wasm-release"
fi

site="target/site"
pkg="$site/pkg"
name="ratedeck"

cargo build -p frontend --lib --target wasm32-unknown-unknown --profile "$profile"

rm -rf "$pkg" "$site/hash.txt"
mkdir -p "$pkg"
wasm-bindgen --target web --no-typescript --out-dir "$pkg" --out-name "$name" \
    "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/$profile_dir/frontend.wasm"

if [ "$profile" = "wasm-release" ]; then
    # npm's binaryen (end2end/node_modules/.bin): Debian's older wasm-opt
    # produces a module that fails to hydrate.
    wasm_opt="$root/end2end/node_modules/.bin/wasm-opt"
    # --converge repeats -Oz while it still shrinks the module (about 1%
    # more, at twice the time); the debug and producers sections go.
    "$wasm_opt" -Oz --converge --strip-debug --strip-producers \
        --enable-bulk-memory --enable-nontrapping-float-to-int \
        "$pkg/${name}_bg.wasm" -o "$pkg/${name}_bg.wasm"
fi

cp style/main.css "$pkg/$name.css"
cp -r public/. "$site/"

fingerprint() { sha256sum "$1" | cut -c1-16; }
js_hash="$(fingerprint "$pkg/$name.js")"
wasm_hash="$(fingerprint "$pkg/${name}_bg.wasm")"
css_hash="$(fingerprint "$pkg/$name.css")"
mv "$pkg/$name.js" "$pkg/$name.$js_hash.js"
mv "$pkg/${name}_bg.wasm" "$pkg/$name.$wasm_hash.wasm"
mv "$pkg/$name.css" "$pkg/$name.$css_hash.css"
printf 'js: %s\nwasm: %s\ncss: %s\n' "$js_hash" "$wasm_hash" "$css_hash" >"$site/hash.txt"

# The strongest levels for a release; quicker ones for a debug build's large wasm.
levels=(-6 -q 5)
if [ "$profile" = "wasm-release" ]; then levels=(-9 -q 11); fi
for file in "$pkg/$name.$js_hash.js" "$pkg/$name.$wasm_hash.wasm" "$pkg/$name.$css_hash.css"; do
    gzip "${levels[0]}" --keep --force "$file"
    if command -v brotli >/dev/null; then
        brotli "${levels[1]}" "${levels[2]}" --keep --force "$file"
    fi
done
if ! command -v brotli >/dev/null; then
    echo "brotli is not installed (scripts/setup-tools.sh installs it): gzip only" >&2
fi

wasm="$pkg/$name.$wasm_hash.wasm"
printf 'site built in %s (%s wasm: %s bytes, %s gzipped)\n' "$site" "$profile" \
    "$(stat -c %s "$wasm")" "$(stat -c %s "$wasm.gz")"
