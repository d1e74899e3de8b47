"""Writes a convolutional SNN as a NIR file, the way Sinabs exports one.

The node types, fields and shapes follow `tests/nir/cnn_sinabs.nir` (a real Sinabs
export): Conv2d with `input_shape`, IF with per-neuron `r` and `v_threshold`, SumPool2d,
Flatten, Affine. The layer sizes are those of a DVS-gesture network (2 x 128 x 128
events, 11 classes), large enough that composing the pooling into the weights after it
makes 57.7 million synapses. Weights are seeded; written with the `nir` package.

    python3 make_cnn.py OUT.nir
"""

import sys

import nir
import numpy as np

rng = np.random.default_rng(7)


def conv(cin, cout, k, stride, padding, hw):
    w = rng.normal(0.0, 1.0 / np.sqrt(cin * k * k), (cout, cin, k, k)).astype(np.float32)
    b = rng.normal(0.0, 0.01, cout).astype(np.float32)
    return nir.Conv2d(
        input_shape=hw, weight=w, stride=stride, padding=padding, dilation=1, groups=1, bias=b
    )


def if_layer(shape, threshold):
    return nir.IF(r=np.ones(shape, np.float32), v_threshold=np.full(shape, threshold, np.float32))


def affine(n_in, n_out):
    w = rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_out, n_in)).astype(np.float32)
    return nir.Affine(weight=w, bias=np.zeros(n_out, np.float32))


def pool():
    return nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0]))


nodes = {
    "input": nir.Input(input_type={"input": np.array([2, 128, 128])}),
    "0": conv(2, 16, 5, 2, 2, (128, 128)),
    "1": if_layer((16, 64, 64), 1.0),
    "2": pool(),
    "3": conv(16, 64, 3, 1, 1, (32, 32)),
    "4": if_layer((64, 32, 32), 1.0),
    "5": pool(),
    "6": nir.Flatten(input_type={"input": np.array([64, 16, 16])}, start_dim=0, end_dim=-1),
    "7": affine(64 * 16 * 16, 256),
    "8": if_layer((256,), 1.0),
    "9": affine(256, 11),
    "10": if_layer((11,), 1.0),
    "output": nir.Output(output_type={"output": np.array([11])}),
}
edges = [
    ("input", "0"), ("0", "1"), ("1", "2"), ("2", "3"), ("3", "4"), ("4", "5"),
    ("5", "6"), ("6", "7"), ("7", "8"), ("8", "9"), ("9", "10"), ("10", "output"),
]
nir.write(sys.argv[1], nir.NIRGraph(nodes=nodes, edges=edges))
