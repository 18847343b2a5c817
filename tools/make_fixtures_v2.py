#!/usr/bin/python3
"""make_fixtures_v2.py [--out DIR] [--only NAME...] [--check [--strict]] [--list] [--table]

Writes the seeded version-2 fixtures and their PyTorch references:
DIR/NAME.rnn.json + DIR/NAME.ref.json (default DIR: test/fixtures/generated-v2), a few
data/checkpoint files some cases name (DIR/NAME.*.npy, DIR/NAME.pt), and DIR/index.json
(what each case covers, which gate/unit findings it must and must not produce).

References come from tools/gen_reference.py (report version 2, with its selfcheck against
tools/ref_second.py and torch.nn). Every case must pass, or nothing is written for it:
  * selfcheck max ≤ 1e-12 (relative);
  * no gate activation or unit value within 1e-6 of a cut the statistics use (0.05, 0.95,
    -0.95, and 0 for relu units), no dead unit within 1e-3 of coming alive, and every
    gate/unit figure at least 0.02 away from its finding threshold, so that an engine
    that computes the same numbers to 1e-9 cannot land on the other side;
  * the findings a case is built for (`expect`) are exactly the ones its figures trigger.

--check regenerates everything into a temporary folder and compares it with DIR: model and
data files must be byte-identical; a reference that differs in bytes is reported with its
largest relative difference (last-bit differences come from the BLAS build / CPU: see
tools/README.md) and fails the check only above 1e-12 or with --strict.
"""
import argparse
import filecmp
import json
import math
import os
import shutil
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_reference  # noqa: E402
import ref_diff  # noqa: E402

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
DEFAULT_OUT = os.path.join(HERE, "..", "test", "fixtures", "generated-v2")
SELFCHECK_MAX = 1e-12
CUT_MARGIN = 1e-6
DEAD_MARGIN = 1e-3
FIGURE_MARGIN = 0.02
FINDING_CODES = ("forget-gate-closed", "gate-saturated", "units-saturated", "dead-units")


def r4(a):
    """Round to 4 decimals and turn into nested lists of plain floats."""
    return np.round(np.asarray(a, dtype=np.float64), 4).tolist()


class Case:
    """One fixture. Weights are U(-k, k), k = scale/sqrt(H); data N(0, 1) times seq_scales.

    bidir: None, "key" ("bidirectional": true and _reverse weights) or "implicit" (_reverse
    weights only). proj: P (weight_hr), proj_key: also write "proj_size". vocab: V for an
    embedding (data.tokens). lengths: data.lengths; the arrays are padded to pad_to (default
    max(lengths)) with junk, or ragged rows (ragged=True) each longer than its length.
    tweaks: list of (op, layer, sfx, ...) applied to the weights (see apply_tweaks).
    expect: the gate/unit findings the case is built to trigger, as (code, layer, direction).
    """

    def __init__(self, name, cell, covers, *, form=None, nonlinearity=None, gru_reset=None, hidden=4, inputs=2,
                 layers=1, bidir=None, proj=0, proj_key=False, vocab=0, seq_lens=(8,), lengths=None, pad_to=None,
                 ragged=False, loss="sum", readout=None, batch_size=None, clip_norm=None, scale=1.0,
                 seq_scales=None, biases="both", layout=None, tweaks=(), expect=(), files=None, seed=0):
        self.__dict__.update(locals())
        del self.__dict__["self"]


def lstm_gate(name):
    return ["input", "forget", "cell", "output"].index(name)


def gru_gate(name):
    return ["reset", "update", "new"].index(name)


