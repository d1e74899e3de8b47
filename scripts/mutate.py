#!/usr/bin/env python3
"""Seeded mutations of the project's own inputs, through every subcommand that reads them.

A careless or hostile user's files: lines deleted, duplicated or swapped, numbers made
extreme (0, -1, 1e300, nan, inf, 2^64), strings made huge or empty, keys renamed, files
cut short, bytes flipped. Each mutant goes through the subcommands that read its kind,
with a wall-time limit and an address-space limit, and every outcome is counted:

  ok        exit 0
  refused   a clean error exit (1, 2 or 3: the input was diagnosed)
  panic     exit 101 (a Rust panic) or a signal (abort, segfault)
  timeout   over the time limit
  memory    the address-space limit was hit

Usage: python3 scripts/mutate.py [--mutants N] [--seed S] [--jobs J] [--keep DIR]
(builds nothing: run `cargo build --release` first). Mutants that panic, time out or
run out of memory are kept in DIR (default out/mutants) to reproduce them.
"""

import argparse
import concurrent.futures
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "neuromap")

# Small inputs of every kind the tool reads (big ones would only test the limits).
NETLISTS = ["lsm", "synfire", "cuba", "brunel_1k", "binary_mlp", "spiking_binary", "sharp2012"]
HW_MODELS = ["spinnaker1", "spinnaker2", "spinnaker1-spinn3", "rram-lsm-40nm", "tulip-40nm", "loihi",
             "hybrid-spinn2-rram", "hybrid-spinn2-tulip", "truenorth"]
SANAFE = [("tests/sanafe/example_chip.yaml", "tests/sanafe/example_snn.yaml"),
          ("tests/sanafe/tutorial_arch.yaml", "tests/sanafe/tutorial_snn.yaml")]
NIR = ["tests/nir/lif_norse.nir", "tests/nir/ff_lif_lzf.nir", "tests/nir/cnn_sinabs.nir",
       "tests/nir/recurrent_cubalif_delay.nir"]

EXTREMES = ["0", "-1", "1e300", "-1e300", "1e-300", "nan", "inf", "-inf", "18446744073709551616",
            "4294967296", "65536", "1e9", "0.5", '""', '"x"', "[]", "{}", "true"]

TIME_LIMIT_S = 60
MEMORY_LIMIT = 4 << 30


def mutate_text(text, r):
    lines = text.split("\n")
    kind = r.randrange(9)
    if kind == 0 and lines:  # delete a line
        del lines[r.randrange(len(lines))]
    elif kind == 1 and lines:  # duplicate a line
        i = r.randrange(len(lines))
        lines.insert(i, lines[i])
    elif kind == 2 and len(lines) > 1:  # swap two lines
        i, j = r.randrange(len(lines)), r.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif kind in (3, 4):  # a number made extreme
        idx = [i for i, l in enumerate(lines) if any(c.isdigit() for c in l)]
        if idx:
            i = r.choice(idx)
            l = lines[i]
            digits = [k for k, c in enumerate(l) if c.isdigit()]
            k = r.choice(digits)
            a = k
            while a > 0 and (l[a - 1].isdigit() or l[a - 1] in ".e-+"):
                a -= 1
            b = k
            while b < len(l) and (l[b].isdigit() or l[b] in ".e-+"):
                b += 1
            lines[i] = l[:a] + r.choice(EXTREMES) + l[b:]
    elif kind == 5:  # a string made huge or odd
        idx = [i for i, l in enumerate(lines) if '"' in l]
        if idx:
            i = r.choice(idx)
            l = lines[i]
            a = l.index('"')
            b = l.find('"', a + 1)
            if b > a:
                s = r.choice(["", "x" * 100000, "\u00e9\u4e2d", "../../etc/passwd", "a b", "spinnaker1"])
                lines[i] = l[:a + 1] + s + l[b:]
    elif kind == 6:  # a key renamed
        idx = [i for i, l in enumerate(lines) if "=" in l or ":" in l]
        if idx:
            i = r.choice(idx)
            lines[i] = "zz" + lines[i].lstrip()
    elif kind == 7:  # cut short
        text = "\n".join(lines)
        return text[: r.randrange(len(text) + 1)]
    else:  # random bytes inserted
        text = "\n".join(lines)
        k = r.randrange(len(text) + 1)
        junk = "".join(chr(r.randrange(1, 0x2FF)) for _ in range(r.randrange(1, 8)))
        return text[:k] + junk + text[k:]
    return "\n".join(lines)


def mutate_bytes(data, r):
    b = bytearray(data)
    kind = r.randrange(3)
    if kind == 0 and b:  # flip bytes
        for _ in range(r.randrange(1, 16)):
            b[r.randrange(len(b))] = r.randrange(256)
    elif kind == 1:  # cut short
        b = b[: r.randrange(len(b) + 1)]
    else:  # a run of bytes overwritten with extremes
        if b:
            k = r.randrange(len(b))
            b[k:k + 8] = r.choice([b"\xff" * 8, b"\x00" * 8, b"\x7f\xf0\x00\x00\x00\x00\x00\x00"])
    return bytes(b)


def limits():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


SLOWEST = {}


def run(args):
    """Runs the binary; returns the outcome's class and a line of its stderr."""
    t0 = time.time()
    try:
        p = subprocess.run([BIN] + args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=TIME_LIMIT_S, preexec_fn=limits)
    except subprocess.TimeoutExpired:
        return "timeout", ""
    SLOWEST[args[0]] = max(SLOWEST.get(args[0], 0.0), time.time() - t0)
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode != 0 and "memory allocation" in err:
        return "memory", err[-300:]
    if p.returncode == 101 or p.returncode < 0:
        return "panic", err[-600:]
    if p.returncode == 0:
        return "ok", ""
    return "refused", ""


