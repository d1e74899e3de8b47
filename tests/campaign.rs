//! Fault campaigns: the fault-free setting is the plain run, exactly; faults lose
//! packets, and every loss is counted; the command writes its CSV and SVG plots.

mod common;

use std::path::Path;
use std::process::Command;

use neuromap::pipeline::campaign::{self, Campaign};
use neuromap::pipeline::{RunOptions, load_hw, map_and_run};

#[test]
fn the_fault_free_setting_equals_the_plain_run() {
    // Brunel-10k spans 8 chips of a SpiNN-5 board, so packets cross links.
    let n = neuromap::import::load_path(Path::new("netlists/brunel_10k.toml")).unwrap();
    let net = n.spec.build().unwrap();
    let model = load_hw("spinnaker1-spinn5").unwrap();
    let settings = campaign::sweep(&[1], &[2], &[], &[0.02], &[]);
    assert_eq!(settings.len(), 4);
    assert!(settings[0].is_fault_free());
    let c = Campaign {
        spec: &n.spec,
        net: &net,
        model: &model,
        steps: 150,
        seeds: 2,
        threads: 2,
        settings: settings.clone(),
        peers: None,
    };
    let (base, rows) = campaign::run(&c, &mut |_: &str| {}).unwrap();
    assert_eq!(rows.len(), 8);
    // Shared out over 3 ranks (each a process under MPI; here the in-process
    // stand-in), every rank gets the same rows in the same order.
    let split: Vec<Vec<campaign::Row>> = std::thread::scope(|s| {
        let handles: Vec<_> = neuromap::sim::chip::InProcessRanks::group(3)
            .into_iter()
            .map(|p| {
                let peers = Some(neuromap::sim::chip::Ranks(std::sync::Arc::new(p)));
                let c = Campaign { peers, threads: 1, settings: settings.clone(), ..c };
                s.spawn(move || campaign::run(&c, &mut |_: &str| {}).unwrap().1)
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in &split {
        assert!(r == &rows, "a rank's rows differ from one process's");
    }
    let o = RunOptions { steps: Some(150), ..RunOptions::default() };
    let plain = map_and_run("netlists/brunel_10k.toml", "spinnaker1-spinn5", &o).unwrap();
    assert_eq!(base.summary(), plain.summary(), "the campaign's fault-free run is the plain run");
    for r in rows.iter().filter(|r| r.setting == "no faults") {
        assert_eq!((r.count_error, r.same_step, r.van_rossum), (0.0, 1.0, 0.0), "{r:?}");
        assert_eq!(r.energy_j, plain.energy.as_ref().map(|e| e.total(neuromap::cost::Basis::Allocated)));
        assert_eq!(r.lost_deliveries + r.lost_random + r.lost_congestion + r.lost_dead_link, 0);
    }
    // Compile-time faults are mapped around: the same spikes.
    for r in rows.iter().filter(|r| r.setting.contains("dead")) {
        assert!(r.unmapped.is_none(), "{r:?}");
        assert_eq!(r.count_error, 0.0, "{r:?}");
    }
    // A drop rate loses packets, counted, and the seeds differ.
    let dropped: Vec<_> = rows.iter().filter(|r| r.setting.starts_with("drop")).collect();
    assert!(dropped.iter().all(|r| r.lost_random > 0 && r.lost_deliveries >= r.lost_random), "{dropped:?}");
    assert_ne!(dropped[0].lost_random, dropped[1].lost_random);
    let sums = campaign::summarise(&settings, &rows);
    assert_eq!(sums.len(), 4);
    assert_eq!(sums[0].count_error, (0.0, 0.0));
}

/// `neuromap campaign NET --hw HW --steps STEPS --seeds SEEDS --drop-rates 0.01` into a
/// fresh folder: the folder, what it printed and its `campaign.csv`.
fn campaign_with_drops(net: &str, hw: &str, steps: &str, seeds: &str) -> (std::path::PathBuf, String, String) {
    let dir = common::scratch_path("campaign", "");
    let out = Command::new(env!("CARGO_BIN_EXE_neuromap"))
        .args(["campaign", net, "--hw", hw, "--steps", steps, "--seeds", seeds])
        .args(["--drop-rates", "0.01", "-o", dir.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let csv = std::fs::read_to_string(dir.join("campaign.csv")).unwrap();
    (dir, text, csv)
}

#[test]
fn the_command_writes_csv_and_plots() {
    let (dir, text, csv) = campaign_with_drops("netlists/brunel_1k.toml", "spinnaker1-spinn3", "100", "2");
    assert!(text.contains("no faults") && text.contains("drop rate 0.01"), "{text}");
    // Brunel-1k sits on one chip of the board: no packet crosses a link, so a drop
    // rate per crossing cannot lose one, and the command says why.
    assert!(
        text.contains("no packet of the fault-free run crossed a link between chips (its 1 chip(s) sent none"),
        "{text}"
    );
    assert_eq!(csv.lines().count(), 1 + 2 * 2, "{csv}");
    for svg in ["fidelity.svg", "losses.svg", "energy.svg"] {
        let s = std::fs::read_to_string(dir.join(svg)).unwrap();
        assert!(s.starts_with("<svg") && s.contains("drop rate 0.01"), "{svg}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Where packets do cross links, drops lose some and the one-chip explanation is not
/// printed.
#[test]
fn the_command_explains_link_faults_only_where_no_packet_crosses_a_link() {
    let (dir, text, csv) = campaign_with_drops("netlists/brunel_10k.toml", "spinnaker1-spinn5", "50", "1");
    assert!(!text.contains("crossed a link"), "{text}");
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "lost_random").expect("a lost_random column");
    let lost: u64 = csv.lines().skip(1).map(|l| l.split(',').nth(col).unwrap().parse::<u64>().unwrap()).sum();
    assert!(lost > 0, "{csv}");
    std::fs::remove_dir_all(&dir).unwrap();
}