C = Case
CASES = [
    # ---------------------------------------------------------------- architectures
    C("bilstm-lengths", "lstm",
      "1-layer bidirectional LSTM (\"bidirectional\": true), padded batch with junk past data.lengths, readout on 2H, "
      "mse, batch_size 2",
      hidden=4, inputs=3, bidir="key", seq_lens=(9, 5, 7), lengths=(9, 5, 7), loss="mse", readout=2, batch_size=2,
      scale=1.4, seed=101),
    C("bilstm-2layer-proj-emb", "lstm",
      "2-layer bidirectional LSTM with projections (H 5, P 3: weight_hh [20][3], layer 1 input 2P) and an embedding "
      "(V 7, I 3) from data.tokens with data.lengths, readout on 2P, cross_entropy, batch_size 2",
      hidden=5, inputs=3, layers=2, bidir="key", proj=3, proj_key=True, vocab=7, seq_lens=(8, 6, 4), lengths=(8, 6, 4),
      loss="cross_entropy", readout=3, batch_size=2, scale=1.3, seed=102),
    C("lstm-proj-2layer-implicit", "lstm",
      "2-layer LSTM with projections given only by weight_hr_l{k} (no proj_size key), ragged inline sequences, "
      "no readout (output width P), sum",
      hidden=6, inputs=2, layers=2, proj=2, seq_lens=(9, 6), loss="sum", scale=1.2, seed=103),
    C("bilstm-proj-implicit", "lstm",
      "bidirectional LSTM given by _reverse weights only (no bidirectional key), proj_size key with weight_hr, "
      "readout on 2P, mse, lengths, batch_size 1",
      hidden=4, inputs=2, bidir="implicit", proj=2, proj_key=True, seq_lens=(7, 7), lengths=(7, 3), loss="mse",
      readout=2, batch_size=1, scale=1.5, seed=104),
    C("lstm-lengths-short", "lstm",
      "unidirectional LSTM, arrays of 12 steps but max(lengths) 8: lags run to 7 only; readout, mse",
      hidden=3, inputs=2, seq_lens=(12, 12, 12), lengths=(8, 3, 6), pad_to=12, loss="mse", readout=2, scale=1.3,
      seed=105),
    C("bigru-before-lengths", "gru",
      "bidirectional GRU, gru_reset before, lengths, readout on 2H, mse, batch_size 2",
      gru_reset="before", hidden=4, inputs=2, bidir="key", seq_lens=(10, 6, 8), lengths=(10, 6, 8), loss="mse",
      readout=2, batch_size=2, scale=1.5, seed=106),
    C("gru-before-2layer-ragged", "gru",
      "2-layer GRU reset-before, ragged inline rows with data.lengths shorter than each row, no readout, sum",
      gru_reset="before", hidden=4, inputs=3, layers=2, seq_lens=(9, 7, 5), lengths=(7, 7, 2), ragged=True,
      loss="sum", scale=1.4, seed=107),
    C("gru-before-bias-ih-only", "gru",
      "GRU reset-before with bias_ih only (bias_hh absent, as a Keras reset_after=False layer converts), readout, "
      "cross_entropy",
      gru_reset="before", hidden=3, inputs=2, seq_lens=(8, 6), loss="cross_entropy", readout=3, biases="ih",
      scale=1.6, seed=108),
    C("bigru-after-2layer-emb-timefirst", "gru",
      "2-layer bidirectional GRU (reset after, the default, gru_reset key given) with an embedding, data.tokens in "
      "layout time_first with lengths, readout, cross_entropy, batch_size 2",
      gru_reset="after", hidden=3, inputs=2, layers=2, bidir="key", vocab=6, seq_lens=(7, 7, 7), lengths=(7, 4, 5),
      layout="time_first", loss="cross_entropy", readout=3, batch_size=2, scale=1.3, seed=109),
    C("birnn-tanh-2layer", "rnn",
      "2-layer bidirectional elman tanh rnn, lengths, readout on 2H, mse",
      nonlinearity="tanh", hidden=4, inputs=2, layers=2, bidir="key", seq_lens=(9, 9), lengths=(9, 5), loss="mse",
      readout=2, scale=1.3, seed=110),
    C("birnn-tanh-nobias", "rnn",
      "bidirectional elman tanh rnn with no bias_ih/bias_hh in either direction (no bias entries in gradients), "
      "lengths with a sequence of length 1, readout, sum",
      nonlinearity="tanh", hidden=3, inputs=2, bidir="key", seq_lens=(8, 8, 8), lengths=(8, 1, 5), loss="sum",
      readout=2, biases="none", scale=1.3, seed=120),
    C("bilstm-bias-ih-only", "lstm",
      "bidirectional LSTM with bias_ih only in both directions (what a Keras Bidirectional(LSTM) converts to), "
      "no readout (output 2H), mse, batch_size 2",
      hidden=3, inputs=2, bidir="key", seq_lens=(7, 5, 6), loss="mse", batch_size=2, biases="ih", scale=1.3,
      seed=121),
    C("birnn-relu", "rnn",
      "bidirectional elman relu rnn (implicit), lengths, no readout (output 2H), sum, batch_size 2",
      nonlinearity="relu", hidden=4, inputs=3, bidir="implicit", seq_lens=(8, 8, 8), lengths=(8, 2, 6), loss="sum",
      batch_size=2, scale=0.9, tweaks=[("alive", 0, "", 0.6), ("alive", 0, "_reverse", 0.6)], seed=111),
    C("birnn-pascanu-sigmoid", "rnn",
      "bidirectional pascanu sigmoid rnn: the reverse direction starts from x = 0 (sigma = 0.5) at each sequence's "
      "own last real step; lengths (one sequence of length 1), readout, cross_entropy",
      form="pascanu", nonlinearity="sigmoid", hidden=4, inputs=2, bidir="key", seq_lens=(9, 9, 9), lengths=(9, 1, 7),
      loss="cross_entropy", readout=3, scale=2.0, seed=112),
    C("birnn-linear-timefirst", "rnn",
      "bidirectional elman linear rnn, inputs and targets in layout time_first with lengths, no readout, mse",
      nonlinearity="linear", hidden=3, inputs=2, bidir="key", seq_lens=(8, 8), lengths=(8, 5), layout="time_first",
      loss="mse", scale=1.0, seed=113),
    C("rnn-pascanu-relu-emb", "rnn",
      "pascanu relu rnn with an embedding, data.tokens as the single-sequence shorthand [T], readout, mse",
      form="pascanu", nonlinearity="relu", hidden=4, inputs=3, vocab=5, seq_lens=(11,), loss="mse", readout=2,
      scale=0.9, tweaks=[("alive", 0, "", 0.6)], seed=114),
    C("birnn-pascanu-tanh-2layer", "rnn",
      "2-layer bidirectional pascanu tanh rnn (layer 1 input is [x_fwd, x_rev]), lengths, no readout, sum",
      form="pascanu", nonlinearity="tanh", hidden=3, inputs=2, layers=2, bidir="key", seq_lens=(8, 8), lengths=(8, 6),
      loss="sum", scale=1.2, seed=115),
    C("rnn-pascanu-linear-lengths", "rnn",
      "pascanu linear rnn with lengths and readout, mse",
      form="pascanu", nonlinearity="linear", hidden=3, inputs=2, seq_lens=(10, 10), lengths=(10, 6), loss="mse",
      readout=2, scale=0.9, seed=116),
    C("rnn-elman-sigmoid-bi-emb", "rnn",
      "bidirectional elman sigmoid rnn with an embedding and lengths, readout, cross_entropy",
      nonlinearity="sigmoid", hidden=4, inputs=2, bidir="key", vocab=6, seq_lens=(9, 9), lengths=(9, 6),
      loss="cross_entropy", readout=3, scale=2.0, seed=117),
    C("bilstm-npy-data", "lstm",
      "bidirectional LSTM whose data are files: inputs NAME.x.npy (float32 [B][T][I]), targets NAME.y.npy "
      "(float64), lengths NAME.lengths.npy (int64); mse, batch_size 2",
      hidden=3, inputs=2, bidir="key", seq_lens=(8, 8, 8), lengths=(8, 5, 3), loss="mse", readout=2, batch_size=2,
      scale=1.3, files="npy", seed=118),
    C("pt-ckpt-bilstm-proj-emb", "lstm",
      "weights from NAME.pt: a training checkpoint {epoch, step, model_state_dict, optimizer} of a DataParallel "
      "module (keys module.emb.weight, module.rnn.*, module.head.*), float32; module \"rnn\", embedding \"emb\" "
      "and readout \"head\" as prefixes; bidirectional LSTM with projections; tokens with lengths; cross_entropy",
      hidden=4, inputs=3, bidir="implicit", proj=2, vocab=6, seq_lens=(7, 7, 7), lengths=(7, 5, 2),
      loss="cross_entropy", readout=3, batch_size=2, scale=1.3, files="pt", seed=119),

    # ---------------------------------------------------------------- gate / unit findings
    C("find-lstm-forget-closed", "lstm",
      "LSTM with forget-gate bias -2.6: forget mean < 0.2 (forget-gate-closed) but not saturated (low+high < 0.9)",
      hidden=5, inputs=2, seq_lens=(10, 8), loss="mse", readout=2, scale=1.0,
      tweaks=[("gate_bias", 0, "", lstm_gate("forget"), -2.6)],
      expect=[("forget-gate-closed", 0, "forward")], seed=201),
    C("find-lstm-input-saturated", "lstm",
      "LSTM whose input gate sits at 1 (bias +6): gate-saturated on input only",
      hidden=4, inputs=2, seq_lens=(9, 7), loss="sum", readout=2, scale=1.0,
      tweaks=[("gate_bias", 0, "", lstm_gate("input"), 6.0)],
      expect=[("gate-saturated", 0, "forward")], seed=202),
    C("find-lstm-units-saturated", "lstm",
      "LSTM with input and output gates at 1, forget near 1 and the cell gate near +1, so c grows and "
      "|h| > 0.95 for most unit-steps (units-saturated); the input and output gates are saturated too "
      "(gate-saturated; the cell gate is tanh and does not count)",
      hidden=4, inputs=2, seq_lens=(10, 10), loss="sum", scale=1.0,
      tweaks=[("gate_bias", 0, "", lstm_gate("input"), 6.0), ("gate_bias", 0, "", lstm_gate("output"), 6.0),
              ("gate_bias", 0, "", lstm_gate("forget"), 3.0), ("gate_bias", 0, "", lstm_gate("cell"), 3.0)],
      expect=[("units-saturated", 0, "forward"), ("gate-saturated", 0, "forward")], seed=203),
    C("find-bilstm-proj-mixed", "lstm",
      "2-layer bidirectional LSTM with projections: layer 0 forward has a closed forget gate, layer 1 reverse a "
      "saturated output gate; layer 0 reverse and layer 1 forward are healthy (per-direction paths)",
      hidden=4, inputs=2, layers=2, bidir="key", proj=2, proj_key=True, seq_lens=(8, 8), lengths=(8, 6), loss="mse",
      readout=2, scale=1.0,
      tweaks=[("gate_bias", 0, "", lstm_gate("forget"), -2.6), ("gate_bias", 1, "_reverse", lstm_gate("output"), -6.0)],
      expect=[("forget-gate-closed", 0, "forward"), ("gate-saturated", 1, "reverse")], seed=204),
    C("find-bigru-update-saturated-reverse", "gru",
      "bidirectional GRU (reset after) whose reverse direction's update gate sits at 1: gate-saturated on "
      "layer 0 reverse only (path bias_ih_l0_reverse)",
      hidden=4, inputs=2, bidir="key", seq_lens=(9, 9), lengths=(9, 5), loss="mse", readout=2, scale=1.0,
      tweaks=[("gate_bias", 0, "_reverse", gru_gate("update"), 6.0)],
      expect=[("gate-saturated", 0, "reverse")], seed=205),
    C("find-gru-before-reset-saturated", "gru",
      "GRU reset-before whose reset gate sits at 0 (bias -6): gate-saturated on reset",
      gru_reset="before", hidden=4, inputs=2, seq_lens=(9, 7), loss="sum", readout=2, scale=1.0,
      tweaks=[("gate_bias", 0, "", gru_gate("reset"), -6.0)],
      expect=[("gate-saturated", 0, "forward")], seed=206),
    C("find-gru-units-saturated", "gru",
      "GRU (reset after) with a large new-gate input weight and update gate near 0: |h| > 0.95 for most "
      "unit-steps (units-saturated); update gate saturated low (gate-saturated)",
      hidden=4, inputs=2, seq_lens=(10, 10), loss="sum", scale=1.0,
      tweaks=[("gate_bias", 0, "", gru_gate("update"), -6.0), ("gate_scale", 0, "", gru_gate("new"), 8.0),
              ("gate_bias", 0, "", gru_gate("new"), 2.5)],
      expect=[("units-saturated", 0, "forward"), ("gate-saturated", 0, "forward")], seed=207),
    C("find-rnn-tanh-units-saturated", "rnn",
      "elman tanh rnn with large weights (scale 6): units-saturated",
      nonlinearity="tanh", hidden=5, inputs=2, seq_lens=(10, 8), loss="mse", readout=2, scale=6.0,
      expect=[("units-saturated", 0, "forward")], seed=208),
    C("find-rnn-sigmoid-units-saturated", "rnn",
      "elman sigmoid rnn with large weights: units beyond 0.05 / 0.95 (units-saturated); no gates",
      nonlinearity="sigmoid", hidden=4, inputs=2, seq_lens=(10, 10), loss="sum", readout=2, scale=7.0,
      expect=[("units-saturated", 0, "forward")], seed=209),
    C("find-rnn-pascanu-tanh-units-saturated", "rnn",
      "pascanu tanh rnn (units are tanh(x_t)) with large weights: units-saturated",
      form="pascanu", nonlinearity="tanh", hidden=4, inputs=2, seq_lens=(10, 9), loss="sum", scale=3.0,
      expect=[("units-saturated", 0, "forward")], seed=210),
    C("find-rnn-relu-dead", "rnn",
      "elman relu rnn, 2 of 6 units never positive (bias -4, non-positive recurrent row): dead-units; relu "
      "units count as never saturated",
      nonlinearity="relu", hidden=6, inputs=2, seq_lens=(10, 8, 9), loss="mse", readout=2, batch_size=2, scale=1.0,
      tweaks=[("dead", 0, "", (1, 4), -4.0)],
      expect=[("dead-units", 0, "forward")], seed=211),
    C("find-birnn-relu-2layer-dead-l1-reverse", "rnn",
      "2-layer bidirectional elman relu rnn with one dead unit in layer 1 reverse only: dead-units on "
      "weight_hh_l1_reverse",
      nonlinearity="relu", hidden=4, inputs=2, layers=2, bidir="key", seq_lens=(8, 8), lengths=(8, 5), loss="sum",
      readout=2, scale=1.0,
      tweaks=[("alive", k, s, 0.6) for k in (0, 1) for s in ("", "_reverse")] + [("dead", 1, "_reverse", (2,), -4.0)],
      expect=[("dead-units", 1, "reverse")], seed=212),
    C("find-rnn-pascanu-relu-dead", "rnn",
      "pascanu relu rnn with one unit whose x_t stays negative (relu(x) = 0 at every step): dead-units",
      form="pascanu", nonlinearity="relu", hidden=4, inputs=2, seq_lens=(10, 7), loss="sum", readout=2, scale=0.9,
      tweaks=[("dead", 0, "", (0,), -4.0)],
      expect=[("dead-units", 0, "forward")], seed=213),

    # ---------------------------------------------------------------- healthy: no gate/unit finding
    C("none-lstm", "lstm", "healthy LSTM (forget bias +1): no gate/unit finding",
      hidden=5, inputs=2, seq_lens=(10, 7), loss="mse", readout=2, scale=1.0,
      tweaks=[("gate_bias", 0, "", lstm_gate("forget"), 1.0)], seed=301),
    C("none-bigru-before", "gru", "healthy bidirectional GRU reset-before: no gate/unit finding",
      gru_reset="before", hidden=4, inputs=2, bidir="key", seq_lens=(9, 9), lengths=(9, 6), loss="sum", readout=2,
      scale=1.0, seed=302),
    C("none-rnn-tanh", "rnn", "healthy elman tanh rnn: no gate/unit finding",
      nonlinearity="tanh", hidden=4, inputs=2, seq_lens=(10, 8), loss="mse", readout=2, scale=1.0, seed=303),
    C("none-rnn-relu", "rnn", "elman relu rnn where every unit fires at some step: no dead-units (and relu is "
      "never saturated)",
      nonlinearity="relu", hidden=4, inputs=2, seq_lens=(10, 10), loss="sum", scale=1.0, seed=304),
    C("none-rnn-sigmoid", "rnn", "elman sigmoid rnn with small weights (units near 0.5): no gate/unit finding",
      nonlinearity="sigmoid", hidden=4, inputs=2, seq_lens=(9, 9), loss="sum", readout=2, scale=0.8, seed=305),

    # ---------------------------------------------------------------- clipping on many batches
    C("clip-rnn-tanh-13batches", "rnn",
      "38 sequences of input scales from 0.05 to 8, batch_size 3: 13 batches (last one 2 sequences) of clearly "
      "unequal norms; training.clip_norm 1.0 (between the smallest and largest batch norms)",
      nonlinearity="tanh", hidden=3, inputs=2, seq_lens=tuple(5 + (b * 7) % 6 for b in range(38)), loss="mse",
      readout=2, batch_size=3, clip_norm=1.0, scale=1.1, seq_scales="log:0.05:8", seed=401),
    C("clip-bilstm-lengths-12batches", "lstm",
      "24 sequences (scales 0.02 to 10) of a bidirectional LSTM with lengths, batch_size 2: 12 batches; "
      "training.clip_norm 1e-6, below every batch norm (always clips)",
      hidden=3, inputs=2, bidir="key", seq_lens=(8,) * 24, lengths=tuple(2 + (b * 5) % 7 for b in range(24)),
      loss="sum", readout=2, batch_size=2, clip_norm=1e-6, scale=1.2, seq_scales="log:0.02:10", seed=402),
    C("clip-gru-before-10batches", "gru",
      "40 sequences (scales 0.1 to 6) of a GRU reset-before, batch_size 4: 10 batches; cross_entropy; "
      "training.clip_norm 1e6, above every batch norm (never clips)",
      gru_reset="before", hidden=3, inputs=2, seq_lens=tuple(4 + (b * 3) % 5 for b in range(40)),
      loss="cross_entropy", readout=3, batch_size=4, clip_norm=1e6, scale=1.3, seq_scales="log:0.1:6", seed=403),
    C("clip-rnn-relu-11batches", "rnn",
      "22 sequences (scales 0.05 to 5) of an elman relu rnn, batch_size 2: 11 batches, an odd count, so the "
      "median is exactly one batch's norm (that batch is not clipped: the share counts norms strictly above)",
      nonlinearity="relu", hidden=4, inputs=2, seq_lens=tuple(4 + (b * 5) % 7 for b in range(22)), loss="mse",
      readout=2, batch_size=2, scale=0.9, seq_scales="log:0.05:5", seed=404),
]


