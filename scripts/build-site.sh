#!/usr/bin/env bash
# Builds the portal's browser side into target/site, where the server serves
# it from (LEPTOS_SITE_ROOT):
#   target/site/pkg/ratedeck.<hash>.js, .wasm  the hydrate entry (frontend crate)
#                                              and its main wasm module
#   target/site/pkg/split_*.<hash>.wasm        each page's own code, loaded when
#   target/site/pkg/chunk_*.<hash>.wasm        the page is first shown, and the
#                                              code pages share
#   target/site/pkg/__wasm_split.<hash>.js     the script that loads them
#   target/site/pkg/__wasm_split_manifest.<hash>.json
#                                              the modules each page needs (the
#                                              server names them in the page's
#                                              head, for the browser to preload)
#   target/site/pkg/ratedeck.<hash>.css        style/main.css
#   target/site/hash.txt                       the hashes, read by the server
#   target/site/*                              public/
#
# The pages are Leptos lazy routes (app/src/lib.rs): the wasm is linked with
# its relocations (`--emit-relocs`) and cut at them by `split-wasm split`
# (tools/split-wasm, the crate wasm_split_cli_support, as cargo-leptos
# --split does); wasm-bindgen then keeps the exports the split modules import
# (`--keep-lld-exports`). Every split file's name carries the SHA-256 (first
# 16 hex digits) of all of them together (`split-wasm fingerprint`: the main
# script and the loader import each other, so none can carry its own), the
# stylesheet's the hash of its own content; browsers may keep them all for a
# year. Each file under pkg/ also gets its .gz and (with Debian's brotli) .br
# twin, served to clients that accept them.
#
# Usage: scripts/build-site.sh [--release]
# --release builds the wasm with the size-optimised `wasm-release` profile,
# shrinks every module with wasm-opt and minifies the scripts with terser;
# without it, a debug build (quicker to compile, for tests), split the same
# way. Needs the wasm32 target, wasm-bindgen-cli and, for --release,
# binaryen's wasm-opt and terser: scripts/setup-tools.sh installs them. split-wasm is built here, in the dev
# profile the tests share (it splits even the debug wasm in seconds).
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
target_dir="${CARGO_TARGET_DIR:-target}"
work="$target_dir/site-build/$profile_dir"
# Where a fingerprint goes in a name until `split-wasm fingerprint` puts it
# there (tools/split-wasm: PLACEHOLDER).
placeholder="________________"

# Only the frontend's own link gets --emit-relocs (cargo rustc's arguments
# go to that crate alone), so the dependencies' builds are shared with
# `cargo build` and clippy.
cargo rustc -p frontend --lib --crate-type cdylib --target wasm32-unknown-unknown \
    --profile "$profile" -- -C link-arg=--emit-relocs
cargo build -p split-wasm
split_wasm="$target_dir/debug/split-wasm"

rm -rf "$pkg" "$site/hash.txt" "$work"
mkdir -p "$pkg" "$work"
"$split_wasm" split "$target_dir/wasm32-unknown-unknown/$profile_dir/frontend.wasm" \
    "$work/main.wasm" "$pkg" "$name"
wasm-bindgen --target web --no-typescript --keep-lld-exports --no-demangle \
    --out-dir "$work" --out-name "$name" "$work/main.wasm"
mv "$work/$name.js" "$pkg/$name.$placeholder.js"
if [ -d "$work/snippets" ]; then mv "$work/snippets" "$pkg/"; fi

