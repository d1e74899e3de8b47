//! Number formats a simulation runs in.
//!
//! The simulation engine ([`crate::reference::Engine`]) is written once, generic over
//! [`Arith`]; [`F64`] makes it the reference (the oracle), [`S1615`] makes it the
//! quantised functional model in SpiNNaker's formats. A chip simulator reuses the
//! same kernel with the same format, so the chip and the quantised model compute the
//! same bits.
//!
//! # The s16.15 formats (`S1615`), after sPyNNaker
//!
//! - State (V, synaptic currents, parameters): `I17F15`, 32-bit signed with 15
//!   fraction bits, saturating at ±65,536.
//! - Decay factors `exp(−dt/τ)`: `U1F31` (31 fraction bits; unlike sPyNNaker's 32-bit
//!   fraction it holds 1.0 exactly, so a neuron without leak loses nothing). `a·x` is
//!   `(a_bits · x_bits) >> 31`, and
//!   `k·x` (both s16.15) is `(k_bits · x_bits) >> 15`: an arithmetic shift, rounding
//!   toward −∞ as the ARM code does.
//! - Weights: 16-bit signed integers scaled by 2^q, with one q per target
//!   population and receptor. q is the largest value (at most 15) at which the
//!   receptor's largest |weight| still fits 16 bits, as sPyNNaker picks a shift per
//!   synapse type. Inputs are summed exactly in 64-bit integers and converted to
//!   s16.15 once per step (saturating), so the order packets arrive in cannot change
//!   the result.

use std::fmt::Debug;
use std::ops::AddAssign;

use fixed::types::{I17F15, U1F31};

/// How a product is brought back to the state format's precision (a figure of the
/// chip model, `arith.rounding`; the f64 reference ignores it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Toward −∞: an arithmetic shift, as sPyNNaker's ARM code does.
    #[default]
    Truncate,
    /// To the nearest representable value, halves up.
    Nearest,
    /// Up with probability equal to the dropped fraction (Hopkins et al., Phil. Trans.
    /// R. Soc. A 378:20190052, 2020), from a stream keyed by (population, neuron, step,
    /// product): the same bits for any thread count and on the chip as in the model.
    Stochastic,
}

impl Rounding {
    pub(crate) const ALL: [Rounding; 3] = [Rounding::Truncate, Rounding::Nearest, Rounding::Stochastic];

    /// The mode a chip model names (`arith.rounding`, one of
    /// [`neuromap_hw::family::ROUNDING_MODES`]).
    pub fn from_name(name: &str) -> Option<Rounding> {
        let i = neuromap_hw::family::ROUNDING_MODES.iter().position(|n| *n == name)?;
        Self::ALL.get(i).copied()
    }

    /// The mode of an ARM-core chip model (its `arith.rounding`).
    pub fn of(hw: &neuromap_hw::arm_core::ArmCore) -> Rounding {
        Self::ALL.get(hw.rounding).copied().unwrap_or_default()
    }

    pub fn name(self) -> &'static str {
        neuromap_hw::family::ROUNDING_MODES[self as usize]
    }
}

/// The number format of a chip's neuron state (a figure of the chip model,
/// `arith.format`): the quantised functional model and the chip both compute in it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Format {
    /// SpiNNaker 1's s16.15 fixed point ([`S1615`]), products rounded by a [`Rounding`].
    #[default]
    S1615,
    /// IEEE single precision ([`F32`]), as an FPU computes it.
    F32,
}

impl Format {
    const ALL: [Format; 2] = [Format::S1615, Format::F32];

    /// The format a chip model names (`arith.format`, one of
    /// [`neuromap_hw::family::FORMATS`]).
    pub fn from_name(name: &str) -> Option<Format> {
        let i = neuromap_hw::family::FORMATS.iter().position(|n| *n == name)?;
        Self::ALL.get(i).copied()
    }

