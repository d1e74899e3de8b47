"""A design-space sweep plotted with matplotlib: ADC resolution on the RRAM macro.

Sweeps `adc.bits` of `rram-lsm-40nm` over the liquid state machine of
`netlists/lsm.toml` and plots energy and the rate error against the f64 reference;
the ADC's energy and area follow MNSIM-2.0's table by bits (docs/dse.md). Writes
`adc_bits.png` (or the path given).

    python examples/python/sweep_plot.py [OUT.png]     # from the repository root
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import neuromap


def main(out: str = "adc_bits.png") -> None:
    s = neuromap.sweep("netlists/lsm.toml", "rram-lsm-40nm", {"adc.bits": [2, 4, 6, 8, 10]}, steps=200, threads=2)
    df = s.to_pandas()
    bits = df["adc.bits"].astype(int)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(bits, df["energy_in_use_j"] * 1e9, "o-", color="tab:blue")
    ax.set_xlabel("ADC bits")
    ax.set_ylabel("energy (nJ, parts in use)", color="tab:blue")
    err = ax.twinx()
    err.plot(bits, df["rate_error"] * 100, "s--", color="tab:red")
    err.set_ylabel("rate error against the f64 reference (%)", color="tab:red")
    ax.set_title("lsm on rram-lsm-40nm: ADC resolution")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(df[["adc.bits", "energy_in_use_j", "area_mm2", "rate_error", "front"]].to_string(index=False))
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
