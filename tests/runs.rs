//! Golden chip runs: every example on every SpiNNaker model it fits, through the
//! public test API (`neuromap::pipeline::map_and_run` and `Outcome::summary`), the way
//! a user's own tests would do it. Each run is made with 1, 2 and 4 threads in turn,
//! and all of them must match the same snapshot.
//!
//! Long examples are cut to 300 steps and the microcircuit runs at scale 0.02.

use std::path::Path;

use neuromap::pipeline::{JobError, RunOptions, map_and_run};

mod common;
use common::toml_files;

#[test]
fn golden_chip_runs() {
    let mut ran = 0;
    for net in toml_files("netlists") {
        let stem = net.file_stem().unwrap().to_string_lossy().to_string();
        for hw in toml_files("hw-models") {
            let model = hw.file_stem().unwrap().to_string_lossy().to_string();
            if !model.starts_with("spinnaker") {
                continue;
            }
            let scale = (stem == "microcircuit").then_some(0.02);
            let mut first: Option<String> = None;
            for threads in [1, 2, 4] {
                let o = RunOptions { steps: Some(300), scale, threads, ..RunOptions::default() };
                let summary = match map_and_run(&net, &model, &o) {
                    Ok(out) => out.summary(),
                    // Networks too large for a model: the error is part of the record.
                    Err(e @ JobError::Map { .. }) => format!("does not map: {e}\n"),
                    Err(e) => panic!("{stem} on {model}: {e}"),
                };
                match &first {
                    None => {
                        insta::assert_snapshot!(format!("{stem}@{model}"), summary);
                        first = Some(summary);
                    }
                    Some(f) => assert_eq!(&summary, f, "{stem} on {model}: {threads} threads differ from 1"),
                }
            }
            ran += 1;
        }
    }
    assert!(ran >= 40, "only {ran} runs");
}

/// The API a user's test calls, end to end, on a path relative to the project.
#[test]
fn the_test_api_redacts_wall_times_and_paths() {
    let out = map_and_run(
        Path::new("netlists/synfire.toml"),
        "spinnaker1",
        &RunOptions { steps: Some(100), ..RunOptions::default() },
    )
    .unwrap();
    let s = out.summary();
    assert!(!s.contains("wall time") && !s.contains("netlists/"), "{s}");
    assert!(out.report_json(false)["wall_seconds"].is_null());
    assert!(out.report_json(true)["wall_seconds"].is_number());
}

/// A run is refused before it simulates when its estimated memory exceeds the limit,
/// and the error gives the estimate, its parts and the limit.
#[test]
fn a_run_over_the_memory_limit_is_refused_with_the_estimate() {
    let n = neuromap::import::load_path(Path::new("netlists/brunel_10k.toml")).unwrap();
    let model = neuromap::pipeline::load_hw("spinnaker1-spinn5").unwrap();
    let job = neuromap::pipeline::Job {
        max_memory: Some((0.1 * (1u64 << 30) as f64, "a test limit".into())),
        ..neuromap::pipeline::Job::new(None, n.spec.build().unwrap(), model, 10)
    };
    let e = neuromap::pipeline::run_job(job, &mut |_| true).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, JobError::TooLarge { .. }), "{text}");
    assert!(text.contains("chip simulator") && text.contains("0.10 GiB (a test limit)"), "{text}");
}

/// The checks run beside the chip. A chip run that ends early (here its progress says
/// stop at step 40 of 400, as a deadline does) is still checked over exactly its steps:
/// a check that ran past it runs again for them, so the quantised model equals the chip
/// and the reference's counts are those of a reference run alone for 40 steps. Asked
/// to stop (Ctrl-C), a check that ran past the chip is cut to the chip's steps.
#[test]
fn the_checks_cover_exactly_the_steps_a_stopped_chip_ran() {
    let o = RunOptions { steps: Some(400), ..RunOptions::default() };
    let job = neuromap::pipeline::load_job("netlists/brunel_1k.toml", "spinnaker1-spinn5", &o).unwrap();
    let net = job.net.clone();
    let out = neuromap::pipeline::run_job(job.clone(), &mut |t| t < 40).unwrap();
    let steps = out.chip.result.steps;
    assert!((40..400).contains(&steps), "{steps}");
    assert!(out.same_as_functional && out.checked_steps == steps, "{}", out.checked_steps);
    assert_eq!(out.reference.steps, steps);
    let alone = neuromap::sim::simulate(&net, steps, neuromap::sim::Options::for_chip(&out.mapping.hw));
    assert_eq!(out.reference.spike_counts, alone.spike_counts);
    assert!(alone.spike_counts.iter().sum::<u64>() > 0, "the network fires");
    // Interrupted: the checks stop too, and compare the steps both sides reached.
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let job =
        neuromap::pipeline::Job { stop: neuromap::sim::Stop { flag: Some(flag.clone()), ..Default::default() }, ..job };
    let out = neuromap::pipeline::run_job(job, &mut |t| {
        if t >= 40 {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        true
    })
    .unwrap();
    assert!(out.same_as_functional && out.checked_steps <= out.chip.result.steps);
    assert!(out.reference.steps <= out.chip.result.steps);
}