# ------------------------------------------------------------------ building --

def apply_tweaks(weights, tweaks, H, cell, nonlin, form):
    """gate_bias: add a constant to bias_ih's gate block; gate_scale: multiply weight_ih's gate
    block; alive: add a constant to all of bias_ih (relu units that fire); dead: units whose bias_ih is very negative, weight_ih rows small and weight_hh row
    non-positive (relu: h >= 0, so the recurrent term cannot lift them)."""
    for tw in tweaks:
        op, k, s = tw[0], tw[1], tw[2]
        sfx = "_l%d%s" % (k, s)
        if op == "gate_bias":
            g, v = tw[3], tw[4]
            b = np.array(weights["bias_ih" + sfx])
            b[g * H:(g + 1) * H] += v
            weights["bias_ih" + sfx] = r4(b)
        elif op == "gate_scale":
            g, v = tw[3], tw[4]
            w = np.array(weights["weight_ih" + sfx])
            w[g * H:(g + 1) * H] *= v
            weights["weight_ih" + sfx] = r4(w)
        elif op == "alive":
            b = np.array(weights["bias_ih" + sfx]) + tw[3]
            weights["bias_ih" + sfx] = r4(b)
        elif op == "dead":
            units, v = tw[3], tw[4]
            wi, wh = np.array(weights["weight_ih" + sfx]), np.array(weights["weight_hh" + sfx])
            bi = np.array(weights["bias_ih" + sfx])
            for u in units:
                wi[u] *= 0.2
                wh[u] = -np.abs(wh[u])
                bi[u] = v
            weights["weight_ih" + sfx], weights["weight_hh" + sfx], weights["bias_ih" + sfx] = r4(wi), r4(wh), r4(bi)
        else:
            raise ValueError(op)


