#!/usr/bin/python3
"""gen_reference.py MODEL.rnn.json [-o OUT.ref.json] [--v2] [--per-pair PAIRS.json]

An independent PyTorch (autograd, float64) implementation of shared/spec/model-format.md,
shared/spec/checkpoints.md (version 2: bidirectional layers, LSTM projections, embeddings,
GRU reset-before, data.lengths, checkpoint and data files) and the numeric parts of
shared/spec/report-format.md and shared/spec/gates-and-timeline.md section 1.

It writes a reference report shaped like the golden *.ref.json files: loss, per-parameter
gradients (with values), grad_norm, per layer (and direction) sigma_max / spectral_radius /
gamma and lag tables, the clipping batch norms with the mean / autoclip_p10 / median
suggestions; with --v2 (automatic for a model that uses a version-2 feature) also the
model's v2 fields, `direction`, gate and unit statistics, per-suggestion clipped shares
and a `selfcheck` against a second, independent formulation (tools/ref_second.py) and
torch.nn modules.

Every cell is written step by step from the spec's equations, one sequence at a time, with
padding steps cut off. Lag norms and contributions come from one torch.autograd.grad per
(sequence, t) over every state tensor and every recurrent-product node u_j.

Not supported (exit status 2 with a message): `init`, `data.generate` (project-specific),
ONNX and Keras 3 `.keras` weights.
"""
import argparse
import json
import math
import os
import re
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ref_readers  # noqa: E402

DT = torch.float64
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
GAMMA = {"tanh": 1.0, "sigmoid": 0.25, "relu": 1.0, "linear": 1.0}
GATE_NAMES = {"rnn": [], "lstm": ["input", "forget", "cell", "output"], "gru": ["reset", "update", "new"]}
TANH_GATES = ("cell", "new")
SAT_LO, SAT_HI = 0.05, 0.95  # gates-and-timeline.md section 1

# How the lag table differentiates with respect to an lstm state s_j = (h_j, c_j).
#   "total": h_j and c_j are the tensors of the forward graph, h_j = [W_hr](o_j * tanh(c_j))
#            computed from c_j, so dε/dc_j includes the path c_j -> h_j -> ... .
#   "split": s_j = cat(h_j, c_j) is one tensor that every later use reads from, so
#            h and c are independent coordinates and dε/dc_j excludes c_j -> h_j.
# The golden references use "total" (verified against shared/golden/lstm.ref.json;
# see tools/README.md), and checkpoints.md section 3 says so for version 2.
LSTM_STATE_READING = "total"

# shared/ sits beside the main checkout (/work/main -> /work/shared); worktrees sit one level deeper.
DEFAULT_COMPARATOR = next((p for p in (os.path.join(HERE, *[".."] * n, "shared", "tools", "compare-report.py")
                           for n in (2, 3)) if os.path.exists(p)),
                          os.path.join(HERE, "..", "..", "shared", "tools", "compare-report.py"))


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
    with open(path, encoding="utf-8-sig") as f:
        return json.loads(strip_jsonc(f.read()))


# ---------------------------------------------------------------- model -----

def tensor(x, name):
    try:
        t = torch.tensor(np.asarray(x, dtype=np.float64) if isinstance(x, np.ndarray) else x, dtype=DT)
    except (TypeError, ValueError) as e:
        raise BadModel("%s: not a numeric array (%s)" % (name, e))
    if not torch.isfinite(t).all():
        raise BadModel("%s: non-finite number" % name)
    return t


def is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


PARAM_RE = re.compile(r"^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(\d+)(_reverse)?$")
PARAM_ORDER = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")  # PyTorch's state_dict order
V2_KEYS = ("bidirectional", "proj_size", "gru_reset", "embedding", "module")


def load_weights(d, base_dir):
    """The recurrent weights (PyTorch names relative to the module), plus what the source says.

    Returns (W: {name: value}, flat checkpoint or None, attrs from the source, source dict)."""
    w = d.get("weights")
    if isinstance(w, dict):
        return w, None, {}, {"format": "json", "module": ""}
    if not isinstance(w, str):
        raise BadModel("weights: required object or path")
    try:
        path = ref_readers.resolve(base_dir, w, "weights")
        ext = os.path.splitext(path)[1].lower()
        module = d.get("module")
        if ext in (".h5", ".hdf5"):
            W, attrs, name = ref_readers.read_keras_h5(path, module)
            return W, None, attrs, {"format": "keras", "path": w, "module": name}
        flat, fmt = ref_readers.read_weight_file(path)
    except ref_readers.ReaderUnsupported as e:
        raise Unsupported(str(e))
    except ref_readers.ReaderError as e:
        raise BadModel(str(e))
    if module is None:
        cands = sorted({k[:-len("weight_hh_l0")].rstrip(".") for k in flat if k.endswith("weight_hh_l0")})
        if len(cands) != 1:
            raise BadModel("module: several recurrent modules (%s); name one" % ", ".join(cands) if cands
                           else "weights: no weight_hh_l0 in %s" % w)
        module = cands[0]
    pre = module + "." if module else ""
    if module:
        W = {k[len(pre):]: v for k, v in flat.items() if k.startswith(pre)}
    else:
        W = dict(flat)
    if "weight_hh_l0" not in W:
        raise BadModel("module: no %sweight_hh_l0 in %s" % (pre, w))
    return W, flat, {}, {"format": fmt, "path": w, "module": module}


