#!/usr/bin/python3
"""train_timeline.py [--only examples|fixtures] [--examples DIR] [--fixtures DIR] [--check]

Trains a small LSTM on the adding problem with PyTorch, twice (with and without
gradient clipping), saving a training checkpoint every EVERY steps the way users
do, and writes everything `rnn-gradients track` needs to show a training
timeline, plus independent figures to test it against:

  examples/timeline/
    unclipped/step_NNNNN.pt   the run without clipping (its gradient norm spikes)
    clipped/step_NNNNN.pt     the same run with clip_grad_norm_(..., CLIP_NORM)
    x.npy, y.npy              the fixed evaluation batch (inputs, targets)
    adding.rnn.json           the model file (JSONC): module, readout, data, loss, training
    expected.json             per checkpoint: loss, grad_norm, batch norms, clipping
                              recommendation, lag-slope regime; and the timeline findings

  test/fixtures/timeline/     tiny series (H=4) for unit tests: calm, norm spike, clip
                              drift, regime change, step detection from keys / names /
                              order, mixed architectures, a corrupt checkpoint; one
                              model.rnn.json and one expected.json for all of them

The expected figures are computed in float64, independently of the TypeScript
engine, with the definitions of shared/spec/model-format.md (per-step mse, sum
over time, mean over sequences), report-format (lag norms of the state
s_j = (h_j, c_j) with the total derivative for c_j, see tools/README.md), the
README's regime rule and gates-and-timeline.md section 2 (timeline findings).
The example runs use a batched backward recursion (fast enough for 64 sequences
of 50 steps); the fixtures use tools/gen_reference.py (autograd per loss term).
--check cross-checks the two on slices of the example checkpoints.

Deterministic: fixed seeds, torch.use_deterministic_algorithms(True), one
thread, CPU, float32 training. torch 1.13's zip writer stores fixed timestamps
(1980-01-01) and names the archive's top folder after the file name, so a rerun
writes the same bytes for the same file names on the same machine and build
(see tools/README.md).
"""
import argparse
import copy
import json
import math
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import gen_reference  # noqa: E402

DT = torch.float64

# ----------------------------------------------------------- the example run -----
SEED = 0                 # model initialisation (torch.manual_seed)
DATA_SEED = 1            # training batches (numpy default_rng)
EVAL_SEED = 12345        # the fixed evaluation batch
HIDDEN = 32
SEQ_LEN = 50
TRAIN_BATCH = 16
EVAL_SEQUENCES = 64      # four batches of TRAIN_BATCH in the model file's clipping section
STEPS = 360
EVERY = 36               # a checkpoint every EVERY optimizer steps: 11 per run
LR = 5e-3                # reached after WARMUP steps of linear warmup (LambdaLR)
WARMUP = 100
MOMENTUM = 0.9
FORGET_BIAS = 1.0        # bias_ih's forget-gate block, a common LSTM recipe
CLIP_NORM = 50.0         # clip_grad_norm_ threshold of the clipped run

# The README's regime rule (rnnGradients.regime.* defaults).
VANISHING = -0.03
EXPLODING = 0.01
MIN_COUNT_SHARE = 0.25
# gates-and-timeline.md section 2.
SPIKE_FACTOR = 10.0
DRIFT_FACTOR = 4.0


