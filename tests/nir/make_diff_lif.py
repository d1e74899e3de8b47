"""Writes diff_lif.nir with the `nir` library (1.0.8): Input(3) → Affine → LIF(2) →
Output, for the differential test in tests/nir.rs. Run: python3 make_diff_lif.py"""
import os
import numpy as np
import nir

w = np.array([[0.9, -0.4, 0.7], [0.3, 0.8, -0.2]], dtype=np.float32)
b = np.array([0.05, 0.1], dtype=np.float32)
graph = nir.NIRGraph(
    nodes={
        "input": nir.Input(input_type=np.array([3])),
        "affine": nir.Affine(weight=w, bias=b),
        "lif": nir.LIF(
            tau=np.array([0.02, 0.005]),
            r=np.array([2.0, 1.5]),
            v_leak=np.array([0.1, -0.05]),
            v_threshold=np.array([1.0, 0.6]),
            v_reset=np.array([0.0, -0.1]),
        ),
        "output": nir.Output(output_type=np.array([2])),
    },
    edges=[("input", "affine"), ("affine", "lif"), ("lif", "output")],
)
nir.write(os.path.join(os.path.dirname(os.path.abspath(__file__)), "diff_lif.nir"), graph)
