//! MPI ranks. Built with the `mpi` feature and started by `mpirun -n R`, `neuromap run`
//! splits an ARM-core chip's cores over R × `--threads` shards (every rank builds
//! only the synaptic rows of its own cores) and exchanges each round's packets and
//! network results between ranks with MPI all-gathers; rank 0 checks, prints and
//! writes. Without the feature, a start under `mpirun` with more than one rank is
//! refused, since every rank would run the whole job.

use neuromap_sim::chip::Ranks;

/// The processes of this run: MPI's environment while it lasts, and this rank's
/// view of the others (`None` in a single process).
pub(crate) struct Processes {
    #[cfg(feature = "mpi")]
    _universe: Option<mpi::environment::Universe>,
    pub(crate) peers: Option<Ranks>,
}

impl Processes {
    /// This process's rank (0 in a single process).
    pub(crate) fn rank(&self) -> usize {
        self.peers.as_ref().map_or(0, |p| p.0.rank())
    }

    /// Ends every rank when this one failed: the others may wait for it in an
    /// exchange. A single process just returns.
    pub(crate) fn fail(&self, code: u8) {
        #[cfg(feature = "mpi")]
        if self.peers.is_some() {
            use mpi::traits::Communicator;
            mpi::topology::SimpleCommunicator::world().abort(i32::from(code));
        }
        let _ = code;
    }

    /// Ranks other than 0 compute their share and print and write nothing.
    pub(crate) fn leads(&self) -> bool {
        self.rank() == 0
    }
}

/// Every rank's seconds of chip simulation and peak resident memory (bytes), in rank
/// order; empty in a single process. Every rank calls it.
pub(crate) fn per_rank(processes: &Processes, chip_s: f64) -> Vec<(f64, u64)> {
    let Some(p) = processes.peers.as_ref().filter(|p| p.0.size() > 1) else { return Vec::new() };
    let mine: Vec<u8> = chip_s.to_le_bytes().into_iter().chain(peak_rss().to_le_bytes()).collect();
    p.0.all_gather(mine)
        .iter()
        .map(|b| {
            let f = |i: usize| b.get(i..i + 8).and_then(|x| x.try_into().ok()).unwrap_or([0; 8]);
            (f64::from_le_bytes(f(0)), u64::from_le_bytes(f(8)))
        })
        .collect()
}

/// This process's peak resident memory (Linux `VmHWM`; 0 elsewhere).
fn peak_rss() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|x| x.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// The world size an MPI launcher (Open MPI's or MPICH's) gave this process, if any.
fn launched_size() -> Option<usize> {
    ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"]
        .iter()
        .find_map(|v| std::env::var(v).ok())
        .and_then(|s| s.trim().parse().ok())
}

/// Joins the MPI world when an MPI launcher started this process with more than one
/// rank.
pub(crate) fn start() -> Result<Processes, String> {
    let size = launched_size().unwrap_or(1);
    if size <= 1 {
        return Ok(Processes {
            #[cfg(feature = "mpi")]
            _universe: None,
            peers: None,
        });
    }
    #[cfg(feature = "mpi")]
    {
        use mpi::traits::Communicator;
        // The chip run's first shard calls MPI, one thread at a time.
        let (universe, _) = mpi::initialize_with_threading(mpi::Threading::Serialized)
            .ok_or("MPI could not be initialised (was it initialised already?)")?;
        let world = universe.world();
        let peers = Mpi { rank: world.rank() as usize, size: world.size() as usize };
        Ok(Processes { _universe: Some(universe), peers: Some(Ranks(std::sync::Arc::new(peers))) })
    }
    #[cfg(not(feature = "mpi"))]
    Err(format!(
        "started as one of {size} MPI ranks, but this neuromap was built without MPI: every rank would run the whole job. Build it with `cargo build --release --features mpi` (scripts/install-mpi.sh installs what that needs)"
    ))
}

/// This rank of the MPI world.
#[cfg(feature = "mpi")]
struct Mpi {
    rank: usize,
    size: usize,
}

#[cfg(feature = "mpi")]
impl neuromap_sim::chip::Peers for Mpi {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn all_gather(&self, mine: Vec<u8>) -> Vec<Vec<u8>> {
        use mpi::datatype::PartitionMut;
        use mpi::traits::*;
        let world = mpi::topology::SimpleCommunicator::world();
        // Each process's length and its first bytes in one exchange: a network part
        // of a round without losses (25 bytes) needs no other.
        let block = head_bytes(self.size);
        let mut head = vec![0u8; block];
        write_head(&mut head, &mine, 0);
        let mut heads = vec![0u8; self.size * block];
        world.all_gather_into(&head[..], &mut heads[..]);
        let (counts, mut out) = read_heads(&heads, block);
        if counts.iter().all(|&c| c as usize <= block - 8) {
            return out;
        }
        // The rest of each part, after the bytes already sent inline. MPI counts in
        // i32: a part of 2 GiB or more goes in pieces.
        const PIECE: usize = 1 << 30;
        let mut at = block - 8;
        loop {
            let sizes: Vec<i32> = counts.iter().map(|&c| (c as usize).saturating_sub(at).min(PIECE) as i32).collect();
            if sizes.iter().all(|&s| s == 0) {
                break;
            }
            let displs = displacements(&sizes);
            let mut buf = vec![0u8; sizes.iter().map(|&s| s as usize).sum()];
            let piece = &mine[at.min(mine.len())..(at + PIECE).min(mine.len())];
            {
                let mut part = PartitionMut::new(&mut buf[..], &sizes[..], &displs[..]);
                world.all_gather_varcount_into(piece, &mut part);
            }
            for (r, o) in out.iter_mut().enumerate() {
                o.extend_from_slice(&buf[displs[r] as usize..(displs[r] + sizes[r]) as usize]);
            }
            at += PIECE;
        }
        out
    }