def from_prefix(flat, prefix, key):
    if flat is None:
        raise BadModel("%s: a prefix needs weights from a PyTorch, safetensors or npz checkpoint" % key)
    out = {}
    for n in ("weight", "bias"):
        if prefix + "." + n in flat:
            out[n] = flat[prefix + "." + n]
    if "weight" not in out:
        raise BadModel("%s: no %s.weight in the checkpoint" % (key, prefix))
    return out


def parse_model(d, base_dir="."):
    """Validate a model dict and return a plain description with float64 tensors."""
    if "init" in d:
        raise Unsupported("`init` is project-specific; this generator needs explicit weights")
    data = d.get("data")
    if not isinstance(data, dict):
        raise BadModel("data: required object")
    if "generate" in data:
        raise Unsupported("`data.generate` is project-specific; give data.inputs")
    w, flat, attrs, source = load_weights(d, base_dir)
    spec = dict(attrs)
    spec.update({k: d[k] for k in ("cell", "nonlinearity", "bidirectional", "proj_size", "gru_reset") if k in d})

    for k in w:
        if not PARAM_RE.match(k):
            raise BadModel("weights.%s: unknown weight name" % k)
    L = 0
    while "weight_ih_l%d" % L in w:
        L += 1
    if L == 0:
        raise BadModel("weights.weight_ih_l0: missing")
    for k in w:
        if int(PARAM_RE.match(k).group(2)) >= L:
            raise BadModel("weights.%s: layer beyond weight_ih_l%d" % (k, L - 1))
    W = {k: tensor(v, "weights." + k) for k, v in w.items()}
    if "weight_hh_l0" not in W:
        raise BadModel("weights.weight_hh_l0: missing")

    # directions
    has_rev = any(k.endswith("_reverse") for k in W)
    bidir = spec.get("bidirectional")
    if bidir is not None and not isinstance(bidir, bool):
        raise BadModel("bidirectional: true or false expected")
    if bidir is False and has_rev:
        raise BadModel("bidirectional: false, but %s is given" % next(k for k in W if k.endswith("_reverse")))
    bidir = bool(bidir) or has_rev
    sfxs = ["", "_reverse"] if bidir else [""]
    for k in range(L):
        for s in sfxs:
            for n in ("weight_ih", "weight_hh"):
                if "%s_l%d%s" % (n, k, s) not in W:
                    raise BadModel("weights.%s_l%d%s: missing" % (n, k, s))

    # projections
    has_hr = any(k.startswith("weight_hr_") for k in W)
    P = spec.get("proj_size", 0) or 0
    if not isinstance(P, int) or isinstance(P, bool) or P < 0:
        raise BadModel("proj_size: non-negative integer expected")
    if has_hr and "weight_hr_l0" not in W:
        raise BadModel("weights.weight_hr_l0: missing")
    if has_hr:
        hr = W["weight_hr_l0"]
        if hr.dim() != 2:
            raise BadModel("weights.weight_hr_l0: [P][H] expected")
        if P and P != hr.shape[0]:
            raise BadModel("proj_size: %d disagrees with weights.weight_hr_l0 (%d rows)" % (P, hr.shape[0]))
        P, H = hr.shape[0], hr.shape[1]
    elif P:
        raise BadModel("weights.weight_hr_l0: missing (proj_size is %d)" % P)
    else:
        H = W["weight_hh_l0"].shape[1]
    Hout = P or H
    rows = W["weight_hh_l0"].shape[0]
    if W["weight_hh_l0"].dim() != 2 or rows % H:
        raise BadModel("weights.weight_hh_l0: rows not a multiple of hidden size")
    G = rows // H
    cell = spec.get("cell") or {1: "rnn", 4: "lstm", 3: "gru"}.get(G)
    if cell not in GATES or GATES[cell] != G:
        raise BadModel("cell: %r does not fit weight_hh_l0 shape %s" % (cell, list(W["weight_hh_l0"].shape)))
    if P and cell != "lstm":
        raise BadModel("proj_size / weight_hr: lstm only")
    if P and P >= H:
        raise BadModel("proj_size: %d must be smaller than hidden_size %d" % (P, H))
    gru_reset = spec.get("gru_reset")
    if gru_reset is not None and cell != "gru":
        raise BadModel("gru_reset: applies to cell gru only")
    gru_reset = gru_reset or "after"
    if gru_reset not in ("after", "before"):
        raise BadModel("gru_reset: \"after\" or \"before\" expected")

    I = W["weight_ih_l0"].shape[1]
    for key, val in (("input_size", I), ("hidden_size", H), ("num_layers", L)):
        if key in d and d[key] != val:
            raise BadModel("%s: %r disagrees with the weights (%d)" % (key, d[key], val))
    for k in range(L):
        Ik = I if k == 0 else len(sfxs) * Hout
        for s in sfxs:
            want = {"weight_ih": (G * H, Ik), "weight_hh": (G * H, Hout), "bias_ih": (G * H,),
                    "bias_hh": (G * H,)}
            if P:
                want["weight_hr"] = (P, H)
            for n, shape in want.items():
                key = "%s_l%d%s" % (n, k, s)
                if key in W and tuple(W[key].shape) != shape:
                    raise BadModel("weights.%s: shape %s, expected %s" % (key, list(W[key].shape), list(shape)))
                if key not in W and not n.startswith("bias"):
                    raise BadModel("weights.%s: missing" % key)
    form = spec.get("form", d.get("form", "elman"))
    nonlin = spec.get("nonlinearity", "tanh")
    if form not in ("elman", "pascanu") or nonlin not in GAMMA:
        raise BadModel("form/nonlinearity: %r/%r" % (form, nonlin))
    if cell != "rnn" and (form != "elman" or nonlin != "tanh"):
        raise BadModel("form/nonlinearity apply to cell rnn only")

    # embedding
    embedding = None
    e = d.get("embedding")
    if e is not None:
        if isinstance(e, str):
            e = from_prefix(flat, e, "embedding")
        if not isinstance(e, dict) or "weight" not in e:
            raise BadModel("embedding: {\"weight\": [[...]]} or a checkpoint prefix expected")
        embedding = tensor(e["weight"], "embedding.weight")
        if embedding.dim() != 2 or embedding.shape[1] != I:
            raise BadModel("embedding.weight: shape %s, expected [V][%d]" % (list(embedding.shape), I))

    readout = None
    if d.get("readout") is not None:
        r = d["readout"]
        if isinstance(r, str):
            r = from_prefix(flat, r, "readout")
        rw = tensor(r["weight"], "readout.weight")
        width = len(sfxs) * Hout
        if rw.dim() != 2 or rw.shape[1] != width:
            raise BadModel("readout.weight: shape %s, expected [D][%d]" % (list(rw.shape), width))
        readout = {"weight": rw}
        if "bias" in r and r["bias"] is not None:
            rb = tensor(r["bias"], "readout.bias")
            if tuple(rb.shape) != (rw.shape[0],):
                raise BadModel("readout.bias: shape %s" % list(rb.shape))
            readout["bias"] = rb
    D = readout["weight"].shape[0] if readout else len(sfxs) * Hout

    loss = d.get("loss") or ("mse" if data.get("targets") is not None else "sum")
    if loss not in ("sum", "mse", "cross_entropy"):
        raise BadModel("loss: %r" % loss)
    inputs, tokens, targets, lengths = parse_data(data, loss, I, D, embedding, base_dir)

    bs = (d.get("training") or {}).get("batch_size")
    if bs is not None and (not isinstance(bs, int) or bs < 1):
        raise BadModel("training.batch_size: positive integer expected")
    v2 = (any(k in d for k in V2_KEYS) or isinstance(d.get("weights"), str) or bidir or bool(P)
          or lengths is not None or tokens is not None or isinstance(d.get("readout"), str))
    return {"cell": cell, "form": form, "nonlinearity": nonlin, "gru_reset": gru_reset, "I": I, "H": H,
            "P": P, "Hout": Hout, "L": L, "G": G, "sfxs": sfxs, "D": D, "W": W, "embedding": embedding,
            "readout": readout, "loss": loss, "inputs": inputs, "tokens": tokens, "targets": targets,
            "lengths": lengths, "batch_size": bs, "training": d.get("training") or {}, "source": source,
            "v2": v2}


