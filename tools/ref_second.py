"""A second, independently written formulation of the reference report, and a torch.nn check.

gen_reference.py computes everything one sequence at a time, with padding cut off, on its
own step-by-step cells, and takes contributions from the norms of ∂ε/∂u_j times ‖v_{j−1}‖.
This module recomputes the same figures differently and reports the largest relative
differences as the report's `selfcheck`:

* **second formulation** (every cell): all sequences of a batch at once in padded [B][T]
  tensors, padding handled by masking (a state keeps its value at a padding step, so the
  reverse direction stays at zero until the sequence's own last real step, as with
  pack_padded_sequence); the cells are PyTorch's own kernels where it has one
  (torch._VF.lstm_cell, gru_cell, rnn_tanh_cell, rnn_relu_cell — what nn.LSTMCell, GRUCell
  and RNNCell run; an LSTM with projections runs lstm_cell on h zero-padded to width H, then
  applies W_hr), and differently written batched code for the rest (GRU reset-before, the
  pascanu form, elman sigmoid/linear). Step j's term of ∂ε/∂W_hh is taken as the gradient of
  a zero perturbation δ_j added to W_hh at step j only (W_hh + δ_j), not from u_j. Gate
  activations are recomputed from the step's inputs with F.linear and chunk, and checked
  against the kernel's output.
* **ONNX reference GRU** (gru, both reset variants): the numpy GRU that ONNX ships to make its
  backend test data (onnx.backend.test.case.node.gru.GRU_Helper; `linear_before_reset` 0 is
  reset-before, 1 is reset-after), on weights converted to ONNX's (z, r, h) gate order, run
  per sequence and direction on the layer inputs of gen_reference.py: the largest |difference|
  of every layer's outputs. This is the only third-party check of the reset-before forward.
* **nn modules** (lstm with or without projections, gru reset-after, elman tanh/relu rnn):
  nn.LSTM/GRU/RNN(num_layers, bidirectional, proj_size) with nn.Embedding and nn.Linear
  readout on pack_padded_sequence input: loss, gradients, grad_norm and batch norms.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

import gen_reference as G

DT = torch.float64


def rel(a, b):
    if a is None or b is None:
        return 0.0 if a is b else math.inf
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


def _act(name, z):
    return {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}.get(name, lambda x: x)(z)


def padded_inputs(m, p, ids):
    lens = [G.seq_len(m, b) for b in ids]
    Tm = max(lens)
    if m["embedding"] is not None:
        tok = torch.zeros(len(ids), Tm, dtype=torch.long)
        for i, b in enumerate(ids):
            tok[i, :lens[i]] = m["tokens"][b]
        X = F.embedding(tok, p["embedding.weight"])
    else:
        X = torch.zeros(len(ids), Tm, m["I"], dtype=DT)
        for i, b in enumerate(ids):
            X[i, :lens[i]] = m["inputs"][b]
    mask = torch.zeros(len(ids), Tm, dtype=torch.bool)
    for i, n in enumerate(lens):
        mask[i, :n] = True
    return X, mask, lens


def step2(m, p, k, s, x, h, c, delta, check):
    """One batched step; returns (h_new, c_new, gates dict, unit values)."""
    H, cell = m["H"], m["cell"]
    Wih, Whh = p["weight_ih_l%d%s" % (k, s)], p["weight_hh_l%d%s" % (k, s)]
    bih, bhh = p.get("bias_ih_l%d%s" % (k, s)), p.get("bias_hh_l%d%s" % (k, s))
    Wt = Whh + delta
    gates = {}
    c_new = None
    if cell == "rnn" and m["form"] == "pascanu":
        h_new = F.linear(_act(m["nonlinearity"], h), Wt, bhh) + F.linear(x, Wih, bih)
        unit = _act(m["nonlinearity"], h_new)
    elif cell == "rnn":
        if m["nonlinearity"] == "tanh":
            h_new = torch._VF.rnn_tanh_cell(x, h, Wih, Wt, bih, bhh)
        elif m["nonlinearity"] == "relu":
            h_new = torch._VF.rnn_relu_cell(x, h, Wih, Wt, bih, bhh)
        else:
            h_new = _act(m["nonlinearity"], F.linear(x, Wih, bih) + F.linear(h, Wt, bhh))
        unit = h_new
    elif cell == "lstm":
        P = m["P"]
        if P:
            hp = torch.cat([h, torch.zeros(h.shape[0], H - P, dtype=DT)], dim=1)
            Wp = torch.cat([Wt, torch.zeros(Wt.shape[0], H - P, dtype=DT)], dim=1)
            mv, c_new = torch._VF.lstm_cell(x, (hp, c), Wih, Wp, bih, bhh)
            h_new = F.linear(mv, p["weight_hr_l%d%s" % (k, s)])
        else:
            mv, c_new = torch._VF.lstm_cell(x, (h, c), Wih, Wt, bih, bhh)
            h_new = mv
        with torch.no_grad():
            gi, gf, gg, go = (F.linear(x, Wih, bih) + F.linear(h, Whh, bhh)).chunk(4, dim=1)
            gates = {"input": gi.sigmoid(), "forget": gf.sigmoid(), "cell": gg.tanh(), "output": go.sigmoid()}
            c_chk = gates["forget"] * c + gates["input"] * gates["cell"]
            check.append(float((c_chk - c_new).abs().max()))
            check.append(float((gates["output"] * c_chk.tanh() - mv).abs().max()))
        unit = mv
    elif m["gru_reset"] == "after":
        h_new = torch._VF.gru_cell(x, h, Wih, Wt, bih, bhh)
        with torch.no_grad():
            ir, iz, inn = F.linear(x, Wih, bih).chunk(3, dim=1)
            hr, hz, hn = F.linear(h, Whh, bhh).chunk(3, dim=1)
            r, z = (ir + hr).sigmoid(), (iz + hz).sigmoid()
            n = (inn + r * hn).tanh()
            gates = {"reset": r, "update": z, "new": n}
            check.append(float((n + z * (h - n) - h_new).abs().max()))
        unit = h_new
    else:  # gru reset-before, written batched with split weights
        ir, iz, inn = F.linear(x, Wih, bih).chunk(3, dim=1)
        Wr, Wz, Wn = Wt.chunk(3, dim=0)
        br, bz, bn = bhh.chunk(3) if bhh is not None else (None, None, None)
        r = torch.sigmoid(ir + F.linear(h, Wr, br))
        z = torch.sigmoid(iz + F.linear(h, Wz, bz))
        n = torch.tanh(inn + F.linear(r * h, Wn, bn))
        h_new = n + z * (h - n)
        gates = {"reset": r.detach(), "update": z.detach(), "new": n.detach()}
        unit = h_new
    return h_new, c_new, gates, unit.detach()


def run_batch(m, ids):
    """Forward of the sequences `ids` as one padded batch. Returns (params, per-step losses
    [Tm] of [B] (zero at padding), total loss, lengths, records per layer and direction)."""
    p = G.make_params(m)
    X, mask, lens = padded_inputs(m, p, ids)
    Bs, Tm = mask.shape
    seq_in = [X[:, t] for t in range(Tm)]
    records = []
    check = []
    for k in range(m["L"]):
        ys = []
        for s in m["sfxs"]:
            Whh = p["weight_hh_l%d%s" % (k, s)]
            rec = {"layer": k, "sfx": s, "states": [None] * Tm, "delta": [None] * Tm, "gates": [None] * Tm,
                   "units": [None] * Tm}
            h = torch.zeros(Bs, m["Hout"], dtype=DT)
            c = torch.zeros(Bs, m["H"], dtype=DT)
            y = [None] * Tm
            for t in (range(Tm) if s == "" else range(Tm - 1, -1, -1)):
                delta = torch.zeros_like(Whh, requires_grad=True)
                h_new, c_new, gates, unit = step2(m, p, k, s, seq_in[t], h, c, delta, check)
                keep = mask[:, t:t + 1]
                rec["states"][t] = [h_new] if c_new is None else [h_new, c_new]
                rec["delta"][t] = delta
                rec["gates"][t] = gates
                rec["units"][t] = unit
                h = torch.where(keep, h_new, h)
                if c_new is not None:
                    c = torch.where(keep, c_new, c)
                y[t] = h
            records.append(rec)
            ys.append(y)
        seq_in = ys[0] if len(ys) == 1 else [torch.cat([ys[0][t], ys[1][t]], dim=1) for t in range(Tm)]
    eps = []
    for t in range(Tm):
        o = seq_in[t]
        if m["readout"]:
            o = F.linear(o, p["readout.weight"], p.get("readout.bias"))
        if m["loss"] == "sum":
            e = o.sum(dim=1)
        else:
            if m["loss"] == "mse":
                Y = torch.stack([m["targets"][b][t] if t < lens[i] else torch.zeros(m["D"], dtype=DT)
                                 for i, b in enumerate(ids)])
                e = ((o - Y) ** 2).mean(dim=1)
            else:
                C = torch.tensor([int(m["targets"][b][t]) if t < lens[i] else 0 for i, b in enumerate(ids)])
                e = F.cross_entropy(o, C, reduction="none")
        eps.append(torch.where(mask[:, t], e, torch.zeros_like(e)))
    total = torch.stack(eps).sum() / Bs
    return p, eps, total, lens, records, max(check) if check else 0.0


def _units(m, U):
    if m["cell"] == "rnn" and m["nonlinearity"] in ("relu", "linear"):
        sat = 0.0
    elif m["cell"] == "rnn" and m["nonlinearity"] == "sigmoid":
        sat = float(((U - 0.5).abs() > 0.45).double().mean())
    else:
        sat = float((U.abs() > 0.95).double().mean())
    return {"saturated_share": sat, "dead_units": int((U.abs().max(dim=0).values == 0).sum()),
            "mean_abs": float(U.abs().mean())}


def second_formulation(m):
    B = G.seq_count(m)
    ids = list(range(B))
    p, eps, total, lens, records, kernel_check = run_batch(m, ids)
    names = list(p)
    grads = dict(zip(names, torch.autograd.grad(total, [p[n] for n in names], retain_graph=True)))
    Tm = max(lens)
    acc = [[[0, 0.0, math.inf, 0.0, 0.0] for _ in range(Tm)] for _ in records]
    for i in ids:
        for t in range(lens[i]):
            wrt, index = [], []
            for ri, rec in enumerate(records):
                for j in (range(t + 1) if rec["sfx"] == "" else range(t, lens[i])):
                    index.append((ri, j, len(rec["states"][j])))
                    wrt.extend(rec["states"][j])
                    wrt.append(rec["delta"][j])
            gs = torch.autograd.grad(eps[t][i], wrt, retain_graph=True, allow_unused=True)
            pos = 0
            for ri, j, ns in index:
                sq = sum(float((g[i] ** 2).sum()) for g in gs[pos:pos + ns] if g is not None)
                gd = gs[pos + ns]
                pos += ns + 1
                a = acc[ri][abs(t - j)]
                nrm = math.sqrt(sq)
                a[0] += 1
                a[1] += nrm
                a[2] = min(a[2], nrm)
                a[3] = max(a[3], nrm)
                a[4] += float(torch.linalg.norm(gd)) if gd is not None else 0.0
    lags = [[{"count": a[0], "mean": a[1] / a[0], "min": a[2], "max": a[3], "contribution_mean": a[4] / a[0]}
             for a in rows] for rows in acc]

    stats = []
    for rec in records:
        k, s = rec["layer"], rec["sfx"]
        real = [(t, torch.tensor([t < n for n in lens])) for t in range(Tm)]
        gates = {}
        for gi, g in enumerate(G.GATE_NAMES[m["cell"]]):
            vals = torch.cat([rec["gates"][t][g][sel] for t, sel in real]).reshape(-1)
            lo = -0.95 if g in G.TANH_GATES else 0.05
            sl = slice(gi * m["H"], (gi + 1) * m["H"])
            gates[g] = {"mean": float(vals.mean()), "saturated_low": float((vals < lo).double().mean()),
                        "saturated_high": float((vals > 0.95).double().mean()),
                        "weight_hh_grad_norm": float(grads["weight_hh_l%d%s" % (k, s)][sl].norm()),
                        "weight_ih_grad_norm": float(grads["weight_ih_l%d%s" % (k, s)][sl].norm())}
        units = _units(m, torch.cat([rec["units"][t][sel] for t, sel in real]))
        projected = None
        if m["P"]:
            projected = _units(m, torch.cat([rec["states"][t][0].detach()[sel] for t, sel in real]))
        stats.append((gates, units, projected))

    batch_norms = []
    for g in G.batches(m):
        pb, _, tb, _, _, _ = run_batch(m, g)
        gb = torch.autograd.grad(tb, list(pb.values()))
        batch_norms.append(math.sqrt(sum(float((x * x).sum()) for x in gb)))
    return {"loss": float(total), "grads": grads, "lags": lags, "stats": stats, "batch_norms": batch_norms,
            "kernel_check": kernel_check}


# ------------------------------------------------------------ nn modules -----

def nn_applicable(m):
    if m["cell"] == "rnn":
        return m["form"] == "elman" and m["nonlinearity"] in ("tanh", "relu")
    if m["cell"] == "gru":
        return m["gru_reset"] == "after"
    return True


def nn_run(m, ids):
    """Loss and {name: gradient} from torch.nn modules on pack_padded_sequence input."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    kw = dict(input_size=m["I"], hidden_size=m["H"], num_layers=m["L"], bias=True, batch_first=True,
              bidirectional=len(m["sfxs"]) == 2, dtype=DT)
    if m["cell"] == "rnn":
        mod = torch.nn.RNN(nonlinearity=m["nonlinearity"], **kw)
    elif m["cell"] == "lstm":
        mod = torch.nn.LSTM(proj_size=m["P"], **kw)
    else:
        mod = torch.nn.GRU(**kw)
    sd = {n: (m["W"][n] if n in m["W"] else torch.zeros_like(v)) for n, v in mod.state_dict().items()}
    mod.load_state_dict(sd)
    named = {n: prm for n, prm in mod.named_parameters() if n in m["W"]}
    lens = [G.seq_len(m, b) for b in ids]
    Tm = max(lens)
    if m["embedding"] is not None:
        emb = torch.nn.Embedding(m["embedding"].shape[0], m["I"], dtype=DT)
        with torch.no_grad():
            emb.weight.copy_(m["embedding"])
        named["embedding.weight"] = emb.weight
        tok = torch.zeros(len(ids), Tm, dtype=torch.long)
        for i, b in enumerate(ids):
            tok[i, :lens[i]] = m["tokens"][b]
        X = emb(tok)
    else:
        X = torch.zeros(len(ids), Tm, m["I"], dtype=DT)
        for i, b in enumerate(ids):
            X[i, :lens[i]] = m["inputs"][b]
    packed = pack_padded_sequence(X, torch.tensor(lens), batch_first=True, enforce_sorted=False)
    out, _ = mod(packed)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=Tm)
    if m["readout"]:
        lin = torch.nn.Linear(out.shape[2], m["D"], bias="bias" in m["readout"], dtype=DT)
        with torch.no_grad():
            lin.weight.copy_(m["readout"]["weight"])
            if "bias" in m["readout"]:
                lin.bias.copy_(m["readout"]["bias"])
        named["readout.weight"] = lin.weight
        if "bias" in m["readout"]:
            named["readout.bias"] = lin.bias
        out = lin(out)
    total = 0
    for i, b in enumerate(ids):
        o = out[i, :lens[i]]
        if m["loss"] == "sum":
            e = o.sum()
        elif m["loss"] == "mse":
            e = torch.nn.functional.mse_loss(o, m["targets"][b], reduction="none").mean(dim=1).sum()
        else:
            e = torch.nn.functional.cross_entropy(o, m["targets"][b], reduction="sum")
        total = total + e
    total = total / len(ids)
    names = list(named)
    grads = dict(zip(names, torch.autograd.grad(total, [named[n] for n in names])))
    return float(total), grads


