//! The exchange between shards: the threads of this process through channels, and
//! the shards of other processes (MPI ranks) through [`Peers`].
//!
//! In one process, every shard sends its part to every other shard (one channel per
//! ordered pair, so parts never overtake each other) and joins all parts in shard
//! order itself: a round's packets as the parts themselves, shared, not copied
//! ([`Whole`]). When the run spans processes, the shards send their parts to their
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
    /// Sends `to[r]` to process `r` and returns what each process sent this one, in
    /// rank order. By default through [`Peers::all_gather`] (every process then
    /// carries every message); MPI's all-to-all carries each message to its process
    /// only.
    fn all_to_all(&self, to: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        all_to_all_by_gather(self, to)
    }
}

/// [`Peers::all_to_all`] through [`Peers::all_gather`]: each process gathers every
/// process's messages, length-prefixed, and keeps those sent to it.
pub fn all_to_all_by_gather<P: Peers + ?Sized>(peers: &P, to: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let mut mine = Vec::new();
    for m in &to {
        mine.extend((m.len() as u64).to_le_bytes());
        mine.extend_from_slice(m);
    }
    let me = peers.rank();
    peers
        .all_gather(mine)
        .into_iter()
        .map(|all| {
            let mut r = Reader(&all);
            let mut out = Vec::new();
            for k in 0..=me {
                let n = r.u64() as usize;
                let m = r.take(n);
                if k == me {
                    out = m.to_vec();
                }
            }
            out
        })
        .collect()
}

/// What a shard contributes to one exchange, or what it gets back.
#[derive(Debug)]
pub(super) enum Part {
    /// The packets of a round.
    Packets(Round),
    /// What the network did to the round's packets at the routers and links the shard
    /// owns.
    Net(RoundNet),
    /// Every shard's packets of a round, as the exchange returns them.
    Whole(Whole),
}

/// A round's packets as a shard sees them: every part in global shard order, shared
/// rather than copied into one list (each shard would copy every packet of every
/// round). Packet `i` of a part is packet `base + i` of the round's whole list, or,
/// for a part from another process, the index it came with ([`Round::gid_at`]).
#[derive(Debug, Default)]
pub(super) struct Whole {
    parts: Vec<(Arc<Part>, u32)>,
    /// Some shard asks to stop; some shard sent a packet; some packet reaches a delay
    /// extension (another round follows). Every shard's, whatever it received.
    pub(super) stop: bool,
    pub(super) any: bool,
    pub(super) more: bool,
}

impl Whole {
    /// Packet parts with their bases, their flags joined.
    fn of(parts: Vec<(Arc<Part>, u32)>) -> Whole {
        let mut whole = Whole { parts, ..Whole::default() };
        let flags = whole.rounds().fold((false, false, false), |f, (r, _)| (f.0 | r.stop, f.1 | r.any, f.2 | r.more));
        (whole.stop, whole.any, whole.more) = flags;
        whole
    }

    /// Parts in the order of the whole list, each with its first packet's index there.
    fn in_order(parts: impl Iterator<Item = Arc<Part>>) -> Whole {
        let mut base = 0u32;
        Whole::of(
            parts
                .map(|p| {
                    let at = base;
                    if let Part::Packets(r) = &*p {
                        base += r.list.len() as u32;
                    }
                    (p, at)
                })
                .collect(),
        )
    }

    /// Each part's packets with its base ([`Round::gid_at`]), in order.
    pub(super) fn rounds(&self) -> impl Iterator<Item = (&Round, u32)> {
        (0..self.parts.len()).map(|k| self.part(k))
    }

    /// Part `k`'s packets with its base.
    pub(super) fn part(&self, k: usize) -> (&Round, u32) {
        match &*self.parts[k].0 {
            Part::Packets(r) => (r, self.parts[k].1),
            _ => unreachable!("a round's parts are packets"),
        }
    }

    /// The number of packets this shard sees.
    fn len(&self) -> usize {
        self.rounds().map(|(r, _)| r.list.len()).sum()
    }
}

