//! Output files, written atomically.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use neuromap_ir::Network;
use neuromap_sim::RunResult;
use serde::Serialize;

use crate::SCHEMA_VERSION;

/// Display names the path; the reason is the error's source (printed after it by the
/// command line's error chain).
#[derive(Debug, thiserror::Error)]
#[error("cannot write `{}`", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let err = |source| WriteError { path: path.to_path_buf(), source };
    // Never replace what is not a regular file (a link, a device, a FIFO, a folder).
    if let Ok(m) = std::fs::symlink_metadata(path)
        && !m.is_file()
    {
        return Err(err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "exists and is not a regular file (a link, device, FIFO or folder); it is left as it is",
        )));
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(err)?;
    let name = path.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// Writes `files` as the folder `dir`, whole: into a temporary sibling folder, then
/// exchanged with `dir` in one step (Linux's `renameat2(RENAME_EXCHANGE)`), so that at
/// every moment `dir` holds either the previous run's complete folder or this run's,
/// never a mix. Regular files of the previous folder that this run does not write (a
/// user's notes) are carried over. Temporaries of a killed earlier run are removed
/// first. Where the exchange is not available (another system, a file system without
/// it), or the folder holds more than regular files, each file is replaced atomically
/// instead ([`write_atomic`]).
pub fn write_folder(dir: &Path, files: &[(&str, &[u8])]) -> Result<(), WriteError> {
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError { path, source }
    };
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = dir.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    std::fs::create_dir_all(parent).map_err(err(parent))?;
    remove_stale(parent, &name);
    let plain = || -> Result<(), WriteError> {
        for (f, body) in files {
            write_atomic(&dir.join(f), body)?;
        }
        Ok(())
    };
    // Only a folder of regular files is swapped whole: nothing else of a user's is
    // ever moved or removed. The files an earlier run wrote (its manifest) go with
    // it; any other file is the user's and is carried over.
    let earlier: Vec<String> = std::fs::read_to_string(dir.join(MANIFEST))
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default();
    let mut keep = Vec::new();
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            for e in entries {
                let e = e.map_err(err(dir))?;
                let t = e.file_type().map_err(err(dir))?;
                let n = e.file_name().to_string_lossy().into_owned();
                if !t.is_file() {
                    return plain();
                }
                if !n.starts_with('.') && !files.iter().any(|f| f.0 == n) && !earlier.contains(&n) {
                    keep.push(n);
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(dir)(e)),
    }
    let tmp = parent.join(format!(".{name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let fill = || -> std::io::Result<()> {
        std::fs::create_dir(&tmp)?;
        for (f, body) in files {
            let mut out = std::fs::File::create(tmp.join(f))?;
            out.write_all(body)?;
            out.sync_all()?;
        }
        for n in &keep {
            if std::fs::hard_link(dir.join(n), tmp.join(n)).is_err() {
                std::fs::copy(dir.join(n), tmp.join(n))?;
            }
        }
        let list: String = files.iter().map(|f| format!("{}\n", f.0)).collect();
        std::fs::write(tmp.join(MANIFEST), list)?;
        Ok(())
    };
    if let Err(e) = fill() {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(err(&tmp)(e));
    }
    let swapped = if dir.exists() { exchange(&tmp, dir) } else { std::fs::rename(&tmp, dir).is_ok() };
    if swapped {
        // `tmp` now holds the previous folder.
        let _ = std::fs::remove_dir_all(&tmp);
        return Ok(());
    }
    let _ = std::fs::remove_dir_all(&tmp);
    plain()
}

/// The file in an output folder that names the files its run wrote.
pub const MANIFEST: &str = ".neuromap-files";

/// Exchanges the folders `a` and `b` in one step; `false` where that is not available.
fn exchange(a: &Path, b: &Path) -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use nix::fcntl::{AT_FDCWD, RenameFlags, renameat2};
        renameat2(AT_FDCWD, a, AT_FDCWD, b, RenameFlags::RENAME_EXCHANGE).is_ok()
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        let _ = (a, b);
        false
    }
}

/// Removes what a killed run left beside `name` in `parent` (its temporary folder) and
/// inside it (temporary files of [`write_atomic`]).
fn remove_stale(parent: &Path, name: &str) {
    let prefix = format!(".{name}.");
    if let Ok(entries) = std::fs::read_dir(parent) {
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with(&prefix) && n.ends_with(".tmp") && e.file_type().is_ok_and(|t| t.is_dir()) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(parent.join(name)) {
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with('.') && n.ends_with(".tmp") && e.file_type().is_ok_and(|t| t.is_file()) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Checks before a run that `dir` can take its outputs: it is (or can be made) a
/// folder, and a file can be written in it. A run whose outputs cannot be written
/// stops here, not after its simulation.
pub fn check_output_dir(dir: &Path) -> Result<(), WriteError> {
    let err = |source| WriteError { path: dir.to_path_buf(), source };
    if let Ok(m) = std::fs::symlink_metadata(dir)
        && !m.is_dir()
    {
        return Err(err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "exists and is not a folder")));
    }
    // A folder made only for the probe is taken away again, so a run that fails
    // later leaves no empty folder behind; writing the outputs makes it again.
    let made = !dir.exists();
    std::fs::create_dir_all(dir).map_err(err)?;
    let probe = dir.join(format!(".neuromap-probe.{}.tmp", std::process::id()));
    std::fs::File::create(&probe).map_err(err)?;
    std::fs::remove_file(&probe).map_err(err)?;
    if made {
        let _ = std::fs::remove_dir(dir);
    }
    Ok(())
}

/// `population,neuron,step,time_ms`, one row per recorded spike, populations in
/// network order.
pub fn spikes_csv(net: &Network, run: &RunResult) -> String {
    let mut s = String::from("population,neuron,step,time_ms\n");
    for (p, rec) in net.populations().iter().zip(&run.spikes) {
        for (&t, &j) in rec.steps.iter().zip(&rec.neurons) {
            let _ = writeln!(s, "{},{},{},{}", p.name, j, t, crate::fmt_g(f64::from(t) * net.dt));
        }
    }
    s
}

#[derive(Serialize)]
struct SpikesJson<'a> {
    schema_version: u32,
    network: &'a str,
    dt_ms: f64,
    steps: u32,
    populations: Vec<PopSpikes<'a>>,
}

