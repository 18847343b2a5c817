"""Readers for the checkpoint and data files a version-2 model file may name
(shared/spec/checkpoints.md sections 1, 2 and 4), for the reference generator only.

PyTorch files are read without torch.load, by an allow-list unpickler (torch_load below:
no global outside the spec's allow-list is ever resolved or called); numpy reads .npy/.npz
(allow_pickle=False), h5py tf.keras legacy HDF5, and a few lines read safetensors. They exist to reproduce shared/golden-v2 (which uses .pt, .h5 and .npy
files) and to let fixtures carry data files; the engine has its own readers.

ONNX and Keras 3 `.keras` weights are not read here (Unsupported).
"""
import json
import os
import struct

import numpy as np


class ReaderError(Exception):
    """A file or entry that does not fit the spec (the message names it)."""


class ReaderUnsupported(Exception):
    """A source this reference generator deliberately does not read."""


def resolve(base_dir, rel, key):
    """The absolute path of `rel` (relative to the model file), refused outside base_dir."""
    if not isinstance(rel, str) or not rel:
        raise ReaderError("%s: path expected" % key)
    base = os.path.realpath(base_dir)
    p = os.path.realpath(os.path.join(base, rel))
    if p != base and not p.startswith(base + os.sep):
        raise ReaderError("%s: %r is outside the model's folder" % (key, rel))
    if not os.path.isfile(p):
        raise ReaderError("%s: %r not found" % (key, rel))
    return p


# ------------------------------------------------------------ safetensors -----

_ST_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
              "I8": "i1", "U8": "u1", "BOOL": "?"}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ReaderError("%s: truncated safetensors header" % path)
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ReaderError("%s: header length %d beyond the file" % (path, n))
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    body = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        if b > len(body):
            raise ReaderError("%s: tensor %s beyond the file" % (path, name))
        buf = body[a:b]
        if info["dtype"] == "BF16":
            arr = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        elif info["dtype"] in _ST_DTYPES:
            arr = np.frombuffer(buf, dtype=_ST_DTYPES[info["dtype"]])
        else:
            raise ReaderUnsupported("%s: dtype %s" % (name, info["dtype"]))
        out[name] = arr.reshape(info["shape"])
    return out


# ------------------------------------------------------------- PyTorch -------

_STORAGE_DTYPES = {"DoubleStorage": "<f8", "FloatStorage": "<f4", "HalfStorage": "<f2", "BFloat16Storage": "bf16",
                   "LongStorage": "<i8", "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1",
                   "ByteStorage": "u1", "BoolStorage": "?"}


class _StorageType:
    def __init__(self, name):
        self.name = name


def _rebuild_tensor_v2(storage, offset, size, stride, *_):
    """A numpy copy of the view (offset, size, stride) of a storage (a 1-d array)."""
    size, stride = tuple(size), tuple(stride)
    if not size:
        return storage[offset:offset + 1].reshape(()).copy()
    need = offset + 1 + sum((n - 1) * st for n, st in zip(size, stride) if n > 0)
    if any(n == 0 for n in size):
        return np.zeros(size, dtype=storage.dtype)
    if need > storage.shape[0] or offset < 0 or min(stride) < 0:
        raise ReaderError("tensor view beyond its storage")
    item = storage.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=size, strides=[st * item for st in stride])
    return view.copy()


def _rebuild_parameter(data, *_):
    return data