/// A round's packets as a shard sees them: in one process, every shard's; over MPI
/// ranks, those that concern this process (see [`Peers::all_to_all`]).
#[derive(Debug, Default)]
pub(super) struct Round {
    pub(super) list: Vec<Packet>,
    /// `list` as runs of one sender's packets (each as long as it goes), made with
    /// the list by the shard that made the round (or read from another process);
    /// the shards that read the round go run by run, and skip the runs that do not
    /// concern them without reading their packets.
    pub(super) runs: Vec<Run>,
    /// Per packet of `list`, its index in the round's whole list (every shard's
    /// packets in shard order), which names it in [`RoundNet::dropped`]; empty when
    /// `list` is the whole list.
    pub(super) gid: Vec<u32>,
    /// Some shard asks to stop; some shard sent a packet; some packet reaches a delay
    /// extension (another round follows). Every shard's, whatever it received.
    pub(super) stop: bool,
    pub(super) any: bool,
    pub(super) more: bool,
    /// The local index of the shard that made it (its lists go back to that shard's
    /// pool: [`Fabric::give_back`]); `None` for packets read from another process.
    maker: Option<usize>,
}

impl Round {
    /// A shard's own packets of a round.
    pub(super) fn of(shared: &Shared, packets: Packets, stop: bool) -> Round {
        let Packets { list, runs } = packets;
        let more = runs.iter().any(|r| shared.feeds_extension[r.sender as usize]);
        Round { any: !list.is_empty(), list, runs, gid: Vec::new(), stop, more, maker: None }
    }

    /// Each run with the indices of its packets in `list`.
    pub(super) fn run_ranges(&self) -> impl Iterator<Item = (std::ops::Range<usize>, &Run)> {
        self.runs.iter().scan(0usize, |a, run| Some((std::mem::replace(a, run.end as usize)..run.end as usize, run)))
    }

    /// The index in the round's whole list of packet `i` of this part, whose first
    /// packet is at `base` there unless its packets came with their indices.
    #[inline]
    pub(super) fn gid_at(&self, i: usize, base: u32) -> u32 {
        self.gid.get(i).copied().unwrap_or(base + i as u32)
    }
}