def jobs_for(kind, path, other):
    """The subcommands that read an input of `kind` at `path`."""
    if kind == "netlist":
        return [("check", ["check", path]),
                ("compile", ["compile", path, "--hw", "spinnaker1"]),
                ("run", ["run", path, "--hw", "hybrid-spinn2-rram", "--steps", "20", "--no-output"])]
    if kind == "hw-model":
        return [("hw show", ["hw", "show", path]),
                ("compile", ["compile", "netlists/lsm.toml", "--hw", path]),
                ("run", ["run", "netlists/lsm.toml", "--hw", path, "--steps", "20", "--no-output"])]
    if kind == "sanafe":
        arch, net = (path, other) if other else (path, path)
        return [("sanafe", ["sanafe", arch, net, "--steps", "20", "--no-output"])]
    if kind == "nir":
        return [("check", ["check", path]),
                ("run", ["run", path, "--hw", "spinnaker1-spinn5", "--steps", "20", "--no-output"])]
    raise ValueError(kind)


def one(task):
    kind, i, seed, tmp = task
    r = random.Random(seed * 1_000_003 + i)
    if kind == "netlist":
        src = os.path.join(ROOT, "netlists", r.choice(NETLISTS) + ".toml")
        text = mutate_text(open(src, encoding="utf-8").read(), r)
        path = os.path.join(tmp, f"{kind}-{i}.toml")
        open(path, "w", encoding="utf-8", errors="surrogatepass").write(text)
        other = None
    elif kind == "hw-model":
        src = os.path.join(ROOT, "hw-models", r.choice(HW_MODELS) + ".toml")
        text = mutate_text(open(src, encoding="utf-8").read(), r)
        # A model's `base` and `[[part]]` files are looked up beside it: keep them there.
        path = os.path.join(ROOT, "hw-models", f".mutant-{os.getpid()}-{i}.toml")
        open(path, "w", encoding="utf-8", errors="surrogatepass").write(text)
        other = None
    elif kind == "sanafe":
        arch, net = r.choice(SANAFE)
        which = r.randrange(2)
        srcs = [os.path.join(ROOT, arch), os.path.join(ROOT, net)]
        out = []
        for k, s in enumerate(srcs):
            p = os.path.join(tmp, f"{kind}-{i}-{k}.yaml")
            t = open(s, encoding="utf-8").read()
            open(p, "w", encoding="utf-8", errors="surrogatepass").write(mutate_text(t, r) if k == which else t)
            out.append(p)
        path, other = out
    else:
        src = os.path.join(ROOT, r.choice(NIR))
        path = os.path.join(tmp, f"{kind}-{i}.nir")
        open(path, "wb").write(mutate_bytes(open(src, "rb").read(), r))
        other = None
    results = []
    for name, args in jobs_for(kind, path, other):
        outcome, err = run(args)
        results.append((kind, name, outcome, path, err))
    return results, path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mutants", type=int, default=300, help="mutants per input kind")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--keep", default=os.path.join(ROOT, "out", "mutants"))
    a = ap.parse_args()
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} is missing: run `cargo build --release` first")
    kinds = ["netlist", "hw-model", "sanafe", "nir"]
    tmp = tempfile.mkdtemp(prefix="neuromap-mutants-")
    tasks = [(k, i, a.seed, tmp) for k in kinds for i in range(a.mutants)]
    counts = {}
    bad = []
    t0 = time.time()
    try:
        with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
            for results, path in ex.map(one, tasks):
                for kind, name, outcome, p, err in results:
                    counts.setdefault((kind, name), {}).setdefault(outcome, 0)
                    counts[(kind, name)][outcome] += 1
                    if outcome in ("panic", "timeout", "memory"):
                        bad.append((kind, name, outcome, p, err))
                        os.makedirs(a.keep, exist_ok=True)
                        shutil.copy(p, os.path.join(a.keep, os.path.basename(p).lstrip(".")))
                if os.path.basename(path).startswith(".mutant-"):
                    os.remove(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        for f in os.listdir(os.path.join(ROOT, "hw-models")):
            if f.startswith(".mutant-"):
                os.remove(os.path.join(ROOT, "hw-models", f))
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / (1 << 20)
    slowest = max(SLOWEST.values(), default=0.0)
    print(f"{a.mutants} mutants per input kind, seed {a.seed}, {time.time() - t0:.0f} s; "
          f"limits {TIME_LIMIT_S} s and {MEMORY_LIMIT >> 30} GiB per run; "
          f"slowest run {slowest:.2f} s, largest peak memory {peak:.2f} GiB\n")
    print("| input | subcommand | runs | ok | refused | panic | timeout | memory |")
    print("|---|---|---|---|---|---|---|---|")
    for (kind, name), c in sorted(counts.items()):
        n = sum(c.values())
        print(f"| {kind} | {name} | {n} | {c.get('ok', 0)} | {c.get('refused', 0)} | {c.get('panic', 0)} | "
              f"{c.get('timeout', 0)} | {c.get('memory', 0)} |")
    for kind, name, outcome, p, err in bad[:20]:
        print(f"\n{outcome}: {kind} through `{name}` ({os.path.basename(p)}):\n{err}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
