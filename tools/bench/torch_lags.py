#!/usr/bin/python3
"""torch_lags.py --cell rnn|lstm|gru --hidden H --steps T [--bidirectional] [--proj P] [--threads 2] [--seed 0] [--check]

PyTorch baseline for the engine's lag table: a random float64 one-layer model
(input size 8, PyTorch-default uniform init, seeded), one random sequence, the
sum loss ε_t = Σ_d h_t,d (no readout), and the full lag table
mean/min/max over t of ‖∂ε_t/∂s_{t−ℓ}‖ for every lag ℓ.

The lags come from a hand-batched backward recursion: the gradients of every
pending ε_t (t ≥ j) are the rows of one matrix, and each step j → j−1 is one
torch.mm with W_hh (float64, OpenBLAS). For lstm the state is (h, c) and ∂ε/∂c_j
is the total derivative, including the path c_j → h_j (the reading the golden
references use; see tools/README.md).

Prints one JSON line: {cell, hidden, steps, threads, seconds, peak_rss_mb,
lag_mean_first, lag_mean_last}; `seconds` covers the forward pass and the lag
computation only. --check instead compares the recursion with the autograd
reference (tools/gen_reference.py) on small cases (H=4, T=10; also a
bidirectional lstm and an lstm with projections) and exits 1 on a mismatch.

--bidirectional adds a reverse direction with its own weights (`_reverse`). With
one layer and the sum loss over [forward h_t, reverse h_t], the two directions'
lag tables are independent: the reverse one is the same recursion run over the
reversed sequence (pairs t ≤ j, ℓ = j − t), so that is what is timed, both
directions in one run. --proj P (lstm) adds PyTorch's projection
h_t = W_hr (o ⊙ tanh c_t): W_hh is [4H][P], the state (h, c) has width P + H.

Invoke with OPENBLAS_CORETYPE unset for this process only, e.g.
  env -u OPENBLAS_CORETYPE /usr/bin/python3 tools/bench/torch_lags.py --cell lstm --hidden 64 --steps 500
"""
import argparse
import json
import math
import os
import resource
import sys
import time

import torch

DT = torch.float64
INPUT_SIZE = 8
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def make_model(cell, H, T, seed, bidirectional=False, proj=0):
    """Random weights (PyTorch's default U(−1/√H, 1/√H)) and one N(0, 1) sequence."""
    gen = torch.Generator().manual_seed(seed)
    G = GATES[cell]
    k = 1.0 / math.sqrt(H)
    R = proj or H  # the recurrent state's width

    def uni(*shape):
        return (torch.rand(*shape, generator=gen, dtype=DT) * 2 - 1) * k

    w = {}
    for suffix in ("", "_reverse") if bidirectional else ("",):
        w.update({"weight_ih_l0" + suffix: uni(G * H, INPUT_SIZE), "weight_hh_l0" + suffix: uni(G * H, R),
                  "bias_ih_l0" + suffix: uni(G * H), "bias_hh_l0" + suffix: uni(G * H)})
        if proj:
            w["weight_hr_l0" + suffix] = uni(proj, H)
    x = torch.randn(T, INPUT_SIZE, generator=gen, dtype=DT)
    return w, x