# ------------------------------------------------------- ONNX reference ------

def onnx_gru_check(m):
    """Largest |difference| between gen_reference's GRU layer outputs and ONNX's numpy GRU."""
    from onnx.backend.test.case.node.gru import GRU_Helper
    H = m["H"]

    def zrh(a):  # PyTorch (r, z, n) blocks -> ONNX (z, r, h)
        return np.concatenate([a[H:2 * H], a[0:H], a[2 * H:3 * H]], axis=0)
    lbr = 1 if m["gru_reset"] == "after" else 0
    params = G.make_params(m)
    worst = 0.0
    with torch.no_grad():
        for b in range(G.seq_count(m)):
            _, _, records = G.run_sequence(m, params, b, G.target_of(m, b))
            xin = np.stack([x.numpy() for x in G.layer_input(m, params, b)])
            for k in range(m["L"]):
                outs = []
                for s in m["sfxs"]:
                    W = m["W"]
                    Bv = np.concatenate([zrh(W["bias_ih_l%d%s" % (k, s)].numpy()) if "bias_ih_l%d%s" % (k, s) in W
                                         else np.zeros(3 * H),
                                         zrh(W["bias_hh_l%d%s" % (k, s)].numpy()) if "bias_hh_l%d%s" % (k, s) in W
                                         else np.zeros(3 * H)])
                    X = xin if s == "" else xin[::-1]
                    Y, _ = GRU_Helper(X=X[:, None, :].copy(), W=zrh(W["weight_ih_l%d%s" % (k, s)].numpy())[None],
                                      R=zrh(W["weight_hh_l%d%s" % (k, s)].numpy())[None], B=Bv[None],
                                      linear_before_reset=lbr).step()
                    y = Y[:, 0, 0, :]
                    if s:
                        y = y[::-1]
                    rec = next(r for r in records if r["layer"] == k and r["sfx"] == s)
                    ours = np.stack([st[0].numpy() for st in rec["states"]])
                    worst = max(worst, float(np.abs(ours - y).max()))
                    outs.append(ours)
                xin = np.concatenate(outs, axis=1)
    return worst