    /// The format of an ARM-core chip model (its `arith.format`).
    pub fn of(hw: &neuromap_hw::arm_core::ArmCore) -> Format {
        Self::ALL.get(hw.format).copied().unwrap_or_default()
    }

    pub fn name(self) -> &'static str {
        neuromap_hw::family::FORMATS[self as usize]
    }

    /// The weight scale exponents of `net` in this format.
    pub fn weight_shifts(self, net: &neuromap_ir::Network) -> Vec<[i32; 2]> {
        match self {
            Format::S1615 => crate::reference::weight_shifts::<S1615>(net),
            Format::F32 => crate::reference::weight_shifts::<F32>(net),
        }
    }

    /// How the quantised model in this format is named in reports, with its rounding.
    pub fn label(self, r: Rounding) -> String {
        match (self, r) {
            (Format::F32, _) => "quantised f32".into(),
            (Format::S1615, Rounding::Truncate) => "quantised s16.15".into(),
            (Format::S1615, Rounding::Nearest) => "quantised s16.15, round to nearest".into(),
            (Format::S1615, Rounding::Stochastic) => "quantised s16.15, stochastic rounding".into(),
        }
    }
}

/// What one product rounds with: the mode, and for stochastic rounding the key of its
/// random bits.
#[derive(Clone, Copy, Debug)]
pub struct Round {
    pub mode: Rounding,
    pub key: u64,
}

impl Round {
    /// Truncation (no key needed).
    pub const TRUNCATE: Round = Round { mode: Rounding::Truncate, key: 0 };

    /// `x >> shift` rounded by the mode (`shift` in 1..=62).
    #[inline]
    fn shift(self, x: i64, shift: u32) -> i64 {
        match self.mode {
            Rounding::Truncate => x >> shift,
            Rounding::Nearest => x.saturating_add(1i64 << (shift - 1)) >> shift,
            Rounding::Stochastic => {
                let r = (splitmix(self.key) >> (64 - shift)) as i64;
                x.saturating_add(r) >> shift
            }
        }
    }
}

/// SplitMix64's output function: well-mixed bits from a key.
#[inline]
pub fn splitmix(key: u64) -> u64 {
    let mut z = key.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The operations the engine needs from a number format.
pub trait Arith: Copy + Debug + Default + Send + Sync + 'static {
    /// State and parameter values.
    type V: Copy + Debug + PartialOrd + Send + Sync;
    /// Decay factors in [0, 1].
    type Decay: Copy + Debug + PartialEq + Send + Sync;
    /// Input accumulators.
    type Acc: Copy + Debug + Default + AddAssign + Send + Sync;

    /// A name for reports ("f64", "s16.15").
    const NAME: &'static str;

    fn v(x: f64) -> Self::V;
    fn decay(x: f64) -> Self::Decay;
    fn zero() -> Self::V;
    /// Weight scale exponent for a receptor whose largest |weight| is `max_abs`.
    fn weight_shift(max_abs: f64) -> i32;
    /// `w × count` in accumulator units.
    fn acc_weight(w: f32, count: u32, q: i32) -> Self::Acc;
    /// An accumulated input in state units.
    fn input(acc: Self::Acc, q: i32) -> Self::V;
    fn add(a: Self::V, b: Self::V) -> Self::V;
    fn sub(a: Self::V, b: Self::V) -> Self::V;
    /// `a · x` with `a` a decay factor, rounded by `r`.
    fn decay_by(a: Self::Decay, x: Self::V, r: Round) -> Self::V;
    /// `k · x` with both in state format, rounded by `r`.
    fn mul(k: Self::V, x: Self::V, r: Round) -> Self::V;
    fn to_f64(x: Self::V) -> f64;
}

/// IEEE double precision: the reference.
#[derive(Clone, Copy, Debug, Default)]
pub struct F64;

impl Arith for F64 {
    type V = f64;
    type Decay = f64;
    type Acc = f64;
    const NAME: &'static str = "f64";