def lag_table(cell, w, x, suffix=""):
    """(mean, min, max) per lag, each a float64 tensor of length T, by batched BPTT; `suffix` "_reverse" picks
    a reverse direction's weights (then pass the reversed sequence)."""
    T = x.shape[0]
    Wih, Whh = w["weight_ih_l0" + suffix], w["weight_hh_l0" + suffix]
    bih, bhh = w["bias_ih_l0" + suffix], w["bias_hh_l0" + suffix]
    Whr = w.get("weight_hr_l0" + suffix)  # lstm projection [P][H], or None
    H = Whh.shape[0] // GATES[cell]
    R = Whh.shape[1]  # P with projections, else H
    # ---- forward: input projections in one product, then the recurrence
    A = torch.addmm(bih + (bhh if cell != "gru" else 0), x, Wih.t())  # (T, G·H)
    hs = torch.empty(T + 1, R, dtype=DT)  # hs[t+1] = h_t, hs[0] = h_{-1} = 0
    hs[0].zero_()
    if cell == "rnn":
        for t in range(T):
            torch.tanh(torch.addmv(A[t], Whh, hs[t]), out=hs[t + 1])
    elif cell == "lstm":
        cs = torch.empty(T + 1, H, dtype=DT)
        cs[0].zero_()
        gates = torch.empty(T, 4 * H, dtype=DT)  # activated i, f, g, o
        tc = torch.empty(T, H, dtype=DT)  # tanh(c_t)
        for t in range(T):
            z = torch.addmv(A[t], Whh, hs[t])
            torch.sigmoid(z, out=gates[t])
            gates[t, 2 * H:3 * H] = torch.tanh(z[2 * H:3 * H])
            i, f, g, o = gates[t].split(H)
            torch.addcmul(f * cs[t], i, g, out=cs[t + 1])
            torch.tanh(cs[t + 1], out=tc[t])
            if Whr is None:
                torch.mul(o, tc[t], out=hs[t + 1])
            else:
                torch.mv(Whr, o * tc[t], out=hs[t + 1])
    else:
        gates = torch.empty(T, 3 * H, dtype=DT)  # r, z, n
        un = torch.empty(T, H, dtype=DT)  # W_hn h_{t-1} + b_hn
        for t in range(T):
            u = torch.addmv(bhh, Whh, hs[t])
            rz = torch.sigmoid(A[t, :2 * H] + u[:2 * H])
            r, z = rz.split(H)
            un[t] = u[2 * H:]
            n = torch.tanh(torch.addcmul(A[t, 2 * H:], r, un[t]))
            gates[t, :2 * H] = rz
            gates[t, 2 * H:] = n
            hs[t + 1] = n + z * (hs[t] - n)

    # ---- backward: row t of dH holds ∂ε_t/∂h_j for the current j (rows t ≥ j are live)
    lag_sum = torch.zeros(T, dtype=DT)
    lag_min = torch.full((T,), math.inf, dtype=DT)
    lag_max = torch.zeros(T, dtype=DT)
    dH = torch.zeros(T, R, dtype=DT)
    if cell == "lstm":
        dC = torch.zeros(T, H, dtype=DT)  # carried ∂ε_t/∂c_j through c_{j+1} only
    for j in range(T - 1, -1, -1):
        dh = dH[j:]
        dh[0].fill_(1.0)  # ∂ε_j/∂h_j for the sum loss
        n_live = T - j
        if cell == "lstm":
            i, f, g, o = gates[j].split(H)
            dc = dC[j:]
            dm = dh if Whr is None else torch.mm(dh, Whr)  # ∂ε/∂(o ⊙ tanh c_j)
            dc.addcmul_(dm, o * (1 - tc[j] * tc[j]))  # total ∂ε/∂c_j: add the c_j -> h_j path
            norms = (dh * dh).sum(1).add_((dc * dc).sum(1)).sqrt_()
        else:
            norms = torch.linalg.vector_norm(dh, dim=1)
        lag_sum[:n_live] += norms
        torch.minimum(lag_min[:n_live], norms, out=lag_min[:n_live])
        torch.maximum(lag_max[:n_live], norms, out=lag_max[:n_live])
        if j == 0:
            break
        # one product per step: pending gradients times the recurrent Jacobian
        if cell == "rnn":
            h = hs[j + 1]
            dH[j:] = torch.mm(dh * (1 - h * h), Whh)
        elif cell == "lstm":
            dz = torch.empty(n_live, 4 * H, dtype=DT)
            dz[:, 0:H] = dc * (g * i * (1 - i))
            dz[:, H:2 * H] = dc * (cs[j] * f * (1 - f))
            dz[:, 2 * H:3 * H] = dc * (i * (1 - g * g))
            dz[:, 3 * H:] = dm * (tc[j] * o * (1 - o))
            dc.mul_(f)  # carry to c_{j-1}
            dH[j:] = torch.mm(dz, Whh)
        else:
            r, z, n = gates[j].split(H)
            hprev = hs[j]
            du = torch.empty(n_live, 3 * H, dtype=DT)
            dn_pre = dh * ((1 - z) * (1 - n * n))
            du[:, 2 * H:] = dn_pre * r
            du[:, 0:H] = dn_pre * (un[j] * r * (1 - r))
            du[:, H:2 * H] = dh * ((hprev - n) * z * (1 - z))
            dH[j:] = torch.addmm(dh * z, du, Whh)
    counts = torch.arange(T, 0, -1, dtype=DT)
    return lag_sum / counts, lag_min, lag_max


