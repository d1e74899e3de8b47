//! A [`NetworkSpec`] as a TOML netlist that loads back to the same network
//! (`neuromap import FILE.nir -o net.toml`).

use std::fmt::Write as _;

use neuromap_ir::connect::{Connector, Dist};
use neuromap_ir::spec::{NetworkSpec, PopSpecKind, SourceSpec};
use neuromap_ir::{Encoding, LifFlavour, NeuronModel, Param, Receptor, Reset};

/// Shortest text that reads back as the same f64 (TOML accepts `inf`).
fn num(x: f64) -> String {
    let mut s = String::new();
    push_num(&mut s, x);
    s
}

/// [`num`] appended to `s` (large matrices are written without a string per number).
fn push_num(s: &mut String, x: f64) {
    if x.is_nan() {
        s.push_str("nan");
    } else {
        // `inf` and `-inf` as TOML spells them; finite values shortest, as `{:?}` is.
        s.push_str(zmij::Buffer::new().format(x));
    }
}

/// Numbers separated by ", ".
fn push_nums(s: &mut String, xs: &[f64]) {
    for (i, x) in xs.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        push_num(s, *x);
    }
}

fn param(p: &Param) -> String {
    match p {
        Param::Shared(x) => num(*x),
        Param::PerNeuron(v) => format!("[{}]", v.iter().map(|x| num(*x)).collect::<Vec<_>>().join(", ")),
    }
}

fn quote(s: &str) -> String {
    format!("{s:?}")
}

/// A convolution's or pooling's window: `in_shape`, `kernel`, `stride` and `padding`
/// keys, separated by `sep`.
fn window_keys(in_shape: &[u32; 3], kernel: &[u32; 2], stride: &[u32; 2], padding: &[u32; 2], sep: &str) -> String {
    let pair = |p: &[u32; 2]| format!("[{}, {}]", p[0], p[1]);
    [
        format!("in_shape = [{}, {}, {}]", in_shape[0], in_shape[1], in_shape[2]),
        format!("kernel = {}", pair(kernel)),
        format!("stride = {}", pair(stride)),
        format!("padding = {}", pair(padding)),
    ]
    .join(sep)
}