def seq_scale_list(spec, B, rng):
    if spec is None:
        return [1.0] * B
    kind, lo, hi = spec.split(":")
    assert kind == "log"
    vals = np.exp(np.linspace(np.log(float(lo)), np.log(float(hi)), B))
    return list(vals[rng.permutation(B)])


def build(c, out_dir):
    """The model dict of case c; writes the data / checkpoint files it names into out_dir."""
    rng = np.random.default_rng(c.seed)
    H, G = c.hidden, GATES[c.cell]
    P = c.proj
    Hout = P or H
    sfxs = ["", "_reverse"] if c.bidir else [""]
    k = c.scale / np.sqrt(H)
    weights = {}
    for l in range(c.layers):
        Ik = c.inputs if l == 0 else len(sfxs) * Hout
        for s in sfxs:
            sfx = "_l%d%s" % (l, s)
            weights["weight_ih" + sfx] = r4(rng.uniform(-k, k, (G * H, Ik)))
            weights["weight_hh" + sfx] = r4(rng.uniform(-k, k, (G * H, Hout)))
            if c.biases in ("both", "ih"):
                weights["bias_ih" + sfx] = r4(rng.uniform(-k, k, G * H))
            if c.biases in ("both", "hh"):
                weights["bias_hh" + sfx] = r4(rng.uniform(-k, k, G * H))
            if P:
                weights["weight_hr" + sfx] = r4(rng.uniform(-1 / np.sqrt(H), 1 / np.sqrt(H), (P, H)) * c.scale)
    apply_tweaks(weights, c.tweaks, H, c.cell, c.nonlinearity, c.form)
    # PyTorch's state_dict order: weight_ih, weight_hh, bias_ih, bias_hh, weight_hr per layer and direction
    order = ["weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"]
    weights = {"%s_l%d%s" % (n, l, s): weights["%s_l%d%s" % (n, l, s)]
               for l in range(c.layers) for s in sfxs for n in order if "%s_l%d%s" % (n, l, s) in weights}

    model = {"name": c.name, "cell": c.cell}
    if c.form:
        model["form"] = c.form
    if c.nonlinearity and c.cell == "rnn":
        model["nonlinearity"] = c.nonlinearity
    if c.gru_reset:
        model["gru_reset"] = c.gru_reset
    if c.bidir == "key":
        model["bidirectional"] = True
    if P and c.proj_key:
        model["proj_size"] = P
    emb = None
    if c.vocab:
        emb = r4(rng.normal(0, 1, (c.vocab, c.inputs)))
    D = len(sfxs) * Hout
    readout = None
    if c.readout:
        D = c.readout
        readout = {"weight": r4(rng.uniform(-0.5, 0.5, (D, len(sfxs) * Hout))), "bias": r4(rng.uniform(-0.1, 0.1, D))}

    B = len(c.seq_lens)
    scales = seq_scale_list(c.seq_scales, B, rng)
    lengths = list(c.lengths) if c.lengths else None
    real = lengths or list(c.seq_lens)
    T_arr = [c.seq_lens[b] for b in range(B)] if (c.ragged or not lengths) else [c.pad_to or max(lengths)] * B
    seqs, toks, targets = [], [], []
    for b in range(B):
        T, n = T_arr[b], real[b]
        if c.vocab:
            toks.append([int(t) for t in rng.integers(0, c.vocab, T)])
        else:
            x = rng.normal(0, 1, (T, c.inputs)) * scales[b]
            x[n:] = rng.uniform(-50, 50, (T - n, c.inputs))  # junk past the length: must be ignored
            seqs.append(r4(x))
        if c.loss == "mse":
            y = rng.normal(0, 0.5, (T, D))
            y[n:] = rng.uniform(-50, 50, (T - n, D))
            targets.append(r4(y))
        elif c.loss == "cross_entropy":
            targets.append([int(t) for t in rng.integers(0, D, T)])
    data = {}
    if c.layout == "time_first":
        data["layout"] = "time_first"
        T = T_arr[0]
        tr = lambda xs: [[xs[b][t] for b in range(B)] for t in range(T)]  # noqa: E731
    else:
        tr = lambda xs: xs  # noqa: E731
    single = B == 1
    main_key = "tokens" if c.vocab else "inputs"
    main = toks if c.vocab else seqs
    data[main_key] = main[0] if single else tr(main)
    if targets:
        data["targets"] = targets[0] if single else tr(targets)
    if lengths:
        data["lengths"] = lengths

    if c.files == "npy":
        x = np.asarray(seqs, dtype=np.float32)
        np.save(os.path.join(out_dir, c.name + ".x.npy"), x)
        np.save(os.path.join(out_dir, c.name + ".y.npy"), np.asarray(targets, dtype=np.float64))
        np.save(os.path.join(out_dir, c.name + ".lengths.npy"), np.asarray(lengths, dtype=np.int64))
        data = {"inputs": c.name + ".x.npy", "targets": c.name + ".y.npy", "lengths": c.name + ".lengths.npy"}

    model["weights"] = weights
    if emb is not None:
        model["embedding"] = {"weight": emb}
    if readout is not None:
        model["readout"] = readout
    if c.files == "pt":
        import torch
        from collections import OrderedDict
        sd = OrderedDict()
        sd["module.emb.weight"] = torch.tensor(emb, dtype=torch.float32)
        for n, v in weights.items():
            sd["module.rnn." + n] = torch.tensor(v, dtype=torch.float32)
        sd["module.head.weight"] = torch.tensor(readout["weight"], dtype=torch.float32)
        sd["module.head.bias"] = torch.tensor(readout["bias"], dtype=torch.float32)
        ckpt = {"epoch": 3, "step": 1200, "model_state_dict": sd,
                "optimizer": {"state": {}, "param_groups": [{"lr": 0.001, "params": list(range(len(sd)))}]}}
        torch.save(ckpt, os.path.join(out_dir, c.name + ".pt"))
        for key in ("embedding", "readout", "weights", "bidirectional", "proj_size"):
            model.pop(key, None)
        model["weights"] = c.name + ".pt"
        model["module"] = "rnn"
        model["embedding"] = "emb"
        model["readout"] = "head"
    model["data"] = data
    model["loss"] = c.loss
    training = {}
    if c.batch_size:
        training["batch_size"] = c.batch_size
    if c.clip_norm is not None:
        training["clip_norm"] = c.clip_norm
    if training:
        model["training"] = training
    return model