def data_value(data, key, base_dir):
    v = data.get(key)
    if isinstance(v, str):
        try:
            return ref_readers.read_array(base_dir, v, "data." + key)
        except ref_readers.ReaderUnsupported as e:
            raise Unsupported(str(e))
        except ref_readers.ReaderError as e:
            raise BadModel(str(e))
    return v


def to_batch(xs, depth, layout, key, single=None):
    """Nested lists/arrays -> (a list of per-sequence items, single), undoing the [T]… shorthand
    (one sequence without the outer list) and time_first.

    depth: the nesting of one step (1 for a feature vector, 0 for a token / class index);
    single: for targets, whether the inputs used the shorthand (None: decide from xs)."""
    if isinstance(xs, np.ndarray):
        if single is None:
            single = xs.ndim == depth + 1
        if single:
            return [xs], True
        if layout == "time_first":
            xs = np.swapaxes(xs, 0, 1)
        return [xs[b] for b in range(xs.shape[0])], False
    if not isinstance(xs, list) or not xs:
        raise BadModel("%s: non-empty list expected" % key)

    def level(x):
        n = 0
        while isinstance(x, list):
            if not x:
                return n + 1
            x = x[0]
            n += 1
        return n
    if single is None:
        single = level(xs) == depth + 1
    if single:  # one sequence, [T]… shorthand
        return [xs], True
    if layout == "time_first":
        T, B = len(xs), len(xs[0])
        if any(not isinstance(step, list) or len(step) != B for step in xs):
            raise BadModel("%s: time_first steps must all hold the same number of sequences" % key)
        return [[xs[t][b] for t in range(T)] for b in range(B)], False
    return xs, False


