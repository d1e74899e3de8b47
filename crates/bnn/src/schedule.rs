//! Scheduling one neuron's circuit on a processing element: which gate each cell
//! evaluates in which cycle.
//!
//! A list schedule: each cycle, the first unscheduled gates (a window of
//! [`WINDOW`] in topological order) whose inputs were computed in earlier cycles are
//! given to the PE's cells, while the input bus has bits left for their network
//! inputs (a gate wider than the bus takes it whole) and the registers have room for
//! their outputs. A gate's output holds a register bit from the cycle it is computed
//! until the cycle its last reader runs (the neuron's output until it is written out).

use crate::gates::{Circuit, Output, Src};

/// Gates the scheduler looks ahead.
pub const WINDOW: usize = 64;

/// What a processing element offers a schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeLimits {
    pub cells: usize,
    pub register_bits: usize,
    pub input_bits_per_cycle: usize,
}

/// A neuron's schedule: its length and the actions it takes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    pub cycles: u32,
    /// Cell evaluations (gates).
    pub evals: u64,
    pub register_reads: u64,
    pub register_writes: u64,
    /// Network-input bits taken from the bus.
    pub input_bits: u64,
    /// Most register bits live at once.
    pub peak_live: u32,
    /// `(cycle, cell)` of every gate, in gate order.
    pub slots: Vec<(u32, u16)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("register bits: the circuit needs more than the {capacity} live bits a processing element holds")]
    Registers { capacity: usize },
}

/// Schedules `c` on a PE of `lim`.
pub fn schedule(c: &Circuit, lim: PeLimits) -> Result<Schedule, ScheduleError> {
    let n = c.len();
    let mut s = Schedule::default();
    if n == 0 {
        return Ok(s);
    }
    // Readers per gate output (the neuron's output has one more: the write-out).
    let mut uses = vec![0u32; n];
    for g in 0..n {
        for (src, _) in c.gate(g).0 {
            if let Src::Gate(h) = src {
                uses[h as usize] += 1;
            }
        }
    }
    if let Output::Signal(Src::Gate(o)) = c.output {
        uses[o as usize] += 1;
    }
    let mut done_cycle: Vec<u32> = vec![u32::MAX; n];
    s.slots = vec![(0, 0); n];
    let mut live = 0usize;
    let mut next = 0usize; // first unscheduled gate
    let mut cycle = 0u32;
    let mut freed: Vec<u32> = Vec::new();
    while next < n {
        let (mut cells, mut bus) = (0usize, 0usize);
        let mut issued = 0usize;
        freed.clear();
        let mut g = next;
        while g < n && g < next + WINDOW && cells < lim.cells {
            if done_cycle[g] != u32::MAX {
                g += 1;
                continue;
            }
            let (srcs, _) = c.gate(g);
            let mut ready = true;
            let mut inputs = 0usize;
            for (src, _) in srcs {
                match src {
                    Src::Gate(h) => ready &= done_cycle[h as usize] < cycle,
                    Src::Input(_) => inputs += 1,
                }
            }
            let bus_ok = inputs == 0 || bus + inputs <= lim.input_bits_per_cycle || bus == 0;
            let writes = usize::from(uses[g] > 0);
            if ready && bus_ok && live + writes <= lim.register_bits {
                done_cycle[g] = cycle;
                s.slots[g] = (cycle, cells as u16);
                cells += 1;
                bus += inputs;
                issued += 1;
                live += writes;
                s.evals += 1;
                s.register_writes += writes as u64;
                s.input_bits += inputs as u64;
                for (src, _) in c.gate(g).0 {
                    if let Src::Gate(h) = src {
                        s.register_reads += 1;
                        uses[h as usize] -= 1;
                        if uses[h as usize] == 0 {
                            freed.push(h);
                        }
                    }
                }
            }
            g += 1;
        }
        if issued == 0 {
            return Err(ScheduleError::Registers { capacity: lim.register_bits });
        }
        s.peak_live = s.peak_live.max(live as u32);
        live -= freed.len();
        while next < n && done_cycle[next] != u32::MAX {
            next += 1;
        }
        cycle += 1;
    }
    // The output is read out in the cycle after the last gate.
    s.cycles = cycle;
    Ok(s)
}