#[derive(Serialize)]
struct PopSpikes<'a> {
    name: &'a str,
    size: u32,
    steps: &'a [u32],
    neurons: &'a [u32],
}

/// Spikes as JSON: per recorded population, parallel arrays of steps and neuron indices
/// (a source's count k appears as k equal entries).
pub fn spikes_json(net: &Network, run: &RunResult) -> String {
    let doc = SpikesJson {
        schema_version: SCHEMA_VERSION,
        network: &net.name,
        dt_ms: net.dt,
        steps: run.steps,
        populations: net
            .populations()
            .iter()
            .zip(&run.spikes)
            .zip(&run.recorded)
            .filter(|(_, recorded)| **recorded)
            .map(|((p, r), _)| PopSpikes { name: &p.name, size: p.size, steps: &r.steps, neurons: &r.neurons })
            .collect(),
    };
    serde_json::to_string(&doc).unwrap_or_default()
}

/// `projection,pre,post,weight,delay_steps`, one row per synapse, in CSR order.
pub fn synapses_csv(net: &Network) -> String {
    let mut s = String::from("projection,pre,post,weight,delay_steps\n");
    for p in net.projections() {
        for (i, j, w, d) in p.synapses.iter() {
            let _ = writeln!(s, "{},{i},{j},{w},{d}", p.name);
        }
    }
    s
}

/// `probe,population,variable,neuron,step,value`.
pub fn probes_csv(net: &Network, run: &RunResult) -> String {
    let mut s = String::from("probe,population,variable,neuron,step,value\n");
    for (k, (pb, tr)) in net.probes().iter().zip(&run.probes).enumerate() {
        let pop = &net.pop(pb.population).name;
        if tr.neurons == 0 {
            continue;
        }
        for (i, chunk) in tr.values.chunks(tr.neurons).enumerate() {
            for (&j, v) in pb.neurons.iter().zip(chunk) {
                let _ = writeln!(s, "{k},{pop},{},{j},{i},{v}", pb.variable.name());
            }
        }
    }
    s
}

/// Pretty JSON of any serialisable value, with a trailing newline.
pub fn pretty_json<T: Serialize>(v: &T) -> String {
    // Our documents always serialise; if one ever does not, say so in the file.
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise: {e}\"}}"));
    s.push('\n');
    s
}

#[cfg(test)]
mod folder_tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("neuromap-write-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    /// The folder is replaced whole: the new run's files, a user's file carried over,
    /// no file of the previous run left (it is named in the folder's manifest), and a
    /// killed run's temporaries cleaned up.
    #[test]
    fn checking_a_new_output_folder_leaves_nothing_behind() {
        let base = scratch("probe");
        let dir = base.join("run-1");
        check_output_dir(&dir).unwrap();
        assert!(!dir.exists(), "a run that fails after the check leaves no empty folder");
        std::fs::create_dir_all(&dir).unwrap();
        check_output_dir(&dir).unwrap();
        assert!(dir.is_dir(), "an existing folder stays");
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn a_folder_is_replaced_whole() {
        let dir = scratch("whole");
        write_folder(&dir, &[("a.json", b"1"), ("old.csv", b"x")]).unwrap();
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        // What a run killed while writing leaves behind.
        let stale = dir.parent().unwrap().join(format!(".{}.999999.tmp", dir.file_name().unwrap().to_string_lossy()));
        std::fs::create_dir_all(&stale).unwrap();
        std::fs::write(dir.join(".a.json.999999.tmp"), "half").unwrap();
        write_folder(&dir, &[("a.json", b"2"), ("b.json", b"3")]).unwrap();
        let mut names: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        // `old.csv` went with the run that wrote it; the user's notes stay.
        assert_eq!(names, [MANIFEST, "a.json", "b.json", "notes.txt"]);
        assert_eq!(std::fs::read_to_string(dir.join("a.json")).unwrap(), "2");
        assert_eq!(std::fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
        assert!(!stale.exists(), "a killed run's temporary folder is removed");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A folder that holds more than regular files is never swapped: its files are
    /// replaced one by one and everything else stays.
    #[test]
    fn a_folder_with_subfolders_keeps_them() {
        let dir = scratch("sub");
        std::fs::create_dir_all(dir.join("mine")).unwrap();
        std::fs::write(dir.join("mine").join("data"), "keep").unwrap();
        write_folder(&dir, &[("a.json", b"1")]).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("mine").join("data")).unwrap(), "keep");
        assert_eq!(std::fs::read_to_string(dir.join("a.json")).unwrap(), "1");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
