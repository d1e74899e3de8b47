"""How much of the s16.15 Izhikevich error is the constant 0.04 alone?

Runs the midpoint step of docs/semantics.md (the formula tests/izhikevich.rs checks
the reference against) in f64 twice for each neuron of netlists/izhikevich.toml: with
0.04, and with 0.04 as s16.15 stores it (1311/32768, 2.1e-4 too large), nothing else
rounded. Prints spike counts and the share of the exact run's spikes at the same step.

    python3 benches/izhikevich_constant.py
"""


def spikes(a, b, c, d, i, k004, h=1.0, steps=1000, u_first=True):
    v, u, out = -70.0, -14.0, []
    for t in range(steps):
        pre = 140.0 + i - u
        alpha = pre + (5.0 + k004 * v) * v
        eta = v + h / 2.0 * alpha
        beta = h / 2.0 * (b * v - u) * a
        vn = v + h * (pre - beta + (5.0 + k004 * eta) * eta)
        # (u + beta) first, as the reference sums; `u_first=False` sums in the other order.
        un = u + a * h * (b * eta - (u + beta)) if u_first else u + a * h * (b * eta - u - beta)
        if vn >= 30.0:
            out.append(t)
            vn, un = c, un + d
        v, u = vn, un
    return out


stored = round(0.04 * 32768) / 32768
CURRENTS = [5.0, 7.5, 10.0, 12.5, 15.0]
MODELS = [("regular_spiking", (0.02, 0.2, -65.0, 8.0)), ("fast_spiking", (0.1, 0.2, -65.0, 2.0))]


def same_step(exact, other):
    return len(set(exact) & set(other))


print("population       current  spikes (exact 0.04)  spikes (stored 0.04)  same step")
for name, (a, b, c, d) in MODELS:
    kept = total = 0
    for i in CURRENTS:
        exact, q = spikes(a, b, c, d, i, 0.04), spikes(a, b, c, d, i, stored)
        kept, total = kept + same_step(exact, q), total + len(exact)
        print(f"{name:<16} {i:>7}  {len(exact):>19}  {len(q):>20}  {100 * same_step(exact, q) / max(1, len(exact)):>8.1f} %")
    print(f"{name:<16}     all  {total:>19}  {'':>20}  {100 * kept / max(1, total):>8.1f} %")

print("\nsumming b·eta − u − beta instead of b·eta − (u + beta), all else exact:")
for name, (a, b, c, d) in MODELS:
    for i in CURRENTS:
        x, y = spikes(a, b, c, d, i, 0.04), spikes(a, b, c, d, i, 0.04, u_first=False)
        first = next((k for k, (s, t) in enumerate(zip(x, y)) if s != t), None)
        if first is not None:
            print(f"{name} at {i}: the spike steps part at spike {first + 1} of {len(x)}")
