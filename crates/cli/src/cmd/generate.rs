//! `neuromap generate`: the generated examples.

use crate::*;

pub(crate) fn generate(what: &str, output: &Path) -> Result<(), Failure> {
    match what {
        "binary-digits" => {
            let c = neuromap_bnn::dataset::Config::default();
            let d = neuromap_bnn::dataset::generate(&c);
            let m = neuromap_bnn::dataset::train(&c, &d);
            write::write_atomic(output, neuromap_bnn::dataset::netlist(&c, &d, &m).as_bytes())?;
            let outs: Vec<Vec<bool>> = d.test.iter().map(|(x, _)| m.outputs(x)).collect();
            println!(
                "wrote {}: held-out accuracy {:.1} % ({} samples, exactly the right output firing)",
                output.display(),
                100.0 * neuromap_bnn::dataset::accuracy(&outs, &d.test),
                d.test.len()
            );
            Ok(())
        }
        "truenorth-operating-point" => {
            let spec = neuromap_ncore::operating_point(4, 1);
            let header = "TrueNorth's published operating point (Merolla et al. 2014): 20 Hz per neuron, 128 active synapses\nper neuron, on 4 cores of 256 neurons. Written by `neuromap generate truenorth-operating-point`.\nRun: neuromap run FILE --hw truenorth (prints the energy per synaptic event; published: 26 pJ).";
            let text =
                neuromap_import::write::to_toml(&spec, Some(1000), header).map_err(|e| anyhow::anyhow!("{e}"))?;
            write::write_atomic(output, text.as_bytes())?;
            println!("wrote {}", output.display());
            Ok(())
        }
        other => Err(anyhow::anyhow!(
            "unknown example `{other}`; the examples are: binary-digits, truenorth-operating-point"
        )
        .into()),
    }
}