    #[inline]
    fn v(x: f64) -> f64 {
        x
    }
    #[inline]
    fn decay(x: f64) -> f64 {
        x
    }
    #[inline]
    fn zero() -> f64 {
        0.0
    }
    fn weight_shift(_: f64) -> i32 {
        0
    }
    #[inline]
    fn acc_weight(w: f32, count: u32, _: i32) -> f64 {
        f64::from(w) * f64::from(count)
    }
    #[inline]
    fn input(acc: f64, _: i32) -> f64 {
        acc
    }
    #[inline]
    fn add(a: f64, b: f64) -> f64 {
        a + b
    }
    #[inline]
    fn sub(a: f64, b: f64) -> f64 {
        a - b
    }
    #[inline]
    fn decay_by(a: f64, x: f64, _: Round) -> f64 {
        a * x
    }
    #[inline]
    fn mul(k: f64, x: f64, _: Round) -> f64 {
        k * x
    }
    #[inline]
    fn to_f64(x: f64) -> f64 {
        x
    }
}

/// SpiNNaker's s16.15 state with 16-bit scaled weights (see the module docs).
#[derive(Clone, Copy, Debug, Default)]
pub struct S1615;

const FRAC: i32 = 15;

#[inline]
fn sat(x: i64) -> I17F15 {
    I17F15::from_bits(x.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
}

/// `acc × 2^s` saturated to 32 bits (`s` ≤ 62), by comparisons rather than a
/// saturating 64-bit multiply, which LLVM cannot vectorise (it is the neuron loops'
/// first operation, so it kept the whole plain LIF loop scalar). The same bits:
/// `acc × 2^s` exceeds `i32::MAX` exactly when `acc > i32::MAX >> s` (floor), and is
/// below `i32::MIN` exactly when `acc < -(2^31 >> s)` (the ceiling of `i32::MIN / 2^s`);
/// in between, the shift is exact and fits.
#[inline]
fn scale_up(acc: i64, s: u32) -> I17F15 {
    let (hi, lo) = (i64::from(i32::MAX) >> s, -((1i64 << 31) >> s));
    let bits = if acc > hi {
        i32::MAX
    } else if acc < lo {
        i32::MIN
    } else {
        (acc << s) as i32
    };
    I17F15::from_bits(bits)
}

impl Arith for S1615 {
    type V = I17F15;
    type Decay = U1F31;
    type Acc = i64;
    const NAME: &'static str = "s16.15";

    #[inline]
    fn v(x: f64) -> I17F15 {
        if x.is_infinite() { if x > 0.0 { I17F15::MAX } else { I17F15::MIN } } else { I17F15::saturating_from_num(x) }
    }
    #[inline]
    fn decay(x: f64) -> U1F31 {
        U1F31::saturating_from_num(x)
    }
    #[inline]
    fn zero() -> I17F15 {
        I17F15::ZERO
    }
    fn weight_shift(max_abs: f64) -> i32 {
        if max_abs <= 0.0 || !max_abs.is_finite() {
            return FRAC;
        }
        ((f64::from(i16::MAX) / max_abs).log2().floor() as i32).min(FRAC)
    }
    #[inline]
    fn acc_weight(w: f32, count: u32, q: i32) -> i64 {
        scaled_weight(w, count, q)
    }
    #[inline]
    fn input(acc: i64, q: i32) -> I17F15 {
        let shift = FRAC - q;
        if shift >= 0 { scale_up(acc, shift.min(62) as u32) } else { sat(acc >> (-shift).min(63)) }
    }
    #[inline]
    fn add(a: I17F15, b: I17F15) -> I17F15 {
        a.saturating_add(b)
    }
    #[inline]
    fn sub(a: I17F15, b: I17F15) -> I17F15 {
        a.saturating_sub(b)
    }
    #[inline]
    fn decay_by(a: U1F31, x: I17F15, r: Round) -> I17F15 {
        sat(r.shift(i64::from(a.to_bits()) * i64::from(x.to_bits()), 31))
    }
    #[inline]
    fn mul(k: I17F15, x: I17F15, r: Round) -> I17F15 {
        sat(r.shift(i64::from(k.to_bits()) * i64::from(x.to_bits()), FRAC as u32))
    }
    #[inline]
    fn to_f64(x: I17F15) -> f64 {
        x.to_num()
    }
}

/// A weight as a 16-bit signed integer at scale 2^q, times `count`: the synaptic word
/// both formats accumulate exactly in 64 bits.
#[inline]
fn scaled_weight(w: f32, count: u32, q: i32) -> i64 {
    round_to_i16(f64::from(w) * pow2(q)) * i64::from(count)
}

/// What `2f64.powi(q)` gives, without a call into the runtime: `2^q` from its bits
/// where that is a normal number, else by squaring as the runtime's `__powidf2`
/// does (not by `powi` itself, which LLVM would hoist out of the branch and call
/// for every weight).
#[inline]
fn pow2(q: i32) -> f64 {
    if (-1022..=1023).contains(&q) {
        return f64::from_bits(((q + 1023) as u64) << 52);
    }
    let (mut r, mut b, mut n) = (1.0f64, 2.0f64, q.unsigned_abs());
    loop {
        if n & 1 == 1 {
            r *= b;
        }
        n >>= 1;
        if n == 0 {
            break;
        }
        b *= b;
    }
    if q < 0 { 1.0 / r } else { r }
}

/// `x.round().clamp(-32768.0, 32767.0) as i64` (NaN gives 0; halves away from zero)
/// for `x` an `f32` times a power of two, as every weight is: clamped, then `x ± 0.5`
/// truncated. That sum is exact for such an `x` of at most 2¹⁵, or lands on the same
/// integer: its 24 significant bits end far above the 53rd below its top, so it
/// cannot round onto the next integer from below it (unlike an arbitrary double such
/// as 0.5 − 2⁻⁵⁴, which this is not given). A chain of four operations instead of
/// two conversions and a select; synaptic rows convert 3×10⁸ of them.
#[inline]
fn round_to_i16(x: f64) -> i64 {
    let y = x.clamp(f64::from(i16::MIN), f64::from(i16::MAX));
    (y + 0.5f64.copysign(y)) as i64
}

/// IEEE single precision, as the Cortex-M4F's FPU computes: state, parameters, decay
/// factors and products in `f32`, each product rounded to nearest even (the [`Round`]
/// is ignored). Weights are 16-bit integers scaled per receptor and summed exactly in
/// 64 bits, as in [`S1615`] (the scale is not capped at 15 fraction bits), so the
/// order packets arrive in cannot change the input; the sum becomes `f32` once per step.
#[derive(Clone, Copy, Debug, Default)]
pub struct F32;

impl Arith for F32 {
    type V = f32;
    type Decay = f32;
    type Acc = i64;
    const NAME: &'static str = "f32";

    #[inline]
    fn v(x: f64) -> f32 {
        x as f32
    }
    #[inline]
    fn decay(x: f64) -> f32 {
        x as f32
    }
    #[inline]
    fn zero() -> f32 {
        0.0
    }
    fn weight_shift(max_abs: f64) -> i32 {
        if max_abs <= 0.0 || !max_abs.is_finite() {
            return 0;
        }
        ((f64::from(i16::MAX) / max_abs).log2().floor() as i32).clamp(-60, 60)
    }
    #[inline]
    fn acc_weight(w: f32, count: u32, q: i32) -> i64 {
        scaled_weight(w, count, q)
    }
    #[inline]
    fn input(acc: i64, q: i32) -> f32 {
        (acc as f64 * 2f64.powi(-q)) as f32
    }
    #[inline]
    fn add(a: f32, b: f32) -> f32 {
        a + b
    }
    #[inline]
    fn sub(a: f32, b: f32) -> f32 {
        a - b
    }
    #[inline]
    fn decay_by(a: f32, x: f32, _: Round) -> f32 {
        a * x
    }
    #[inline]
    fn mul(k: f32, x: f32, _: Round) -> f32 {
        k * x
    }
    #[inline]
    fn to_f64(x: f32) -> f64 {
        f64::from(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_use_the_largest_shift_that_fits_16_bits() {
        assert_eq!(S1615::weight_shift(1.0), 14); // 1.0·2^14 = 16384 ≤ 32767 < 2^15
        assert_eq!(S1615::weight_shift(0.001), 15); // capped at the state's 15 fraction bits
        assert_eq!(S1615::weight_shift(100.0), 8); // 100·2^8 = 25600
        assert_eq!(S1615::weight_shift(351.2), 6);
        assert_eq!(S1615::acc_weight(1.25, 3, 14), 3 * 20480);
        assert_eq!(S1615::input(20480, 14), S1615::v(1.25));
    }

    /// The weight conversion without `round` and `powi` gives what they give.
    #[test]
    fn weights_round_halves_away_from_zero_and_clamp_as_round_does() {
        let spec = |x: f64| x.round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i64;
        let edges = [-0.3, 32766.5, 32767.49, 32767.5, -32768.5, -32768.49, 1e300, -1e300, 9.3e18, -9.3e18];
        let edges = edges.into_iter().chain([f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 0.0, -0.0]);
        for x in edges {
            assert_eq!(round_to_i16(x), spec(x), "{x}");
        }
        // Halves and their neighbours in f32, at every scale that reaches the range.
        for n in (-32769i32..=32768).step_by(97).chain([-32769, -1, 0, 1, 32766, 32767, 32768]) {
            let half = n as f32 + 0.5;
            for w in [half, half.next_down(), half.next_up(), n as f32, (n as f32).next_up(), (n as f32).next_down()] {
                for q in -3..=3 {
                    let x = f64::from(w) * pow2(q);
                    assert_eq!(round_to_i16(x), spec(x), "{w} · 2^{q}");
                }
            }
        }
        for w in [f32::MIN_POSITIVE, -f32::MIN_POSITIVE, 1e-45, -1e-45, 0.49999997, -0.49999997, f32::MAX, f32::MIN] {
            for q in [-140, -20, 0, 15, 30] {
                let x = f64::from(w) * pow2(q);
                assert_eq!(round_to_i16(x), spec(x), "{w} · 2^{q}");
            }
        }
        proptest::proptest!(|(w in proptest::num::f32::ANY, q in -130i32..20, count in 0u32..4)| {
            proptest::prop_assert_eq!(pow2(q), 2f64.powi(q));
            let x = f64::from(w) * 2f64.powi(q);
            proptest::prop_assert_eq!(round_to_i16(x), spec(x), "{}", x);
            proptest::prop_assert_eq!(scaled_weight(w, count, q), spec(x) * i64::from(count));
        });
        for q in [-1100, -1075, -1074, -1023, -1022, 1023, 1024, 1030] {
            let q = std::hint::black_box(q);
            assert_eq!(pow2(q).to_bits(), 2f64.powi(q).to_bits(), "{q}");
        }
    }

    /// Scaling an input by comparisons gives the saturating multiply's bits.
    #[test]
    fn inputs_scale_up_as_a_saturating_multiply_does() {
        let spec = |acc: i64, s: u32| sat(acc.saturating_mul(1i64 << s));
        for s in 0..=62u32 {
            let edges = [(i64::from(i32::MAX) >> s), -((1i64 << 31) >> s), 0, 1, -1, i64::MAX, i64::MIN];
            for e in edges {
                for acc in [e.saturating_sub(1), e, e.saturating_add(1)] {
                    assert_eq!(scale_up(acc, s), spec(acc, s), "{acc} << {s}");
                }
            }
        }
        proptest::proptest!(|(acc in proptest::num::i64::ANY, small in -(1i64 << 40)..(1i64 << 40), s in 0u32..=62)| {
            proptest::prop_assert_eq!(scale_up(acc, s), spec(acc, s));
            proptest::prop_assert_eq!(scale_up(small, s), spec(small, s));
        });
    }

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        let big = S1615::v(60000.0);
        assert_eq!(S1615::add(big, big), I17F15::MAX);
        assert_eq!(S1615::sub(S1615::v(-60000.0), big), I17F15::MIN);
        assert_eq!(S1615::input(i64::MAX / 2, 0), I17F15::MAX);
        assert_eq!(S1615::mul(big, S1615::v(2.0), Round::TRUNCATE), I17F15::MAX);
    }

    #[test]
    fn decay_and_products_truncate_toward_minus_infinity() {
        let a = S1615::decay(0.5);
        assert_eq!(S1615::decay_by(a, S1615::v(1.0), Round::TRUNCATE), S1615::v(0.5));
        // −1 LSB × 0.5 = −0.5 LSB → −1 LSB (arithmetic shift), not 0.
        assert_eq!(S1615::decay_by(a, I17F15::from_bits(-1), Round::TRUNCATE), I17F15::from_bits(-1));
        assert_eq!(S1615::mul(S1615::v(1.5), S1615::v(-2.0), Round::TRUNCATE), S1615::v(-3.0));
        // No leak is exact.
        let x = I17F15::from_bits(123_457);
        assert_eq!(S1615::decay_by(S1615::decay(1.0), x, Round::TRUNCATE), x);
    }

    #[test]
    fn the_rounding_modes() {
        let half = S1615::decay(0.5);
        let one_lsb = I17F15::from_bits(1);
        let r = |mode, key| Round { mode, key };
        // 0.5 LSB: truncation drops it, nearest rounds the half up.
        assert_eq!(S1615::decay_by(half, one_lsb, Round::TRUNCATE), I17F15::ZERO);
        assert_eq!(S1615::decay_by(half, one_lsb, r(Rounding::Nearest, 0)), one_lsb);
        // −0.5 LSB: toward −∞ gives −1, nearest (halves up) gives 0.
        assert_eq!(S1615::decay_by(half, I17F15::from_bits(-1), r(Rounding::Nearest, 0)), I17F15::ZERO);
        // 0.25 LSB: nearest gives 0; stochastic gives 1 LSB a quarter of the time, the
        // same for the same key.
        let quarter = S1615::decay(0.25);
        assert_eq!(S1615::decay_by(quarter, one_lsb, r(Rounding::Nearest, 0)), I17F15::ZERO);
        let ups = (0..100_000u64)
            .filter(|&k| S1615::decay_by(quarter, one_lsb, r(Rounding::Stochastic, k)) == one_lsb)
            .count();
        assert!((24_000..26_000).contains(&ups), "{ups} of 100000 rounded up");
        for k in [0, 7, 1 << 40] {
            let x = S1615::mul(S1615::v(0.3), S1615::v(-0.7), r(Rounding::Stochastic, k));
            assert_eq!(x, S1615::mul(S1615::v(0.3), S1615::v(-0.7), r(Rounding::Stochastic, k)));
        }
        // Stochastic rounding is unbiased: the mean of many products is the exact one.
        let (k, x) = (S1615::v(0.123_456), S1615::v(-3.210_987));
        let mean =
            (0..200_000u64).map(|key| S1615::to_f64(S1615::mul(k, x, r(Rounding::Stochastic, key)))).sum::<f64>()
                / 200_000.0;
        let exact = S1615::to_f64(k) * S1615::to_f64(x);
        assert!((mean - exact).abs() < 2.0_f64.powi(-15) / 50.0, "mean {mean} exact {exact}");
        let trunc = S1615::to_f64(S1615::mul(k, x, Round::TRUNCATE));
        assert!(exact - trunc > 2.0_f64.powi(-15) / 10.0, "truncation is biased down here");
    }
}
