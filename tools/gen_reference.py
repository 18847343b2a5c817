#!/usr/bin/python3
"""gen_reference.py MODEL.rnn.json [-o OUT.ref.json]

An independent PyTorch (autograd, float64) implementation of
shared/spec/model-format.md and the numeric parts of shared/spec/report-format.md.
It writes a reference report shaped like the golden *.ref.json files: loss,
per-parameter gradients (with values), grad_norm, per-layer sigma_max /
spectral_radius / gamma and lag tables, and the clipping batch norms with the
mean / autoclip_p10 / median suggestions.

Every cell is written step by step from the spec's equations; torch.nn.RNN,
LSTM and GRU are used only to cross-check the forward pass
(`selfcheck_vs_nn_module`, the largest absolute difference of the top layer's
outputs; null when no torch.nn module computes the same cell).

Not supported (the script exits with status 2 and says why): `weights` given as
a .safetensors path, `data.generate` and `init` (project-specific).
"""
import argparse
import json
import math
import os
import re
import sys

import numpy as np
import torch

DT = torch.float64
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
GAMMA = {"tanh": 1.0, "sigmoid": 0.25, "relu": 1.0, "linear": 1.0}

# How the lag table differentiates with respect to an lstm state s_j = (h_j, c_j).
#   "total": h_j and c_j are the tensors of the forward graph, h_j = o_j * tanh(c_j)
#            computed from c_j, so dε/dc_j includes the path c_j -> h_j -> ... .
#   "split": s_j = cat(h_j, c_j) is one tensor that every later use reads from, so
#            h and c are independent coordinates and dε/dc_j excludes c_j -> h_j.
# The golden references use "total" (verified against shared/golden/lstm.ref.json;
# see tools/README.md).
LSTM_STATE_READING = "total"


DEFAULT_COMPARATOR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                  "..", "..", "shared", "tools", "compare-report.py")


class Unsupported(Exception):
    """The model uses a feature this reference generator deliberately skips."""


class BadModel(Exception):
    """The model file does not fit the spec."""


# ---------------------------------------------------------------- JSONC -----

def strip_jsonc(text):
    """Remove // and /* */ comments and trailing commas, leaving strings intact."""
    out = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        else:
            out.append(ch)
            i += 1
    return re.sub(r",(\s*[\]}])", r"\1", "".join(out))


def load_jsonc(path):
    with open(path, encoding="utf-8") as f:
        return json.loads(strip_jsonc(f.read()))


# ---------------------------------------------------------------- model -----

def tensor(x, name):
    try:
        t = torch.tensor(x, dtype=DT)
    except (TypeError, ValueError) as e:
        raise BadModel("%s: not a numeric array (%s)" % (name, e))
    if not torch.isfinite(t).all():
        raise BadModel("%s: non-finite number" % name)
    return t


