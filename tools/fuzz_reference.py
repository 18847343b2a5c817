#!/usr/bin/python3
"""fuzz_reference.py [--count N] [--seed S] [--out DIR] [--hmax H] [--tmax T] [--compare SCRIPT]

Random differential check of the engine against PyTorch autograd: N random model files (every cell, rnn form and
nonlinearity, gru reset placement, loss, 1-3 layers, bidirectional with or without the key, projections,
embeddings, data.lengths, time-first layout, .npy data files and .pt checkpoints, batch sizes, clip_norm, bias subsets; hidden sizes up to H, sequences
up to T steps), built with make_fixtures_v2.py's builder from seeds S, S+1, ...; each gets its reference from
gen_reference.py and the project's report from `node dist/cli.js analyze FILE --json --gradients` (run from the
project root after a build), compared by tools/ref_diff.py at 1e-9 relative (or by SCRIPT REF GOT, e.g. the
shared compare-report.py). Prints one line per model and exits 1 when any differs. A failing seed reproduces alone with
--count 1 --seed SEED; its files stay in DIR. Needs /usr/bin/python3 with torch (tools/README.md); not run in CI.
"""
import argparse
import json
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import make_fixtures_v2 as mf  # noqa: E402


def random_case(seed, hmax, tmax):
    r = random.Random(seed)
    cell = r.choice(["rnn", "lstm", "gru"])
    kw = dict(hidden=r.randint(1, hmax), inputs=r.randint(1, 4), layers=r.choice([1, 1, 2, 3]),
              scale=r.uniform(0.4, 2.2), seed=seed)
    if cell == "rnn":
        kw["form"] = r.choice([None, "elman", "pascanu"])
        kw["nonlinearity"] = r.choice(["tanh", "relu", "sigmoid", "linear"])
    if cell == "gru":
        kw["gru_reset"] = r.choice([None, "after", "before"])
    kw["bidir"] = r.choice([None, None, "key", "implicit"])
    if cell == "lstm" and kw["hidden"] > 1 and r.random() < 0.3:
        kw["proj"] = r.randint(1, kw["hidden"] - 1)
        kw["proj_key"] = r.random() < 0.5
    if r.random() < 0.2:
        kw["vocab"] = r.randint(2, 7)
    B = r.randint(1, 4)
    lens = tuple(r.randint(1, tmax) for _ in range(B))
    kw["seq_lens"] = lens
    if B > 1 and r.random() < 0.3:
        kw["lengths"] = lens
    kw["loss"] = r.choice(["sum", "mse", "cross_entropy"])
    if kw["loss"] == "cross_entropy":
        kw["readout"] = r.randint(2, 4)
    elif r.random() < 0.4:
        kw["readout"] = r.randint(1, 3)
    if r.random() < 0.4:
        kw["batch_size"] = r.randint(1, 3)
    if r.random() < 0.2:
        kw["clip_norm"] = r.uniform(0.1, 5)
    kw["biases"] = r.choice(["both", "both", "ih", "hh", "none"])
    if r.random() < 0.2 and "lengths" not in kw:
        kw["seq_lens"] = (lens[0],) * B
        if B > 1:
            kw["layout"] = "time_first"
    # Data and weights from files, as make_fixtures_v2.py writes them: .npy arrays (a padded batch with lengths and
    # mse targets) or a PyTorch checkpoint of an embedding, the recurrent module and a readout.
    pick = r.random()
    if pick < 0.15 and not kw.get("vocab"):
        kw.update(lengths=kw["seq_lens"], loss="mse", files="npy")
        kw.pop("layout", None)
    elif pick > 0.85:
        kw.setdefault("vocab", r.randint(2, 7))
        kw.setdefault("readout", r.randint(1, 3))
        kw["files"] = "pt"
    return mf.Case("fuzz-%d" % seed, cell, "random", **kw), kw


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--out", default="/tmp/rnn-gradients-fuzz")
    ap.add_argument("--hmax", type=int, default=6)
    ap.add_argument("--tmax", type=int, default=12)
    ap.add_argument("--compare", default=None)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    cli = os.path.join(ROOT, "dist", "cli.js")
    bad = 0
    for seed in range(a.seed, a.seed + a.count):
        case, kw = random_case(seed, a.hmax, a.tmax)
        model = mf.build(case, a.out)
        path = os.path.join(a.out, case.name + ".rnn.json")
        with open(path, "w") as f:
            json.dump(model, f)
        ref, got = path[:-9] + ".ref.json", path[:-9] + ".got.json"
        g = subprocess.run([sys.executable, os.path.join(HERE, "gen_reference.py"), path, "-o", ref],
                           capture_output=True, text=True)
        if g.returncode != 0:
            print(case.name, "reference failed:", g.stderr.strip()[-300:])
            bad += 1
            continue
        o = subprocess.run(["node", cli, "analyze", path, "--json", "--gradients"], capture_output=True, text=True,
                           cwd=a.out)
        with open(got, "w") as f:
            f.write(o.stdout)
        if o.returncode not in (0, 1):
            print(case.name, "CLI exit code", o.returncode, o.stderr.strip()[-300:], kw)
            bad += 1
            continue
        compare = [a.compare, ref, got] if a.compare else [os.path.join(HERE, "ref_diff.py"), ref, got, "--rtol", "1e-9"]
        d = subprocess.run([sys.executable] + compare, capture_output=True, text=True)
        if d.returncode != 0:
            print(case.name, "DIFFERS", kw)
            print(d.stdout[-1500:])
            bad += 1
        else:
            print(case.name, "ok", case.cell, kw.get("form") or kw.get("gru_reset") or "", kw.get("nonlinearity") or "",
                  flush=True)
    print("fuzz_reference: %d of %d models differ" % (bad, a.count))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