def parse_data(data, loss, I, D, embedding, base_dir):
    layout = data.get("layout", "batch_first")
    if layout not in ("batch_first", "time_first"):
        raise BadModel("data.layout: %r" % layout)
    inputs = tokens = None
    if embedding is not None:
        if "inputs" in data:
            raise BadModel("data.inputs: with an embedding the data are data.tokens")
        raw = data_value(data, "tokens", base_dir)
        if raw is None:
            raise BadModel("data.tokens: required with an embedding")
        tokens = []
        seqs, single = to_batch(raw, 0, layout, "data.tokens")
        for b, seq in enumerate(seqs):
            arr = np.asarray(seq)
            if arr.ndim != 1 or arr.shape[0] < 1:
                raise BadModel("data.tokens[%d]: [T] integers expected" % b)
            if arr.dtype.kind == "f" and np.any(arr != np.round(arr)):
                raise BadModel("data.tokens[%d]: integers expected" % b)
            if arr.dtype.kind not in "iubf":
                raise BadModel("data.tokens[%d]: integers expected" % b)
            tokens.append(arr.astype(np.int64))
        seq_lens = [len(t) for t in tokens]
    else:
        if "tokens" in data:
            raise BadModel("data.tokens: needs an embedding")
        raw = data_value(data, "inputs", base_dir)
        inputs = []
        seqs, single = to_batch(raw, 1, layout, "data.inputs")
        for b, seq in enumerate(seqs):
            x = tensor(seq, "data.inputs[%d]" % b)
            if x.dim() != 2 or x.shape[1] != I or x.shape[0] < 1:
                raise BadModel("data.inputs[%d]: shape %s, expected [T][%d]" % (b, list(x.shape), I))
            inputs.append(x)
        seq_lens = [x.shape[0] for x in inputs]
    B = len(seq_lens)

    lengths = data_value(data, "lengths", base_dir)
    if lengths is not None:
        lengths = np.asarray(lengths).reshape(-1).tolist()
        if len(lengths) != B:
            raise BadModel("data.lengths: %d entries for %d sequences" % (len(lengths), B))
        for b, n in enumerate(lengths):
            if not float(n).is_integer() or not 1 <= n <= seq_lens[b]:
                raise BadModel("data.lengths[%d]: %r not in [1, %d]" % (b, n, seq_lens[b]))
        lengths = [int(n) for n in lengths]
    real = lengths or seq_lens
    if tokens is not None:
        tokens = [torch.tensor(t[:n], dtype=torch.long) for t, n in zip(tokens, real)]
        V = embedding.shape[0]
        for b, t in enumerate(tokens):
            bad = ((t < 0) | (t >= V)).nonzero()
            if len(bad):
                raise BadModel("data.tokens[%d][%d]: %d not in [0, %d)" % (b, int(bad[0]), int(t[bad[0]]), V))
    else:
        inputs = [x[:n] for x, n in zip(inputs, real)]

    if loss == "sum":
        return inputs, tokens, None, lengths
    raw = data_value(data, "targets", base_dir)
    if raw is None:
        raise BadModel("data.targets: required for loss %s" % loss)
    ys, _ = to_batch(raw, 1 if loss == "mse" else 0, layout, "data.targets", single)
    if len(ys) != B:
        raise BadModel("data.targets: one target sequence per input sequence needed for loss %s" % loss)
    targets = []
    for b, seq in enumerate(ys):
        T = real[b]
        if len(seq) < T or (lengths is None and len(seq) != T):
            raise BadModel("data.targets[%d]: %d steps expected" % (b, seq_lens[b]))
        seq = seq[:T]
        if loss == "cross_entropy":
            cls = []
            for t, c in enumerate(list(np.asarray(seq).reshape(T, -1)[:, 0]) if isinstance(seq, np.ndarray) else seq):
                if isinstance(c, list) and len(c) == 1:
                    c = c[0]
                if isinstance(c, np.generic):
                    c = c.item()
                if not isinstance(c, int) or isinstance(c, bool) or not 0 <= c < D:
                    raise BadModel("data.targets[%d][%d]: class index in [0, %d) expected" % (b, t, D))
                cls.append(c)
            targets.append(torch.tensor(cls, dtype=torch.long))
        else:
            y = tensor(seq, "data.targets[%d]" % b)
            if tuple(y.shape) != (T, D):
                raise BadModel("data.targets[%d]: shape %s, expected [%d][%d]" % (b, list(y.shape), T, D))
            targets.append(y)
    return inputs, tokens, targets, lengths


def seq_count(m):
    return len(m["tokens"] if m["tokens"] is not None else m["inputs"])


def seq_len(m, b):
    return int((m["tokens"] if m["tokens"] is not None else m["inputs"])[b].shape[0])


# -------------------------------------------------------------- forward -----

def act(name, z):
    if name == "tanh":
        return torch.tanh(z)
    if name == "relu":
        return torch.relu(z)
    if name == "sigmoid":
        return torch.sigmoid(z)
    return z


def param_names(m):
    """Every parameter the file gives, in report order (PyTorch's state_dict order)."""
    names = ["embedding.weight"] if m["embedding"] is not None else []
    for k in range(m["L"]):
        for s in m["sfxs"]:
            for n in PARAM_ORDER:
                key = "%s_l%d%s" % (n, k, s)
                if key in m["W"]:
                    names.append(key)
    if m["readout"]:
        names += ["readout." + n for n in m["readout"]]
    return names


def make_params(m):
    """Leaf tensors (requires_grad) for every parameter the file gives, in report order."""
    params = {}
    for n in param_names(m):
        if n == "embedding.weight":
            v = m["embedding"]
        elif n.startswith("readout."):
            v = m["readout"][n[len("readout."):]]
        else:
            v = m["W"][n]
        params[n] = v.clone().requires_grad_(True)
    return params