def is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def parse_model(d):
    """Validate a model dict and return a plain description with float64 tensors."""
    if "init" in d:
        raise Unsupported("`init` is project-specific; this generator needs explicit weights")
    w = d.get("weights")
    if isinstance(w, str):
        raise Unsupported("`weights` as a .safetensors path is not supported here; give them inline")
    if not isinstance(w, dict):
        raise BadModel("weights: required object")
    data = d.get("data")
    if not isinstance(data, dict):
        raise BadModel("data: required object")
    if "generate" in data:
        raise Unsupported("`data.generate` is project-specific; give data.inputs")

    name_re = re.compile(r"^(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)$")
    for k in w:
        if not name_re.match(k):
            raise BadModel("weights.%s: unknown weight name" % k)
    L = 0
    while "weight_ih_l%d" % L in w:
        L += 1
    if L == 0:
        raise BadModel("weights.weight_ih_l0: missing")
    for k in w:
        if int(name_re.match(k).group(2)) >= L:
            raise BadModel("weights.%s: layer beyond weight_ih_l%d" % (k, L - 1))
    W = {k: tensor(v, "weights." + k) for k, v in w.items()}
    if "weight_hh_l0" not in W:
        raise BadModel("weights.weight_hh_l0: missing")
    H = W["weight_hh_l0"].shape[1]
    rows = W["weight_hh_l0"].shape[0]
    if rows % H:
        raise BadModel("weights.weight_hh_l0: rows not a multiple of hidden size")
    G = rows // H
    cell = d.get("cell") or {1: "rnn", 4: "lstm", 3: "gru"}.get(G)
    if cell not in GATES or GATES[cell] != G:
        raise BadModel("cell: %r does not fit weight_hh_l0 shape %s" % (cell, list(W["weight_hh_l0"].shape)))
    I = W["weight_ih_l0"].shape[1]
    for key, val in (("input_size", I), ("hidden_size", H), ("num_layers", L)):
        if key in d and d[key] != val:
            raise BadModel("%s: %r disagrees with the weights (%d)" % (key, d[key], val))
    for k in range(L):
        Ik = I if k == 0 else H
        want = {"weight_ih_l%d" % k: (G * H, Ik), "weight_hh_l%d" % k: (G * H, H),
                "bias_ih_l%d" % k: (G * H,), "bias_hh_l%d" % k: (G * H,)}
        for n, shape in want.items():
            if n in W and tuple(W[n].shape) != shape:
                raise BadModel("weights.%s: shape %s, expected %s" % (n, list(W[n].shape), list(shape)))
            if n not in W and n.startswith("weight"):
                raise BadModel("weights.%s: missing" % n)
    form = d.get("form", "elman")
    nonlin = d.get("nonlinearity", "tanh")
    if form not in ("elman", "pascanu") or nonlin not in GAMMA:
        raise BadModel("form/nonlinearity: %r/%r" % (form, nonlin))
    if cell != "rnn" and (form != "elman" or nonlin != "tanh"):
        raise BadModel("form/nonlinearity apply to cell rnn only")

    readout = None
    if d.get("readout") is not None:
        r = d["readout"]
        rw = tensor(r["weight"], "readout.weight")
        if rw.dim() != 2 or rw.shape[1] != H:
            raise BadModel("readout.weight: shape %s, expected [D][%d]" % (list(rw.shape), H))
        readout = {"weight": rw}
        if "bias" in r and r["bias"] is not None:
            rb = tensor(r["bias"], "readout.bias")
            if tuple(rb.shape) != (rw.shape[0],):
                raise BadModel("readout.bias: shape %s" % list(rb.shape))
            readout["bias"] = rb
    D = readout["weight"].shape[0] if readout else H

    loss = d.get("loss") or ("mse" if data.get("targets") is not None else "sum")
    if loss not in ("sum", "mse", "cross_entropy"):
        raise BadModel("loss: %r" % loss)
    inputs, targets = parse_data(data, loss, I, D)

    bs = (d.get("training") or {}).get("batch_size")
    if bs is not None and (not isinstance(bs, int) or bs < 1):
        raise BadModel("training.batch_size: positive integer expected")
    return {"cell": cell, "form": form, "nonlinearity": nonlin, "I": I, "H": H, "L": L, "G": G,
            "D": D, "W": W, "readout": readout, "loss": loss, "inputs": inputs,
            "targets": targets, "batch_size": bs}


def parse_data(data, loss, I, D):
    xs = data.get("inputs")
    if not isinstance(xs, list) or not xs:
        raise BadModel("data.inputs: non-empty list expected")
    ys = data.get("targets")
    layout = data.get("layout", "batch_first")
    if layout not in ("batch_first", "time_first"):
        raise BadModel("data.layout: %r" % layout)
    single = isinstance(xs[0], list) and xs[0] and is_number(xs[0][0])
    if single:  # [T][I] shorthand for one sequence
        xs = [xs]
        ys = [ys] if ys is not None else None
    elif layout == "time_first":  # (T, B, I) -> (B, T, I)
        T = len(xs)
        B = len(xs[0])
        if any(len(step) != B for step in xs):
            raise BadModel("data.inputs: time_first steps must all hold the same number of sequences")
        xs = [[xs[t][b] for t in range(T)] for b in range(B)]
        if ys is not None:
            if len(ys) != T or any(len(step) != B for step in ys):
                raise BadModel("data.targets: shape differs from data.inputs")
            ys = [[ys[t][b] for t in range(T)] for b in range(B)]
    inputs = []
    for b, seq in enumerate(xs):
        x = tensor(seq, "data.inputs[%d]" % b)
        if x.dim() != 2 or x.shape[1] != I or x.shape[0] < 1:
            raise BadModel("data.inputs[%d]: shape %s, expected [T][%d]" % (b, list(x.shape), I))
        inputs.append(x)
    targets = None
    if loss == "sum":
        return inputs, None
    if ys is None or len(ys) != len(inputs):
        raise BadModel("data.targets: one target sequence per input sequence needed for loss %s" % loss)
    targets = []
    for b, seq in enumerate(ys):
        T = inputs[b].shape[0]
        if not isinstance(seq, list) or len(seq) != T:
            raise BadModel("data.targets[%d]: %d steps expected" % (b, T))
        if loss == "cross_entropy":
            cls = []
            for t, c in enumerate(seq):
                if isinstance(c, list) and len(c) == 1:
                    c = c[0]
                if not isinstance(c, int) or isinstance(c, bool) or not 0 <= c < D:
                    raise BadModel("data.targets[%d][%d]: class index in [0, %d) expected" % (b, t, D))
                cls.append(c)
            targets.append(torch.tensor(cls, dtype=torch.long))
        else:
            y = tensor(seq, "data.targets[%d]" % b)
            if tuple(y.shape) != (T, D):
                raise BadModel("data.targets[%d]: shape %s, expected [%d][%d]" % (b, list(y.shape), T, D))
            targets.append(y)
    return inputs, targets


