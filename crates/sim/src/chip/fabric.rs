//! The exchange between shards: the threads of this process through channels, and
//! the shards of other processes (MPI ranks) through [`Peers`].
//!
//! In one process, every shard sends its part to every other shard (one channel per
//! ordered pair, so parts never overtake each other) and joins all parts in shard
//! order itself. When the run spans processes, the shards send their parts to their
//! process's first shard (the leader) instead; it joins them, swaps the process's
//! part with every other process's in an all-gather (in rank order, so the whole is
//! again in global shard order), and hands the whole to its shards. Shards are
//! numbered rank by rank, so the whole does not depend on how the shards are spread
//! over threads and processes.

use super::*;

/// The other processes of a distributed run (MPI ranks, or the in-process stand-in
/// of the tests). Process `rank` runs global shards `rank × threads ..` up to the
/// next rank's. Every process calls [`Peers::all_gather`] the same number of times,
/// in the same order.
pub trait Peers: Send + Sync {
    /// This process's index, from 0.
    fn rank(&self) -> usize;
    /// The number of processes.
    fn size(&self) -> usize;
    /// Every process's `mine`, in rank order.
    fn all_gather(&self, mine: Vec<u8>) -> Vec<Vec<u8>>;
}

/// What a shard contributes to one exchange.
#[derive(Debug)]
pub(super) enum Part {
    /// The packets a shard's cores sent in a round, and whether it asks to stop.
    Packets(Vec<Packet>, bool),
    /// What the network did to the round's packets at the routers and links the shard
    /// owns.
    Net(RoundNet),
}

impl Part {
    /// The parts of several shards, in shard order, as one.
    fn join<'p>(parts: impl Iterator<Item = &'p Part>) -> Part {
        let mut whole: Option<Part> = None;
        for p in parts {
            match (&mut whole, p) {
                (None, Part::Packets(l, s)) => whole = Some(Part::Packets(l.clone(), *s)),
                (None, Part::Net(n)) => whole = Some(Part::Net(n.clone())),
                (Some(Part::Packets(all, stop)), Part::Packets(more, s)) => {
                    all.extend_from_slice(more);
                    *stop |= s;
                }
                (Some(Part::Net(all)), Part::Net(more)) => {
                    all.dropped.extend_from_slice(&more.dropped);
                    all.last_ps = all.last_ps.max(more.last_ps);
                    all.max_wait_ps = all.max_wait_ps.max(more.max_wait_ps);
                }
                _ => unreachable!("every shard takes part in the same exchange"),
            }
        }
        let mut whole = whole.unwrap_or(Part::Packets(Vec::new(), false));
        if let Part::Net(n) = &mut whole {
            n.dropped.sort_unstable();
        }
        whole
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let u32s = |out: &mut Vec<u8>, x: &[u32]| x.iter().for_each(|v| out.extend(v.to_le_bytes()));
        match self {
            Part::Packets(list, stop) => {
                out.push(0);
                out.push(u8::from(*stop));
                out.extend((list.len() as u64).to_le_bytes());
                for p in list {
                    u32s(&mut out, &[p.sender, p.j, p.k]);
                    out.extend(p.emit_ps.to_le_bytes());
                    out.extend(p.gap_ps.to_le_bytes());
                }
            }
            Part::Net(n) => {
                out.push(1);
                out.extend(n.last_ps.to_le_bytes());
                out.extend(n.max_wait_ps.to_le_bytes());
                out.extend((n.dropped.len() as u64).to_le_bytes());
                for &(i, c, h) in &n.dropped {
                    u32s(&mut out, &[i, c, h]);
                }
            }
        }
        out
    }

    /// Reads what [`Part::encode`] wrote (another process of this run, running this
    /// same program, wrote it).
    fn decode(b: &[u8]) -> Part {
        let mut r = Reader(b);
        match r.u8() {
            0 => {
                let stop = r.u8() != 0;
                let n = r.u64() as usize;
                let list = (0..n)
                    .map(|_| Packet { sender: r.u32(), j: r.u32(), k: r.u32(), emit_ps: r.u64(), gap_ps: r.u64() })
                    .collect();
                Part::Packets(list, stop)
            }
            _ => {
                let (last_ps, max_wait_ps) = (r.u64(), r.u64());
                let n = r.u64() as usize;
                let dropped = (0..n).map(|_| (r.u32(), r.u32(), r.u32())).collect();
                Part::Net(RoundNet { dropped, last_ps, max_wait_ps })
            }
        }
    }
}

/// Little-endian fields, in the order [`Part::encode`] wrote them.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
    fn u8(&mut self) -> u8 {
        self.take(1)[0]
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take(4).try_into().expect("4 bytes"))
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take(8).try_into().expect("8 bytes"))
    }
}

/// The other processes of a run, for [`ChipConfig::peers`].
#[derive(Clone)]
pub struct Ranks(pub Arc<dyn Peers>);

impl std::fmt::Debug for Ranks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rank {} of {}", self.0.rank(), self.0.size())
    }
}