def bias(params, m, key):
    return params[key] if key in params else torch.zeros(m["G"] * m["H"], dtype=DT)


def cell_step(m, p, k, s, inp, h, c):
    """One step of layer k, direction suffix s: the spec's equations, written out.

    h is the previous h (x for the pascanu form), c the previous lstm cell state.
    Returns (h, c, states, pairs, gates, unit): the state tensors s_j for the lag table, the
    (u node, ||v||) pairs whose product norms make step j's term of dε/dW_hh, the gate
    activations and the unit values of gates-and-timeline.md section 1."""
    H, cell = m["H"], m["cell"]
    Wih, Whh = p["weight_ih_l%d%s" % (k, s)], p["weight_hh_l%d%s" % (k, s)]
    bih, bhh = bias(p, m, "bias_ih_l%d%s" % (k, s)), bias(p, m, "bias_hh_l%d%s" % (k, s))
    gates = {}
    if cell == "rnn" and m["form"] == "pascanu":
        v = act(m["nonlinearity"], h)  # h holds x_{t-1}
        u = Whh @ v
        h = u + Wih @ inp + bih + bhh
        states, pairs, unit = [h], [(u, v)], act(m["nonlinearity"], h)
    elif cell == "rnn":
        v = h
        u = Whh @ v
        h = act(m["nonlinearity"], Wih @ inp + bih + u + bhh)
        states, pairs, unit = [h], [(u, v)], h
    elif cell == "lstm":
        v = h
        u = Whh @ v
        z = Wih @ inp + bih + u + bhh
        i_g = torch.sigmoid(z[0:H])
        f_g = torch.sigmoid(z[H:2 * H])
        g_g = torch.tanh(z[2 * H:3 * H])
        o_g = torch.sigmoid(z[3 * H:4 * H])
        c = f_g * c + i_g * g_g
        mv = o_g * torch.tanh(c)
        gates = {"input": i_g, "forget": f_g, "cell": g_g, "output": o_g}
        if LSTM_STATE_READING == "split":
            if m["P"]:
                raise Unsupported("--lstm-state split is not defined with projections")
            st = torch.cat([mv, c])
            h, c = st[:H], st[H:]
            states = [st]
        else:
            h = p["weight_hr_l%d%s" % (k, s)] @ mv if m["P"] else mv
            states = [h, c]
        pairs, unit = [(u, v)], mv
    elif m["gru_reset"] == "after":
        v = h
        u = Whh @ v + bhh
        a = Wih @ inp + bih
        r_g = torch.sigmoid(a[0:H] + u[0:H])
        z_g = torch.sigmoid(a[H:2 * H] + u[H:2 * H])
        n_g = torch.tanh(a[2 * H:] + r_g * u[2 * H:])
        h = (1 - z_g) * n_g + z_g * h
        gates = {"reset": r_g, "update": z_g, "new": n_g}
        states, pairs, unit = [h], [(u, v)], h
    else:  # gru, reset before: n = tanh(W_in u + b_in + W_hn (r ⊙ h) + b_hn)
        v = h
        u_rz = Whh[0:2 * H] @ v + bhh[0:2 * H]
        a = Wih @ inp + bih
        r_g = torch.sigmoid(a[0:H] + u_rz[0:H])
        z_g = torch.sigmoid(a[H:2 * H] + u_rz[H:2 * H])
        rh = r_g * v
        u_n = Whh[2 * H:] @ rh + bhh[2 * H:]
        n_g = torch.tanh(a[2 * H:] + u_n)
        h = (1 - z_g) * n_g + z_g * v
        gates = {"reset": r_g, "update": z_g, "new": n_g}
        states, pairs, unit = [h], [(u_rz, v), (u_n, rh)], h
    pairs = [(u, float(torch.linalg.norm(vv.detach()))) for u, vv in pairs]
    return h, c, states, pairs, {g: t.detach() for g, t in gates.items()}, unit.detach()


def layer_input(m, p, b):
    if m["embedding"] is not None:
        E = p["embedding.weight"]
        return [E[int(tok)] for tok in m["tokens"][b]]
    x = m["inputs"][b]
    return [x[t] for t in range(x.shape[0])]


def run_sequence(m, params, b, target):
    """Forward sequence b (its real steps only) step by step.

    Returns (per-step losses [T], top outputs [T], records), one record per layer and
    direction (l0, l0 reverse, l1, ...) holding, indexed by time step j: the state tensors
    s_j (a list: [h] or [x] or [h, c]), the (u_j, ||v_{j-1}||) pairs, gate activations and
    unit values. The reverse direction runs t = T-1 ... 0 from a zero state."""
    H, cell = m["H"], m["cell"]
    seq_in = layer_input(m, params, b)
    T = len(seq_in)
    records = []
    for k in range(m["L"]):
        outs = []
        for s in m["sfxs"]:
            rec = {"layer": k, "sfx": s, "states": [None] * T, "pairs": [None] * T, "gates": [None] * T,
                   "units": [None] * T}
            y = [None] * T
            h = torch.zeros(m["Hout"], dtype=DT)
            c = torch.zeros(H, dtype=DT)
            order = range(T) if s == "" else range(T - 1, -1, -1)
            for t in order:
                h, c, states, pairs, gates, unit = cell_step(m, params, k, s, seq_in[t], h, c)
                rec["states"][t], rec["pairs"][t], rec["gates"][t], rec["units"][t] = states, pairs, gates, unit
                y[t] = states[0][:H] if (cell == "lstm" and LSTM_STATE_READING == "split") else h
            records.append(rec)
            outs.append(y)
        seq_in = outs[0] if len(outs) == 1 else [torch.cat([outs[0][t], outs[1][t]]) for t in range(T)]
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
    return losses, outs, records