# ---------------------------------------------------------------- findings --

def findings_of(ref):
    """The gate/unit findings (gates-and-timeline.md section 1) that the figures trigger, and the
    smallest distance of any figure to its threshold."""
    out, margin = [], math.inf
    cell = ref["model"]["cell"]
    for L in ref["layers"]:
        k, rev = L["layer"], L["direction"] == "reverse"
        sfx = "_l%d%s" % (k, "_reverse" if rev else "")
        for g, st in L["gates"].items():
            if g == "forget":
                margin = min(margin, abs(st["mean"] - 0.2))
                if st["mean"] < 0.2:
                    out.append({"code": "forget-gate-closed", "layer": k, "direction": L["direction"], "gate": g,
                                "figure": st["mean"], "path": ["weights", "bias_ih" + sfx]})
            if g not in gen_reference.TANH_GATES:
                share = st["saturated_low"] + st["saturated_high"]
                margin = min(margin, abs(share - 0.9))
                if share > 0.9:
                    out.append({"code": "gate-saturated", "layer": k, "direction": L["direction"], "gate": g,
                                "figure": share, "path": ["weights", "bias_ih" + sfx]})
        u = L["units"]
        if not (cell == "rnn" and ref["model"]["nonlinearity"] in ("relu", "linear")):
            margin = min(margin, abs(u["saturated_share"] - 0.5))
        if u["saturated_share"] > 0.5:
            out.append({"code": "units-saturated", "layer": k, "direction": L["direction"],
                        "figure": u["saturated_share"], "path": ["weights", "weight_hh" + sfx]})
        alt = L.get("units_projected_h")
        if alt is not None:  # the other reading of lstm units with projections must agree on the findings
            margin = min(margin, abs(alt["saturated_share"] - 0.5))
            if (alt["saturated_share"] > 0.5) != (u["saturated_share"] > 0.5) or \
                    (alt["dead_units"] > 0) != (u["dead_units"] > 0):
                margin = -1.0
        if u["dead_units"] > 0:
            out.append({"code": "dead-units", "layer": k, "direction": L["direction"], "figure": u["dead_units"],
                        "path": ["weights", "weight_hh" + sfx]})
    return out, margin


