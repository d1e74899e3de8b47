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
    std::fs::create_dir_all(dir).map_err(err)?;
    let probe = dir.join(format!(".neuromap-probe.{}.tmp", std::process::id()));
    std::fs::File::create(&probe).map_err(err)?;
    std::fs::remove_file(&probe).map_err(err)
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