impl Part {
    /// The network parts of several shards as one.
    fn join_nets<'p>(parts: impl Iterator<Item = &'p Part>) -> Part {
        let mut all = RoundNet::default();
        for p in parts {
            let Part::Net(more) = p else { unreachable!("every shard takes part in the same exchange") };
            all.dropped.extend_from_slice(&more.dropped);
            all.last_ps = all.last_ps.max(more.last_ps);
            all.max_wait_ps = all.max_wait_ps.max(more.max_wait_ps);
        }
        all.dropped.sort_unstable();
        Part::Net(all)
    }

    /// This process's part of a round's packets for each of `n` processes, in one
    /// pass, little-endian: the flags, the length of the process's whole list, the
    /// number of packets that concern that process ([`Shared::ranks_of`]), and those
    /// packets in runs ([`RUN_BYTES`]), which give each its index in that list. Its
    /// own entry is empty.
    fn encode_packets(r: &Whole, shared: &Shared, n: usize, me: usize) -> Vec<Vec<u8>> {
        let head = |out: &mut Vec<u8>| {
            out.push(0);
            out.push(u8::from(r.stop) | u8::from(r.any) << 1 | u8::from(r.more) << 2);
            out.extend((r.len() as u64).to_le_bytes());
            out.extend(0u64.to_le_bytes());
        };
        // The runs that concern another process, each with those processes (found
        // once per run). A run that concerns none (most, where each process takes
        // whole chips: a source's to its one-to-one targets) is passed over without
        // reading its packets.
        let runs = || {
            r.rounds().flat_map(|(round, base)| {
                round
                    .run_ranges()
                    .map(move |(at, run)| (round, base, at, run, shared.ranks_of(run.sender)))
                    .filter(|x| !x.4.is_empty())
            })
        };
        let going: usize = runs().map(|x| x.2.len()).sum();
        let mut out: Vec<Vec<u8>> = vec![Vec::new(); n];
        let mut count = vec![0u64; n];
        let mut open: Vec<Option<OpenRun>> = vec![None; n];
        for (_, o) in out.iter_mut().enumerate().filter(|(q, _)| *q != me) {
            o.reserve(18 + RUN_BYTES + PACKET_BYTES * going);
            head(o);
        }
        // Each packet with its index, its run, and the processes its run goes to.
        let packets = runs().flat_map(|(round, base, at, run, ranks)| {
            at.map(move |k| (round.gid_at(k, base), run, ranks, &round.list[k]))
        });
        for (i, run, ranks, p) in packets {
            let next_emit = p.emit_ps.wrapping_add(run.gap_ps.wrapping_mul(u64::from(p.k)));
            let mut b = [0u8; PACKET_BYTES];
            b[..4].copy_from_slice(&p.j.to_le_bytes());
            b[4..].copy_from_slice(&p.k.to_le_bytes());
            for &q in ranks {
                let (q, o) = (usize::from(q), &mut out[usize::from(q)]);
                match &mut open[q] {
                    Some(going) if going.continued_by(i, run, p) => {
                        going.n += 1;
                        going.next_gid += 1;
                        going.next_emit = next_emit;
                    }
                    slot => {
                        if let Some(done) = slot.take() {
                            done.close(o);
                        }
                        *slot = Some(OpenRun {
                            at: o.len(),
                            n: 1,
                            next_gid: i + 1,
                            sender: run.sender,
                            gap_ps: run.gap_ps,
                            next_emit,
                        });
                        let mut h = [0u8; RUN_BYTES];
                        h[..4].copy_from_slice(&i.to_le_bytes());
                        h[4..8].copy_from_slice(&run.sender.to_le_bytes());
                        h[12..20].copy_from_slice(&p.emit_ps.to_le_bytes());
                        h[20..28].copy_from_slice(&run.gap_ps.to_le_bytes());
                        o.extend_from_slice(&h);
                    }
                }
                o.extend_from_slice(&b);
                count[q] += 1;
            }
        }
        for (q, o) in out.iter_mut().enumerate() {
            if let Some(run) = open[q].take() {
                run.close(o);
            }
        }
        // The packet count goes after the tag, the flags and the whole list's length.
        for (o, c) in out.iter_mut().zip(count).filter(|(o, _)| !o.is_empty()) {
            o[10..18].copy_from_slice(&c.to_le_bytes());
        }
        out
    }

    /// A network part, little-endian.
    fn encode_net(n: &RoundNet) -> Vec<u8> {
        let mut out = vec![1];
        out.extend(n.last_ps.to_le_bytes());
        out.extend(n.max_wait_ps.to_le_bytes());
        out.extend((n.dropped.len() as u64).to_le_bytes());
        for &(i, c, h) in &n.dropped {
            for v in [i, c, h] {
                out.extend(v.to_le_bytes());
            }
        }
        out
    }

    /// Reads what [`Part::encode_packets`] or [`Part::encode_net`] wrote (another
    /// process of this run, running this same program, wrote it): for packets, the
    /// part and the length of the whole list it came from.
    fn decode(b: &[u8]) -> (Part, u32) {
        Part::read(&mut Reader(b))
    }

    /// [`Part::decode`] from where `r` is, leaving `r` after what it read (a message
    /// may carry a network part after its packets: [`Fabric::collect_net`]).
    fn read(r: &mut Reader) -> (Part, u32) {
        match r.u8() {
            0 => {
                let flags = r.u8();
                let whole = r.u64() as u32;
                let n = r.u64() as usize;
                let mut round =
                    Round { stop: flags & 1 != 0, any: flags & 2 != 0, more: flags & 4 != 0, ..Round::default() };
                round.gid = Vec::with_capacity(n);
                let mut got = Packets { list: Vec::with_capacity(n), runs: Vec::new() };
                while got.list.len() < n {
                    let (gid, sender, m, mut emit_ps, gap_ps) = (r.u32(), r.u32(), r.u32(), r.u64(), r.u64());
                    round.gid.extend(gid..gid + m);
                    for b in r.take(m as usize * PACKET_BYTES).chunks_exact(PACKET_BYTES) {
                        let mut b = Reader(b);
                        let (j, k) = (b.u32(), b.u32());
                        got.push(sender, gap_ps, Packet { j, k, emit_ps });
                        emit_ps = emit_ps.wrapping_add(gap_ps.wrapping_mul(u64::from(k)));
                    }
                }
                (round.list, round.runs) = (got.list, got.runs);
                (Part::Packets(round), whole)
            }
            _ => {
                let (last_ps, max_wait_ps) = (r.u64(), r.u64());
                let n = r.u64() as usize;
                let dropped = (0..n).map(|_| (r.u32(), r.u32(), r.u32())).collect();
                (Part::Net(RoundNet { dropped, last_ps, max_wait_ps }), 0)
            }
        }
    }
}

/// Packets go to another process in runs: packets of one sender at consecutive
/// indices of the round's whole list, emitted `gap_ps` apart (each after the last
/// one's copies), as a core sends its spikes of a step. A run's header holds its
/// first packet's index, the sender, the number of packets (4 bytes each), the
/// first emission time and the gap (8 bytes each); each packet then only its neuron
/// and its count (4 bytes each). A packet that continues no run starts one.
const RUN_BYTES: usize = 28;
const PACKET_BYTES: usize = 8;