def all_tables(cell, w, x):
    """The lag table of every direction: forward, then (bidirectional) reverse over the reversed sequence."""
    tables = [lag_table(cell, w, x)]
    if "weight_hh_l0_reverse" in w:
        tables.append(lag_table(cell, w, x.flip(0), "_reverse"))
    return tables


def reference_tables(cell, w, x):
    """The same tables from tools/gen_reference.py (autograd, one backward per (t, j)), one per direction."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import gen_reference
    model = {"cell": cell, "weights": {k: v.tolist() for k, v in w.items()},
             "data": {"inputs": x.tolist()}, "loss": "sum"}
    if "weight_hr_l0" in w:
        model["proj_size"] = w["weight_hr_l0"].shape[0]
    v2 = "weight_hh_l0_reverse" in w or "weight_hr_l0" in w
    rep = gen_reference.build_report(gen_reference.parse_model(model), v2=v2)
    return [[torch.tensor([e[k] for e in layer["lags"]], dtype=DT) for k in ("mean", "min", "max")]
            for layer in rep["layers"]]


def check(seed):
    ok = True
    cases = [(cell, {}) for cell in ("rnn", "lstm", "gru")]
    cases += [("lstm", {"bidirectional": True}), ("lstm", {"proj": 3}), ("lstm", {"bidirectional": True, "proj": 2}),
              ("gru", {"bidirectional": True})]
    for cell, extra in cases:
        w, x = make_model(cell, 4, 10, seed, **extra)
        ours = all_tables(cell, w, x)
        ref = reference_tables(cell, w, x)
        err = max(float(((a - b).abs() / b.abs()).max()) for o, r in zip(ours, ref) for a, b in zip(o, r))
        print("check %-4s %-35s H=4 T=10: max relative difference %.3g" % (cell, extra, err), file=sys.stderr)
        ok = ok and err < 1e-10 and len(ours) == len(ref)
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cell", choices=sorted(GATES), default="rnn")
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--bidirectional", action="store_true", help="add a reverse direction (its own weights)")
    ap.add_argument("--proj", type=int, default=0, help="lstm: projection size P (0: none)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check", action="store_true", help="verify against the autograd reference (H=4, T=10)")
    args = ap.parse_args()
    if "OPENBLAS_CORETYPE" in os.environ:
        print("torch_lags: OPENBLAS_CORETYPE is set; run with `env -u OPENBLAS_CORETYPE` for comparable timings",
              file=sys.stderr)
    torch.set_num_threads(args.threads)
    if args.check:
        sys.exit(0 if check(args.seed) else 1)
    if args.proj and args.cell != "lstm":
        ap.error("--proj needs --cell lstm")
    w, x = make_model(args.cell, args.hidden, args.steps, args.seed, args.bidirectional, args.proj)
    start = time.perf_counter()
    mean = all_tables(args.cell, w, x)[0][0]
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"cell": args.cell, "hidden": args.hidden, "steps": args.steps, "threads": args.threads,
                      "bidirectional": args.bidirectional, "proj": args.proj,
                      "seconds": seconds, "peak_rss_mb": round(peak, 1),
                      "lag_mean_first": mean[:5].tolist(), "lag_mean_last": mean[-5:].tolist()}))


if __name__ == "__main__":
    main()