def selfcheck_v1(m, params, tops):
    """Largest |difference| between our top-layer outputs and torch.nn's, or None (v1 reports)."""
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


def target_of(m, b):
    return m["targets"][b] if m["targets"] else None


def batch_gradient(m, seq_ids):
    """Global L2 norm and largest |element| of the gradient of ε(S) = (1/|S|) Σ_b Σ_t ε_{b,t}."""
    params = make_params(m)
    total = 0
    for b in seq_ids:
        losses, _, _ = run_sequence(m, params, b, target_of(m, b))
        total = total + torch.stack(losses).sum()
    total = total / len(seq_ids)
    grads = torch.autograd.grad(total, list(params.values()))
    return (math.sqrt(sum(float((g * g).sum()) for g in grads)),
            max(float(g.abs().max()) for g in grads))


def batches(m):
    B = seq_count(m)
    bs = m["batch_size"] or B
    return [list(range(s, min(s + bs, B))) for s in range(0, B, bs)]


def layer_label(rec):
    return (rec["layer"], "reverse" if rec["sfx"] else "forward")


def lag_tables(m, runs, per_pair=None):
    """Lag statistics per layer and direction: one autograd call per (b, t) over every state
    tensor s_j and u node of every layer and direction, j <= t (forward) or j >= t (reverse)."""
    maxT = max(len(r[0]) for r in runs)
    nrec = m["L"] * len(m["sfxs"])
    acc = [[{"n": 0, "sum": 0.0, "min": math.inf, "max": 0.0, "csum": 0.0} for _ in range(maxT)]
           for _ in range(nrec)]
    for b, (losses, _, records) in enumerate(runs):
        T = len(losses)
        for t in range(T):
            wrt, spans = [], []
            for rec in records:
                js = range(t + 1) if rec["sfx"] == "" else range(t, T)
                for j in js:
                    ns, npair = len(rec["states"][j]), len(rec["pairs"][j])
                    spans.append((j, ns, npair))
                    wrt.extend(rec["states"][j])
                    wrt.extend(u for u, _ in rec["pairs"][j])
            gs = torch.autograd.grad(losses[t], wrt, retain_graph=True, allow_unused=True)
            pos = 0
            si = 0
            for ri, rec in enumerate(records):
                js = range(t + 1) if rec["sfx"] == "" else range(t, T)
                for j in js:
                    _, ns, npair = spans[si]
                    si += 1
                    parts = []
                    for g in gs[pos:pos + ns]:
                        parts.append(float((g * g).sum()) if g is not None else 0.0)
                    sq = sum(parts)
                    gu = gs[pos + ns:pos + ns + npair]
                    pos += ns + npair
                    gnorm = math.sqrt(sq)
                    unorms = [float(torch.linalg.norm(g)) if g is not None else 0.0 for g in gu]
                    vnorms = [vn for _, vn in rec["pairs"][j]]
                    if npair == 1:
                        contrib = unorms[0] * vnorms[0]
                    else:
                        contrib = math.sqrt(sum((a * v) ** 2 for a, v in zip(unorms, vnorms)))
                    lag = t - j if rec["sfx"] == "" else j - t
                    a = acc[ri][lag]
                    a["n"] += 1
                    a["sum"] += gnorm
                    a["min"] = min(a["min"], gnorm)
                    a["max"] = max(a["max"], gnorm)
                    a["csum"] += contrib
                    if per_pair is not None:
                        layer, direction = layer_label(rec)
                        row = {"layer": layer, "direction": direction, "b": b, "t": t, "j": j, "lag": lag,
                               "norm": gnorm, "contribution": contrib}
                        if len(parts) == 2:
                            row["norm_h"], row["norm_c"] = math.sqrt(parts[0]), math.sqrt(parts[1])
                        per_pair.append(row)
    out = []
    for ri in range(nrec):
        rows = []
        for l, a in enumerate(acc[ri]):
            row = {"lag": l, "count": a["n"], "mean": a["sum"] / a["n"], "min": a["min"],
                   "max": a["max"], "contribution_mean": a["csum"] / a["n"]}
            for key in ("mean", "min", "max"):  # plain log10: these small models never underflow
                row["log10_" + key] = math.log10(row[key]) if row[key] > 0 else None
            rows.append(row)
        out.append(rows)
    return out


