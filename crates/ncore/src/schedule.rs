//! The time of a step as SANA-FE's detailed timing model schedules it (SANA-FE 2.2,
//! `schedule_messages_timestep_detailed` in `src/schedule.cpp`): each core works
//! through its neurons in order, and a spiking neuron's messages leave only when its
//! soma has finished (each message carries the soma time accumulated since the core's
//! previous message, plus the axon's send time); all cores' messages are then taken in
//! the order they are sent. A message reaches its core after its hops (or later, on a
//! congested route: SANA-FE's flow-density estimate), and the receiving core takes it
//! once it has finished the messages before it. The step lasts until the last message
//! is sent or processed, plus the barrier.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// One message (or, with `dest` `None`, the soma time after a core's last message).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Message {
    pub src: u32,
    pub dest: Option<u32>,
    /// Soma time since the core's previous message, plus the send time (s).
    pub generation_s: f64,
    /// The receiving core's time for it: taking it in and its synapses (s).
    pub processing_s: f64,
    /// Its hops' latency (s) and their count.
    pub hop_s: f64,
    pub hops: u32,
}

/// The mesh the messages cross: width and height in tiles, cores per tile, and each
/// core's tile `(x, y)`.
pub(crate) struct Mesh<'a> {
    pub width: u32,
    pub height: u32,
    pub cores_per_tile: u32,
    pub tile: &'a dyn Fn(usize) -> (u32, u32),
    /// SANA-FE's `link_buffer_size`: messages a link holds before a route blocks.
    pub buffer: f64,
}

const DIRECTIONS: usize = 4;
const EAST: usize = 1;
const WEST: usize = 3;
const NORTH: usize = 0;
const SOUTH: usize = 2;

/// A message in the scheduler's queue, earliest send first (then lower core, then
/// its place in that core's list: a total order).
struct Queued {
    sent: f64,
    core: u32,
    index: usize,
}