def torch_load(path):
    """Reads PyTorch's zip serialization without torch.load: the pickle is interpreted by an
    Unpickler that resolves only the allow-list of checkpoints.md section 1 (OrderedDict,
    _rebuild_tensor_v2, _rebuild_parameter, the storage types) and refuses every other
    global; storages are read from the archive's data/ entries. Tensors come back as
    numpy arrays. (torch.load(weights_only=True) in torch 1.13 refuses plain floats, and
    with weights_only=False it ignores a custom pickle_module, so neither is used.)"""
    import collections
    import pickle
    import zipfile
    if not zipfile.is_zipfile(path):
        raise ReaderUnsupported("%s: not PyTorch's zip serialization (legacy or TorchScript?); re-save with "
                                "torch.save(model.state_dict(), PATH)" % path)
    with zipfile.ZipFile(path) as z:
        pkls = [n for n in z.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pkls) != 1:
            raise ReaderUnsupported("%s: no single <name>/data.pkl in the archive" % path)
        prefix = pkls[0][:-len("data.pkl")]
        if prefix + "constants.pkl" in z.namelist():
            raise ReaderUnsupported("%s: a TorchScript archive; save the state_dict instead" % path)
        order = "little"
        if prefix + "byteorder" in z.namelist():
            order = z.read(prefix + "byteorder").decode().strip()
        if order != "little":
            raise ReaderUnsupported("%s: big-endian storages" % path)
        cache = {}

        class Unpickler(pickle.Unpickler):
            def find_class(self, module, name):
                if (module, name) == ("collections", "OrderedDict"):
                    return collections.OrderedDict
                if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                    return _rebuild_tensor_v2
                if (module, name) == ("torch._utils", "_rebuild_parameter"):
                    return _rebuild_parameter
                if module == "torch" and name in _STORAGE_DTYPES:
                    return _StorageType(name)
                raise ReaderUnsupported("%s: pickle global %s.%s is not on the allow-list" % (path, module, name))

            def persistent_load(self, pid):
                if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
                    raise ReaderError("%s: unknown persistent id %r" % (path, pid))
                typ, key = pid[1], str(pid[2])
                if key not in cache:
                    raw = z.read(prefix + "data/" + key)
                    dt = _STORAGE_DTYPES[typ.name]
                    if dt == "bf16":
                        arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
                    else:
                        arr = np.frombuffer(raw, dtype=dt)
                    cache[key] = arr
                return cache[key]

        with z.open(pkls[0]) as f:
            return Unpickler(f).load()


def to_numpy(v):
    return np.asarray(v)


def find_state_dict(obj):
    """The first dict, depth-first in key order, with a key ending in weight_hh_l0."""
    if isinstance(obj, dict):
        if any(isinstance(k, str) and k.endswith("weight_hh_l0") for k in obj):
            return obj
        for v in obj.values():
            found = find_state_dict(v)
            if found is not None:
                return found
    return None


def read_weight_file(path):
    """Flat {name: ndarray} from .safetensors, .pt/.pth/.bin/.ckpt or .npz; leading `module.` stripped.

    Returns (flat dict, format name)."""
    ext = os.path.splitext(path)[1].lower()
    if ext == ".safetensors":
        flat, fmt = read_safetensors(path), "safetensors"
    elif ext in (".pt", ".pth", ".bin", ".ckpt"):
        obj = torch_load(path)
        sd = find_state_dict(obj)
        if sd is None:
            raise ReaderError("%s: no state_dict with a weight_hh_l0 key" % path)
        flat, fmt = {k: to_numpy(v) for k, v in sd.items()}, "pytorch"
    elif ext == ".npz":
        with np.load(path, allow_pickle=False) as z:
            flat = {k: z[k] for k in z.files}
        fmt = "npz"
    elif ext in (".onnx", ".keras"):
        raise ReaderUnsupported("%s weights are not read by the reference generator" % ext)
    else:
        raise ReaderError("%s: unknown weights file extension" % path)
    if flat and all(k.startswith("module.") for k in flat):
        flat = {k[len("module."):]: v for k, v in flat.items()}
    return flat, fmt


# ---------------------------------------------------------------- data -------

def read_array(base_dir, spec, key):
    """An array named by a data string: x.npy, b.npz#k, b.pt#k, x.pt, b.safetensors#k."""
    rel, _, entry = spec.partition("#")
    path = resolve(base_dir, rel, key)
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npy":
        if entry:
            raise ReaderError("%s: a .npy file holds one array, no #entry" % key)
        return np.load(path, allow_pickle=False)
    if ext == ".npz":
        with np.load(path, allow_pickle=False) as z:
            if not entry:
                raise ReaderError("%s: name an entry of %s: %s" % (key, rel, ", ".join(z.files)))
            if entry not in z.files:
                raise ReaderError("%s: no entry %r in %s" % (key, entry, rel))
            return z[entry]
    if ext == ".safetensors":
        st = read_safetensors(path)
        if entry not in st:
            raise ReaderError("%s: no tensor %r in %s" % (key, entry, rel))
        return st[entry]
    if ext in (".pt", ".pth", ".bin", ".ckpt"):
        obj = torch_load(path)
        if isinstance(obj, dict):
            if not entry:
                raise ReaderError("%s: %s holds a dict; name one of its keys: %s" % (key, rel, ", ".join(map(str, obj))))
            if entry not in obj:
                raise ReaderError("%s: no key %r in %s" % (key, entry, rel))
            obj = obj[entry]
        elif entry:
            raise ReaderError("%s: %s holds a bare tensor, no #entry" % (key, rel))
        return to_numpy(obj)
    raise ReaderError("%s: unknown data file extension %s" % (key, ext))


# ------------------------------------------------------- tf.keras .h5 --------

