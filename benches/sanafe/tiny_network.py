"""The 4-input, 3-neuron network of tests/neurocore.rs on SANA-FE's Loihi model
(sanafe 2.2.9, `pip install sanafe`): prints SANA-FE's energy breakdown and simulated
time, the figures the test compares neuromap with."""
import sanafe

arch = sanafe.load_loihi()
cores = arch.cores()
net = sanafe.Network()
inp = net.create_neuron_group("in", 4, {}, soma_hw_name="loihi_inputs[0]")
out = net.create_neuron_group("out", 3, {"threshold": 2.0, "leak_decay": 0.9, "reset": 0.0}, soma_hw_name="loihi_lif")
for i, n in enumerate(inp.neurons):
    n.set_attributes(model_attributes={"spikes": [1, 0, 1, 1, 0, 1, 0, 0, 1, 1]}, soma_hw_name="loihi_inputs[%d]" % i)
    n.map_to_core(cores[0])
for n in out.neurons:
    n.map_to_core(cores[1])
for a in inp.neurons:
    for b in out.neurons:
        a.connect_to_neuron(b, {"weight": 1.0})
chip = sanafe.SpikingChip(arch)
chip.load(net)
r = chip.sim(10, perf_trace=True)
print("energy", r["energy"])
print("sim_time", r["sim_time"])
print("synaptic events", r["spikes"], "fired", r["neurons_fired"], "updated", r["neurons_updated"])
print("per step time", r["perf_trace"]["sim_time"])
