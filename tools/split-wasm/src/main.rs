//! `split-wasm`: a step of `scripts/build-site.sh`, the portal's site build.
//!
//! ```text
//! split-wasm split INPUT.wasm MAIN_OUT.wasm PKG_DIR NAME
//! split-wasm fingerprint PKG_DIR
//! split-wasm sizes PKG_DIR NAME
//! ```
//!
//! `split` cuts the browser's wasm (linked with `--emit-relocs`) at its
//! lazy-loaded functions (Leptos' `#[lazy]` and `#[lazy_route]`, which mark
//! them with `wasm_split`): the main module goes to `MAIN_OUT.wasm`, for
//! wasm-bindgen; each page's own code, and the code some pages share, go to
//! `PKG_DIR` as `split_<page>.wasm` and `chunk_<n>.wasm` modules, with the
//! loader script `__wasm_split.js` that fetches them and the manifest
//! `__wasm_split_manifest.json` naming, for each lazy function, the modules
//! it needs (the server reads it to tell the browser what to preload for the
//! page it renders). Every name it writes, and every name the files use for
//! one another (the main script `NAME.js` included), carries the placeholder
//! [`PLACEHOLDER`] where its fingerprint goes.
//!
//! `fingerprint` then gives those files, once wasm-bindgen and wasm-opt are
//! done with them, their fingerprint: the first 16 hex digits of the SHA-256
//! of all of them together, put in place of the placeholder in their names
//! and in their contents (the wasm modules' import names included, which is
//! why the placeholder has the fingerprint's length). The main script and
//! the loader import each other, so no file's name can be the hash of its
//! own content alone: one fingerprint of the whole set names a different
//! set whenever any of them changes, so browsers may keep them for good. It
//! prints the fingerprint.
//!
//! `sizes` prints, for each lazy function of a fingerprinted site, the
//! gzipped bytes a browser fetches to run it: the main module and script
//! `NAME.<hash>.wasm`, `.js`, the loader and the modules the manifest names
//! for it (their `.gz` twins), largest first.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sha2::{Digest, Sha256};

mod merge;

/// Where a file's fingerprint goes in its name, between two dots: as long as
/// a fingerprint, so that replacing it leaves a wasm module's strings (and so
/// the module) valid.
pub const PLACEHOLDER: &str = "________________";