class AddingModel(nn.Module):
    """The model as a user writes it: an LSTM encoder and a linear head on every step."""

    def __init__(self, hidden):
        super().__init__()
        self.encoder = nn.LSTM(2, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        y, _ = self.encoder(x)
        return self.head(y)


class AddingGRU(nn.Module):
    """The same model with a GRU: the odd one out in the mixed-architecture fixture."""

    def __init__(self, hidden):
        super().__init__()
        self.encoder = nn.GRU(2, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        y, _ = self.encoder(x)
        return self.head(y)


def adding_batch(rng, sequences, steps, decimals=None):
    """The adding problem with a per-step target.

    Input step t is (u_t, m_t): u_t ~ U(0, 1) and a marker m_t that is 1 at two
    steps, one in each half of the sequence. The classic target is the sum of the
    two marked values at the last step; here the target at every step is the
    running sum y_t = sum_{j<=t} m_j u_j (0 before the first marker, the first
    value until the second marker, then the classic answer). Every step then has
    a meaningful mse term, as the model format's per-step loss wants, and the
    model still has to carry the first value across up to T-1 steps.
    """
    u = rng.random((sequences, steps))
    if decimals is not None:
        u = np.round(u, decimals)
    m = np.zeros((sequences, steps))
    half = steps // 2
    rows = np.arange(sequences)
    m[rows, rng.integers(0, half, size=sequences)] = 1.0
    m[rows, rng.integers(half, steps, size=sequences)] = 1.0
    x = np.stack([u, m], axis=-1)
    y = np.cumsum(u * m, axis=1)[..., None]
    return x, y


def sequence_loss(out, y):
    """The model format's mse: per step (1/D) sum_d (o - y)^2, summed over time, averaged over sequences."""
    return ((out - y) ** 2).mean(-1).sum(1).mean(0)


def setup_torch():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def train_run(out_dir, clip_norm, *, hidden=HIDDEN, seq_len=SEQ_LEN, batch=TRAIN_BATCH, steps=STEPS,
              every=EVERY, lr=LR, warmup=WARMUP, momentum=MOMENTUM, forget_bias=FORGET_BIAS, seed=SEED,
              data_seed=DATA_SEED):
    """Trains AddingModel with SGD (momentum, linear warmup) and saves a checkpoint every `every` steps.

    Step s's checkpoint holds the parameters after s updates, the optimizer state
    after s updates and the training loss of those parameters on batch s.
    Returns [(step, path, state_dict copy, loss, raw grad norm of batch s)].
    """
    setup_torch()
    torch.manual_seed(seed)
    model = AddingModel(hidden)
    with torch.no_grad():
        model.encoder.bias_ih_l0[hidden:2 * hidden].fill_(forget_bias)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup))
    rng = np.random.default_rng(data_seed)
    os.makedirs(out_dir, exist_ok=True)
    saved = []
    for step in range(steps + 1):
        x, y = adding_batch(rng, batch, seq_len)
        out = model(torch.from_numpy(x.astype(np.float32)))
        loss = sequence_loss(out, torch.from_numpy(y.astype(np.float32)))
        opt.zero_grad()
        loss.backward()
        raw = math.sqrt(sum(float((p.grad.double() ** 2).sum()) for p in model.parameters()))
        if step % every == 0:
            path = os.path.join(out_dir, f"step_{step:05d}.pt")
            torch.save({"step": step, "model_state_dict": model.state_dict(),
                        "optimizer_state_dict": opt.state_dict(), "loss": float(loss)}, path)
            saved.append((step, path, {k: v.clone() for k, v in model.state_dict().items()}, float(loss), raw))
        if step == steps:
            break
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        opt.step()
        sched.step()
    return saved


# ------------------------------------------------------- float64 evaluation -----

LSTM_KEYS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def lstm_params(sd, module="encoder", readout="head"):
    p = {k: sd[f"{module}.{k}"] for k in LSTM_KEYS}
    p["readout.weight"] = sd[f"{readout}.weight"]
    p["readout.bias"] = sd[f"{readout}.bias"]
    return {k: v.detach().to(DT).clone() for k, v in p.items()}


def lstm_forward(p, x):
    """One-layer LSTM (PyTorch gate order i, f, g, o), batched over sequences, step by step."""
    B, T, _ = x.shape
    H = p["weight_hh_l0"].shape[1]
    h = x.new_zeros(B, H)
    c = x.new_zeros(B, H)
    pre = x @ p["weight_ih_l0"].t() + p["bias_ih_l0"] + p["bias_hh_l0"]
    hs, cs, gates, tcs = [], [], [], []
    for t in range(T):
        z = pre[:, t] + h @ p["weight_hh_l0"].t()
        i = torch.sigmoid(z[:, :H])
        f = torch.sigmoid(z[:, H:2 * H])
        g = torch.tanh(z[:, 2 * H:3 * H])
        o = torch.sigmoid(z[:, 3 * H:])
        c = f * c + i * g
        tc = torch.tanh(c)
        h = o * tc
        hs.append(h)
        cs.append(c)
        gates.append((i, f, g, o))
        tcs.append(tc)
    out = torch.stack(hs, 1) @ p["readout.weight"].t() + p["readout.bias"]
    return out, cs, gates, tcs


def gradient_of(p, x, y):
    leaves = {k: v.clone().requires_grad_(True) for k, v in p.items()}
    out, _, _, _ = lstm_forward(leaves, x)
    loss = sequence_loss(out, y)
    grads = torch.autograd.grad(loss, list(leaves.values()))
    return float(loss), dict(zip(leaves, grads))