def gate_unit_stats(m, runs, grads, k, s, ri):
    """gates-and-timeline.md section 1 for layer k, direction s (record index ri)."""
    H = m["H"]
    gates = {}
    recs = [r[2][ri] for r in runs]
    for gi, g in enumerate(GATE_NAMES[m["cell"]]):
        vals = torch.cat([torch.stack([st[g] for st in rec["gates"]]).reshape(-1) for rec in recs])
        lo_cut = -SAT_HI if g in TANH_GATES else SAT_LO
        n = vals.numel()
        rows = slice(gi * H, (gi + 1) * H)
        gates[g] = {"mean": float(vals.sum()) / n,
                    "saturated_low": int((vals < lo_cut).sum()) / n,
                    "saturated_high": int((vals > SAT_HI).sum()) / n,
                    "weight_hh_grad_norm": float(torch.linalg.norm(grads["weight_hh_l%d%s" % (k, s)][rows])),
                    "weight_ih_grad_norm": float(torch.linalg.norm(grads["weight_ih_l%d%s" % (k, s)][rows]))}
    units = unit_stats(m, torch.cat([torch.stack(rec["units"]) for rec in recs]))  # [Σ T_b][H]
    if m["P"]:
        # the other reading of "h_t for lstm" with projections: the P-wide projected h_t
        projected = unit_stats(m, torch.cat([torch.stack([st[0].detach() for st in rec["states"]]) for rec in recs]))
        return gates, units, projected
    return gates, units, None


def unit_stats(m, U):
    """saturated_share, dead_units, mean_abs of unit values U [unit-steps][units]."""
    n = U.numel()
    if m["cell"] == "rnn" and m["nonlinearity"] in ("relu", "linear"):
        sat = 0.0
    elif m["cell"] == "rnn" and m["nonlinearity"] == "sigmoid":
        sat = int(((U > SAT_HI) | (U < SAT_LO)).sum()) / n
    else:
        sat = int((U.abs() > SAT_HI).sum()) / n
    return {"saturated_share": sat,
            "dead_units": int((U == 0).all(dim=0).sum()),
            "mean_abs": float(U.abs().sum()) / n}


def stat_margin(m, runs):
    """The smallest distance of any gate activation or unit value to a cut the statistics use
    (0.05, 0.95, -0.95; 0 for relu units), so that fixtures can avoid fragile shares."""
    cuts = torch.tensor([SAT_LO, SAT_HI, -SAT_HI], dtype=DT)
    worst = math.inf
    for _, _, records in runs:
        for rec in records:
            for j in range(len(rec["units"])):
                vals = [rec["units"][j]] + list(rec["gates"][j].values())
                for v in vals:
                    worst = min(worst, float((v.reshape(-1, 1) - cuts).abs().min()))
                if m["cell"] == "rnn" and m["nonlinearity"] == "relu":
                    nz = rec["units"][j][rec["units"][j] != 0]
                    if nz.numel():
                        worst = min(worst, float(nz.abs().min()))
    return worst


def dead_unit_margin(m, params, runs):
    """For relu rnn: the largest pre-activation (x_t for pascanu) of each dead unit, negated:
    how far the unit is from coming alive (None when no unit is dead or not relu)."""
    if m["cell"] != "rnn" or m["nonlinearity"] != "relu":
        return None
    worst = None
    with torch.no_grad():
        for b, (_, _, records) in enumerate(runs):
            seq = layer_input(m, params, b)
            for rec in records:
                U = torch.stack(rec["units"])
                dead = (U == 0).all(dim=0)
                if not dead.any():
                    continue
                k, s = rec["layer"], rec["sfx"]
                # recompute pre-activations from the recorded inputs of this layer
                if k == 0:
                    xin = torch.stack(seq)
                else:
                    ups = [r for r in records if r["layer"] == k - 1]
                    xin = torch.cat([torch.stack([st[0] for st in r["states"]]) if m["form"] == "pascanu"
                                     else torch.stack(r["units"]) for r in ups], dim=1)
                Wih, Whh = params["weight_ih_l%d%s" % (k, s)], params["weight_hh_l%d%s" % (k, s)]
                b1, b2 = bias(params, m, "bias_ih_l%d%s" % (k, s)), bias(params, m, "bias_hh_l%d%s" % (k, s))
                T = U.shape[0]
                order = range(T) if s == "" else range(T - 1, -1, -1)
                prev = torch.zeros(m["H"], dtype=DT)
                pre = [None] * T
                for t in order:
                    if m["form"] == "pascanu":
                        pre[t] = Whh @ torch.relu(prev) + Wih @ xin[t] + b1 + b2
                        prev = pre[t]
                    else:
                        pre[t] = Wih @ xin[t] + b1 + Whh @ prev + b2
                        prev = torch.relu(pre[t])
                top = torch.stack(pre).max(dim=0).values[dead]
                v = float(-top.max())
                worst = v if worst is None else min(worst, v)
    return worst