if [ "$profile" = "wasm-release" ]; then
    # npm's binaryen (end2end/node_modules/.bin): Debian's older wasm-opt
    # produces a module that fails to hydrate.
    wasm_opt="$root/end2end/node_modules/.bin/wasm-opt"
    # --converge repeats -Oz while it still shrinks the module (about 1%
    # more, at twice the time): for the main module only, the split modules
    # (two at a time) get one pass. The debug and producers sections go. The
    # main module keeps its exports, which the split modules import. The
    # names wasm-split writes have a subsection wasm-opt does not know (and
    # drops): its warnings about them are left out.
    opt=(-Oz --strip-debug --strip-producers --enable-bulk-memory
        --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals)
    "$wasm_opt" "${opt[@]}" --converge "$work/${name}_bg.wasm" -o "$pkg/$name.$placeholder.wasm"
    find "$pkg" \( -name "split_*.$placeholder.wasm" -o -name "chunk_*.$placeholder.wasm" \) -print0 |
        xargs -0 -P 2 -I '{}' "$wasm_opt" "${opt[@]}" '{}' -o '{}' \
            2> >(grep -v 'unknown name subsection' >&2)
    # The two scripts, minified (npm's terser): the wasm-bindgen glue and the
    # loader, which every page fetches. Their exports keep their names (the
    # wasm module, the loader and the hydration script use them), and the
    # file names inside them stay as strings for the fingerprint.
    terser="$root/end2end/node_modules/.bin/terser"
    for script in "$pkg/$name.$placeholder.js" "$pkg/__wasm_split.$placeholder.js"; do
        "$terser" "$script" --module --compress --mangle --output "$script.min"
        mv "$script.min" "$script"
    done
else
    mv "$work/${name}_bg.wasm" "$pkg/$name.$placeholder.wasm"
fi

hash="$("$split_wasm" fingerprint "$pkg")"
cp style/main.css "$pkg/$name.css"
css_hash="$(sha256sum "$pkg/$name.css" | cut -c1-16)"
mv "$pkg/$name.css" "$pkg/$name.$css_hash.css"
cp -r public/. "$site/"
# js and wasm: the hydrate entry; split and manifest: Leptos' names for the
# loader script and the manifest (`__wasm_split.<hash>.js`, ...).
printf 'js: %s\nwasm: %s\ncss: %s\nsplit: %s\nmanifest: %s\n' \
    "$hash" "$hash" "$css_hash" "$hash" "$hash" >"$site/hash.txt"

# The strongest levels for a release (its gzip files by zopfli, when
# installed: about 4% smaller than gzip -9); quicker ones for a debug build's
# large wasm. Two files at a time.
gzip_level=-6 brotli_level=5 use_zopfli=false
if [ "$profile" = "wasm-release" ]; then
    gzip_level=-9 brotli_level=11
    if command -v zopfli >/dev/null; then use_zopfli=true; fi
fi
has_brotli=false
if command -v brotli >/dev/null; then has_brotli=true; fi
compress() {
    if [ "$use_zopfli" = true ]; then
        zopfli -c "$1" >"$1.gz"
    else
        gzip "$gzip_level" --keep --force "$1"
    fi
    if [ "$has_brotli" = true ]; then brotli -q "$brotli_level" --keep --force "$1"; fi
}
export -f compress
export gzip_level brotli_level use_zopfli has_brotli
find "$pkg" -maxdepth 1 -type f \( -name '*.js' -o -name '*.wasm' -o -name '*.css' \) -print0 |
    xargs -0 -P 2 -I '{}' bash -c 'compress "$1"' _ '{}'
if ! command -v brotli >/dev/null; then
    echo "brotli is not installed (scripts/setup-tools.sh installs it): gzip only" >&2
fi
rm -rf "$work"

# What a browser fetches: the main module always, each page's modules (the
# manifest's list for it) when the page is first shown.
size() { stat -c %s "$1"; }
main_wasm="$pkg/$name.$hash.wasm"
printf 'site built in %s (%s): main wasm %s bytes, %s gzipped; %s split modules, %s bytes gzipped in all\n' \
    "$site" "$profile" "$(size "$main_wasm")" "$(size "$main_wasm.gz")" \
    "$(find "$pkg" -name 'split_*.wasm' -o -name 'chunk_*.wasm' | wc -l)" \
    "$(find "$pkg" \( -name 'split_*.wasm.gz' -o -name 'chunk_*.wasm.gz' \) -printf '%s\n' | awk '{s+=$1} END {print s+0}')"
echo "what a browser fetches to show each page (its lazy function), gzipped:"
"$split_wasm" sizes "$pkg" "$name"