def validate(c, ref):
    problems = []
    sc = ref["selfcheck"]
    if not sc["max"] <= SELFCHECK_MAX:
        problems.append("selfcheck max %.3g > %g: %s" % (sc["max"], SELFCHECK_MAX, json.dumps(sc)))
    if sc["stat_margin"] < CUT_MARGIN:
        problems.append("a gate/unit value lies %.3g from a cut" % sc["stat_margin"])
    if sc["dead_unit_margin"] is not None and sc["dead_unit_margin"] < DEAD_MARGIN:
        problems.append("a dead unit is only %.3g from coming alive" % sc["dead_unit_margin"])
    norms = ref["clipping"]["batch_norms"]
    for sg in ref["clipping"]["suggestions"]:
        cn = sg["clip_norm"]
        near = [n for n in norms if n != cn and abs(n - cn) <= 1e-6 * abs(cn)]
        if near:
            problems.append("batch norm %r within 1e-6 of the %s suggestion %r" % (near[0], sg["method"], cn))
    found, margin = findings_of(ref)
    if margin < FIGURE_MARGIN:
        problems.append("a gate/unit figure is only %.3g from its threshold" % margin)
    got = sorted({(f["code"], f["layer"], f["direction"]) for f in found})
    want = sorted(set(c.expect))
    if got != want:
        problems.append("findings %s, built for %s" % (got, want))
    return problems, found