def lag_means(p, x, y):
    """Mean over (sequence, t) of ||d eps_{b,t} / d s_{t-l}|| for every lag l, s_j = (h_j, c_j).

    A batched BPTT: row t of dH / dC holds d eps_t / d h_j and the part of
    d eps_t / d c_j carried from c_{j+1}; the total d eps_t / d c_j adds the
    path c_j -> h_j (the reading of the golden references)."""
    B, T, _ = x.shape
    H = p["weight_hh_l0"].shape[1]
    with torch.no_grad():
        out, cs, gates, tcs = lstm_forward(p, x)
        D = out.shape[-1]
        direct = (2.0 / D) * (out - y) @ p["readout.weight"]  # d eps_t / d h_t through o_t, [B][T][H]
        dH = torch.zeros(B, T, H, dtype=DT)
        dC = torch.zeros(B, T, H, dtype=DT)
        sums = torch.zeros(T, dtype=DT)
        for j in range(T - 1, -1, -1):
            dh = dH[:, j:]
            dh[:, 0] = direct[:, j]
            i, f, g, o = gates[j]
            dc = dC[:, j:]
            dc += dh * (o * (1 - tcs[j] ** 2))[:, None]
            sums[:T - j] += ((dh * dh).sum(-1) + (dc * dc).sum(-1)).sqrt().sum(0)
            if j == 0:
                break
            dz = torch.cat([dc * (g * i * (1 - i))[:, None], dc * (cs[j - 1] * f * (1 - f))[:, None],
                            dc * (i * (1 - g * g))[:, None], dh * (tcs[j] * o * (1 - o))[:, None]], -1)
            dc.mul_(f[:, None])
            dH[:, j:] = dz @ p["weight_hh_l0"]
    counts = [B * (T - lag) for lag in range(T)]
    return [float(s) / n for s, n in zip(sums, counts)], counts


def regime_of(means, counts):
    """The README's regime rule on one layer's mean lag norms (lstm: no Pascanu fallback)."""
    pts = []
    for lag, (m, n) in enumerate(zip(means, counts)):
        if n < max(1, MIN_COUNT_SHARE * counts[0]):
            break
        pts.append((lag, math.log10(m) if m > 0 else -400.0))
    if len(pts) < 3:
        return {"regime": "stable", "log10_rate_per_step": None, "measured_lag": pts[-1][0] if pts else 0}
    mx = sum(a for a, _ in pts) / len(pts)
    my = sum(b for _, b in pts) / len(pts)
    sxy = sum((a - mx) * (b - my) for a, b in pts)
    sxx = sum((a - mx) ** 2 for a, _ in pts)
    rate = sxy / sxx if sxx else 0.0
    regime = "vanishing" if rate <= VANISHING else "exploding" if rate >= EXPLODING else "stable"
    return {"regime": regime, "log10_rate_per_step": rate, "measured_lag": pts[-1][0]}


def clipping_of(norms, max_abs):
    return {"clip_norm": sum(norms) / len(norms), "clip_value": sum(max_abs) / len(max_abs)}


def analyze_lstm(sd, x, y, batch_size):
    """The figures a timeline entry carries, for a one-layer LSTM checkpoint on (x, y)."""
    p = lstm_params(sd)
    X = torch.as_tensor(x, dtype=DT)
    Y = torch.as_tensor(y, dtype=DT)
    loss, grads = gradient_of(p, X, Y)
    grad_norm = math.sqrt(sum(float((g * g).sum()) for g in grads.values()))
    norms, max_abs = [], []
    for s in range(0, X.shape[0], batch_size):
        _, gb = gradient_of(p, X[s:s + batch_size], Y[s:s + batch_size])
        norms.append(math.sqrt(sum(float((g * g).sum()) for g in gb.values())))
        max_abs.append(max(float(g.abs().max()) for g in gb.values()))
    means, counts = lag_means(p, X, Y)
    fit = regime_of(means, counts)
    sigma = float(torch.linalg.svdvals(p["weight_hh_l0"])[0])
    layer = {"layer": 0, "direction": "forward", "regime": fit["regime"],
             "log10_rate_per_step": fit["log10_rate_per_step"], "sigma_max": sigma,
             "measured_lag": fit["measured_lag"],
             "log10_mean_lag0": math.log10(means[0]),
             "log10_mean_last": math.log10(means[fit["measured_lag"]])}
    return {"loss": loss, "grad_norm": grad_norm, "batch_norms": norms, "batch_max_abs": max_abs,
            "recommended": clipping_of(norms, max_abs), "layers": [layer], "_means": means}