/// One shard's end of the exchange.
pub(super) struct Fabric<'a> {
    /// This shard's index among its process's shards, and their number.
    me: usize,
    n: usize,
    /// Where its part goes (the other shards of the process; under MPI, a shard other
    /// than the leader sends only to the leader) and where parts come from, with the
    /// local index of their shard.
    to: Vec<Sender<Arc<Part>>>,
    from: Vec<(usize, Receiver<Arc<Part>>)>,
    /// Under MPI: the leader swaps its process's part with the other processes and
    /// hands the whole down to the other shards, which wait for it.
    peers: Option<&'a dyn Peers>,
    down: Vec<Sender<Arc<Part>>>,
    up: Option<Receiver<Arc<Part>>>,
}

impl<'a> Fabric<'a> {
    /// The ends of `n` shards of this process, the first one the leader.
    pub(super) fn local(n: usize, peers: Option<&'a dyn Peers>) -> Vec<Fabric<'a>> {
        let peers = peers.filter(|p| p.size() > 1);
        let mut all: Vec<Fabric<'a>> = (0..n)
            .map(|me| Fabric {
                me,
                n,
                to: Vec::new(),
                from: Vec::new(),
                peers: if me == 0 { peers } else { None },
                down: Vec::new(),
                up: None,
            })
            .collect();
        for i in 0..n {
            for j in 0..n {
                // One process: every shard to every other. Several: to the leader.
                if i != j && (peers.is_none() || j == 0) {
                    let (tx, rx) = crossbeam_channel::unbounded();
                    all[i].to.push(tx);
                    all[j].from.push((i, rx));
                }
            }
            if peers.is_some() && i > 0 {
                let (tx, rx) = crossbeam_channel::bounded(1);
                all[0].down.push(tx);
                all[i].up = Some(rx);
            }
        }
        all
    }

    /// Every shard's part of this exchange, joined in global shard order.
    pub(super) fn exchange(&self, mine: Part) -> Arc<Part> {
        const GONE: &str = "a chip-simulator worker stopped";
        let mine = Arc::new(mine);
        for t in &self.to {
            t.send(Arc::clone(&mine)).expect(GONE);
        }
        if let Some(up) = &self.up {
            return up.recv().expect(GONE);
        }
        if self.n == 1 && self.peers.is_none() {
            return mine;
        }
        let mut parts: Vec<Option<Arc<Part>>> = vec![None; self.n];
        for (i, r) in &self.from {
            parts[*i] = Some(r.recv().expect(GONE));
        }
        parts[self.me] = Some(mine);
        let mut whole = Part::join(parts.iter().flatten().map(|p| &**p));
        if let Some(peers) = self.peers {
            let all = peers.all_gather(whole.encode());
            let decoded: Vec<Part> = all.iter().map(|b| Part::decode(b)).collect();
            whole = Part::join(decoded.iter());
            let whole = Arc::new(whole);
            for d in &self.down {
                d.send(Arc::clone(&whole)).expect(GONE);
            }
            return whole;
        }
        Arc::new(whole)
    }
}

/// A stand-in for MPI inside one process: `n` ranks, each a [`Peers`] to give to a
/// thread of its own, exchanging through shared memory. The tests use it to check
/// that a run split over ranks is the run on one thread; `neuromap` built with the
/// `mpi` feature uses MPI itself.
pub struct InProcessRanks {
    rank: usize,
    group: Arc<Group>,
}

struct Group {
    n: usize,
    state: std::sync::Mutex<Gather>,
    done: std::sync::Condvar,
}

#[derive(Default)]
struct Gather {
    round: u64,
    slots: Vec<Option<Vec<u8>>>,
    arrived: usize,
    last: Arc<Vec<Vec<u8>>>,
    /// A rank left (its run failed or panicked): the others stop waiting for it.
    left: Option<usize>,
}

impl std::fmt::Debug for InProcessRanks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "in-process rank {} of {}", self.rank, self.group.n)
    }
}

impl InProcessRanks {
    /// The `n` ranks of one group, rank 0 first.
    pub fn group(n: usize) -> Vec<InProcessRanks> {
        let group = Arc::new(Group {
            n,
            state: std::sync::Mutex::new(Gather { slots: vec![None; n], ..Gather::default() }),
            done: std::sync::Condvar::new(),
        });
        (0..n).map(|rank| InProcessRanks { rank, group: Arc::clone(&group) }).collect()
    }
}

impl Peers for InProcessRanks {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.group.n
    }

    fn all_gather(&self, mine: Vec<u8>) -> Vec<Vec<u8>> {
        let g = &self.group;
        let mut s = g.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let round = s.round;
        s.slots[self.rank] = Some(mine);
        s.arrived += 1;
        if s.arrived == g.n {
            s.last = Arc::new(s.slots.iter_mut().map(|x| x.take().unwrap_or_default()).collect());
            s.arrived = 0;
            s.round += 1;
            g.done.notify_all();
        } else {
            while s.round == round {
                if let Some(r) = s.left {
                    panic!("in-process rank {r} left the run while rank {} waited for it", self.rank);
                }
                s = g.done.wait(s).unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        }
        s.last.as_ref().clone()
    }
}

impl Drop for InProcessRanks {
    /// A rank dropped while others may wait for it (its run ended early): they stop
    /// waiting, and panic instead of hanging. After a complete run no one waits.
    fn drop(&mut self) {
        let mut s = self.group.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        s.left = Some(self.rank);
        self.group.done.notify_all();
    }
}