/// The loader script, as the main module imports it.
const LINK_NAME: &str = "__wasm_split";
/// The manifest of the modules each lazy function needs.
const MANIFEST_NAME: &str = "__wasm_split_manifest";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["split", input, main_out, pkg, name] => {
            split(Path::new(input), Path::new(main_out), Path::new(pkg), name)
        }
        ["fingerprint", pkg] => fingerprint(Path::new(pkg)).map(|hash| println!("{hash}")),
        ["sizes", pkg, name] => sizes(Path::new(pkg), name).map(|lines| {
            for (bytes, function) in lines {
                println!("{:>9.1} KB  {function}", bytes as f64 / 1000.0);
            }
        }),
        _ => Err(
            "usage: split-wasm split INPUT.wasm MAIN_OUT.wasm PKG_DIR NAME\n       \
             split-wasm fingerprint PKG_DIR\n       \
             split-wasm sizes PKG_DIR NAME"
                .to_string(),
        ),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("split-wasm: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `stem.<placeholder>.ext`
fn placeholder_name(stem: &str, ext: &str) -> String {
    format!("{stem}.{PLACEHOLDER}.{ext}")
}

fn split(input: &Path, main_out: &Path, pkg: &Path, name: &str) -> Result<(), String> {
    let wasm = std::fs::read(input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let link_name = format!("./{}", placeholder_name(LINK_NAME, "js"));
    let main_module = format!("./{}", placeholder_name(name, "js"));
    let split = wasm_split_cli_support::transform({
        let mut options = wasm_split_cli_support::Options::new(&wasm);
        options.output_dir = pkg;
        options.main_out_path = main_out;
        options.link_name = &link_name;
        options.main_module = &main_module;
        options.target.web();
        options
    })
    .map_err(|e| format!("cannot split {}: {e:#}", input.display()))?;

    let loader_path = pkg.join(placeholder_name(LINK_NAME, "js"));
    let mut loader = std::fs::read_to_string(&loader_path)
        .map_err(|e| format!("cannot read {}: {e}", loader_path.display()))?;
    let mut prefetch = split.prefetch_map.clone();
    let mut modules = split.split_modules.clone();
    let merged = merge_shared_modules(&mut modules, &mut prefetch, &mut loader)?;

    // The split modules get the placeholder in their names, and the loader
    // fetches them by those names.
    let mut renamed = BTreeMap::new();
    for module in &modules {
        let stem = module
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| format!("unexpected module name {}", module.display()))?;
        let target = module.with_file_name(placeholder_name(stem, "wasm"));
        std::fs::rename(module, &target)
            .map_err(|e| format!("cannot rename {}: {e}", module.display()))?;
        let (from, to) = (
            format!("\"./{stem}.wasm\""),
            format!("\"./{}\"", placeholder_name(stem, "wasm")),
        );
        if !loader.contains(&from) {
            return Err(format!("the loader does not fetch {stem}.wasm"));
        }
        loader = loader.replace(&from, &to);
        renamed.insert(stem.to_string(), format!("{stem}.{PLACEHOLDER}"));
    }
    std::fs::write(&loader_path, loader)
        .map_err(|e| format!("cannot write {}: {e}", loader_path.display()))?;

    let manifest: BTreeMap<&String, Vec<&String>> = prefetch
        .iter()
        .map(|(function, stems)| {
            let stems = stems.iter().map(|s| renamed.get(s).unwrap_or(s)).collect();
            (function, stems)
        })
        .collect();
    let manifest_path = pkg.join(placeholder_name(MANIFEST_NAME, "json"));
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?;
    std::fs::write(&manifest_path, text)
        .map_err(|e| format!("cannot write {}: {e}", manifest_path.display()))?;
    eprintln!(
        "split {} into its main module and {} lazily loaded modules for {} lazy functions \
         ({} modules of shared code merged into {merged})",
        input.display(),
        modules.len(),
        manifest.len(),
        split.split_modules.len() - modules.len() + merged,
    );
    Ok(())
}

/// The number in a shared module's name, `chunk_<n>`.
fn chunk_number(stem: &str) -> Option<usize> {
    stem.strip_prefix("chunk_")?.parse().ok()
}

/// Merges the shared modules as [`merge::plan`] says: each group becomes
/// one file, with its first module's name; the loader's lists of the modules
/// each page needs (`[__chunk_1, __chunk_5]`) and the manifest name that
/// file instead of its members. Answers the number of merged files.
fn merge_shared_modules(
    modules: &mut Vec<PathBuf>,
    prefetch: &mut std::collections::HashMap<String, Vec<String>>,
    loader: &mut String,
) -> Result<usize, String> {
    let mut functions: Vec<&String> = prefetch.keys().collect();
    functions.sort();
    if functions.len() > 128 {
        return Err("more than 128 lazy functions".into());
    }
    let mut chunks: Vec<(usize, PathBuf)> = modules
        .iter()
        .filter_map(|m| Some((chunk_number(m.file_stem()?.to_str()?)?, m.clone())))
        .collect();
    chunks.sort();
    let mut shapes = Vec::with_capacity(chunks.len());
    for (n, path) in &chunks {
        let stem = format!("chunk_{n}");
        let pages = functions
            .iter()
            .enumerate()
            .filter(|(_, f)| prefetch[**f].contains(&stem))
            .fold(0u128, |mask, (bit, _)| mask | (1 << bit));
        let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
        shapes.push((pages, size));
    }
    let mut target: BTreeMap<usize, usize> = BTreeMap::new();
    let mut merged = 0;
    for group in merge::plan(&shapes) {
        let first = chunks[group[0]].0;
        for &member in &group {
            target.insert(chunks[member].0, first);
        }
        if group.len() == 1 {
            continue;
        }
        let bytes = group
            .iter()
            .map(|&m| std::fs::read(&chunks[m].1).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let slices: Vec<&[u8]> = bytes.iter().map(Vec::as_slice).collect();
        let module = merge::merge(&slices)
            .map_err(|e| format!("cannot merge the shared modules {group:?}: {e}"))?;
        std::fs::write(&chunks[group[0]].1, module).map_err(|e| e.to_string())?;
        for &member in &group[1..] {
            std::fs::remove_file(&chunks[member].1).map_err(|e| e.to_string())?;
            modules.retain(|m| m != &chunks[member].1);
        }
        merged += 1;
    }

    for stems in prefetch.values_mut() {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::with_capacity(stems.len());
        for stem in stems.drain(..) {
            let stem = match chunk_number(&stem).and_then(|n| target.get(&n)) {
                Some(first) => format!("chunk_{first}"),
                None => stem,
            };
            if seen.insert(stem.clone()) {
                out.push(stem);
            }
        }
        *stems = out;
    }
    *loader = rewrite_dependencies(loader, &target)?;
    Ok(merged)
}

/// The loader with each list of shared modules a page needs
/// (`[__chunk_3, __chunk_5]`) naming every module by its group's first one,
/// once. A module left out of its group's file is still declared but no
/// longer used.
fn rewrite_dependencies(loader: &str, target: &BTreeMap<usize, usize>) -> Result<String, String> {
    const LIST: &str = "[__chunk_";
    let mut out = String::with_capacity(loader.len());
    let mut rest = loader;
    while let Some(at) = rest.find(LIST) {
        out.push_str(&rest[..at]);
        let end = rest[at..]
            .find(']')
            .ok_or("an unterminated list of shared modules in the loader")?;
        let mut names: Vec<String> = Vec::new();
        for name in rest[at + 1..at + end].split(',') {
            let n: usize = name
                .trim()
                .strip_prefix("__chunk_")
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("an unexpected shared module {name:?} in the loader"))?;
            let first = target
                .get(&n)
                .ok_or_else(|| format!("the loader names an unknown module chunk_{n}"))?;
            let name = format!("__chunk_{first}");
            if !names.contains(&name) {
                names.push(name);
            }
        }
        out.push('[');
        out.push_str(&names.join(", "));
        out.push(']');
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `bytes` with every `from` that no `_` follows replaced by `to` (so that
/// the placeholder after a dot is replaced, but not the start of a longer
/// run of underscores, such as Leptos' own `__wasm_split.<22 of them>.js`).
pub fn replace_all(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    if from.is_empty() {
        return bytes.to_vec();
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some(at) = rest.windows(from.len()).position(|w| w == from) {
        let end = at + from.len();
        out.extend_from_slice(&rest[..at]);
        if rest.get(end) == Some(&b'_') {
            out.extend_from_slice(&rest[at..end]);
        } else {
            out.extend_from_slice(to);
        }
        rest = &rest[end..];
    }
    out.extend_from_slice(rest);
    out
}

/// The files directly in `pkg` whose name carries the placeholder, by name.
fn placeholder_files(pkg: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let marker = format!(".{PLACEHOLDER}.");
    let mut files = Vec::new();
    let entries =
        std::fs::read_dir(pkg).map_err(|e| format!("cannot list {}: {e}", pkg.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if file_name.contains(&marker) && entry.path().is_file() {
            files.push((file_name, entry.path()));
        }
    }
    files.sort();
    Ok(files)
}

/// Gives the placeholder files of `pkg` their common fingerprint, in their
/// names and contents; answers it.
fn fingerprint(pkg: &Path) -> Result<String, String> {
    let files = placeholder_files(pkg)?;
    if files.is_empty() {
        return Err(format!(
            "no file named *.{PLACEHOLDER}.* in {}",
            pkg.display()
        ));
    }
    let mut contents = Vec::with_capacity(files.len());
    let mut hasher = Sha256::new();
    for (file_name, path) in &files {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        hasher.update(file_name.as_bytes());
        hasher.update([0]);
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
        contents.push(bytes);
    }
    let digest = hasher.finalize();
    let mut hash = String::with_capacity(PLACEHOLDER.len());
    for byte in &digest[..PLACEHOLDER.len() / 2] {
        let _ = write!(hash, "{byte:02x}");
    }
    let (from, to) = (format!(".{PLACEHOLDER}"), format!(".{hash}"));
    for ((file_name, path), bytes) in files.iter().zip(contents) {
        let target = path.with_file_name(file_name.replace(&from, &to));
        std::fs::write(&target, replace_all(&bytes, from.as_bytes(), to.as_bytes()))
            .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
        std::fs::remove_file(path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
    }
    Ok(hash)
}

/// The gzipped bytes each lazy function of the fingerprinted site in `pkg`
/// needs fetched (see `sizes` above), largest first.
fn sizes(pkg: &Path, name: &str) -> Result<Vec<(u64, String)>, String> {
    let prefix = format!("{MANIFEST_NAME}.");
    let manifest = std::fs::read_dir(pkg)
        .map_err(|e| format!("cannot list {}: {e}", pkg.display()))?
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .find(|file| file.starts_with(&prefix) && file.ends_with(".json"))
        .ok_or_else(|| format!("no {MANIFEST_NAME}.<hash>.json in {}", pkg.display()))?;
    let hash = &manifest[prefix.len()..manifest.len() - ".json".len()];
    let text = std::fs::read_to_string(pkg.join(&manifest))
        .map_err(|e| format!("cannot read {manifest}: {e}"))?;
    let functions: BTreeMap<String, Vec<String>> =
        serde_json::from_str(&text).map_err(|e| format!("{manifest}: {e}"))?;
    let gzipped = |file: String| {
        let path = pkg.join(format!("{file}.gz"));
        std::fs::metadata(&path)
            .map(|m| m.len())
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let mut always = 0;
    for file in [
        format!("{name}.{hash}.wasm"),
        format!("{name}.{hash}.js"),
        format!("{LINK_NAME}.{hash}.js"),
    ] {
        always += gzipped(file)?;
    }
    let mut lines = Vec::with_capacity(functions.len());
    for (function, modules) in functions {
        let mut bytes = always;
        for module in modules {
            bytes += gzipped(format!("{module}.wasm"))?;
        }
        lines.push((bytes, function));
    }
    lines.sort_by(|a, b| b.cmp(a));
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_every_occurrence() {
        assert_eq!(
            replace_all(b"a.X.b.X\"", b".X", b".YY"),
            b"a.YY.b.YY\"".to_vec()
        );
        assert_eq!(replace_all(b"nothing", b".X", b".Y"), b"nothing".to_vec());
        assert_eq!(replace_all(b"..X..X", b".X", b"-"), b".-.-".to_vec());
        // Not the start of a longer run of underscores.
        assert_eq!(
            replace_all(b".__._.___", b".__", b".ab"),
            b".ab._.___".to_vec()
        );
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("split-wasm-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        dir
    }

    fn write_site(dir: &Path, main: &str) {
        let js = format!("import * as s from './{LINK_NAME}.{PLACEHOLDER}.js';\n{main}");
        std::fs::write(dir.join(placeholder_name("site", "js")), js).expect("write");
        let loader = format!("import {{ initSync }} from \"./site.{PLACEHOLDER}.js\";\nfetch(\"./split_a.{PLACEHOLDER}.wasm\")");
        std::fs::write(dir.join(placeholder_name(LINK_NAME, "js")), loader).expect("write");
        // A module's import name, in binary, next to a longer run of underscores.
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.extend_from_slice(format!("./{LINK_NAME}.{PLACEHOLDER}.js").as_bytes());
        wasm.extend_from_slice(b"\0__wasm_split.______________________.js\xff");
        std::fs::write(dir.join(placeholder_name("split_a", "wasm")), wasm).expect("write");
        let manifest = format!("{{\"page\": [\"split_a.{PLACEHOLDER}\"]}}");
        std::fs::write(dir.join(placeholder_name(MANIFEST_NAME, "json")), manifest).expect("write");
        std::fs::write(dir.join("site.css"), format!("/* .{PLACEHOLDER}. */")).expect("write");
    }

    #[test]
    fn fingerprints_names_and_references_with_one_hash_of_all_the_files() {
        let dir = scratch("names");
        write_site(&dir, "run();");
        let hash = fingerprint(&dir).expect("fingerprint");
        assert_eq!(hash.len(), PLACEHOLDER.len());
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));

        let js = std::fs::read_to_string(dir.join(format!("site.{hash}.js"))).expect("main");
        assert_eq!(
            js,
            format!("import * as s from './__wasm_split.{hash}.js';\nrun();")
        );
        let loader =
            std::fs::read_to_string(dir.join(format!("__wasm_split.{hash}.js"))).expect("loader");
        assert!(
            loader.contains(&format!("\"./site.{hash}.js\"")),
            "{loader}"
        );
        assert!(
            loader.contains(&format!("\"./split_a.{hash}.wasm\"")),
            "{loader}"
        );
        let wasm = std::fs::read(dir.join(format!("split_a.{hash}.wasm"))).expect("module");
        let mut expected = b"\0asm\x01\0\0\0".to_vec();
        expected.extend_from_slice(format!("./__wasm_split.{hash}.js").as_bytes());
        expected.extend_from_slice(b"\0__wasm_split.______________________.js\xff");
        assert_eq!(wasm, expected);
        let manifest = std::fs::read_to_string(dir.join(format!("{MANIFEST_NAME}.{hash}.json")))
            .expect("manifest");
        assert_eq!(manifest, format!("{{\"page\": [\"split_a.{hash}\"]}}"));
        // Only the files named with the placeholder are touched.
        let css = std::fs::read_to_string(dir.join("site.css")).expect("css");
        assert_eq!(css, format!("/* .{PLACEHOLDER}. */"));
        assert!(placeholder_files(&dir).expect("list").is_empty());

        // A change in any file gives every file a new name; the same files the same.
        let again = scratch("names-again");
        write_site(&again, "run();");
        assert_eq!(fingerprint(&again).expect("fingerprint"), hash);
        let changed = scratch("names-changed");
        write_site(&changed, "run(1);");
        assert_ne!(fingerprint(&changed).expect("fingerprint"), hash);
        for d in [dir, again, changed] {
            let _ = std::fs::remove_dir_all(d);
        }
    }

    #[test]
    fn sizes_count_what_each_page_fetches_gzipped() {
        let dir = scratch("sizes");
        let files = [
            ("site.abc.wasm.gz", 100),
            ("site.abc.js.gz", 10),
            ("__wasm_split.abc.js.gz", 1),
            ("split_a.abc.wasm.gz", 50),
            ("split_b.abc.wasm.gz", 70),
            ("chunk_1.abc.wasm.gz", 5),
        ];
        for (file, len) in files {
            std::fs::write(dir.join(file), vec![0u8; len]).expect("write");
        }
        let manifest = r#"{"a": ["split_a.abc", "chunk_1.abc"], "b": ["split_b.abc"]}"#;
        std::fs::write(dir.join(format!("{MANIFEST_NAME}.abc.json")), manifest).expect("write");
        assert_eq!(
            sizes(&dir, "site").expect("sizes"),
            vec![(181, "b".to_string()), (166, "a".to_string())]
        );
        std::fs::remove_file(dir.join("chunk_1.abc.wasm.gz")).expect("remove");
        assert!(sizes(&dir, "site").is_err(), "a missing module is an error");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn the_loader_names_each_group_once_by_its_first_module() {
        let loader = "const __chunk_1 = makeLoad(f, []);\n\
            export const a = wrapAsyncCb(makeLoad(g, [__chunk_1, __chunk_4, __chunk_7]));\n\
            export const b = wrapAsyncCb(makeLoad(h, [__chunk_7]));\n";
        let target = BTreeMap::from([(1, 1), (4, 1), (7, 7)]);
        assert_eq!(
            rewrite_dependencies(loader, &target).expect("rewrite"),
            "const __chunk_1 = makeLoad(f, []);\n\
             export const a = wrapAsyncCb(makeLoad(g, [__chunk_1, __chunk_7]));\n\
             export const b = wrapAsyncCb(makeLoad(h, [__chunk_7]));\n"
        );
        assert!(rewrite_dependencies("[__chunk_9]", &target).is_err());
    }

    #[test]
    fn refuses_a_directory_without_placeholder_files() {
        let dir = scratch("empty");
        assert!(fingerprint(&dir).is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