def reference_entry(model, base_dir):
    """The same figures from tools/gen_reference.py (autograd per loss term, its own allow-list
    reader for the checkpoint named by model["weights"]), for small models."""
    rep = gen_reference.build_report(gen_reference.parse_model(model, base_dir), v2=True, selfcheck=False)
    lags = rep["layers"][0]["lags"]
    fit = regime_of([row["mean"] for row in lags], [row["count"] for row in lags])
    norms, max_abs = rep["clipping"]["batch_norms"], rep["clipping"]["batch_max_abs"]
    layer = {"layer": 0, "direction": "forward", "regime": fit["regime"],
             "log10_rate_per_step": fit["log10_rate_per_step"], "sigma_max": rep["layers"][0]["sigma_max"],
             "measured_lag": fit["measured_lag"],
             "log10_mean_lag0": math.log10(lags[0]["mean"]),
             "log10_mean_last": math.log10(lags[fit["measured_lag"]]["mean"])}
    return {"cell": rep["model"]["cell"], "loss": rep["loss"], "grad_norm": rep["grad_norm"],
            "batch_norms": norms, "batch_max_abs": max_abs, "recommended": clipping_of(norms, max_abs),
            "layers": [layer], "_means": [row["mean"] for row in lags]}


def timeline_findings(entries):
    """regime-change, grad-norm-spike and clip-drift (gates-and-timeline.md section 2) over ok entries."""
    ok = [e for e in entries if "error" not in e]
    out = []
    for prev, cur in zip(ok, ok[1:]):
        for lp, lc in zip(prev["layers"], cur["layers"]):
            if lp["regime"] != lc["regime"]:
                out.append({"code": "regime-change", "step": cur["step"], "layer": lc["layer"],
                            "from": lp["regime"], "to": lc["regime"]})
    for k in range(1, len(ok)):
        med = float(np.median([e["grad_norm"] for e in ok[:k]]))
        if ok[k]["grad_norm"] > SPIKE_FACTOR * med:
            out.append({"code": "grad-norm-spike", "step": ok[k]["step"],
                        "ratio_to_median_before": ok[k]["grad_norm"] / med})
    if len(ok) >= 2:
        a, b = ok[0]["recommended"]["clip_norm"], ok[-1]["recommended"]["clip_norm"]
        if b > DRIFT_FACTOR * a or a > DRIFT_FACTOR * b:
            out.append({"code": "clip-drift", "step": ok[-1]["step"], "from": a, "to": b, "ratio": b / a})
    order = {"regime-change": 0, "grad-norm-spike": 1, "clip-drift": 2}
    return sorted(out, key=lambda f: (f["step"], order[f["code"]]))


def public(entry):
    return {k: v for k, v in entry.items() if not k.startswith("_")}


# ------------------------------------------------------------------ examples -----

MODEL_FILE = """// A training timeline: a one-layer LSTM (hidden size {H}) learning the adding problem with SGD.
// Written by tools/train_timeline.py (see tools/README.md, "train_timeline.py"); rerun it to rebuild
// this folder. Try:
//   rnn-gradients track unclipped --model adding.rnn.json
//   rnn-gradients track clipped --model adding.rnn.json
// `track --model` replaces "weights" below with each checkpoint in turn; everything else applies
// to every checkpoint.
{{
  "name": "adding-problem LSTM",
  // A PyTorch training checkpoint, torch.save({{"step", "model_state_dict", "optimizer_state_dict",
  // "loss"}}): the state_dict of the whole AddingModel is found inside it. This one is the step
  // where the unclipped run's gradient norm spikes.
  "weights": "{weights}",
  // AddingModel keeps its nn.LSTM(2, {H}, batch_first=True) in self.encoder and its nn.Linear({H}, 1)
  // in self.head: keys encoder.weight_hh_l0, ..., head.weight, head.bias.
  "module": "encoder",
  "readout": "head",
  // The fixed evaluation batch: {B} sequences of {T} steps, float32. x.npy is [{B}][{T}][2], each step
  // (value in [0, 1), marker 0 or 1; two markers per sequence, one in each half). y.npy is
  // [{B}][{T}][1], the running sum of the marked values: 0 before the first marker, the first value
  // until the second, then the adding problem's answer. Per-step targets give every step a
  // meaningful mse term, and the first value must still be carried across up to {Tm1} steps.
  "data": {{ "inputs": "x.npy", "targets": "y.npy" }},
  // Per-step mse, summed over time and averaged over sequences: exactly the loss the script
  // trains with, so the report's batch norms are on the scale of the norms clip_grad_norm_ saw.
  "loss": "mse",
  "training": {{
    // The clipped run's clip_grad_norm_ threshold (the unclipped run had none).
    "clip_norm": {clip},
    // Training batches of {bs} sequences: the {B} evaluation sequences give {nb} batch norms.
    "batch_size": {bs},
  }},
}}
"""