# -------------------------------------------------------------- forward -----

def act(name, z):
    if name == "tanh":
        return torch.tanh(z)
    if name == "relu":
        return torch.relu(z)
    if name == "sigmoid":
        return torch.sigmoid(z)
    return z


def make_params(m):
    """Leaf tensors (requires_grad) for every parameter the file gives, in report order."""
    params = {}
    for k in range(m["L"]):
        for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            key = "%s_l%d" % (n, k)
            if key in m["W"]:
                params[key] = m["W"][key].clone().requires_grad_(True)
    if m["readout"]:
        for n, v in m["readout"].items():
            params["readout." + n] = v.clone().requires_grad_(True)
    return params


def bias(params, m, key):
    return params[key] if key in params else torch.zeros(m["G"] * m["H"], dtype=DT)


def run_sequence(m, params, x, target):
    """Forward one sequence step by step.

    Returns (per-step losses [T], top outputs [T][D-or-H], per-layer records), where a
    layer record holds, for every step j, the state tensors s_j (a list: [h] or [x]
    or [h, c]), u_j = W_hh v_{j-1} as its own graph node, and ||v_{j-1}||.
    """
    H, cell = m["H"], m["cell"]
    T = x.shape[0]
    seq_in = [x[t] for t in range(T)]
    layers = []
    for k in range(m["L"]):
        Wih, Whh = params["weight_ih_l%d" % k], params["weight_hh_l%d" % k]
        bih, bhh = bias(params, m, "bias_ih_l%d" % k), bias(params, m, "bias_hh_l%d" % k)
        rec = {"states": [], "u": [], "vnorm": []}
        out = []
        h = torch.zeros(H, dtype=DT)
        c = torch.zeros(H, dtype=DT)
        for t in range(T):
            inp = seq_in[t]
            if cell == "rnn" and m["form"] == "pascanu":
                v = act(m["nonlinearity"], h)  # h holds x_{t-1}
                u = Whh @ v
                h = u + Wih @ inp + bih + bhh
                states = [h]
            elif cell == "rnn":
                v = h
                u = Whh @ v
                h = act(m["nonlinearity"], Wih @ inp + bih + u + bhh)
                states = [h]
            elif cell == "lstm":
                v = h
                u = Whh @ v
                z = Wih @ inp + bih + u + bhh
                i_g = torch.sigmoid(z[0:H])
                f_g = torch.sigmoid(z[H:2 * H])
                g_g = torch.tanh(z[2 * H:3 * H])
                o_g = torch.sigmoid(z[3 * H:4 * H])
                c = f_g * c + i_g * g_g
                if LSTM_STATE_READING == "split":
                    s = torch.cat([o_g * torch.tanh(c), c])
                    h, c = s[:H], s[H:]
                    states = [s]
                else:
                    h = o_g * torch.tanh(c)
                    states = [h, c]
            else:  # gru
                v = h
                u = Whh @ v + bhh
                a = Wih @ inp + bih
                r_g = torch.sigmoid(a[0:H] + u[0:H])
                z_g = torch.sigmoid(a[H:2 * H] + u[H:2 * H])
                n_g = torch.tanh(a[2 * H:] + r_g * u[2 * H:])
                h = (1 - z_g) * n_g + z_g * h
                states = [h]
            rec["states"].append(states)
            rec["u"].append(u)
            rec["vnorm"].append(float(torch.linalg.norm(v.detach())))
            out.append(h)
        layers.append(rec)
        seq_in = out
    outs = []
    losses = []
    for t in range(T):
        y = seq_in[t]
        if m["readout"]:
            y = params["readout.weight"] @ y
            if "readout.bias" in params:
                y = y + params["readout.bias"]
        outs.append(y)
        if m["loss"] == "sum":
            e = y.sum()
        elif m["loss"] == "mse":
            e = ((y - target[t]) ** 2).mean()
        else:
            e = -torch.log_softmax(y, dim=0)[target[t]]
        losses.append(e)
    return losses, outs, layers


