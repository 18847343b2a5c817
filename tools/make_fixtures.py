#!/usr/bin/python3
"""make_fixtures.py [--out DIR] [--only NAME...] [--check [--strict]]

Writes small, seeded, deterministic model files and their PyTorch references:
DIR/NAME.rnn.json and DIR/NAME.ref.json (default DIR: test/fixtures/generated),
plus DIR/index.json listing what each fixture covers. References come from
tools/gen_reference.py, run on the file exactly as written (numbers are rounded
to 4 decimals before writing, so every reader parses the same doubles).
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_reference  # noqa: E402

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def r4(a):
    """Round to 4 decimals and turn into nested lists of plain floats."""
    return np.round(np.asarray(a, dtype=np.float64), 4).tolist()


class Spec:
    """One fixture: a model plus its data, built from a seed."""

    def __init__(self, name, cell, covers, *, form=None, nonlinearity=None, hidden=3, inputs=2,
                 layers=1, lengths=(8,), loss="sum", readout=None, batch_size=None, clip_norm=None,
                 scale=1.0, biases="both", layout=None, single=False, ce_lists=False, jsonc=False,
                 seed=0):
        self.__dict__.update(locals())
        del self.__dict__["self"]


FIXTURES = [
    # rnn, elman form, each nonlinearity
    Spec("rnn-elman-tanh", "rnn", "elman tanh, readout, mse, ragged 4 seqs batch_size 2, clip_norm",
         nonlinearity="tanh", hidden=4, lengths=(10, 7, 9, 4), loss="mse", readout=2, batch_size=2,
         clip_norm=5.0, scale=1.6, seed=1),
    Spec("rnn-elman-relu", "rnn", "elman relu, no readout, sum",
         nonlinearity="relu", hidden=4, inputs=3, lengths=(9, 9), loss="sum", scale=0.9, seed=2),
    Spec("rnn-elman-sigmoid", "rnn", "elman sigmoid, readout, cross_entropy, ragged 3 seqs batch_size 2",
         nonlinearity="sigmoid", hidden=5, lengths=(8, 5, 11), loss="cross_entropy", readout=3,
         batch_size=2, scale=2.0, seed=3),
    Spec("rnn-elman-linear", "rnn", "elman linear, no readout, mse, layout time_first",
         nonlinearity="linear", hidden=3, lengths=(7, 7, 7), loss="mse", layout="time_first",
         scale=1.1, seed=4),
    # rnn, pascanu form, each nonlinearity
    Spec("rnn-pascanu-tanh", "rnn", "pascanu tanh, no readout, sum, ragged 3 seqs batch_size 2",
         form="pascanu", nonlinearity="tanh", hidden=4, lengths=(12, 6, 9), loss="sum", batch_size=2,
         scale=1.3, seed=5),
    Spec("rnn-pascanu-relu", "rnn", "pascanu relu, readout, mse",
         form="pascanu", nonlinearity="relu", hidden=3, lengths=(8, 10), loss="mse", readout=2,
         scale=0.8, seed=6),
    Spec("rnn-pascanu-sigmoid", "rnn", "pascanu sigmoid (sigma(0)=0.5 at t=0), readout, cross_entropy",
         form="pascanu", nonlinearity="sigmoid", hidden=4, lengths=(9, 9, 9), loss="cross_entropy",
         readout=3, scale=2.5, seed=7),
    Spec("rnn-pascanu-linear", "rnn", "pascanu linear, no readout, sum, single-sequence shorthand [T][I]",
         form="pascanu", nonlinearity="linear", hidden=3, lengths=(10,), loss="sum", single=True,
         scale=0.9, seed=8),
    # lstm and gru, one layer
    Spec("lstm", "lstm", "lstm, readout, cross_entropy (targets as one-element lists), ragged 5 seqs batch_size 2",
         hidden=4, lengths=(9, 6, 11, 3, 7), loss="cross_entropy", readout=3, batch_size=2,
         ce_lists=True, scale=1.5, seed=9),
    Spec("gru", "gru", "gru, no readout, mse, ragged 3 seqs batch_size 2, clip_norm",
         hidden=4, lengths=(10, 5, 8), loss="mse", batch_size=2, clip_norm=1.0, scale=1.5, seed=10),
    # stacks
    Spec("rnn-elman-tanh-2layer", "rnn", "2-layer elman tanh, readout, sum",
         nonlinearity="tanh", hidden=4, layers=2, lengths=(8, 8), loss="sum", readout=2, scale=1.4,
         seed=11),
    Spec("rnn-elman-tanh-3layer", "rnn", "3-layer elman tanh, no readout, mse, ragged",
         nonlinearity="tanh", hidden=3, layers=3, lengths=(7, 5, 6), loss="mse", batch_size=2,
         scale=1.2, seed=12),
    Spec("lstm-2layer", "lstm", "2-layer lstm, no readout, sum",
         hidden=3, layers=2, lengths=(8, 6), loss="sum", scale=1.2, seed=13),
    Spec("lstm-3layer", "lstm", "3-layer lstm, readout, mse",
         hidden=3, layers=3, lengths=(6, 6), loss="mse", readout=2, scale=1.0, seed=14),
    Spec("gru-2layer", "gru", "2-layer gru, readout, cross_entropy, ragged batch_size 2",
         hidden=4, layers=2, lengths=(7, 9, 4), loss="cross_entropy", readout=3, batch_size=2,
         scale=1.3, seed=15),
    Spec("gru-3layer", "gru", "3-layer gru, no readout, sum",
         hidden=3, layers=3, lengths=(6, 6), loss="sum", scale=1.0, seed=16),
    Spec("rnn-pascanu-sigmoid-2layer", "rnn", "2-layer pascanu sigmoid, readout, mse",
         form="pascanu", nonlinearity="sigmoid", hidden=3, layers=2, lengths=(8, 6), loss="mse",
         readout=2, scale=2.0, seed=17),
    # missing biases (optional: zeros in the equations, and no entry in `gradients`)
    Spec("rnn-elman-tanh-nobias", "rnn", "elman tanh with no bias_ih/bias_hh at all (readout keeps its bias), sum",
         nonlinearity="tanh", hidden=3, lengths=(8, 6), loss="sum", readout=2, biases="none",
         scale=1.3, seed=18),
    Spec("lstm-bias-ih-only", "lstm", "lstm with bias_ih only (bias_hh absent), mse",
         hidden=3, lengths=(7, 7), loss="mse", biases="ih", scale=1.2, seed=19),
    Spec("gru-bias-hh-only", "gru", "gru with bias_hh only (bias_ih absent: b_hn still inside r*(...)), cross_entropy",
         hidden=3, lengths=(8, 5), loss="cross_entropy", readout=2, biases="hh", scale=1.4, seed=20),
    # JSONC syntax
    Spec("rnn-elman-tanh-jsonc", "rnn", "JSONC: // and /* */ comments and trailing commas, implicit cell and loss",
         nonlinearity="tanh", hidden=3, lengths=(6,), loss=None, jsonc=True, scale=1.0, seed=21),
]


def build_model(s):
    rng = np.random.default_rng(s.seed)
    H, G = s.hidden, GATES[s.cell]
    k = s.scale / np.sqrt(H)
    weights = {}
    for l in range(s.layers):
        Ik = s.inputs if l == 0 else H
        weights["weight_ih_l%d" % l] = r4(rng.uniform(-k, k, (G * H, Ik)))
        weights["weight_hh_l%d" % l] = r4(rng.uniform(-k, k, (G * H, H)))
        if s.biases in ("both", "ih"):
            weights["bias_ih_l%d" % l] = r4(rng.uniform(-k, k, G * H))
        if s.biases in ("both", "hh"):
            weights["bias_hh_l%d" % l] = r4(rng.uniform(-k, k, G * H))
    model = {"name": s.name}
    if not s.jsonc:
        model["cell"] = s.cell
    if s.form:
        model["form"] = s.form
    if s.nonlinearity and s.cell == "rnn" and not s.jsonc:
        model["nonlinearity"] = s.nonlinearity
    model["weights"] = weights
    D = H
    if s.readout:
        D = s.readout
        # the spec lists readout.bias without saying it is optional, so it is always given
        model["readout"] = {"weight": r4(rng.uniform(-0.5, 0.5, (D, H))),
                            "bias": r4(rng.uniform(-0.1, 0.1, D))}
    seqs = [r4(rng.normal(0, 1, (T, s.inputs))) for T in s.lengths]
    targets = None
    if s.loss == "mse":
        targets = [r4(rng.normal(0, 0.5, (T, D))) for T in s.lengths]
    elif s.loss == "cross_entropy":
        targets = [[int(c) for c in rng.integers(0, D, T)] for T in s.lengths]
        if s.ce_lists:
            targets = [[[c] for c in seq] for seq in targets]
    data = {}
    if s.single:
        data["inputs"] = seqs[0]
        if targets is not None:
            data["targets"] = targets[0]
    elif s.layout == "time_first":
        T = s.lengths[0]
        data["layout"] = "time_first"
        data["inputs"] = [[seq[t] for seq in seqs] for t in range(T)]
        if targets is not None:
            data["targets"] = [[seq[t] for seq in targets] for t in range(T)]
    else:
        data["inputs"] = seqs
        if targets is not None:
            data["targets"] = targets
    model["data"] = data
    if s.loss:
        model["loss"] = s.loss
    training = {}
    if s.batch_size:
        training["batch_size"] = s.batch_size
    if s.clip_norm:
        training["clip_norm"] = s.clip_norm
    if training:
        model["training"] = training
    return model


def to_text(model, jsonc):
    if not jsonc:
        return json.dumps(model) + "\n"
    # Hand-written JSONC: comments in several places and trailing commas.
    lines = ["// A tanh Elman RNN; cell and loss are inferred (rnn from 1 gate, sum: no targets).", "{"]
    for key, val in model.items():
        if key == "weights":
            lines.append('  "weights": { /* PyTorch state_dict names */')
            for wk, wv in val.items():
                lines.append("    %s: %s," % (json.dumps(wk), json.dumps(wv)))
            lines.append("  },")
        else:
            lines.append("  %s: %s, // %s" % (json.dumps(key), json.dumps(val), key))
    lines.append("}")
    return "\n".join(lines) + "\n"


def generate(out, only=None, quiet=False):
    os.makedirs(out, exist_ok=True)
    index = {}
    for s in FIXTURES:
        index[s.name] = s.covers
        if only and s.name not in only:
            continue
        path = os.path.join(out, s.name + ".rnn.json")
        with open(path, "w") as f:
            f.write(to_text(build_model(s), s.jsonc))
        rc = gen_reference.main([path, "-o", os.path.join(out, s.name + ".ref.json")])
        if rc:
            sys.exit("make_fixtures: gen_reference failed on %s" % path)
        if not quiet:
            print("wrote %s (+ .ref.json)" % path)
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    return []


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "..", "test", "fixtures", "generated"))
    ap.add_argument("--only", nargs="*", help="fixture names to regenerate")
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temp folder and compare with --out (see make_fixtures_v2.py --check)")
    ap.add_argument("--strict", action="store_true", help="with --check: any byte difference fails")
    args = ap.parse_args(argv)
    if args.check:
        import make_fixtures_v2
        return make_fixtures_v2.check(os.path.abspath(args.out), args.strict,
                                      lambda d: generate(d, quiet=True))
    generate(args.out, args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