def write_examples(out, check=False):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(EVAL_SEED)
    x, y = adding_batch(rng, EVAL_SEQUENCES, SEQ_LEN)
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    np.save(os.path.join(out, "x.npy"), x32)
    np.save(os.path.join(out, "y.npy"), y32)
    runs = {}
    for name, clip in (("unclipped", None), ("clipped", CLIP_NORM)):
        d = os.path.join(out, name)
        if os.path.isdir(d):
            shutil.rmtree(d)
        saved = train_run(d, clip)
        entries = []
        for step, path, sd, train_loss, raw in saved:
            e = analyze_lstm(sd, x32, y32, TRAIN_BATCH)
            entry = {"file": os.path.relpath(path, out), "step": step, "train_loss": train_loss,
                     "train_grad_norm": raw}
            entry.update(public(e))
            entries.append(entry)
            lay = e["layers"][0]
            print(f"  {name} step {step:4d}: loss {e['loss']:.4g} grad_norm {e['grad_norm']:.4g} "
                  f"rate {lay['log10_rate_per_step']:+.4f} {lay['regime']} sigma_max {lay['sigma_max']:.3g} "
                  f"clip_norm {e['recommended']['clip_norm']:.4g}", file=sys.stderr)
        runs[name] = {"clip_norm": clip, "entries": entries, "findings": timeline_findings(entries)}
        if check:
            check_against_reference(saved, x32, y32)
    spike = [f["step"] for f in runs["unclipped"]["findings"] if f["code"] == "grad-norm-spike"]
    shown = spike[0] if spike else saved[-1][0]
    text = MODEL_FILE.format(H=HIDDEN, B=EVAL_SEQUENCES, T=SEQ_LEN, Tm1=SEQ_LEN - 1, clip=json.dumps(CLIP_NORM),
                             bs=TRAIN_BATCH, nb=EVAL_SEQUENCES // TRAIN_BATCH,
                             weights=f"unclipped/step_{shown:05d}.pt")
    with open(os.path.join(out, "adding.rnn.json"), "w") as f:
        f.write(text)
    expected = {
        "generator": "tools/train_timeline.py",
        "about": "Figures of every checkpoint analyzed with adding.rnn.json, computed in float64 by "
                 "PyTorch (batched BPTT, cross-checked against tools/gen_reference.py). loss, grad_norm, "
                 "batch_norms and recommended are the report's; layers[0].log10_rate_per_step is the "
                 "regime rule's slope over lags 0..measured_lag. train_loss is the checkpoint's own "
                 "'loss' (its training batch), train_grad_norm the raw gradient norm of that batch "
                 "before clipping.",
        "model": "adding.rnn.json",
        "settings": {"hidden_size": HIDDEN, "steps": STEPS, "every": EVERY, "sequence_length": SEQ_LEN,
                     "train_batch": TRAIN_BATCH, "optimizer": "SGD", "lr": LR, "warmup": WARMUP,
                     "momentum": MOMENTUM,
                     "forget_bias": FORGET_BIAS, "clip_norm": CLIP_NORM, "seed": SEED,
                     "data_seed": DATA_SEED, "eval_seed": EVAL_SEED, "eval_sequences": EVAL_SEQUENCES},
        "thresholds": {"vanishing": VANISHING, "exploding": EXPLODING, "spike_factor": SPIKE_FACTOR,
                       "drift_factor": DRIFT_FACTOR},
        "runs": runs,
    }
    write_json(os.path.join(out, "expected.json"), expected)
    return runs