def build_report(m, v2=False, per_pair=None, selfcheck=True):
    B = seq_count(m)
    params = make_params(m)
    runs = []
    for b in range(B):
        runs.append(run_sequence(m, params, b, target_of(m, b)))
    total = sum(torch.stack(r[0]).sum() for r in runs) / B
    names = list(params)
    grads = dict(zip(names, torch.autograd.grad(total, [params[n] for n in names], retain_graph=True)))

    gradients = {}
    for n in names:
        g = grads[n]
        gradients[n] = {"norm": float(torch.linalg.norm(g.flatten())), "max_abs": float(g.abs().max()),
                        "values": nested(g)}
    grad_norm = math.sqrt(sum(float((g * g).sum()) for g in grads.values()))

    lags = lag_tables(m, runs, per_pair)
    layers_out = []
    ri = 0
    for k in range(m["L"]):
        for s in m["sfxs"]:
            Whh = m["W"]["weight_hh_l%d%s" % (k, s)]
            entry = {"layer": k}
            if v2:
                entry["direction"] = "reverse" if s else "forward"
            entry["sigma_max"] = float(torch.linalg.svdvals(Whh)[0])
            if m["cell"] == "rnn":
                entry["spectral_radius"] = float(torch.linalg.eigvals(Whh).abs().max())
                entry["gamma"] = GAMMA[m["nonlinearity"]]
            entry["lags"] = lags[ri]
            if v2:
                entry["gates"], entry["units"], projected = gate_unit_stats(m, runs, grads, k, s, ri)
                if projected is not None:
                    entry["units_projected_h"] = projected
            layers_out.append(entry)
            ri += 1

    groups = batches(m)
    bg = [batch_gradient(m, g) for g in groups]
    norms = [n for n, _ in bg]
    arr = np.array(norms, dtype=np.float64)
    suggestions = [{"method": "mean", "clip_norm": float(np.mean(arr))},
                   {"method": "autoclip_p10", "clip_norm": float(np.percentile(arr, 10))},
                   {"method": "median", "clip_norm": float(np.median(arr))}]
    clipping = {"batch_norms": norms, "suggestions": suggestions}
    if v2:
        finite = [n for n in norms if math.isfinite(n)]
        for sg in suggestions:
            sg["clipped_share_expected"] = sum(1 for n in finite if n > sg["clip_norm"]) / len(finite)
        clipping["batch_max_abs"] = [a for _, a in bg]
        clipping["batch_sizes"] = [len(g) for g in groups]
        clip = m["training"].get("clip_norm")
        if is_number(clip):
            clipping["training_clipped_share_expected"] = sum(1 for n in finite if n > clip) / len(finite)

    if not v2:
        return {"model": {"cell": m["cell"], "form": m["form"], "nonlinearity": m["nonlinearity"],
                          "hidden_size": m["H"], "num_layers": m["L"]},
                "sequences": B,
                "steps": sum(len(r[0]) for r in runs),
                "loss": float(total),
                "gradients": gradients,
                "grad_norm": grad_norm,
                "layers": layers_out,
                "clipping": clipping,
                "selfcheck_vs_nn_module": selfcheck_v1(m, params, [[y for y in top_outputs(r[2], m)] for r in runs])}

    model = {"cell": m["cell"], "form": m["form"], "nonlinearity": m["nonlinearity"], "input_size": m["I"],
             "hidden_size": m["H"], "num_layers": m["L"], "output_size": m["D"],
             "bidirectional": len(m["sfxs"]) == 2, "proj_size": m["P"], "gru_reset": m["gru_reset"],
             "source": m["source"]}
    report = {"report_version": 2,
              "model": model,
              "sequences": B,
              "steps": sum(len(r[0]) for r in runs),
              "loss": float(total),
              "gradients": gradients,
              "grad_norm": grad_norm,
              "layers": layers_out,
              "clipping": clipping}
    if selfcheck:
        import ref_second
        sc = ref_second.selfcheck(m, report)
        sc["stat_margin"] = stat_margin(m, runs)
        sc["dead_unit_margin"] = dead_unit_margin(m, params, runs)
        report["selfcheck"] = sc
    return report


def top_outputs(records, m):
    """The top layer's y_t (h_t, or x_t in the pascanu form) for every step (unidirectional)."""
    rec = records[-1]
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


def load_model(path):
    return parse_model(load_jsonc(path), os.path.dirname(os.path.abspath(path)))


def main(argv=None):
    global LSTM_STATE_READING
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("-o", "--out", help="write here instead of standard output")
    ap.add_argument("--v2", action="store_true",
                    help="report version 2 fields even for a model that uses no version-2 feature")
    ap.add_argument("--no-selfcheck", action="store_true", help="skip the second formulation (v2 reports)")
    ap.add_argument("--lstm-state", choices=("total", "split"), default=LSTM_STATE_READING,
                    help="how the lstm lag table reads d(eps)/d(state); the golden refs use total")
    ap.add_argument("--compare", metavar="REF",
                    help="compare the report with REF using compare-report.py (exit 1 on mismatch)")
    ap.add_argument("--comparator", default=DEFAULT_COMPARATOR, help="path of compare-report.py")
    ap.add_argument("--per-pair", metavar="FILE",
                    help="also write every (layer, direction, b, t, j) lag norm and contribution to FILE")
    args = ap.parse_args(argv)
    LSTM_STATE_READING = args.lstm_state
    torch.set_num_threads(1)
    try:
        m = load_model(args.model)
        pairs = [] if args.per_pair else None
        report = build_report(m, v2=args.v2 or m["v2"], per_pair=pairs, selfcheck=not args.no_selfcheck)
    except Unsupported as e:
        print("gen_reference: skipping %s: %s" % (args.model, e), file=sys.stderr)
        return 2
    except BadModel as e:
        print("gen_reference: %s: invalid model: %s" % (args.model, e), file=sys.stderr)
        return 1
    if args.per_pair:
        with open(args.per_pair, "w") as f:
            json.dump({"model": args.model, "pairs": pairs}, f, indent=0)
            f.write("\n")
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
