#!/usr/bin/python3
"""ref_diff.py REF.json GOT.json [--rtol 1e-12] [--keys-of-ref]

Strict comparison of two reports: every number REF gives (loss, grad_norm, gradients with
values, layers with direction / sigma_max / spectral_radius / gamma / lags / gates / units,
clipping batch norms and suggestions) must be in GOT, within rtol relative (gradient values
relative to the gradient's norm, as compare-report.py does). Integers (counts, dead_units,
lag numbers) must be equal. Prints the worst relative difference per section and the
mismatches; exit 1 on any mismatch. Fields only one side has (selfcheck, notes, model) are
ignored, so it compares a generated reference with a golden one or an engine report.
"""
import argparse
import json
import sys


def rel(a, b):
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


class Diff:
    def __init__(self, rtol):
        self.rtol = rtol
        self.worst = {}
        self.bad = []

    def num(self, section, where, a, b, scale=None):
        if a is None or b is None:
            if a is not b:
                self.bad.append("%s: expected %r, got %r" % (where, a, b))
            return
        if not isinstance(b, (int, float)) or isinstance(b, bool):
            self.bad.append("%s: expected %r, got %r" % (where, a, b))
            return
        d = abs(a - b) / scale if scale else rel(a, b)
        self.worst[section] = max(self.worst.get(section, 0.0), d)
        if d > self.rtol:
            self.bad.append("%s: expected %r, got %r (rel %.3g)" % (where, a, b, d))

    def exact(self, where, a, b):
        if a != b:
            self.bad.append("%s: expected %r, got %r" % (where, a, b))


def flat(x):
    if isinstance(x, list):
        for y in x:
            yield from flat(y)
    else:
        yield x


def compare(ref, got, rtol):
    D = Diff(rtol)
    for key in ("loss", "grad_norm"):
        D.num(key, key, ref[key], got.get(key))
    for key in ("sequences", "steps"):
        if key in ref:
            D.exact(key, ref[key], got.get(key))
    gg = got.get("gradients", {})
    if set(gg) != set(ref["gradients"]):
        D.bad.append("gradients: names %s expected, got %s" % (sorted(ref["gradients"]), sorted(gg)))
    for k, r in ref["gradients"].items():
        g = gg.get(k)
        if g is None:
            continue
        D.num("gradients", "gradients.%s.norm" % k, r["norm"], g.get("norm"))
        D.num("gradients", "gradients.%s.max_abs" % k, r["max_abs"], g.get("max_abs"))
        rv, gv = list(flat(r.get("values", []))), list(flat(g.get("values", [])))
        if len(rv) != len(gv):
            D.bad.append("gradients.%s.values: %d numbers expected, got %d" % (k, len(rv), len(gv)))
            continue
        for i, (a, b) in enumerate(zip(rv, gv)):
            D.num("gradients", "gradients.%s.values[%d]" % (k, i), a, b, scale=max(r["norm"], 1e-300))
    gl = got.get("layers", [])
    if len(gl) != len(ref["layers"]):
        D.bad.append("layers: %d expected, got %d" % (len(ref["layers"]), len(gl)))
    for li, (rl, L) in enumerate(zip(ref["layers"], gl)):
        for key in ("layer", "direction"):
            if key in rl:
                D.exact("layers[%d].%s" % (li, key), rl[key], L.get(key))
        for key in ("sigma_max", "spectral_radius", "gamma"):
            if key in rl:
                D.num("spectra", "layers[%d].%s" % (li, key), rl[key], L.get(key))
        lags = L.get("lags", [])
        if len(lags) != len(rl["lags"]):
            D.bad.append("layers[%d].lags: %d expected, got %d" % (li, len(rl["lags"]), len(lags)))
            continue
        for r, g in zip(rl["lags"], lags):
            w = "layers[%d].lags[%d]" % (li, r["lag"])
            D.exact(w + ".lag", r["lag"], g.get("lag"))
            D.exact(w + ".count", r["count"], g.get("count"))
            for key in ("mean", "min", "max", "contribution_mean"):
                D.num("lags", "%s.%s" % (w, key), r[key], g.get(key))
            for key in ("log10_mean", "log10_min", "log10_max"):
                if key in r:
                    if r[key] is None or g.get(key) is None:
                        D.exact("%s.%s" % (w, key), r[key], g.get(key))
                    else:
                        D.num("lags", "%s.%s" % (w, key), r[key], g.get(key), scale=1.0)
        if "gates" in rl:
            gates = L.get("gates", {})
            if set(gates) != set(rl["gates"]):
                D.bad.append("layers[%d].gates: %s expected, got %s" % (li, sorted(rl["gates"]), sorted(gates)))
            for gname, st in rl["gates"].items():
                for key, v in st.items():
                    D.num("gates", "layers[%d].gates.%s.%s" % (li, gname, key), v, gates.get(gname, {}).get(key))
        if "units" in rl:
            u = L.get("units", {})
            D.exact("layers[%d].units.dead_units" % li, rl["units"]["dead_units"], u.get("dead_units"))
            for key in ("saturated_share", "mean_abs"):
                D.num("units", "layers[%d].units.%s" % (li, key), rl["units"][key], u.get(key))
    rc, gc = ref["clipping"], got.get("clipping", {})
    bn = gc.get("batch_norms", [])
    if len(bn) != len(rc["batch_norms"]):
        D.bad.append("clipping.batch_norms: %d expected, got %d" % (len(rc["batch_norms"]), len(bn)))
    else:
        for i, (a, b) in enumerate(zip(rc["batch_norms"], bn)):
            D.num("clipping", "clipping.batch_norms[%d]" % i, a, b)
    sg = {s.get("method"): s for s in gc.get("suggestions", [])}
    for s in rc["suggestions"]:
        g = sg.get(s["method"])
        if g is None:
            D.bad.append("clipping.suggestions %s missing" % s["method"])
            continue
        D.num("clipping", "clipping.suggestions.%s" % s["method"], s["clip_norm"], g.get("clip_norm"))
        if "clipped_share_expected" in s and "clipped_share_expected" in g:
            D.exact("clipping.suggestions.%s.clipped_share_expected" % s["method"],
                    s["clipped_share_expected"], g["clipped_share_expected"])
    return D


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ref")
    ap.add_argument("got")
    ap.add_argument("--rtol", type=float, default=1e-12)
    args = ap.parse_args(argv)
    with open(args.ref) as f:
        ref = json.load(f)
    with open(args.got) as f:
        got = json.load(f)
    D = compare(ref, got, args.rtol)
    print("worst relative differences: " + ", ".join("%s %.3g" % kv for kv in sorted(D.worst.items())))
    for b in D.bad[:12]:
        print("  " + b)
    if len(D.bad) > 12:
        print("  ... %d more" % (len(D.bad) - 12))
    print("%s (rtol %g)" % ("MISMATCH" if D.bad else "match", args.rtol))
    return 1 if D.bad else 0


if __name__ == "__main__":
    sys.exit(main())