def selfcheck(m, params, tops):
    """Largest |difference| between our top-layer outputs and torch.nn's, or None."""
    cell = m["cell"]
    if cell == "rnn" and (m["form"] != "elman" or m["nonlinearity"] not in ("tanh", "relu")):
        return None
    has_bias = any(k.startswith("bias_") for k in m["W"])
    kw = dict(input_size=m["I"], hidden_size=m["H"], num_layers=m["L"], bias=has_bias,
              batch_first=True, dtype=DT)
    if cell == "rnn":
        mod = torch.nn.RNN(nonlinearity=m["nonlinearity"], **kw)
    elif cell == "lstm":
        mod = torch.nn.LSTM(**kw)
    else:
        mod = torch.nn.GRU(**kw)
    sd = {}
    for name in mod.state_dict():
        sd[name] = m["W"][name] if name in m["W"] else torch.zeros(m["G"] * m["H"], dtype=DT)
    mod.load_state_dict(sd)
    worst = 0.0
    with torch.no_grad():
        for x, top in zip(m["inputs"], tops):
            ref, _ = mod(x.unsqueeze(0))
            ours = torch.stack([t.detach() for t in top])
            worst = max(worst, float((ref[0] - ours).abs().max()))
    return worst


# ---------------------------------------------------------------- report ----

def nested(t):
    return t.detach().tolist()


def batch_gradient_norm(m, seq_ids):
    """Global L2 norm of the gradient of ε(S) = (1/|S|) Σ_b Σ_t ε_{b,t}."""
    params = make_params(m)
    total = 0
    for b in seq_ids:
        losses, _, _ = run_sequence(m, params, m["inputs"][b], m["targets"][b] if m["targets"] else None)
        total = total + torch.stack(losses).sum()
    total = total / len(seq_ids)
    grads = torch.autograd.grad(total, list(params.values()))
    return math.sqrt(sum(float((g * g).sum()) for g in grads))


