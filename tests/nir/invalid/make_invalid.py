"""Writes the invalid NIR files of this folder (each breaks one rule an importer must
catch). Run with h5py installed: python3 make_invalid.py (writes next to itself)."""
import os
import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def graph(path, nodes, edges, version="1.0.8", node_group=True):
    with h5py.File(os.path.join(HERE, path), "w") as f:
        f.create_dataset("version", data=version)
        if not node_group:
            f.create_dataset("something", data=np.zeros(3))
            return
        g = f.create_group("node")
        g.create_dataset("type", data="NIRGraph")
        g.create_dataset("edges", data=np.array(edges, dtype=object), dtype=h5py.string_dtype())
        ns = g.create_group("nodes")
        for name, (kind, params) in nodes.items():
            n = ns.create_group(name)
            n.create_dataset("type", data=kind)
            for k, v in params.items():
                n.create_dataset(k, data=np.asarray(v))


def lif(n):
    return ("LIF", {"tau": np.full(n, 0.01), "r": np.ones(n), "v_leak": np.zeros(n), "v_threshold": np.ones(n)})


graph("shape_mismatch.nir", {
    "input": ("Input", {"shape": np.array([4])}),
    "fc": ("Linear", {"weight": np.ones((3, 5), dtype=np.float32)}),
    "lif": lif(3),
    "output": ("Output", {"shape": np.array([3])}),
}, [["input", "fc"], ["fc", "lif"], ["lif", "output"]])

graph("output_size.nir", {
    "input": ("Input", {"shape": np.array([4])}),
    "fc": ("Linear", {"weight": np.ones((3, 4), dtype=np.float32)}),
    "lif": lif(3),
    "output": ("Output", {"shape": np.array([5])}),
}, [["input", "fc"], ["fc", "lif"], ["lif", "output"]])

graph("unknown_node.nir", {
    "input": ("Input", {"shape": np.array([2])}),
    "x": ("Spiker", {"gain": np.ones(2)}),
    "output": ("Output", {"shape": np.array([2])}),
}, [["input", "x"], ["x", "output"]])

p = lif(3)
del p[1]["tau"]
graph("missing_param.nir", {
    "input": ("Input", {"shape": np.array([3])}),
    "fc": ("Linear", {"weight": np.eye(3, dtype=np.float32)}),
    "lif": p,
    "output": ("Output", {"shape": np.array([3])}),
}, [["input", "fc"], ["fc", "lif"], ["lif", "output"]])

graph("dangling_edge.nir", {
    "input": ("Input", {"shape": np.array([3])}),
    "fc": ("Linear", {"weight": np.eye(3, dtype=np.float32)}),
    "lif": lif(3),
    "output": ("Output", {"shape": np.array([3])}),
}, [["input", "fc"], ["fc", "ghost"], ["lif", "output"]])

graph("per_neuron_lengths.nir", {
    "input": ("Input", {"shape": np.array([3])}),
    "fc": ("Linear", {"weight": np.eye(3, dtype=np.float32)}),
    "lif": ("LIF", {"tau": np.full(3, 0.01), "r": np.ones(2), "v_leak": np.zeros(3), "v_threshold": np.ones(3)}),
    "output": ("Output", {"shape": np.array([3])}),
}, [["input", "fc"], ["fc", "lif"], ["lif", "output"]])

graph("not_a_graph.nir", {}, [], node_group=False)

# Two weight nodes feeding each other: a spike would go round them forever within one
# step; the importer names the loop.
graph("weight_loop.nir", {
    "input": ("Input", {"shape": np.array([3])}),
    "fc1": ("Linear", {"weight": np.eye(3, dtype=np.float32)}),
    "fc2": ("Linear", {"weight": np.eye(3, dtype=np.float32)}),
    "lif": lif(3),
    "output": ("Output", {"shape": np.array([3])}),
}, [["input", "fc1"], ["fc1", "fc2"], ["fc2", "fc1"], ["fc2", "lif"], ["lif", "output"]])

# A LIF node whose resistance is negative: the capacitance derived from it (tau / r)
# is negative, which the importer names at the node (not the run, later).
p = lif(3)
p[1]["r"] = -np.ones(3)
graph("negative_r.nir", {
    "input": ("Input", {"shape": np.array([3])}),
    "fc": ("Linear", {"weight": np.eye(3, dtype=np.float32)}),
    "lif": p,
    "output": ("Output", {"shape": np.array([3])}),
}, [["input", "fc"], ["fc", "lif"], ["lif", "output"]])

def conv(**settings):
    """Input(2x8x8) -> Conv2d(3 channels, 3x3) -> IF(3x6x6), with `settings` changed."""
    params = {"weight": np.ones((3, 2, 3, 3), dtype=np.float32), "stride": np.array([1, 1]),
              "padding": np.array([0, 0]), "dilation": np.array([1, 1]), "groups": np.int64(1),
              "input_shape": np.array([8, 8])}
    params.update(settings)
    return {
        "input": ("Input", {"shape": np.array([2, 8, 8])}),
        "conv": ("Conv2d", params),
        "if": ("IF", {"r": np.ones((3, 6, 6)), "v_threshold": np.ones((3, 6, 6))}),
        "output": ("Output", {"shape": np.array([3, 6, 6])}),
    }, [["input", "conv"], ["conv", "if"], ["if", "output"]]


# A padding of 2^62 wrapped the element count round to a small one; a negative padding
# and a group count of 0 were clamped silently.
graph("conv_huge_padding.nir", *conv(padding=np.array([2**62, 2**62])))
graph("conv_negative_padding.nir", *conv(padding=np.array([-5, -5])))
graph("conv_zero_groups.nir", *conv(groups=np.int64(0)))


# Valid files whose nodes the importer cannot carry as spikes: each must be a warning
# naming the node (written to ../warn).
WARN = os.path.join(HERE, "..", "warn")
os.makedirs(WARN, exist_ok=True)


def warn_graph(path, nodes, edges):
    graph(os.path.join(WARN, path), nodes, edges)


# An MLP whose last Linear feeds the Output directly: the readout's weights reach no
# neuron.
warn_graph("readout_weights.nir", {
    "input": ("Input", {"shape": np.array([4])}),
    "fc1": ("Linear", {"weight": np.full((3, 4), 2.0, dtype=np.float32)}),
    "lif": lif(3),
    "fc_out": ("Linear", {"weight": np.ones((2, 3), dtype=np.float32)}),
    "output": ("Output", {"shape": np.array([2])}),
}, [["input", "fc1"], ["fc1", "lif"], ["lif", "fc_out"], ["fc_out", "output"]])

# A non-spiking LI layer between two layers: its output is a potential, not spikes.
warn_graph("li_between.nir", {
    "input": ("Input", {"shape": np.array([3])}),
    "fc1": ("Linear", {"weight": np.eye(3, dtype=np.float32)}),
    "li": ("LI", {"tau": np.full(3, 0.01), "r": np.ones(3), "v_leak": np.zeros(3)}),
    "fc2": ("Linear", {"weight": np.eye(3, dtype=np.float32)}),
    "lif": lif(3),
    "output": ("Output", {"shape": np.array([3])}),
}, [["input", "fc1"], ["fc1", "li"], ["li", "fc2"], ["fc2", "lif"], ["lif", "output"]])