# -------------------------------------------------------------------- main --

def features(c, model):
    f = [c.cell]
    if c.cell == "rnn":
        f.append("%s-%s" % (c.form or "elman", c.nonlinearity or "tanh"))
    if c.cell == "gru":
        f.append("gru_reset-" + (c.gru_reset or "after"))
    if c.layers > 1:
        f.append("%d-layer" % c.layers)
    if c.bidir:
        f.append("bidirectional-" + c.bidir)
    if c.proj:
        f.append("proj_size-" + ("key" if c.proj_key else "implicit"))
    if c.vocab:
        f.append("embedding")
    if c.lengths:
        f.append("lengths")
    if c.ragged:
        f.append("ragged")
    if c.layout:
        f.append(c.layout)
    if c.files:
        f.append("files-" + c.files)
    if c.biases != "both":
        f.append("biases-" + c.biases)
    f.append("loss-" + c.loss)
    if c.readout:
        f.append("readout")
    return f


def generate(out_dir, only=None, quiet=False):
    os.makedirs(out_dir, exist_ok=True)
    index = {"generator": "tools/make_fixtures_v2.py (references: tools/gen_reference.py --v2)",
             "finding_codes": list(FINDING_CODES), "cases": {}}
    failed = []
    for c in CASES:
        path = os.path.join(out_dir, c.name + ".rnn.json")
        if only and c.name not in only:
            with open(path) as f:
                model = json.load(f)
            with open(os.path.join(out_dir, c.name + ".ref.json")) as f:
                ref = json.load(f)
        else:
            model = build(c, out_dir)
            with open(path, "w") as f:
                f.write(json.dumps(model) + "\n")
            m = gen_reference.load_model(path)
            ref = gen_reference.build_report(m, v2=True)
            ref["notes"] = c.covers
            with open(os.path.join(out_dir, c.name + ".ref.json"), "w") as f:
                f.write(json.dumps(ref) + "\n")
        problems, found = validate(c, ref)
        if problems:
            failed.append(c.name)
            print("make_fixtures_v2: %s: %s" % (c.name, "; ".join(problems)), file=sys.stderr)
        elif not quiet:
            print("wrote %s (+ .ref.json) selfcheck %.2g, %d finding(s)" % (path, ref["selfcheck"]["max"], len(found)))
        entry = {"covers": c.covers, "features": features(c, model),
                 "findings": {"expected": found,
                              "not_expected": sorted(set(FINDING_CODES) - {f["code"] for f in found})},
                 "sequences": ref["sequences"], "steps": ref["steps"],
                 "batches": len(ref["clipping"]["batch_norms"])}
        if c.files:
            entry["files"] = sorted(f for f in os.listdir(out_dir) if f.startswith(c.name + ".")
                                    and not f.endswith((".rnn.json", ".ref.json")))
        index["cases"][c.name] = entry
    with open(os.path.join(out_dir, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    return failed


README = os.path.join(HERE, "README.md")
TABLE_BEGIN, TABLE_END = "<!-- cases:begin (make_fixtures_v2.py --table) -->", "<!-- cases:end -->"


def case_table(index):
    rows = ["| case | covers | gate/unit findings |", "|---|---|---|"]
    for c in CASES:
        e = index["cases"][c.name]
        f = ", ".join("%s (l%d %s)" % (x["code"], x["layer"], x["direction"]) for x in e["findings"]["expected"])
        rows.append("| %s | %s | %s |" % (c.name, c.covers.replace("|", "/"), f or "—"))
    return "\n".join(rows) + "\n"


def readme_table_current(out_dir):
    with open(os.path.join(out_dir, "index.json")) as f:
        table = case_table(json.load(f))
    with open(README) as f:
        text = f.read()
    if TABLE_BEGIN not in text or TABLE_END not in text:
        return False
    return text.split(TABLE_BEGIN, 1)[1].split(TABLE_END, 1)[0].strip("\n") == table.strip("\n")


def check(out_dir, strict, generate_fn=None):
    """Regenerate into a temporary folder with generate_fn(dir) (returns failed names) and
    compare with out_dir; returns the exit status."""
    generate_fn = generate_fn or (lambda d: generate(d, quiet=True))
    tmp = tempfile.mkdtemp(prefix="fixtures-check-")
    try:
        failed = generate_fn(tmp)
        bad = list(failed)
        last_bits = []
        names = sorted(set(os.listdir(tmp)) | set(os.listdir(out_dir)))
        for n in names:
            a, b = os.path.join(out_dir, n), os.path.join(tmp, n)
            if not os.path.exists(a) or not os.path.exists(b):
                bad.append(n)
                print("check: %s exists on one side only" % n)
                continue
            if filecmp.cmp(a, b, shallow=False):
                continue
            if n.endswith(".ref.json"):
                with open(a) as f:
                    ra = json.load(f)
                with open(b) as f:
                    rb = json.load(f)
                d = ref_diff.compare(ra, rb, SELFCHECK_MAX)
                worst = max(d.worst.values()) if d.worst else 0.0
                print("check: %s differs in bytes; largest relative difference %.3g%s"
                      % (n, worst, "" if not d.bad else " (%d above %g)" % (len(d.bad), SELFCHECK_MAX)))
                if d.bad or strict:
                    bad.append(n)
                else:
                    last_bits.append(n)
            else:
                print("check: %s differs" % n)
                bad.append(n)
        print("check: %d files, %s" % (len(names), "%d differ: %s" % (len(bad), ", ".join(bad)) if bad else
                                       "all reproduced" + (" (%d reference(s) within %g, not byte for byte)"
                                                           % (len(last_bits), SELFCHECK_MAX) if last_bits else
                                                           " byte for byte")))
        return 1 if bad else 0
    finally:
        shutil.rmtree(tmp)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--only", nargs="*", help="case names to regenerate (the index is rewritten from all)")
    ap.add_argument("--check", action="store_true", help="regenerate into a temp folder and compare with --out")
    ap.add_argument("--strict", action="store_true", help="with --check: any byte difference fails")
    ap.add_argument("--list", action="store_true", help="list the case names")
    ap.add_argument("--table", action="store_true",
                    help="print the README's case table (from index.json) and rewrite it in tools/README.md")
    args = ap.parse_args(argv)
    import torch
    torch.set_num_threads(1)
    if args.list:
        for c in CASES:
            print(c.name)
        return 0
    if args.table:
        with open(os.path.join(args.out, "index.json")) as f:
            table = case_table(json.load(f))
        with open(README) as f:
            text = f.read()
        head, rest = text.split(TABLE_BEGIN, 1)
        tail = rest.split(TABLE_END, 1)[1]
        with open(README, "w") as f:
            f.write(head + TABLE_BEGIN + "\n" + table + TABLE_END + tail)
        print(table, end="")
        return 0
    if args.check:
        rc = check(os.path.abspath(args.out), args.strict)
        if os.path.abspath(args.out) == os.path.abspath(DEFAULT_OUT) and not readme_table_current(args.out):
            print("check: the case table in tools/README.md is out of date: run make_fixtures_v2.py --table")
            rc = 1
        return rc
    failed = generate(os.path.abspath(args.out), args.only)
    if failed:
        print("make_fixtures_v2: %d case(s) failed validation: %s" % (len(failed), ", ".join(failed)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
