//! The `crossbar` family as typed values (RRAM in-memory computing tiles).

use crate::HwModel;

/// Every `crossbar` parameter, read once from a validated model.
#[derive(Clone, Debug, PartialEq)]
pub struct Crossbar {
    pub rows: u32,
    pub columns: u32,
    pub tiles: u32,
    pub levels: u32,
    /// Differential column pairs (else an offset reference column).
    pub differential: bool,
    pub g_min_s: f64,
    pub g_max_s: f64,
    pub v_read: f64,
    pub t_read_s: f64,
    pub sigma: f64,
    pub stuck_low: f64,
    pub stuck_high: f64,
    pub read_noise: f64,
    pub r_wire_ohm: f64,
    pub adc_bits: u32,
    /// Rows at the largest level that make the ADC's full scale (`None`: all rows).
    pub adc_range_rows: Option<u32>,
    pub columns_per_adc: u32,
    pub adc_energy_j: f64,
    pub adc_latency_s: f64,
    pub driver_j: f64,
    pub add_j: f64,
    pub neuron_update_j: f64,
    pub static_w: f64,
    pub hop_j: f64,
    pub hop_s: f64,
    /// One tile's area and its least certain figure: `area.tile_mm2`, plus one ADC of
    /// `area.adc_mm2` at `adc.bits` per `columns_per_adc` columns when the model gives
    /// the ADCs apart; `None` without `area.tile_mm2`.
    pub tile_area: Option<(f64, crate::Certainty)>,
}

impl Crossbar {
    /// The ADC of a tile of `rows` rows whose cells hold up to `qmax` level steps:
    /// (largest code magnitude, level steps per code). Full scale is `range × qmax`
    /// steps (`range` = `range_rows`, at most `rows`), signed, over `bits` bits; an ADC
    /// with bits to spare resolves single steps.
    pub fn adc(&self, rows: u32, qmax: i64) -> (i64, i64) {
        let range = i64::from(self.adc_range_rows.map_or(rows, |r| r.min(rows)).max(1));
        let full = range * qmax;
        let need = 64 - (full as u64).leading_zeros() + 1;
        let k = need.saturating_sub(self.adc_bits);
        let per_code = 1i64 << k.min(62);
        let max_code = (full + per_code - 1) / per_code;
        (max_code, per_code)
    }

    /// The typed view of a `crossbar` model (`None` for another family).
    pub fn from_model(m: &HwModel) -> Option<Self> {
        if m.family != "crossbar" {
            return None;
        }
        let g = |s: &str, k: &str| m.require(s, k);
        // The ADC's figures at its resolution (a table by bits, `from = { bits = … }`).
        let bits = g("adc", "bits") as u32;
        let at = |s: &str, k: &str| m.get_at(s, k, bits).unwrap_or_else(|| m.require(s, k));
        Some(Self {
            rows: g("tile", "rows") as u32,
            columns: g("tile", "columns") as u32,
            tiles: g("tile", "tiles") as u32,
            levels: g("tile", "levels") as u32,
            differential: g("tile", "differential") != 0.0,
            g_min_s: g("tile", "g_min_s"),
            g_max_s: g("tile", "g_max_s"),
            v_read: g("tile", "v_read"),
            t_read_s: g("tile", "t_read_s"),
            sigma: g("device", "sigma"),
            stuck_low: g("device", "stuck_low"),
            stuck_high: g("device", "stuck_high"),
            read_noise: g("device", "read_noise"),
            r_wire_ohm: m.get("device", "r_wire_ohm").unwrap_or(0.0),
            adc_bits: g("adc", "bits") as u32,
            adc_range_rows: m.get("adc", "range_rows").map(|x| x as u32),
            columns_per_adc: g("adc", "columns_per_adc") as u32,
            adc_energy_j: at("adc", "energy_j"),
            adc_latency_s: at("adc", "latency_s"),
            driver_j: g("periphery", "driver_j"),
            add_j: g("periphery", "add_j"),
            neuron_update_j: g("periphery", "neuron_update_j"),
            static_w: g("periphery", "static_w"),
            hop_j: g("noc", "hop_j"),
            hop_s: g("noc", "hop_s"),
            tile_area: m.figure("area", "tile_mm2").map(|tile| {
                let (mut mm2, mut c) = (tile.value, tile.provenance.certainty());
                if let Some(adc) = m.figure("area", "adc_mm2") {
                    let adcs = (g("tile", "columns") / g("adc", "columns_per_adc").max(1.0)).ceil();
                    mm2 += adcs * adc.at(bits);
                    c = c.max(adc.provenance.certainty());
                }
                (mm2, c)
            }),
        })
    }
}