def build_report(m):
    B = len(m["inputs"])
    params = make_params(m)
    runs = []
    for b in range(B):
        runs.append(run_sequence(m, params, m["inputs"][b], m["targets"][b] if m["targets"] else None))
    total = sum(torch.stack(r[0]).sum() for r in runs) / B
    names = list(params)
    grads = dict(zip(names, torch.autograd.grad(total, [params[n] for n in names], retain_graph=True)))

    gradients = {}
    for n in names:
        g = grads[n]
        gradients[n] = {"norm": float(torch.linalg.norm(g.flatten())), "max_abs": float(g.abs().max()),
                        "values": nested(g)}
    grad_norm = math.sqrt(sum(float((g * g).sum()) for g in grads.values()))

    # lag tables: one autograd call per (b, t) over every state and u_j with j <= t
    maxT = max(x.shape[0] for x in m["inputs"])
    acc = [[{"n": 0, "sum": 0.0, "min": math.inf, "max": 0.0, "csum": 0.0} for _ in range(maxT)]
           for _ in range(m["L"])]
    for b, (losses, _, layers) in enumerate(runs):
        T = len(losses)
        for t in range(T):
            wrt = []
            for rec in layers:
                for j in range(t + 1):
                    wrt.extend(rec["states"][j])
                    wrt.append(rec["u"][j])
            gs = torch.autograd.grad(losses[t], wrt, retain_graph=True, allow_unused=True)
            pos = 0
            for k, rec in enumerate(layers):
                for j in range(t + 1):
                    ns = len(rec["states"][j])
                    sq = 0.0
                    for g in gs[pos:pos + ns]:
                        if g is not None:
                            sq += float((g * g).sum())
                    gu = gs[pos + ns]
                    pos += ns + 1
                    gnorm = math.sqrt(sq)
                    unorm = float(torch.linalg.norm(gu)) if gu is not None else 0.0
                    a = acc[k][t - j]
                    a["n"] += 1
                    a["sum"] += gnorm
                    a["min"] = min(a["min"], gnorm)
                    a["max"] = max(a["max"], gnorm)
                    a["csum"] += unorm * rec["vnorm"][j]

    layers_out = []
    for k in range(m["L"]):
        Whh = m["W"]["weight_hh_l%d" % k]
        entry = {"layer": k, "sigma_max": float(torch.linalg.svdvals(Whh)[0])}
        if m["cell"] == "rnn":
            entry["spectral_radius"] = float(torch.linalg.eigvals(Whh).abs().max())
            entry["gamma"] = GAMMA[m["nonlinearity"]]
        entry["lags"] = []
        for l, a in enumerate(acc[k]):
            row = {"lag": l, "count": a["n"], "mean": a["sum"] / a["n"], "min": a["min"],
                   "max": a["max"], "contribution_mean": a["csum"] / a["n"]}
            for key in ("mean", "min", "max"):  # plain log10: these small models never underflow
                row["log10_" + key] = math.log10(row[key]) if row[key] > 0 else None
            entry["lags"].append(row)
        layers_out.append(entry)

    bs = m["batch_size"] or B
    norms = [batch_gradient_norm(m, list(range(s, min(s + bs, B)))) for s in range(0, B, bs)]
    arr = np.array(norms, dtype=np.float64)
    clipping = {"batch_norms": norms,
                "suggestions": [{"method": "mean", "clip_norm": float(np.mean(arr))},
                                {"method": "autoclip_p10", "clip_norm": float(np.percentile(arr, 10))},
                                {"method": "median", "clip_norm": float(np.median(arr))}]}

    return {"model": {"cell": m["cell"], "form": m["form"], "nonlinearity": m["nonlinearity"],
                      "hidden_size": m["H"], "num_layers": m["L"]},
            "sequences": B,
            "steps": sum(int(x.shape[0]) for x in m["inputs"]),
            "loss": float(total),
            "gradients": gradients,
            "grad_norm": grad_norm,
            "layers": layers_out,
            "clipping": clipping,
            "selfcheck_vs_nn_module": selfcheck(m, params, [top_outputs(r[2][-1], m) for r in runs])}


def top_outputs(rec, m):
    """The top layer's y_t (h_t, or x_t in the pascanu form) for every step."""
    if m["cell"] == "lstm" and LSTM_STATE_READING == "split":
        return [s[0][:m["H"]] for s in rec["states"]]
    return [s[0] for s in rec["states"]]


def compare_with(report, ref_path, comparator):
    """Run shared/tools/compare-report.py with REF first and this report second.

    The comparator also demands clipping.recommended, which is project policy and not
    part of a reference, so the copy handed to it carries a placeholder there."""
    import subprocess
    import tempfile
    got = json.loads(json.dumps(report))
    got["clipping"]["recommended"] = {"method": "mean", "clip_norm": 0.0, "clip_value": 0.0}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(got, f)
    try:
        return subprocess.call([sys.executable, comparator, ref_path, f.name])
    finally:
        os.unlink(f.name)


def main(argv=None):
    global LSTM_STATE_READING
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("-o", "--out", help="write here instead of standard output")
    ap.add_argument("--lstm-state", choices=("total", "split"), default=LSTM_STATE_READING,
                    help="how the lstm lag table reads d(eps)/d(state); the golden refs use total")
    ap.add_argument("--compare", metavar="REF",
                    help="compare the report with REF using compare-report.py (exit 1 on mismatch)")
    ap.add_argument("--comparator", default=DEFAULT_COMPARATOR, help="path of compare-report.py")
    args = ap.parse_args(argv)
    LSTM_STATE_READING = args.lstm_state
    torch.set_num_threads(1)
    try:
        m = parse_model(load_jsonc(args.model))
    except Unsupported as e:
        print("gen_reference: skipping %s: %s" % (args.model, e), file=sys.stderr)
        return 2
    except BadModel as e:
        print("gen_reference: %s: invalid model: %s" % (args.model, e), file=sys.stderr)
        return 1
    report = build_report(m)
    if args.compare:
        rc = compare_with(report, args.compare, args.comparator)
        print("gen_reference: %s vs %s: %s" % (args.model, args.compare, "match" if rc == 0 else "MISMATCH"),
                file=sys.stderr)
        if rc:
            return 1
        if not args.out:
            return 0
    text = json.dumps(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
