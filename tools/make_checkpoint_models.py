#!/usr/bin/python3
"""make_checkpoint_models.py [--out DIR] [--only NAME...] [--list]

Writes checkpoint-backed model files with their PyTorch references, for the end-to-end tests of
the checkpoint integration (shared/spec/checkpoints.md sections 1, 2 and 4). Default DIR:
test/fixtures/checkpoint-models. For each case NAME:

  NAME.rnn.json         the model file: "weights" names a checkpoint (.pt .npz .onnx .keras .h5
                        .safetensors), with "module", "readout" / "embedding" prefixes, and data
                        arrays in files (x.npy, b.npz#name, b.pt#name, x.pt, b.safetensors#name)
  NAME.inline.rnn.json  the same model with every number inline (PyTorch names, float64 copies of
                        the stored values), which the engine must analyze to the same report
  NAME.ref.json         the PyTorch autograd reference (tools/gen_reference.py, report version 2):
                        of NAME.rnn.json where gen_reference reads the source (.pt .npz .h5 .npy
                        .safetensors), else of NAME.inline.rnn.json (ONNX, Keras 3, whole pickled
                        modules, which gen_reference's allow-list refuses)
  NAME.*                the checkpoint and data files, written by torch.save, np.save(z),
                        torch.onnx.export, h5py in Keras' layout (Keras is not installable here:
                        see make_checkpoints.py), and the safetensors layout

plus index.json: what each case covers, where its reference comes from, and the `model.source`
the report must give. Cases whose source gen_reference does read are also checked here: the
reference of the checkpoint-backed file and of the inline file must agree to 1e-12.

Bare checkpoints (no model file) analyzed with synthetic data are listed in index.json under
"bare": NAME.inline.rnn.json then has a `data.generate` block (gen_reference does not implement
the project's generator, so these have no .ref.json; the tests compare the two engine reports).

Everything is seeded; reruns write identical bytes except the whole-module pickle (memo layout).
"""
import argparse
import io
import json
import os
import struct
import sys
import zipfile
from collections import OrderedDict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_reference  # noqa: E402
import ref_diff  # noqa: E402
import make_checkpoints as mc  # noqa: E402

DEFAULT_OUT = os.path.join(HERE, "..", "test", "fixtures", "checkpoint-models")
OUT = DEFAULT_OUT


def p(name):
    return os.path.join(OUT, name)


def f64(a):
    """Nested lists of the exact float64 values (float32/16 values are exact in float64)."""
    return np.asarray(a, dtype=np.float64).tolist()


def write_json(name, obj):
    with open(p(name), "w") as f:
        f.write(json.dumps(obj, indent=1) + "\n")


def torch_sd_f64(sd, prefix=""):
    """A state_dict's tensors under `prefix`, as float64 numpy arrays with the prefix removed."""
    out = OrderedDict()
    for k, v in sd.items():
        if k.startswith(prefix):
            out[k[len(prefix):]] = v.detach().to(dtype=__import__("torch").float64).numpy()
    return out