impl PartialEq for Queued {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued {
    fn cmp(&self, o: &Self) -> Ordering {
        // BinaryHeap is a max-heap: the earliest message is the greatest.
        o.sent.total_cmp(&self.sent).then(o.core.cmp(&self.core)).then(o.index.cmp(&self.index))
    }
}

/// A message in the network: until `received`, it counts on its route's links.
struct InFlight {
    received: f64,
    /// Order of entry (a total order for equal times).
    seq: u64,
    processing: f64,
    src: u32,
    dest: u32,
    hops: u32,
}

impl PartialEq for InFlight {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for InFlight {}
impl PartialOrd for InFlight {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for InFlight {
    fn cmp(&self, o: &Self) -> Ordering {
        // The earliest received is the greatest (BinaryHeap is a max-heap).
        o.received.total_cmp(&self.received).then(o.seq.cmp(&self.seq))
    }
}

/// The step's time (s), without the barrier, of `per_core` messages (each core's in
/// the order it sends them).
pub(crate) fn step_time(per_core: &[Vec<Message>], mesh: &Mesh<'_>) -> f64 {
    let links = DIRECTIONS + mesh.cores_per_tile.max(1) as usize;
    let idx = |x: u32, y: u32, link: usize| ((x as usize * mesh.height as usize) + y as usize) * links + link;
    let mut density = vec![0.0f64; mesh.width.max(1) as usize * mesh.height.max(1) as usize * links];
    let mut finished = vec![0.0f64; per_core.len()];
    let mut in_flight: BinaryHeap<InFlight> = BinaryHeap::new();
    let mut seq = 0u64;
    let (mut mean_delay, mut count) = (0.0f64, 0usize);
    let mut heap = BinaryHeap::new();
    for (c, q) in per_core.iter().enumerate() {
        if let Some(m) = q.first() {
            heap.push(Queued { sent: m.generation_s, core: c as u32, index: 0 });
        }
    }
    let mut last = 0.0f64;
    // The links of a message's route (dimension order, x first), each once, as
    // SANA-FE's density bookkeeping walks them.
    let route = |src: u32, dest: u32, out: &mut Vec<usize>| {
        out.clear();
        let ((sx, sy), (dx, dy)) = ((mesh.tile)(src as usize), (mesh.tile)(dest as usize));
        let local = DIRECTIONS + (src % mesh.cores_per_tile.max(1)) as usize;
        let mut prev = local;
        let mut x = sx;
        while x != dx {
            let dir = if dx > sx { EAST } else { WEST };
            out.push(if x == sx { idx(x, sy, local) } else { idx(x, sy, dir) });
            prev = dir;
            x = if dx > sx { x + 1 } else { x - 1 };
        }
        let mut y = sy;
        while y != dy {
            let dir = if dy > sy { NORTH } else { SOUTH };
            out.push(if sx == dx && y == sy { idx(dx, y, local) } else { idx(dx, y, prev) });
            prev = dir;
            y = if dy > sy { y + 1 } else { y - 1 };
        }
        out.push(if sx == dx && sy == dy { idx(dx, dy, local) } else { idx(dx, dy, prev) });
    };
    let mut links_of = Vec::new();
    while let Some(Queued { sent, core, index }) = heap.pop() {
        last = last.max(sent);
        // Messages received by now leave the network.
        while in_flight.peek().is_some_and(|m| sent >= m.received) {
            if let Some(m) = in_flight.pop() {
                route(m.src, m.dest, &mut links_of);
                let adjust = 1.0 / (2.0 + f64::from(m.hops));
                for &l in &links_of {
                    density[l] -= adjust;
                }
                if count > 1 {
                    mean_delay += (mean_delay - m.processing) / (count as f64 - 1.0);
                } else {
                    mean_delay = 0.0;
                }
                count -= 1;
            }
        }
        let q = &per_core[core as usize];
        let m = q[index];
        // A blocked message leaves later, and holds back its core's next one.
        let mut sent_at = sent;
        if let Some(dest) = m.dest {
            route(m.src, dest, &mut links_of);
            let along: f64 = links_of.iter().map(|&l| density[l]).sum();
            let capacity = f64::from(m.hops + 1) * mesh.buffer;
            if along > capacity {
                sent_at += (along - capacity) * mean_delay;
            }
            let congestion = along * mean_delay / (f64::from(m.hops) + 1.0);
            let arrives = sent_at + m.hop_s.max(congestion);
            let d = dest as usize;
            let received = finished[d].max(arrives);
            finished[d] = (finished[d] + m.processing_s).max(arrives + m.processing_s);
            last = last.max(finished[d]);
            let adjust = 1.0 / (2.0 + f64::from(m.hops));
            for &l in &links_of {
                density[l] += adjust;
            }
            mean_delay += (m.processing_s - mean_delay) / (count as f64 + 1.0);
            count += 1;
            seq += 1;
            in_flight.push(InFlight { received, seq, processing: m.processing_s, src: m.src, dest, hops: m.hops });
        }
        if let Some(next) = q.get(index + 1) {
            let at = sent_at + next.generation_s;
            last = last.max(at);
            heap.push(Queued { sent: at, core, index: index + 1 });
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mesh(tile: &dyn Fn(usize) -> (u32, u32)) -> Mesh<'_> {
        Mesh { width: 4, height: 4, cores_per_tile: 1, tile, buffer: 16.0 }
    }

    /// One core sends two messages to another: the second leaves after the first's
    /// soma time plus its own, and the receiver takes them one after the other.
    #[test]
    fn messages_wait_for_their_soma_and_for_the_receiver() {
        let tile = |c: usize| (c as u32, 0);
        let msg = |g: f64| Message { src: 0, dest: Some(1), generation_s: g, processing_s: 10.0, hop_s: 1.0, hops: 1 };
        let per_core = vec![vec![msg(2.0), msg(3.0)], vec![]];
        let t = step_time(&per_core, &mesh(&tile));
        // First: sent 2, arrives 3, done 13. Second: sent 5, arrives at least 6 (later
        // with the first still in flight), starts at 13, done 23.
        assert!((t - 23.0).abs() < 1e-9, "{t}");
        // A placeholder only adds soma time.
        let alone = vec![vec![Message { dest: None, ..msg(7.0) }]];
        assert_eq!(step_time(&alone, &mesh(&tile)), 7.0);
    }
}