# -------------------------------------------------------------- compare ------

def selfcheck(m, report):
    """Largest relative differences between `report` and the two other routes."""
    s2 = second_formulation(m)
    d = {}
    d["loss"] = rel(report["loss"], s2["loss"])
    worst = 0.0
    for n, g in s2["grads"].items():
        ref = report["gradients"][n]
        a = np.asarray(ref["values"], dtype=np.float64).reshape(-1)
        b = g.detach().numpy().reshape(-1)
        worst = max(worst, float(np.abs(a - b).max()) / max(ref["norm"], 1e-300))
    d["gradients"] = worst
    d["grad_norm"] = rel(report["grad_norm"], math.sqrt(sum(float((g * g).sum()) for g in s2["grads"].values())))
    d["batch_norms"] = max(rel(a, b) for a, b in zip(report["clipping"]["batch_norms"], s2["batch_norms"]))
    lw = cw = 0.0
    for entry, lags in zip(report["layers"], s2["lags"]):
        for r, q in zip(entry["lags"], lags):
            if r["count"] != q["count"]:
                lw = math.inf
            for key in ("mean", "min", "max"):
                lw = max(lw, rel(r[key], q[key]))
            cw = max(cw, rel(r["contribution_mean"], q["contribution_mean"]))
    d["lags"], d["contributions"] = lw, cw
    gw = uw = 0.0
    for entry, (gates, units, projected) in zip(report["layers"], s2["stats"]):
        for g, st in gates.items():
            for key, v in st.items():
                gw = max(gw, rel(entry["gates"][g][key], v))
        for key, v in units.items():
            uw = max(uw, rel(entry["units"][key], v))
        if (projected is None) != ("units_projected_h" not in entry):
            uw = math.inf
        for key, v in (projected or {}).items():
            uw = max(uw, rel(entry["units_projected_h"][key], v))
    d["gates"], d["units"] = gw, uw
    d["kernel_vs_recomputed_gates"] = s2["kernel_check"]
    out = {"second_formulation": d}
    mx = max(d.values())
    if nn_applicable(m):
        loss, grads = nn_run(m, list(range(G.seq_count(m))))
        e = {"loss": rel(report["loss"], loss)}
        worst = 0.0
        for n, g in grads.items():
            ref = report["gradients"][n]
            a = np.asarray(ref["values"], dtype=np.float64).reshape(-1)
            worst = max(worst, float(np.abs(a - g.detach().numpy().reshape(-1)).max()) / max(ref["norm"], 1e-300))
        e["gradients"] = worst
        e["grad_norm"] = rel(report["grad_norm"], math.sqrt(sum(float((g * g).sum()) for g in grads.values())))
        bn = []
        for grp in G.batches(m):
            _, gb = nn_run(m, grp)
            bn.append(math.sqrt(sum(float((g * g).sum()) for g in gb.values())))
        e["batch_norms"] = max(rel(a, b) for a, b in zip(report["clipping"]["batch_norms"], bn))
        out["nn_modules"] = e
        mx = max(mx, max(e.values()))
    else:
        out["nn_modules"] = None
    sp = 0.0
    for entry in report["layers"]:
        W = m["W"]["weight_hh_l%d%s" % (entry["layer"], "_reverse" if entry.get("direction") == "reverse" else "")]
        Wn = W.numpy()
        sp = max(sp, rel(entry["sigma_max"], float(np.linalg.svd(Wn, compute_uv=False)[0])))
        if "spectral_radius" in entry:
            sp = max(sp, rel(entry["spectral_radius"], float(np.abs(np.linalg.eigvals(Wn)).max())))
    out["spectra_vs_numpy"] = sp
    if m["cell"] == "gru":
        out["onnx_reference_gru_outputs"] = onnx_gru_check(m)
        mx = max(mx, out["onnx_reference_gru_outputs"])
    out["max"] = max(mx, sp)
    return out
