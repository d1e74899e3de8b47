//! Arithmetic the hot loops need without a call into the runtime.

/// `x.round()` (halves away from zero), bit for bit, without calling `round`, which
/// the baseline x86-64 target (no SSE4.1) calls out of line: it is called for every
/// synapse's delay and weight. `x as i64` truncates, and below 2^52 the fraction it
/// drops is exact; at and above, `x` is already whole (or infinite, or NaN).
#[inline]
pub fn round(x: f64) -> f64 {
    if x.is_nan() || x.abs() >= 4_503_599_627_370_496.0 {
        return x;
    }
    let t = (x as i64 as f64).copysign(x);
    let f = x - t;
    // Without a branch on the fraction (a coin toss for random values: each
    // misprediction waited for the conversions above). The result has `x`'s sign,
    // zeros included: −0.3 rounds to −0.
    let step = f64::from(u8::from(f >= 0.5)) - f64::from(u8::from(f <= -0.5));
    (t + step).copysign(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_is_f64_round_bit_for_bit() {
        let edges = [
            0.0,
            -0.0,
            0.3,
            -0.3,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            0.499_999_999_999_999_94,
            -0.499_999_999_999_999_94,
            4_503_599_627_370_495.5,
            -4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            9.3e18,
            -9.3e18,
            1e300,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
        ];
        for x in edges {
            assert_eq!(round(x).to_bits(), x.round().to_bits(), "{x}");
        }
        assert!(round(f64::NAN).is_nan());
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..1_000_000 {
            // Random bit patterns, and random values of a few units.
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let x = f64::from_bits(s);
            if !x.is_nan() {
                assert_eq!(round(x).to_bits(), x.round().to_bits(), "{x}");
            }
            let y = (s >> 11) as f64 / (1u64 << 53) as f64 * 200.0 - 100.0;
            assert_eq!(round(y).to_bits(), y.round().to_bits(), "{y}");
        }
    }
}