/// The run a process's message ends with, while it may go on.
#[derive(Clone, Copy)]
struct OpenRun {
    /// Where its header starts in the message, and its packets so far.
    at: usize,
    n: u32,
    /// What its next packet must have: index, sender, gap and emission time.
    next_gid: u32,
    sender: u32,
    gap_ps: u64,
    next_emit: u64,
}

impl OpenRun {
    fn continued_by(&self, gid: u32, run: &Run, p: &Packet) -> bool {
        gid == self.next_gid && run.sender == self.sender && run.gap_ps == self.gap_ps && p.emit_ps == self.next_emit
    }

    /// Writes the number of its packets into its header.
    fn close(self, out: &mut [u8]) {
        out[self.at + 8..self.at + 12].copy_from_slice(&self.n.to_le_bytes());
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
    /// Packet lists of finished rounds, emptied, to be filled again: a round's lists
    /// are megabytes in a large network, and allocated anew each round they cost
    /// page faults. A pool per shard of the process, each list going back to the
    /// pool of the shard that filled it ([`Round::maker`]), from whichever shard read
    /// it last: a shard then fills lists whose memory is in its own core's cache,
    /// not lines another core wrote last (a pool shared by the shards mixed them; a
    /// pool per reader filled one shard's pool while the other allocated anew).
    spare: Arc<Vec<std::sync::Mutex<Vec<Packets>>>>,
    /// Host time this shard spent blocked waiting for the other shards of its
    /// process (ns): how unevenly the shards' work or their cores' speeds went.
    waited_ns: std::cell::Cell<u64>,
}

impl<'a> Fabric<'a> {
    /// The ends of `n` shards of this process, the first one the leader.
    pub(super) fn local(n: usize, peers: Option<&'a dyn Peers>) -> Vec<Fabric<'a>> {
        let peers = peers.filter(|p| p.size() > 1);
        let spare = Arc::new((0..n).map(|_| std::sync::Mutex::new(Vec::new())).collect::<Vec<_>>());
        let mut all: Vec<Fabric<'a>> = (0..n)
            .map(|me| Fabric {
                me,
                n,
                to: Vec::new(),
                from: Vec::new(),
                peers: if me == 0 { peers } else { None },
                down: Vec::new(),
                up: None,
                spare: Arc::clone(&spare),
                waited_ns: std::cell::Cell::new(0),
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
                // Two: a merged exchange hands down two parts at once.
                let (tx, rx) = crossbeam_channel::bounded(2);
                all[0].down.push(tx);
                all[i].up = Some(rx);
            }
        }
        all
    }

    /// The next part from `r`, counting the time blocked for it when it is not there
    /// yet.
    fn wait(&self, r: &Receiver<Arc<Part>>) -> Arc<Part> {
        match r.try_recv() {
            Ok(part) => part,
            Err(crossbeam_channel::TryRecvError::Disconnected) => panic!("{GONE}"),
            Err(crossbeam_channel::TryRecvError::Empty) => {
                let from = std::time::Instant::now();
                let part = r.recv().expect(GONE);
                self.waited_ns.set(self.waited_ns.get() + from.elapsed().as_nanos() as u64);
                part
            }
        }
    }

    /// The host seconds this shard spent blocked waiting for its process's other
    /// shards. Under MPI a shard other than the leader also waits for the leader's
    /// exchange with the other processes, and that counts; the leader's own time in
    /// that exchange does not.
    pub(super) fn waited_s(&self) -> f64 {
        self.waited_ns.get() as f64 * 1e-9
    }

    /// An empty packet list (one a finished round gave back, if any).
    pub(super) fn list(&self) -> Packets {
        self.spare[self.me].lock().expect(GONE).pop().unwrap_or_default()
    }

    /// Takes back a round's packets once no shard reads them any more (when this is
    /// their last holder), to fill their lists again.
    pub(super) fn give_back(&self, part: Arc<Part>) {
        match Arc::try_unwrap(part) {
            Ok(Part::Packets(mut r)) => {
                let Some(maker) = r.maker else { return };
                let mut spare = self.spare[maker].lock().expect(GONE);
                // A few: the lists of the rounds in flight.
                if spare.len() < 4 {
                    keep_room(&mut r.list);
                    keep_room(&mut r.runs);
                    spare.push(Packets { list: r.list, runs: r.runs });
                }
            }
            Ok(Part::Whole(w)) => w.parts.into_iter().for_each(|(p, _)| self.give_back(p)),
            _ => {}
        }
    }

    /// The first half of an exchange: sends this shard's part to the shards that
    /// join it, without waiting for theirs. Every shard posts and collects its
    /// exchanges in the same order; work done between the two halves overlaps the
    /// other shards' work up to this exchange.
    pub(super) fn post(&self, mut mine: Part) -> Posted {
        if let Part::Packets(r) = &mut mine {
            r.maker = Some(self.me);
        }
        let mine = Arc::new(mine);
        for t in &self.to {
            t.send(Arc::clone(&mine)).expect(GONE);
        }
        Posted { part: mine, collected: false }
    }

    /// The second half of an exchange: every shard's part of the exchange `posted`
    /// began, joined in global shard order. Over MPI ranks, a round's packets reach
    /// only the processes they concern ([`Peers::all_to_all`]), each keeping its
    /// index in the whole list; the network's results reach every process
    /// ([`Peers::all_gather`]).
    pub(super) fn collect(&self, shared: &Shared, posted: Posted) -> Arc<Part> {
        let Posted { part: mine, collected } = posted;
        if collected {
            return mine;
        }
        if let Some(up) = &self.up {
            return self.wait(up);
        }
        if self.n == 1 && self.peers.is_none() && matches!(*mine, Part::Net(_)) {
            return mine;
        }
        let whole = self.join_local(mine);
        let Some(peers) = self.peers else { return Arc::new(whole) };
        let whole = match whole {
            Part::Whole(ours) => Part::Whole(self.swap_packets(shared, peers, ours, None).0),
            Part::Net(n) => {
                let decoded: Vec<Part> =
                    peers.all_gather(Part::encode_net(&n)).iter().map(|b| Part::decode(b).0).collect();
                Part::join_nets(decoded.iter())
            }
            Part::Packets(_) => unreachable!("parts are joined into a whole"),
        };
        let whole = Arc::new(whole);
        for d in &self.down {
            d.send(Arc::clone(&whole)).expect(GONE);
        }
        whole
    }

    /// Collects the exchange `net` (a round's network results) as [`Fabric::collect`]
    /// does. With `then`, the next round's packets posted after it and not yet
    /// collected, the leader of a process of a run over several collects both in one
    /// exchange between processes instead of two: every process's network results
    /// ride at the end of its packets' messages, which go to every process, and
    /// `then` is collected. The other shards of the process get the two parts from
    /// the leader one after the other, as from two exchanges.
    pub(super) fn collect_net(&self, shared: &Shared, net: Posted, then: Option<&mut Posted>) -> Arc<Part> {
        let (Some(peers), Some(then)) = (self.peers, then.filter(|p| !p.collected)) else {
            return self.collect(shared, net);
        };
        let Part::Net(net) = self.join_local(net.part) else { unreachable!("a round's network results") };
        let Part::Whole(ours) = self.join_local(Arc::clone(&then.part)) else { unreachable!("a round's packets") };
        let (whole, mut nets) = self.swap_packets(shared, peers, ours, Some(&net));
        nets.insert(peers.rank(), Part::Net(net));
        let (net, whole) = (Arc::new(Part::join_nets(nets.iter())), Arc::new(Part::Whole(whole)));
        for d in &self.down {
            d.send(Arc::clone(&net)).expect(GONE);
            d.send(Arc::clone(&whole)).expect(GONE);
        }
        *then = Posted { part: whole, collected: true };
        net
    }

    /// This process's shards' parts of one exchange, `mine` among them, joined in
    /// shard order: a round's packets as a [`Whole`], network results as one.
    fn join_local(&self, mine: Arc<Part>) -> Part {
        let mut parts: Vec<Option<Arc<Part>>> = vec![None; self.n];
        for (i, r) in &self.from {
            parts[*i] = Some(self.wait(r));
        }
        parts[self.me] = Some(mine);
        if let Some(Part::Packets(_)) = parts[0].as_deref() {
            Part::Whole(Whole::in_order(parts.into_iter().flatten()))
        } else {
            Part::join_nets(parts.iter().flatten().map(|p| &**p))
        }
    }

    /// Swaps this process's packets of a round, `ours`, with the other processes'
    /// ([`Peers::all_to_all`]: each gets those that concern it) and returns the
    /// round's whole as this process sees it, in global shard order. With `net`, the
    /// process's network results go with its packets to every other process, and
    /// theirs come back, in rank order without this one's.
    fn swap_packets(
        &self,
        shared: &Shared,
        peers: &dyn Peers,
        ours: Whole,
        net: Option<&RoundNet>,
    ) -> (Whole, Vec<Part>) {
        let me = peers.rank();
        let mut to = Part::encode_packets(&ours, shared, peers.size(), me);
        if let Some(net) = net {
            let bytes = Part::encode_net(net);
            to.iter_mut().enumerate().filter(|(q, _)| *q != me).for_each(|(_, m)| m.extend_from_slice(&bytes));
        }
        let mut offset = 0u32;
        let mut parts = Vec::with_capacity(peers.size() + ours.parts.len());
        let mut nets = Vec::new();
        for (r, b) in peers.all_to_all(to).iter().enumerate() {
            if r == me {
                let len = ours.len() as u32;
                parts.extend(ours.parts.iter().map(|(p, base)| (Arc::clone(p), offset + base)));
                offset += len;
            } else {
                let mut read = Reader(b);
                let (Part::Packets(mut theirs), len) = Part::read(&mut read) else {
                    unreachable!("every process exchanges packets in the same round")
                };
                if net.is_some() {
                    nets.push(Part::read(&mut read).0);
                }
                theirs.gid.iter_mut().for_each(|g| *g += offset);
                parts.push((Arc::new(Part::Packets(theirs)), offset));
                offset += len;
            }
        }
        (Whole::of(parts), nets)
    }
}

const GONE: &str = "a chip-simulator worker stopped";

/// This shard's part of an exchange it has begun ([`Fabric::post`]) and not yet
/// joined ([`Fabric::collect`]).
#[must_use = "an exchange begun must be collected"]
pub(super) struct Posted {
    part: Arc<Part>,
    /// Whether the exchange is already collected, `part` its whole
    /// ([`Fabric::collect_net`]).
    collected: bool,
}

/// Empties `v` for reuse, keeping its allocation unless that is far larger than what
/// it held (as after a network's opening burst), so that a buffer kept from round to
/// round does not hold the largest round's memory for the rest of the run.
pub(super) fn keep_room<T>(v: &mut Vec<T>) {
    let used = v.len();
    v.clear();
    if v.capacity() > 4 * used.max(1024) {
        v.shrink_to(2 * used.max(1024));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(r: &[Run]) -> Vec<(u32, u32, u64)> {
        r.iter().map(|r| (r.sender, r.end, r.gap_ps)).collect()
    }

    #[test]
    fn a_run_goes_on_while_its_sender_and_gap_do() {
        let mut p = Packets::default();
        let at = |j| Packet { j, k: 1, emit_ps: u64::from(j) };
        for (sender, gap, j) in [(3, 10, 0), (3, 10, 1), (5, 7, 2), (3, 10, 3), (3, 10, 4), (3, 4, 5)] {
            p.push(sender, gap, at(j));
        }
        assert_eq!(runs(&p.runs), [(3, 2, 10), (5, 3, 7), (3, 5, 10), (3, 6, 4)]);
        assert_eq!(p.list.iter().map(|p| p.j).collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5]);
    }

    /// Two runs on the wire of one sender, next to each other (a delay extension's
    /// forwards, whose emissions are not a gap apart), are one run when read back,
    /// and each packet gets its index and its emission.
    #[test]
    fn runs_read_from_another_process_join_as_they_were_made() {
        let mut b = vec![0u8, 0b010];
        b.extend(9u64.to_le_bytes());
        b.extend(3u64.to_le_bytes());
        for (gid, sender, packets, emit, gap) in
            [(4u32, 8u32, &[(1u32, 2u32)][..], 100u64, 5u64), (5, 8, &[(2, 2), (6, 3)], 500, 5)]
        {
            for v in [gid, sender, packets.len() as u32] {
                b.extend(v.to_le_bytes());
            }
            b.extend(emit.to_le_bytes());
            b.extend(gap.to_le_bytes());
            for &(j, k) in packets {
                b.extend(j.to_le_bytes());
                b.extend(k.to_le_bytes());
            }
        }
        let (Part::Packets(r), whole) = Part::decode(&b) else { panic!("packets") };
        assert_eq!(whole, 9);
        assert_eq!(runs(&r.runs), [(8, 3, 5)]);
        assert_eq!(r.gid, [4, 5, 6]);
        let got: Vec<(u32, u32, u64)> = r.list.iter().map(|p| (p.j, p.k, p.emit_ps)).collect();
        assert_eq!(got, [(1, 2, 100), (2, 2, 500), (6, 3, 510)]);
    }
}