def check_against_reference(saved, x, y, sequences=4, steps=30, tol=1e-9):
    """analyze_lstm against gen_reference.py on the first sequences/steps of the data; gen_reference
    reads each checkpoint file itself (no torch.load)."""
    xs, ys = x[:sequences, :steps], y[:sequences, :steps]
    data = {"inputs": xs.astype(np.float64).tolist(), "targets": ys.astype(np.float64).tolist()}
    for step, path, sd, _, _ in saved:
        a = analyze_lstm(sd, xs, ys, 2)
        b = reference_entry({"weights": os.path.basename(path), "module": "encoder", "readout": "head",
                             "data": data, "loss": "mse", "training": {"batch_size": 2}}, os.path.dirname(path))
        pairs = [("loss", a["loss"], b["loss"]), ("grad_norm", a["grad_norm"], b["grad_norm"])]
        pairs += [(f"batch_norms[{i}]", u, v) for i, (u, v) in enumerate(zip(a["batch_norms"], b["batch_norms"]))]
        pairs += [(f"batch_max_abs[{i}]", u, v) for i, (u, v) in enumerate(zip(a["batch_max_abs"], b["batch_max_abs"]))]
        pairs += [(f"lag {i} mean", u, v) for i, (u, v) in enumerate(zip(a["_means"], b["_means"]))]
        worst = max(abs(u - v) / max(abs(v), 1e-300) for _, u, v in pairs)
        bad = [n for n, u, v in pairs if abs(u - v) > tol * max(abs(v), 1e-300)]
        print(f"  check {os.path.basename(path)}: {len(pairs)} figures, worst relative difference {worst:.2e}",
              file=sys.stderr)
        if bad:
            raise SystemExit(f"train_timeline: check failed for {path}: {bad[:5]}")


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


# ------------------------------------------------------------------ fixtures -----

FX_HIDDEN = 4
FX_T = 16
FX_B = 4
FX_BATCH = 2
FX_CLIP = 10.0


FX_WARMUP = 200           # the calm series starts after this many steps of training


def fixture_states():
    """Five checkpoints (steps 200, 210, ..., 240) of a tiny AddingModel trained with SGD, and its optimizer."""
    setup_torch()
    torch.manual_seed(7)
    model = AddingModel(FX_HIDDEN)
    with torch.no_grad():
        model.encoder.bias_ih_l0[FX_HIDDEN:2 * FX_HIDDEN].fill_(1.0)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    rng = np.random.default_rng(8)
    states = []
    for step in range(FX_WARMUP + 41):
        x, y = adding_batch(rng, 8, FX_T)
        loss = sequence_loss(model(torch.from_numpy(x.astype(np.float32))), torch.from_numpy(y.astype(np.float32)))
        opt.zero_grad()
        loss.backward()
        if step >= FX_WARMUP and step % 10 == 0:
            states.append((step, copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict()), float(loss)))
        opt.step()
    return states


def scaled(sd, **factors):
    """A copy of a state_dict with some tensors multiplied (keys with '.' as '__')."""
    out = {k: v.clone() for k, v in sd.items()}
    for k, f in factors.items():
        out[k.replace("__", ".")] = out[k.replace("__", ".")] * f
    return out


def gru_state():
    torch.manual_seed(11)
    return {k: v.clone() for k, v in AddingGRU(FX_HIDDEN).state_dict().items()}