/// Writes `spec` as a netlist; an error names what the netlist format cannot hold.
pub fn to_toml(spec: &NetworkSpec, steps: Option<u32>, header: &str) -> Result<String, String> {
    let mut s = String::new();
    for line in header.lines() {
        let _ = writeln!(s, "# {line}");
    }
    let _ = writeln!(s, "\n[network]\nname = {}\ndt = {}\nseed = {}", quote(&spec.name), num(spec.dt), spec.seed);
    if spec.scale != 1.0 {
        let _ = writeln!(s, "scale = {}", num(spec.scale));
    }
    if let Some(n) = steps {
        let _ = writeln!(s, "steps = {n}");
    }
    for p in &spec.populations {
        match &p.kind {
            PopSpecKind::Source(src) => {
                let _ = write!(s, "\n[[source]]\nname = {}\nsize = {}\n", quote(&p.name), p.size);
                match src {
                    SourceSpec::Bernoulli { p } => {
                        let _ = writeln!(s, "kind = \"bernoulli\"\np = {}", param(p));
                    }
                    SourceSpec::Poisson { rate_hz, start_ms, stop_ms } => {
                        let _ =
                            writeln!(s, "kind = \"poisson\"\nrate = {}\nstart = {}", param(rate_hz), num(*start_ms));
                        if let Some(t) = stop_ms {
                            let _ = writeln!(s, "stop = {}", num(*t));
                        }
                    }
                    SourceSpec::Array { times_ms } => {
                        s.push_str("kind = \"array\"\nspikes = [\n");
                        for t in times_ms {
                            let _ = writeln!(s, "  [{}],", t.iter().map(|x| num(*x)).collect::<Vec<_>>().join(", "));
                        }
                        s.push_str("]\n");
                    }
                }
            }
            PopSpecKind::Neurons { model, v_init_dist } => {
                if v_init_dist.is_some() {
                    return Err(format!("population `{}`: drawn initial potentials are not written", p.name));
                }
                let _ = write!(s, "\n[[population]]\nname = {}\nsize = {}\n", quote(&p.name), p.size);
                if let Some(a) = spec.assign.get(&p.name) {
                    let _ = writeln!(s, "assign = {}", quote(a));
                }
                match model {
                    NeuronModel::Izhikevich(z) => {
                        s.push_str("model = \"izhikevich\"\n");
                        for (k, v) in z.params() {
                            let _ = writeln!(s, "{k} = {}", param(v));
                        }
                    }
                    NeuronModel::Threshold(t) => {
                        let enc = match t.encoding {
                            Encoding::Binary => "binary",
                            Encoding::Bipolar => "bipolar",
                        };
                        let _ = writeln!(
                            s,
                            "model = \"threshold\"\ntheta = {}\nbias = {}\nencoding = \"{enc}\"",
                            param(&t.theta),
                            param(&t.bias)
                        );
                    }
                    NeuronModel::Lif(l) => {
                        let no_leak = matches!(l.tau_m, Param::Shared(x) if x.is_infinite());
                        let silent = matches!(l.v_thresh, Param::Shared(x) if x.is_infinite());
                        let reset = match l.reset {
                            Reset::ToValue => "value",
                            Reset::Subtract => "subtract",
                        };
                        if l.linear_leak.is_some() && !no_leak {
                            return Err(format!(
                                "population `{}`: a linear leak with tau_m {} has no netlist model (`if` has a linear leak and no exponential one)",
                                p.name,
                                param(&l.tau_m)
                            ));
                        }
                        let model = if l.conductance.is_some() && l.adaptation.is_some() {
                            return Err(format!(
                                "population `{}`: conductance synapses with adaptation has no netlist model",
                                p.name
                            ));
                        } else if l.conductance.is_some() {
                            "cond_lif"
                        } else if l.adaptation.is_some() {
                            "adaptive_lif"
                        } else if no_leak {
                            "if"
                        } else if silent && l.flavour == LifFlavour::Li {
                            "li"
                        } else {
                            "lif"
                        };
                        let _ = writeln!(s, "model = \"{model}\"");
                        // The keys each netlist model reads (its parameter table), then v_init.
                        let table = crate::netlist::model_params(model).unwrap_or_default();
                        let keys =
                            l.params().into_iter().filter(|(k, _)| *k == "v_init" || table.iter().any(|d| d.0 == *k));
                        for (k, v) in keys {
                            let _ = writeln!(s, "{k} = {}", param(v));
                        }
                        if !silent {
                            let _ = writeln!(s, "reset = \"{reset}\"");
                        }
                    }
                }
            }
        }
    }
    for pr in &spec.projections {
        let recv = match pr.receptor {
            Receptor::Excitatory => "excitatory",
            Receptor::Inhibitory => "inhibitory",
        };
        let _ = write!(
            s,
            "\n[[projection]]\nname = {}\npre = {}\npost = {}\nreceptor = \"{recv}\"\n",
            quote(&pr.name),
            quote(&spec.populations[pr.pre].name),
            quote(&spec.populations[pr.post].name)
        );
        match &pr.delay {
            Dist::Const { value } => {
                let _ = writeln!(s, "delay = {}", num(*value));
            }
            _ => return Err(format!("projection `{}`: only fixed default delays are written", pr.name)),
        }
        match &pr.weight {
            None => {}
            Some(Dist::Const { value }) => {
                let _ = writeln!(s, "weight = {}", num(*value));
            }
            Some(_) => return Err(format!("projection `{}`: only fixed default weights are written", pr.name)),
        }
        match &pr.connector {
            Connector::List { entries } => {
                s.push_str("\n[projection.connector]\nkind = \"list\"\nentries = [\n");
                for e in entries {
                    let mut xs = vec![e.pre.to_string(), e.post.to_string()];
                    match (e.weight, e.delay) {
                        (Some(w), Some(d)) => xs.extend([num(w), num(d)]),
                        (Some(w), None) => xs.push(num(w)),
                        (None, None) => {}
                        (None, Some(_)) => {
                            return Err(format!("projection `{}`: a list entry with a delay needs a weight", pr.name));
                        }
                    }
                    let _ = writeln!(s, "  [{}],", xs.join(", "));
                }
                s.push_str("]\n");
            }
            Connector::AllToAll { allow_self } => {
                let _ = writeln!(s, "connector = {{ kind = \"all_to_all\", allow_self = {allow_self} }}");
            }
            Connector::OneToOne => s.push_str("connector = \"one_to_one\"\n"),
            Connector::Dense { weights } => {
                let n_post = spec.populations[pr.post].size as usize;
                s.push_str("\n[projection.connector]\nkind = \"dense\"\nweights = [\n");
                for row in weights.chunks(n_post.max(1)) {
                    s.push_str("  [");
                    push_nums(&mut s, row);
                    s.push_str("],\n");
                }
                s.push_str("]\n");
            }
            Connector::Conv2d { in_shape, out_channels, kernel, stride, padding, weights } => {
                let _ = write!(
                    s,
                    "\n[projection.connector]\nkind = \"conv2d\"\n{}\nout_channels = {out_channels}\nweights = [\n",
                    window_keys(in_shape, kernel, stride, padding, "\n")
                );
                // One line per (output, input) channel pair: kh × kw weights.
                let per = (kernel[0] as usize * kernel[1] as usize).max(1);
                for k in weights.chunks(per) {
                    s.push_str("  ");
                    push_nums(&mut s, k);
                    s.push_str(",\n");
                }
                s.push_str("]\n");
            }
            Connector::Pool2d { in_shape, kernel, stride, padding } => {
                let keys = window_keys(in_shape, kernel, stride, padding, ", ");
                let _ = writeln!(s, "connector = {{ kind = \"pool2d\", {keys} }}");
            }
            other => return Err(format!("projection `{}`: the `{}` connector is not written", pr.name, other.kind())),
        }
    }
    for pb in &spec.probes {
        let _ = write!(
            s,
            "\n[[probe]]\npopulation = {}\nvariable = \"{}\"\n",
            quote(&spec.populations[pb.population].name),
            pb.variable.name()
        );
        if let Some(n) = &pb.neurons {
            let list: Vec<String> = n.iter().map(|x| x.to_string()).collect();
            let _ = writeln!(s, "neurons = [{}]", list.join(", "));
        }
    }
    Ok(s)
}
