//! Helpers shared by the integration tests.

use std::path::PathBuf;

/// The `.toml` files of a folder (relative to the repository root), sorted.
#[allow(dead_code)] // not every test file that includes this module reads folders
pub fn toml_files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

/// A path of its own in the temporary folder, named by `tag` and ending in `.ext`
/// (no extension when `ext` is empty): tests run side by side, so no two calls share a
/// name. Nothing is made there; the caller removes what it makes.
#[allow(dead_code)] // not every test file that includes this module writes files
pub fn scratch_path(tag: &str, ext: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dot = if ext.is_empty() { "" } else { "." };
    std::env::temp_dir().join(format!("neuromap-{tag}-{}-{n}{dot}{ext}", std::process::id()))
}

/// A file of its own in the temporary folder holding `text` ([`scratch_path`]). The
/// caller removes it.
#[allow(dead_code)] // not every test file that includes this module writes files
pub fn scratch_file(tag: &str, ext: &str, text: &str) -> PathBuf {
    let path = scratch_path(tag, ext);
    std::fs::write(&path, text).unwrap();
    path
}