_KERAS_RNN = ("SimpleRNN", "LSTM", "GRU")


def _reorder_gru(a, H):
    """Keras GRU blocks (z, r, h) along axis 0 -> PyTorch (r, z, n)."""
    return np.concatenate([a[H:2 * H], a[0:H], a[2 * H:3 * H]], axis=0)


def _convert_layer(cls, cfg, arrays):
    """One Keras recurrent layer's [kernel, recurrent_kernel, (bias)] -> PyTorch-named arrays."""
    kernel, rec = arrays[0], arrays[1]
    bias = arrays[2] if len(arrays) > 2 else None
    out = {}
    attrs = {}
    if cls == "LSTM":
        if cfg.get("activation", "tanh") != "tanh" or cfg.get("recurrent_activation", "sigmoid") != "sigmoid":
            raise ReaderUnsupported("LSTM activation %s/%s" % (cfg.get("activation"), cfg.get("recurrent_activation")))
        out["weight_ih"], out["weight_hh"] = kernel.T, rec.T
        if bias is not None:
            out["bias_ih"] = bias
    elif cls == "GRU":
        if cfg.get("activation", "tanh") != "tanh" or cfg.get("recurrent_activation", "sigmoid") != "sigmoid":
            raise ReaderUnsupported("GRU activation %s/%s" % (cfg.get("activation"), cfg.get("recurrent_activation")))
        H = rec.shape[0]
        out["weight_ih"], out["weight_hh"] = _reorder_gru(kernel.T, H), _reorder_gru(rec.T, H)
        reset_after = cfg.get("reset_after", True)
        attrs["gru_reset"] = "after" if reset_after else "before"
        if bias is not None:
            if reset_after:
                out["bias_ih"], out["bias_hh"] = _reorder_gru(bias[0], H), _reorder_gru(bias[1], H)
            else:
                out["bias_ih"] = _reorder_gru(bias, H)
    else:
        out["weight_ih"], out["weight_hh"] = kernel.T, rec.T
        if bias is not None:
            out["bias_ih"] = bias
        attrs["nonlinearity"] = cfg.get("activation", "tanh")
    attrs["cell"] = {"LSTM": "lstm", "GRU": "gru", "SimpleRNN": "rnn"}[cls]
    return out, attrs


def read_keras_h5(path, module=None):
    """tf.keras legacy HDF5 -> (PyTorch-named weights, attrs, module name).

    The recurrent layers in config order (from `module` on, when given) form the stack;
    a Bidirectional layer's backward layer gives the `_reverse` weights."""
    import h5py
    with h5py.File(path, "r") as f:
        cfg = f.attrs.get("model_config")
        if cfg is None:
            raise ReaderError("%s: no model_config attribute" % path)
        if isinstance(cfg, bytes):
            cfg = cfg.decode("utf-8")
        cfg = json.loads(cfg)
        layers = cfg["config"]["layers"] if isinstance(cfg["config"], dict) else cfg["config"]
        rec = [l for l in layers if l["class_name"] in _KERAS_RNN + ("Bidirectional",)]
        if module is not None:
            names = [l["config"]["name"] for l in rec]
            if module not in names:
                raise ReaderError("module: no recurrent layer %r (have %s)" % (module, ", ".join(names)))
            rec = rec[names.index(module):]
        if not rec:
            raise ReaderError("%s: no SimpleRNN/LSTM/GRU layer" % path)
        mw = f["model_weights"] if "model_weights" in f else f
        W, attrs = {}, {}
        for k, layer in enumerate(rec):
            name = layer["config"]["name"]
            g = mw[name]
            wn = [n.decode() if isinstance(n, bytes) else n for n in g.attrs["weight_names"]]
            arrays = [np.asarray(g[n]) for n in wn]
            if layer["class_name"] == "Bidirectional":
                inner = layer["config"]["layer"]
                half = len(arrays) // 2
                parts = [(inner, arrays[:half], ""), (layer["config"].get("backward_layer", inner), arrays[half:], "_reverse")]
            else:
                parts = [(layer, arrays, "")]
            for lcfg, arrs, sfx in parts:
                conv, a = _convert_layer(lcfg["class_name"], lcfg["config"], arrs)
                for n, v in conv.items():
                    W["%s_l%d%s" % (n, k, sfx)] = v
                for key, val in a.items():
                    if key in attrs and attrs[key] != val:
                        raise ReaderUnsupported("layers disagree on %s" % key)
                    attrs[key] = val
            if layer["class_name"] == "Bidirectional":
                attrs["bidirectional"] = True
        return W, attrs, rec[0]["config"]["name"]