def write_safetensors(name, tensors):
    """tensors: list of (name, numpy array); dtypes F64 F32 F16 I64 I32 U8."""
    codes = {"float64": "F64", "float32": "F32", "float16": "F16", "int64": "I64", "int32": "I32", "uint8": "U8"}
    header, blobs, off = OrderedDict(), [], 0
    for n, a in tensors:
        a = np.ascontiguousarray(a)
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[n] = {"dtype": codes[a.dtype.name], "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(p(name), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


class Case:
    def __init__(self, name, covers, fmt, module, ref_from, build):
        self.name, self.covers, self.fmt, self.module, self.ref_from, self.build = (
            name, covers, fmt, module, ref_from, build)


CASES = []


def case(name, covers, fmt, module, ref_from="checkpoint"):
    def wrap(fn):
        CASES.append(Case(name, covers, fmt, module, ref_from, fn))
        return fn
    return wrap


def rng_for(name):
    return np.random.default_rng(sum(map(ord, name)) * 7919)


def inline_model(W, data, *, readout=None, loss=None, training=None, extra=None):
    m = OrderedDict()
    if extra:
        m.update(extra)
    m["weights"] = OrderedDict((k, f64(v)) for k, v in W.items())
    if readout is not None:
        m["readout"] = OrderedDict((k, f64(v)) for k, v in readout.items())
    m["data"] = data
    if loss:
        m["loss"] = loss
    if training:
        m["training"] = training
    return m


# ------------------------------------------------------------------------------- PyTorch -----

@case("pt-statedict-lstm2", "torch.save(model.state_dict()) of a user module (encoder: 2-layer nn.LSTM, head: "
      "nn.Linear), float32; module and readout as prefixes; inputs x.npy (float32), class targets y.npy (int64), "
      "cross_entropy, batch_size 2", "pytorch", "encoder")
def _pt_statedict(c):
    import torch
    import torch.nn as nn
    torch.manual_seed(11)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.LSTM(3, 5, 2, batch_first=True)
            self.head = nn.Linear(5, 3)

    net = Net()
    torch.save(net.state_dict(), p(c.name + ".pt"))
    r = rng_for(c.name)
    x = r.standard_normal((3, 6, 3)).astype(np.float32)
    y = r.integers(0, 3, (3, 6)).astype(np.int64)
    np.save(p(c.name + ".x.npy"), x)
    np.save(p(c.name + ".y.npy"), y)
    sd = net.state_dict()
    model = {"weights": c.name + ".pt", "module": "encoder", "readout": "head",
             "data": {"inputs": c.name + ".x.npy", "targets": c.name + ".y.npy"},
             "loss": "cross_entropy", "training": {"batch_size": 2}}
    inline = inline_model(torch_sd_f64(sd, "encoder."), {"inputs": f64(x), "targets": y.tolist()},
                          readout=torch_sd_f64(sd, "head."), loss="cross_entropy", training={"batch_size": 2})
    return model, inline


@case("pt-training-ckpt-gru-dp", "training checkpoint {optimizer_state_dict (Adam, stepped), epoch, step, "
      "model_state_dict of nn.DataParallel (module. prefix)}: GRU + Linear, float64; data batch.npz "
      "(np.savez_compressed) time_first [T][B][I] with mse targets [T][B][D]", "pytorch", "rnn")
def _pt_training(c):
    import torch
    import torch.nn as nn
    torch.manual_seed(12)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.GRU(3, 4)
            self.out = nn.Linear(4, 2)

        def forward(self, x):
            return self.out(self.rnn(x)[0])

    net = Net().double()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    xb = torch.randn(5, 2, 3, dtype=torch.float64)
    net(xb).pow(2).sum().backward()
    opt.step()
    dp = nn.DataParallel(net)
    torch.save(OrderedDict([("optimizer_state_dict", opt.state_dict()), ("epoch", 3), ("step", 120),
                            ("model_state_dict", dp.state_dict())]), p(c.name + ".ckpt"))
    r = rng_for(c.name)
    x = r.standard_normal((6, 3, 3))  # [T][B][I]
    y = r.standard_normal((6, 3, 2)).astype(np.float32)
    np.savez_compressed(p(c.name + ".batch.npz"), inputs=x, targets=y)
    sd = net.state_dict()
    model = {"weights": c.name + ".ckpt", "module": "rnn", "readout": "out",
             "data": {"inputs": c.name + ".batch.npz#inputs", "targets": c.name + ".batch.npz#targets",
                      "layout": "time_first"}, "loss": "mse"}
    inline = inline_model(torch_sd_f64(sd, "rnn."), {"inputs": f64(x), "targets": f64(y), "layout": "time_first"},
                          readout=torch_sd_f64(sd, "out."), loss="mse")
    return model, inline


@case("pt-views-f16-rnn", "a bare nn.RNN state_dict whose tensors are views of one shared float16 storage "
      "(a transpose, a slice with stride 2, offsets); data batch.pt#x / batch.pt#y (torch.save of a dict), mse",
      "pytorch", "")
def _pt_views(c):
    import torch
    torch.manual_seed(13)
    H, I = 4, 3
    big = (torch.randn(200) * 0.5).to(torch.float16)
    sd = OrderedDict()
    sd["weight_ih_l0"] = big[0:H * I].view(I, H).t()              # transpose: strides (1, H)
    sd["weight_hh_l0"] = big[20:20 + H * H].view(H, H)            # offset 20
    sd["bias_ih_l0"] = big[60:60 + 2 * H:2]                       # stride 2
    sd["bias_hh_l0"] = big[100:100 + H]
    assert sd["weight_ih_l0"].stride() == (1, H) and sd["bias_ih_l0"].stride() == (2,)
    torch.save(sd, p(c.name + ".pt"))
    r = rng_for(c.name)
    x = torch.tensor(r.standard_normal((2, 5, I)), dtype=torch.float32)
    y = torch.tensor(r.standard_normal((2, 5, H)), dtype=torch.float32)
    torch.save({"x": x, "y": y}, p(c.name + ".batch.pt"))
    model = {"weights": c.name + ".pt",
             "data": {"inputs": c.name + ".batch.pt#x", "targets": c.name + ".batch.pt#y"}, "loss": "mse"}
    inline = inline_model(torch_sd_f64(sd), {"inputs": f64(x.numpy()), "targets": f64(y.numpy())}, loss="mse")
    return model, inline


@case("pt-bf16-lstm-bare-x", "a bfloat16 nn.LSTM state_dict (.pth); inputs from x.pt holding one bare tensor; "
      "loss sum", "pytorch", "")
def _pt_bf16(c):
    import torch
    import torch.nn as nn
    torch.manual_seed(14)
    m = nn.LSTM(2, 3).to(torch.bfloat16)
    torch.save(m.state_dict(), p(c.name + ".pth"))
    r = rng_for(c.name)
    x = torch.tensor(r.standard_normal((2, 7, 2)), dtype=torch.float64)
    torch.save(x, p(c.name + ".x.pt"))
    model = {"weights": c.name + ".pth", "data": {"inputs": c.name + ".x.pt"}}
    inline = inline_model(torch_sd_f64(m.state_dict()), {"inputs": f64(x.numpy())})
    return model, inline


@case("pt-whole-module-rnn-relu", "torch.save(model) of a whole user module (a __main__ class kept as an inert "
      "record) holding a 2-layer nn.RNN(nonlinearity='relu'): the pickled module's attributes give the "
      "nonlinearity; one sequence [T][I] in x.npy; reference of the inline file (gen_reference's allow-list "
      "refuses the class)", "pytorch", "rnn", ref_from="inline")
def _pt_whole(c):
    import torch
    import torch.nn as nn
    torch.manual_seed(15)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.RNN(3, 4, 2, nonlinearity="relu")

    Net.__module__ = "__main__"
    Net.__qualname__ = "Net"
    globals()["Net"] = Net
    net = Net()
    with torch.no_grad():
        for name, v in net.rnn.named_parameters():
            if name.startswith("bias"):
                v.add_(0.3)  # keep most relu units alive
    torch.save(net, p(c.name + ".pt"))
    r = rng_for(c.name)
    x = r.standard_normal((6, 3))
    np.save(p(c.name + ".x.npy"), x)
    model = {"weights": c.name + ".pt", "data": {"inputs": c.name + ".x.npy"}}
    inline = inline_model(torch_sd_f64(net.state_dict(), "rnn."), {"inputs": f64(x)},
                          extra={"nonlinearity": "relu"})
    return model, inline


# --------------------------------------------------------------------- npz, safetensors -----

@case("npz-gru-safetensors-targets", "np.savez of an nn.GRU state_dict (float64); inputs from a bare tensor x.pt, "
      "mse targets from y.safetensors#y (F32)", "npz", "")
def _npz(c):
    import torch
    import torch.nn as nn
    torch.manual_seed(16)
    m = nn.GRU(2, 3).double()
    np.savez(p(c.name + ".npz"), **{k: v.detach().numpy() for k, v in m.state_dict().items()})
    r = rng_for(c.name)
    x = torch.tensor(r.standard_normal((3, 5, 2)), dtype=torch.float32)
    torch.save(x, p(c.name + ".x.pt"))
    y = r.standard_normal((3, 5, 3)).astype(np.float32)
    write_safetensors(c.name + ".y.safetensors", [("y", y)])
    model = {"weights": c.name + ".npz",
             "data": {"inputs": c.name + ".x.pt", "targets": c.name + ".y.safetensors#y"}, "loss": "mse"}
    inline = inline_model(torch_sd_f64(m.state_dict()), {"inputs": f64(x.numpy()), "targets": f64(y)}, loss="mse")
    return model, inline


@case("safetensors-prefixed-ce", "a safetensors state_dict with prefixed keys (rnn.*, head.*): module and readout "
      "prefixes; inputs b.safetensors#x (F64) and cross_entropy class ids b.safetensors#y (I64)", "safetensors",
      "rnn")
def _safetensors(c):
    import torch
    import torch.nn as nn
    torch.manual_seed(17)
    rnn, head = nn.RNN(3, 4), nn.Linear(4, 3)
    tensors = [("rnn." + k, v.detach().numpy()) for k, v in rnn.state_dict().items()]
    tensors += [("head." + k, v.detach().numpy()) for k, v in head.state_dict().items()]
    write_safetensors(c.name + ".safetensors", tensors)
    r = rng_for(c.name)
    x = r.standard_normal((3, 4, 3))
    y = r.integers(0, 3, (3, 4)).astype(np.int64)
    write_safetensors(c.name + ".b.safetensors", [("x", x), ("y", y)])
    model = {"weights": c.name + ".safetensors", "module": "rnn", "readout": "head",
             "data": {"inputs": c.name + ".b.safetensors#x", "targets": c.name + ".b.safetensors#y"},
             "loss": "cross_entropy"}
    inline = inline_model(torch_sd_f64(rnn.state_dict()), {"inputs": f64(x), "targets": y.tolist()},
                          readout=torch_sd_f64(head.state_dict()), loss="cross_entropy")
    return model, inline


# ----------------------------------------------------------------------------------- ONNX -----

def onnx_export(c, module, x):
    """torch.onnx.export of a module wrapping `module` (output: the top layer's y)."""
    import torch

    class Wrap(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = module

        def forward(self, inp):
            return self.rnn(inp)[0]

    torch.onnx.export(Wrap().eval(), x, p(c.name + ".onnx"), opset_version=14, input_names=["x"],
                      output_names=["y"])


@case("onnx-lstm-2layer", "torch.onnx.export of a 2-layer nn.LSTM (two LSTM nodes chained through Squeeze; "
      "gates i o f c reordered to PyTorch's i f g o); inputs x.npy, mse targets y.npy; reference of the inline "
      "file", "onnx", "", ref_from="inline")
def _onnx_lstm(c):
    import torch
    import torch.nn as nn
    torch.manual_seed(18)
    m = nn.LSTM(3, 4, 2)
    onnx_export(c, m, torch.randn(5, 1, 3))
    r = rng_for(c.name)
    x = r.standard_normal((2, 5, 3)).astype(np.float32)
    y = r.standard_normal((2, 5, 4))
    np.save(p(c.name + ".x.npy"), x)
    np.save(p(c.name + ".y.npy"), y)
    model = {"weights": c.name + ".onnx", "data": {"inputs": c.name + ".x.npy", "targets": c.name + ".y.npy"},
             "loss": "mse"}
    inline = inline_model(torch_sd_f64(m.state_dict()), {"inputs": f64(x), "targets": f64(y)}, loss="mse")
    return model, inline


@case("onnx-gru", "torch.onnx.export of an nn.GRU (linear_before_reset=1: gru_reset after; gates z r h "
      "reordered); inputs x.npy; loss sum; reference of the inline file", "onnx", "", ref_from="inline")
def _onnx_gru(c):
    import torch
    import torch.nn as nn
    torch.manual_seed(19)
    m = nn.GRU(2, 3)
    onnx_export(c, m, torch.randn(4, 1, 2))
    r = rng_for(c.name)
    x = r.standard_normal((3, 6, 2))
    np.save(p(c.name + ".x.npy"), x)
    model = {"weights": c.name + ".onnx", "data": {"inputs": c.name + ".x.npy"}}
    inline = inline_model(torch_sd_f64(m.state_dict()), {"inputs": f64(x)})
    return model, inline


@case("onnx-rnn-relu", "torch.onnx.export of nn.RNN(nonlinearity='relu') (activations [\"Relu\"] → "
      "nonlinearity relu); inputs x.npy; reference of the inline file", "onnx", "", ref_from="inline")
def _onnx_rnn(c):
    import torch
    import torch.nn as nn
    torch.manual_seed(20)
    m = nn.RNN(3, 4, nonlinearity="relu")
    with torch.no_grad():
        m.bias_ih_l0.add_(0.3)
    onnx_export(c, m, torch.randn(4, 1, 3))
    r = rng_for(c.name)
    x = r.standard_normal((2, 5, 3))
    np.save(p(c.name + ".x.npy"), x)
    model = {"weights": c.name + ".onnx", "data": {"inputs": c.name + ".x.npy"}}
    inline = inline_model(torch_sd_f64(m.state_dict()), {"inputs": f64(x)}, extra={"nonlinearity": "relu"})
    return model, inline


# ---------------------------------------------------------------------------------- Keras -----

def keras_file(c, ext, layers):
    """Writes NAME.ext with make_checkpoints' Keras writer (h5py, Keras' own layout) and returns the stored
    weight arrays, read back with h5py: [(layer weight name, [kernel, recurrent_kernel, bias?])]."""
    import h5py
    mc.OUT = OUT
    fmt = "keras3" if ext == ".keras" else "legacy"
    mc.make_keras_file(c.name + ext, layers, fmt, module_names=[], extra_check=False)
    mc.EXPECTED.pop(c.name + ext, None)
    out = []
    if fmt == "keras3":
        with zipfile.ZipFile(p(c.name + ext)) as z:
            buf = io.BytesIO(z.read("model.weights.h5"))
        with h5py.File(buf, "r") as f:
            for name in f["layers"]:
                g = f["layers"][name]
                if "cell" in g:
                    v = g["cell"]["vars"]
                    out.append((name, [np.asarray(v[str(k)]) for k in range(len(v))]))
    else:
        with h5py.File(p(c.name + ext), "r") as f:
            mw = f["model_weights"]
            text = lambda n: n.decode() if isinstance(n, bytes) else n  # noqa: E731
            for name in [text(n) for n in mw.attrs["layer_names"]]:
                wn = [text(n) for n in mw[name].attrs["weight_names"]]
                if any("recurrent_kernel" in n for n in wn):
                    out.append((name, [np.asarray(mw[name][n]) for n in wn]))
    return out


@case("keras-gru", "Keras 3 .keras: GRU (reset_after=True, bias [2][3H]) then Dense (not used: the readout is "
      "inline); gates z r h → r z n, kernels transposed; inputs x.npy, mse targets; reference of the inline file",
      "keras", "gru", ref_from="inline")
def _keras_gru(c):
    L = mc.keras_layer_config
    stored = keras_file(c, ".keras", [("GRU", L("GRU", "my_gru", 4), 3, None),
                                      ("Dense", {"name": "head", "units": 2}, 4, None)])
    (name, (k, rk, b)), = stored
    W = mc.keras_to_pytorch("GRU", k, rk, b, True, 0)
    mc.check_against_torch("GRU", k, rk, b, True, "tanh", W)
    r = rng_for(c.name)
    x = r.standard_normal((2, 5, 3)).astype(np.float32)
    y = r.standard_normal((2, 5, 2))
    np.save(p(c.name + ".x.npy"), x)
    np.save(p(c.name + ".y.npy"), y)
    ro = {"weight": r.standard_normal((2, 4)) * 0.5, "bias": r.standard_normal(2) * 0.1}
    model = {"weights": c.name + ".keras", "readout": {"weight": f64(ro["weight"]), "bias": f64(ro["bias"])},
             "data": {"inputs": c.name + ".x.npy", "targets": c.name + ".y.npy"}, "loss": "mse"}
    inline = inline_model(W, {"inputs": f64(x), "targets": f64(y)}, readout=ro, loss="mse")
    return model, inline


@case("keras-simplernn-relu-stack", "Keras 3 .keras: two SimpleRNN(activation='relu') layers chained "
      "(return_sequences) form one 2-layer stack selected by \"module\": \"simple_rnn\"; one sequence [T][I] "
      "(float64 .npy); reference of the inline file", "keras", "simple_rnn", ref_from="inline")
def _keras_simple(c):
    L = mc.keras_layer_config
    plain = mc.keras_weights

    def gentle(rng, cls, i, units, cfg):
        # Small weights and positive biases keep the relu units alive and the lags away from 0.
        k, r, b = plain(rng, cls, i, units, cfg)
        return (k * 0.5).astype(np.float32), (r * 0.3).astype(np.float32), (np.abs(b) * 0.5 + 0.2).astype(np.float32)

    mc.keras_weights = gentle
    try:
        stored = keras_file(c, ".keras", [("SimpleRNN", L("SimpleRNN", "first", 4, activation="relu"), 3, None),
                                          ("SimpleRNN", L("SimpleRNN", "second", 4, activation="relu"), 4, None)])
    finally:
        mc.keras_weights = plain
    W = OrderedDict()
    for layer, (name, arrays) in enumerate(stored):
        k, rk, b = arrays
        W.update(mc.keras_to_pytorch("SimpleRNN", k, rk, b, True, layer))
    r = rng_for(c.name)
    x = r.standard_normal((6, 3))
    np.save(p(c.name + ".x.npy"), x)
    model = {"weights": c.name + ".keras", "module": "simple_rnn", "data": {"inputs": c.name + ".x.npy"}}
    inline = inline_model(W, {"inputs": f64(x)}, extra={"nonlinearity": "relu"})
    return model, inline


@case("h5-lstm-readout", "tf.keras legacy .h5: LSTM (bias → bias_ih only, bias_hh absent) with an inline "
      "readout; inputs x.npy, class targets y.npy, cross_entropy", "keras", "my_lstm")
def _h5_lstm(c):
    L = mc.keras_layer_config
    stored = keras_file(c, ".h5", [("LSTM", L("LSTM", "my_lstm", 4), 3, None)])
    (name, (k, rk, b)), = stored
    W = mc.keras_to_pytorch("LSTM", k, rk, b, True, 0)
    mc.check_against_torch("LSTM", k, rk, b, True, "tanh", W)
    r = rng_for(c.name)
    x = r.standard_normal((3, 5, 3)).astype(np.float32)
    y = r.integers(0, 2, (3, 5)).astype(np.int64)
    np.save(p(c.name + ".x.npy"), x)
    np.save(p(c.name + ".y.npy"), y)
    ro = {"weight": r.standard_normal((2, 4)) * 0.5, "bias": r.standard_normal(2) * 0.1}
    model = {"weights": c.name + ".h5", "readout": {"weight": f64(ro["weight"]), "bias": f64(ro["bias"])},
             "data": {"inputs": c.name + ".x.npy", "targets": c.name + ".y.npy"}, "loss": "cross_entropy"}
    inline = inline_model(W, {"inputs": f64(x), "targets": y.tolist()}, readout=ro, loss="cross_entropy")
    return model, inline


# ------------------------------------------------------------------------ bare checkpoints -----

BARE = []


def bare(name, covers, fmt, module):
    def wrap(fn):
        BARE.append(Case(name, covers, fmt, module, None, fn))
        return fn
    return wrap


@bare("bare-gru.pt", "a bare nn.GRU state_dict analyzed directly: synthetic data (8 sequences of 64 steps) and a "
      "synthetic-data finding", "pytorch", "")
def _bare_gru(c):
    import torch
    import torch.nn as nn
    torch.manual_seed(21)
    m = nn.GRU(3, 5)
    torch.save(m.state_dict(), p(c.name))
    return torch_sd_f64(m.state_dict())


@bare("bare-lstm.onnx", "an ONNX LSTM export analyzed directly (synthetic data)", "onnx", "")
def _bare_onnx(c):
    import torch
    import torch.nn as nn
    torch.manual_seed(22)
    m = nn.LSTM(2, 3)

    class Wrap(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = m

        def forward(self, inp):
            return self.rnn(inp)[0]

    torch.onnx.export(Wrap().eval(), torch.randn(4, 1, 2), p(c.name), opset_version=14, input_names=["x"],
                      output_names=["y"])
    return torch_sd_f64(m.state_dict())


# ------------------------------------------------------------------------------------ main -----

def generate(only=None):
    os.makedirs(OUT, exist_ok=True)
    mc.pinned_zip_time()
    index_path = p("index.json")
    index = {"generator": "tools/make_checkpoint_models.py (references: tools/gen_reference.py)",
             "cases": {}, "bare": {}}
    if only and os.path.exists(index_path):
        with open(index_path) as f:
            index = json.load(f)
    failed = []
    for c in CASES:
        if only and c.name not in only:
            continue
        model, inline = c.build(c)
        write_json(c.name + ".rnn.json", model)
        write_json(c.name + ".inline.rnn.json", inline)
        ref_model = c.name + (".rnn.json" if c.ref_from == "checkpoint" else ".inline.rnn.json")
        ref = gen_reference.build_report(gen_reference.load_model(p(ref_model)), v2=True)
        ref["notes"] = c.covers
        if c.ref_from == "checkpoint":
            other = gen_reference.build_report(gen_reference.load_model(p(c.name + ".inline.rnn.json")), v2=True)
            diffs = ref_diff_reports(ref, other)
            if diffs:
                failed.append(c.name)
                print("%s: checkpoint and inline references differ: %s" % (c.name, "; ".join(diffs[:5])),
                      file=sys.stderr)
        write_json(c.name + ".ref.json", ref)
        files = sorted(f for f in os.listdir(OUT) if f.startswith(c.name + ".")
                       and not f.endswith((".rnn.json", ".ref.json")))
        source = {"format": c.fmt, "path": model["weights"], "module": module_name(c)}
        index["cases"][c.name] = {"covers": c.covers, "ref_from": c.ref_from, "source": source, "files": files}
        print("wrote %s (+ inline, ref from %s, selfcheck %.2g)" % (c.name, c.ref_from, ref["selfcheck"]["max"]))
    for c in BARE:
        if only and c.name not in only:
            continue
        W = c.build(c)
        stem = c.name.rsplit(".", 1)[0]
        inline = inline_model(W, {"generate": {"sequences": 8, "length": 64}})
        write_json(stem + ".inline.rnn.json", inline)
        index["bare"][c.name] = {"covers": c.covers, "inline": stem + ".inline.rnn.json",
                                 "source": {"format": c.fmt, "path": c.name, "module": module_name(c, c.name)}}
        print("wrote %s (+ %s.inline.rnn.json)" % (c.name, stem))
    with open(index_path, "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    return failed


def module_name(c, weights=None):
    """The module the report names: the key prefix (PyTorch, npz, safetensors), the first recurrent node of an
    ONNX file (as onnx reads it), the layer name of a Keras file (given per case)."""
    if c.fmt != "onnx":
        return c.module
    import onnx
    model = onnx.load(p(weights or c.name + ".onnx"))
    return next(n.name for n in model.graph.node if n.op_type in ("RNN", "LSTM", "GRU"))


def ref_diff_reports(a, b):
    """Differences between two reference reports beyond 1e-12 relative (ref_diff's rule), ignoring the source."""
    a = json.loads(json.dumps(a))
    b = json.loads(json.dumps(b))
    for r in (a, b):
        r.pop("notes", None)
        r.get("model", {}).pop("source", None)
        r.pop("selfcheck", None)
    return ref_diff.compare(a, b, 1e-12).bad


def main():
    global OUT
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    if args.list:
        for c in CASES + BARE:
            print("%-32s %s" % (c.name, c.covers))
        return 0
    OUT = os.path.abspath(args.out)
    import torch
    torch.set_num_threads(1)
    failed = generate(args.only)
    if failed:
        print("make_checkpoint_models: failed: %s" % ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