    fn all_to_all(&self, to: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        use mpi::datatype::{Partition, PartitionMut};
        use mpi::traits::*;
        let world = mpi::topology::SimpleCommunicator::world();
        // MPI counts in i32. A message above 2 GiB / ranks (so that no process sends
        // or receives 2 GiB in all) makes every process go through all_gather, which
        // sends in pieces: its sender flags it in the top bit of every count it sends,
        // so every process learns it from the one exchange of counts.
        let limit = i32::MAX as u64 / self.size as u64;
        let big = u64::from(to.iter().any(|m| m.len() as u64 > limit)) << 63;
        // Each message's length and its first bytes go in one exchange of fixed
        // blocks ([`head_bytes`]): a round of a few dozen packets needs no other.
        // Only the rest of a longer message takes a second collective, which every
        // process joins: a sender with a longer message flags it in bit 62 of every
        // count it sends, as it flags a message too big in bit 63.
        let block = head_bytes(self.size);
        let inline = block - 8;
        const LONG: u64 = 1 << 62;
        let long = if to.iter().any(|m| m.len() > inline) { LONG } else { 0 };
        let mut heads = vec![0u8; self.size * block];
        for (m, h) in to.iter().zip(heads.chunks_exact_mut(block)) {
            write_head(h, m, big | long);
        }
        let mut got = vec![0u8; self.size * block];
        world.all_to_all_into(&heads[..], &mut got[..]);
        let (flagged, mut out) = read_heads(&got, block);
        if flagged.iter().any(|&c| c & 1 << 63 != 0) {
            return neuromap_sim::chip::all_to_all_by_gather(self, to);
        }
        if flagged.iter().all(|&c| c & LONG == 0) {
            return out;
        }
        let counts: Vec<u64> = flagged.iter().map(|&c| c & (LONG - 1)).collect();
        let rest = |n: usize| n.saturating_sub(inline) as i32;
        let send_counts: Vec<i32> = to.iter().map(|m| rest(m.len())).collect();
        let recv_counts: Vec<i32> = counts.iter().map(|&c| rest(c as usize)).collect();
        let (send_displs, recv_displs) = (displacements(&send_counts), displacements(&recv_counts));
        let mut send: Vec<u8> = Vec::with_capacity(send_counts.iter().map(|&c| c as usize).sum::<usize>() + 1);
        for m in &to {
            send.extend_from_slice(m.get(inline..).unwrap_or_default());
        }
        let mut recv = vec![0u8; recv_counts.iter().map(|&c| c as usize).sum()];
        // Never two empty buffers: they share one dangling address, and Open MPI
        // refuses a send buffer that is the receive buffer (MPI_ERR_ARG).
        send.push(0);
        recv.push(0);
        {
            let part = Partition::new(&send[..], &send_counts[..], &send_displs[..]);
            let mut into = PartitionMut::new(&mut recv[..], &recv_counts[..], &recv_displs[..]);
            world.all_to_all_varcount_into(&part, &mut into);
        }
        for (r, o) in out.iter_mut().enumerate() {
            o.extend_from_slice(&recv[recv_displs[r] as usize..(recv_displs[r] + recv_counts[r]) as usize]);
        }
        out
    }
}

/// Bytes of the fixed block each process sends each other one at the start of an
/// exchange: a message's length (8 bytes, flags in its top bits) and its first
/// bytes. 1 KiB each up to 64 processes, less beyond (16 bytes at least), so that a
/// process's blocks stay within 64 KiB up to 4,096 processes.
#[cfg(feature = "mpi")]
fn head_bytes(processes: usize) -> usize {
    (65536 / processes).clamp(16, 1024) & !7
}

/// Where each of parts of these sizes starts in one buffer holding them in order.
#[cfg(feature = "mpi")]
fn displacements(sizes: &[i32]) -> Vec<i32> {
    sizes.iter().scan(0i32, |d, &s| Some(std::mem::replace(d, *d + s))).collect()
}

/// Writes message `m`'s length with `flags` and as much of `m` as fits into `head`.
#[cfg(feature = "mpi")]
fn write_head(head: &mut [u8], m: &[u8], flags: u64) {
    head[..8].copy_from_slice(&(m.len() as u64 | flags).to_le_bytes());
    let n = m.len().min(head.len() - 8);
    head[8..8 + n].copy_from_slice(&m[..n]);
}

/// The blocks of `heads`, `block` bytes each, as [`write_head`] wrote them: each
/// length with its flags, and the message bytes the block holds.
#[cfg(feature = "mpi")]
fn read_heads(heads: &[u8], block: usize) -> (Vec<u64>, Vec<Vec<u8>>) {
    heads
        .chunks_exact(block)
        .map(|h| {
            let word = u64::from_le_bytes(h[..8].try_into().expect("8 bytes"));
            let len = (word & ((1 << 62) - 1)) as usize;
            (word, h[8..8 + len.min(block - 8)].to_vec())
        })
        .unzip()
}