def write_fixtures(out):
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    rng = np.random.default_rng(3)
    x, y = adding_batch(rng, FX_B, FX_T, decimals=4)
    data = {"inputs": x.tolist(), "targets": y.tolist()}
    states = fixture_states()
    sds = [s[1] for s in states]
    steps = [s[0] for s in states]

    series = {}

    def save(name, fname, obj):
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        torch.save(obj, os.path.join(d, fname))
        return f"{name}/{fname}"

    # calm: a real (slow) training run, full checkpoint dicts with optimizer state.
    series["calm"] = {"about": "a slow SGD run: nothing happens (no finding)", "step_source": "step", "files": [
        (save("calm", f"step_{s:05d}.pt", {"step": s, "model_state_dict": sd, "optimizer_state_dict": opt, "loss": lo}),
         s, sd) for (s, sd, opt, lo) in states]}
    # spike: the calm weights, but at the fourth checkpoint the readout is 5x larger: every gradient grows.
    spike_sds = [scaled(sd, head__weight=5.0) if s == steps[3] else sd for s, sd in zip(steps, sds)]
    series["spike"] = {"about": "Lightning-style dicts {epoch, global_step, state_dict}: global_step wins over "
                                f"epoch; head.weight x5 at step {steps[3]} gives a grad-norm spike there only",
                       "step_source": "global_step", "files": [
        (save("spike", f"epoch=0-step={s}.ckpt", {"epoch": 0, "global_step": s, "state_dict": sd}), s, sd)
        for s, sd in zip(steps, spike_sds)]}
    # drift: the readout grows steadily, so the recommended clip_norm drifts without a spike.
    drift = [1.0, 1.3, 1.6, 1.9, 2.2]
    drift_sds = [scaled(sd, head__weight=f) for sd, f in zip(sds, drift)]
    series["drift"] = {"about": "dicts {iteration, model}: head.weight grows 1 -> 2.2x, the recommended "
                                "clip_norm drifts more than 4x without a spike",
                       "step_source": "iteration", "files": [
        (save("drift", f"iter_{s}.pth", {"iteration": s, "model": sd}), s, sd) for s, sd in zip(steps, drift_sds)]}
    # regime: from the fourth checkpoint on, the recurrent layer is replaced by a large random W_hh
    # (N(0, 1) x 3, seeded) with zero biases and forget-gate bias 2: its lag norms grow, it turns exploding.
    gen = torch.Generator().manual_seed(0)
    big = torch.randn(4 * FX_HIDDEN, FX_HIDDEN, generator=gen) * 3.0

    def regime_sd(sd, k):
        out_sd = {kk: v.clone() for kk, v in sd.items()}
        out_sd["encoder.weight_hh_l0"] = big * (1.0 + 0.05 * k)
        out_sd["head.weight"] = out_sd["head.weight"] * 0.3  # keeps the gradient norm (and clip_norm) in range
        out_sd["encoder.bias_hh_l0"] = torch.zeros(4 * FX_HIDDEN)
        out_sd["encoder.bias_ih_l0"] = torch.zeros(4 * FX_HIDDEN)
        out_sd["encoder.bias_ih_l0"][FX_HIDDEN:2 * FX_HIDDEN] = 2.0
        return out_sd
    change = steps[3]
    regime_sds = [regime_sd(sd, k) if s >= change else sd for k, (s, sd) in enumerate(zip(steps, sds))]
    series["regime"] = {"about": f"a large random W_hh and forget-gate bias 2 from step {change} on: "
                                 f"regime-change (vanishing -> exploding) at step {change}",
                        "step_source": "step", "files": [
        (save("regime", f"step_{s:05d}.pt", {"step": s, "model_state_dict": sd, "loss": lo}), s, sd)
        for (s, sd, lo) in zip(steps, regime_sds, [st[3] for st in states])]}
    # steps from the `epoch` key; the names carry no integer and sort differently from the epochs.
    names = ["delta.pt", "alpha.pt", "echo.pt", "bravo.pt", "charlie.pt"]
    series["epoch-keys"] = {"about": "file names without integers, dicts {epoch, model_state_dict}: steps from "
                                     "epoch; name order differs from epoch order",
                            "step_source": "epoch", "files": [
        (save("epoch-keys", n, {"epoch": k + 1, "model_state_dict": sd}), k + 1, sd)
        for k, (n, sd) in enumerate(zip(names, sds))]}
    # steps from the last integer of the file name; bare state_dicts; lexical order is not numeric order.
    name_steps = [5, 20, 100, 250, 1000]
    series["name-steps"] = {"about": "bare state_dicts torch.save(model.state_dict(), 'run2_step_N.pt'): the "
                                     "step is the last integer of the name (not 2), numeric not lexical order",
                            "step_source": "name", "files": [
        (save("name-steps", f"run2_step_{s}.pt", sd), s, sd) for s, sd in zip(name_steps, sds)]}
    # neither: bare state_dicts, names without integers: the step is the order by name.
    order_names = ["a-first.pt", "b-second.pt", "c-third.pt", "d-fourth.pt", "e-fifth.pt"]
    series["no-steps"] = {"about": "bare state_dicts whose names carry no integer: steps from the order by name "
                                   "(index shown 0-based here; the spec does not fix the base)",
                          "step_source": "order", "files": [
        (save("no-steps", n, sd), k, sd) for k, (n, sd) in enumerate(zip(order_names, sds))]}
    # mixed architectures: the third checkpoint is a GRU.
    mixed_sds = [gru_state() if s == steps[2] else sd for s, sd in zip(steps, sds)]
    series["mixed"] = {"about": f"step {steps[2]} holds a GRU (encoder.weight_hh_l0 [12][4]) among LSTM checkpoints",
                       "step_source": "step", "files": [
        (save("mixed", f"step_{s:05d}.pt", {"step": s, "model_state_dict": sd}), s, sd)
        for s, sd in zip(steps, mixed_sds)]}
    # corrupt: the third checkpoint is cut in half (a zip without its central directory).
    files = []
    for s, sd in zip(steps, sds):
        rel = save("corrupt", f"step_{s:05d}.pt", {"step": s, "model_state_dict": sd})
        if s == steps[2]:
            p = os.path.join(out, rel)
            blob = open(p, "rb").read()
            with open(p, "wb") as f:
                f.write(blob[:len(blob) // 2])
            files.append((rel, s, None))
        else:
            files.append((rel, s, sd))
    series["corrupt"] = {"about": f"step {steps[2]} is truncated to half its bytes: an entry with an error, the others "
                                  "analyze", "step_source": "step", "files": files}

    result = {}
    for name, spec in series.items():
        entries = []
        for rel, step, sd in spec["files"]:
            if sd is None:
                entries.append({"file": rel, "step": step, "error": "truncated zip (no end of central directory)"})
                continue
            e = reference_entry({"weights": rel, "module": "encoder", "readout": "head", "data": data,
                                 "loss": "mse", "training": {"batch_size": FX_BATCH}}, out)
            entry = {"file": rel, "step": step}
            entry.update(public(e))
            entries.append(entry)
        entries.sort(key=lambda e: e["step"])
        lstm_only = [e for e in entries if e.get("cell", "lstm") == "lstm"]
        result[name] = {"about": spec["about"], "step_source": spec["step_source"], "entries": entries,
                        "findings": timeline_findings(lstm_only)}
        line = " ".join(f"{e['step']}:{'ERR' if 'error' in e else e['layers'][0]['regime'][:4]}/"
                        f"{'' if 'error' in e else format(e['grad_norm'], '.3g')}" for e in entries)
        print(f"  {name}: {line} | {[(f['code'], f['step']) for f in result[name]['findings']]}", file=sys.stderr)

    rows = lambda arr: ",\n".join("    " + json.dumps(seq) for seq in arr)  # noqa: E731 one sequence a line
    model_text = (
        '{\n'
        '  "name": "timeline fixtures: AddingModel with hidden size %d",\n'
        '  "weights": "%s",\n'
        '  "module": "encoder",\n'
        '  "readout": "head",\n'
        '  "data": {\n'
        '   "inputs": [\n%s\n   ],\n'
        '   "targets": [\n%s\n   ]\n'
        '  },\n'
        '  "loss": "mse",\n'
        '  "training": {"clip_norm": %s, "batch_size": %d}\n'
        '}\n') % (FX_HIDDEN, series["calm"]["files"][0][0], rows(data["inputs"]), rows(data["targets"]),
                  json.dumps(FX_CLIP), FX_BATCH)
    assert json.loads(model_text)["data"] == data
    with open(os.path.join(out, "model.rnn.json"), "w") as f:
        f.write(model_text)
    write_json(os.path.join(out, "expected.json"), {
        "generator": "tools/train_timeline.py",
        "about": "Every series analyzed with model.rnn.json (track SERIES --model model.rnn.json). Figures from "
                 "tools/gen_reference.py (autograd, float64). The findings are computed over the LSTM entries "
                 "without error, in step order.",
        "model": "model.rnn.json",
        "thresholds": {"vanishing": VANISHING, "exploding": EXPLODING, "spike_factor": SPIKE_FACTOR,
                       "drift_factor": DRIFT_FACTOR},
        "series": result})
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=("examples", "fixtures"))
    ap.add_argument("--examples", default=os.path.join(REPO, "examples", "timeline"))
    ap.add_argument("--fixtures", default=os.path.join(REPO, "test", "fixtures", "timeline"))
    ap.add_argument("--check", action="store_true",
                    help="cross-check the batched evaluation against tools/gen_reference.py")
    args = ap.parse_args(argv)
    setup_torch()
    if args.only in (None, "fixtures"):
        print(f"fixtures -> {args.fixtures}", file=sys.stderr)
        write_fixtures(args.fixtures)
    if args.only in (None, "examples"):
        print(f"examples -> {args.examples}", file=sys.stderr)
        runs = write_examples(args.examples, check=args.check)
        for name, run in runs.items():
            print(f"  {name} findings: {run['findings']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
