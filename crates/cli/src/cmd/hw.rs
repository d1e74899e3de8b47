//! `neuromap hw`: list, describe and show chip models.

use crate::*;

pub(crate) fn hw(cmd: HwCmd, color: bool) -> Result<(), Failure> {
    match cmd {
        HwCmd::List => {
            let names =
                neuromap_pipeline::hw_model_files().ok_or_else(|| anyhow::anyhow!("no hw-models/ folder here"))?;
            for p in names {
                match neuromap_hw::load_path(&p) {
                    Ok(m) => {
                        let mut fam = m.family.to_string();
                        for p in &m.parts {
                            fam.push('+');
                            fam.push_str(p.model.family);
                        }
                        println!("{:<22} {:<24} {:>6} chips  {}", m.name, fam, m.machine.chips().len(), m.description)
                    }
                    Err(d) => println!("{:<22} (invalid: {})", p.display(), d),
                }
            }
            Ok(())
        }
        HwCmd::Describe { family } => {
            let Some(defs) = neuromap_hw::family::family(&family) else {
                let names: Vec<&str> = neuromap_hw::family::FAMILIES.iter().map(|f| f.0).collect();
                return Err(anyhow::anyhow!("unknown family `{family}`; the families are: {}", names.join(", ")).into());
            };
            let about = neuromap_hw::family::FAMILIES.iter().find(|f| f.0 == family).map_or("", |f| f.2);
            println!("family `{family}`: {about}\n");
            println!(
                "Each figure is written {{ value = …, source = \"…\" }} or {{ value = …, assumption = \"…\" }}.\n"
            );
            let mut t = neuromap_report::table::Table::new(["parameter", "unit", "default", "meaning"]);
            for d in defs {
                let dflt = match (d.default, d.optional) {
                    (Some((v, _)), _) => match d.kind {
                        neuromap_hw::family::Kind::Choice(names) => {
                            format!("{} (of {})", names.get(v as usize).unwrap_or(&"?"), names.join(", "))
                        }
                        _ => neuromap_report::fmt_g(v),
                    },
                    (None, true) => "optional".into(),
                    (None, false) => "required".into(),
                };
                let doc = match d.by {
                    Some(by) => format!("{}; may step with {by}: `from = {{ N = value, … }}`", d.doc),
                    None => d.doc.to_string(),
                };
                t.row([d.path(), d.unit.to_string(), dflt, doc]);
            }
            print!("{}", t.render());
            Ok(())
        }
        HwCmd::Show { model } => {
            let m = load_hw(&model, color)?;
            let mc = &m.machine;
            println!("{} ({}): {}", m.name, m.family, m.description);
            println!(
                "machine: {:?} topology, {} × {} grid{}, {} chips ({} working){}",
                mc.topology,
                mc.width,
                mc.height,
                if mc.wrap { " with wrap-around" } else { "" },
                mc.chips().len(),
                mc.alive_chips(),
                mc.boards.map_or(String::new(), |b| format!(", {b} board{}", if b == 1 { "" } else { "s" }))
            );
            let mut t = neuromap_report::table::Table::new(["parameter", "value", "unit", "provenance"]);
            for f in &m.figures {
                let prov = f.provenance.label();
                let mut value = m.choice_name(f).map_or_else(|| neuromap_report::fmt_g(f.value), str::to_string);
                for (n, x) in &f.steps {
                    value.push_str(&format!(", from {n}: {}", neuromap_report::fmt_g(*x)));
                }
                t.row([format!("{}.{}", f.section, f.key), value, f.unit.to_string(), prov]);
            }
            print!("{}", t.render());
            println!("{}", neuromap_report::certainty_counts_text(&m));
            for p in &m.parts {
                println!(
                    "\npart: {} per chip of {} ({}): {}\n  per_chip: {}",
                    neuromap_report::fmt_g(p.per_chip.value),
                    p.model.name,
                    p.model.family,
                    p.model.description,
                    p.per_chip.provenance.label()
                );
                let mut t = neuromap_report::table::Table::new(["parameter", "value", "unit", "provenance"]);
                for f in &p.model.figures {
                    t.row([
                        format!("{}.{}", f.section, f.key),
                        p.model.choice_name(f).map_or_else(|| neuromap_report::fmt_g(f.value), str::to_string),
                        f.unit.to_string(),
                        f.provenance.label(),
                    ]);
                }
                print!("{}", t.render());
                println!("{}", neuromap_report::certainty_counts_text(&p.model));
            }
            Ok(())
        }
    }
}
