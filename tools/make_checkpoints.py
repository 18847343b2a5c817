#!/usr/bin/python3
"""Writes the checkpoint-reader fixtures into test/fixtures/checkpoints/ and, for each one, what
the real tools read from it, into test/fixtures/checkpoints/expected.json.

Run with Debian's Python (torch 1.13, onnx 1.12, h5py 3.7, numpy):

    /usr/bin/python3 tools/make_checkpoints.py            # everything
    /usr/bin/python3 tools/make_checkpoints.py --only pytorch numpy

Groups:

* pytorch  -- files written by torch.save (state_dicts in float64/32/16/bfloat16, a training
  checkpoint, a DataParallel prefix, views of one shared storage, a whole pickled module, a bare
  tensor, a dict of data tensors, the legacy format, TorchScript) and hostile pickles written by
  hand with pickle opcodes (os.system, builtins.eval, subprocess, out-of-range storages, memo
  references to missing entries, 100,000-deep nesting).
* numpy    -- np.save / np.savez / np.savez_compressed files (C and Fortran order, every dtype),
  and hostile ones (a header claiming 10^12 elements, zip bombs, truncated and corrupted zips).
* onnx     -- torch.onnx.export of nn.RNN/LSTM/GRU and models built with onnx.helper (see that
  section).
* keras    -- Keras layouts written with h5py (see that section).

The expectations are what PyTorch, numpy, onnx and h5py themselves read from each file (names,
shapes, dtypes, every value of small tensors, sums), never what the TypeScript readers print, so the
tests compare the readers with the tools. For the hostile files torch.load is never called on a
file that could execute something; their expected tensors are the arrays the generator wrote.

Everything is seeded; reruns write identical bytes (zip timestamps are pinned).
"""

import argparse
import io
import json
import os
import pickle
import struct
import sys
import time
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'checkpoints')
EXPECTED = {}

# ---------------------------------------------------------------------------------------------
# helpers


class _FixedTime:
    """Stands in for the `time` module inside zipfile so that zip timestamps are constant."""

    @staticmethod
    def time():
        return 315532800.0  # 1980-01-01

    @staticmethod
    def localtime(_=None):
        return time.struct_time((1980, 1, 1, 0, 0, 0, 1, 1, 0))


def pinned_zip_time():
    zipfile.time = _FixedTime


def path(name):
    return os.path.join(OUT, name)


def expect_value_summary(a):
    """What the tests compare for one array: shape, dtype, sums and (for small arrays) every value."""
    a = np.asarray(a)
    flat = a.astype(np.float64).reshape(-1)
    weights = (np.arange(flat.size) % 7 + 1).astype(np.float64)
    return {
        'shape': list(a.shape),
        'sum': float(flat.sum()) if flat.size else 0.0,
        'wsum': float((flat * weights).sum()) if flat.size else 0.0,
        'values': [float(v) for v in flat] if flat.size <= 256 else None,
        'head': [float(v) for v in flat[:8]],
    }


TORCH_DTYPE_NAMES = {
    'torch.float64': 'float64', 'torch.float32': 'float32', 'torch.float16': 'float16',
    'torch.bfloat16': 'bfloat16', 'torch.int64': 'int64', 'torch.int32': 'int32',
    'torch.int16': 'int16', 'torch.int8': 'int8', 'torch.uint8': 'uint8', 'torch.bool': 'bool',
}


def torch_summary(t):
    import torch
    s = expect_value_summary(t.detach().to(torch.float64).numpy())
    s['dtype'] = TORCH_DTYPE_NAMES[str(t.dtype)]
    return s


NUMPY_DTYPE_NAMES = {
    'float64': 'float64', 'float32': 'float32', 'float16': 'float16', 'int64': 'int64',
    'int32': 'int32', 'int16': 'int16', 'int8': 'int8', 'uint8': 'uint8', 'bool': 'bool',
    'uint16': 'uint16', 'uint32': 'uint32', 'uint64': 'uint64',
}


def numpy_summary(a):
    s = expect_value_summary(a)
    s['dtype'] = NUMPY_DTYPE_NAMES[a.dtype.name]
    return s


def expect_ok(key, reader, tensors, **extra):
    EXPECTED[key] = dict(reader=reader, expect='ok', tensors=tensors, **extra)


def expect_error(key, reader, kind, contains, **extra):
    EXPECTED[key] = dict(reader=reader, expect='error', kind=kind, contains=contains, **extra)


def write_bytes(name, data):
    with open(path(name), 'wb') as f:
        f.write(data)


# ---------------------------------------------------------------------------------------------
# pytorch


def state_dict_summary(sd, strip=''):
    return OrderedDict((k[len(strip):] if strip and k.startswith(strip) else k, torch_summary(v)) for k, v in sd.items())


def make_pytorch():
    import torch
    import torch.nn as nn
    torch.manual_seed(0)

    # Plain state_dicts, one per storage dtype.
    for name, module, dtype in [
        ('lstm-f32.pt', nn.LSTM(3, 4), torch.float32),
        ('gru-2layer-f64.pt', nn.GRU(2, 3, num_layers=2), torch.float64),
        ('rnn-relu-f16.pt', nn.RNN(3, 4, nonlinearity='relu'), torch.float16),
        ('lstm-bidir-bf16.pt', nn.LSTM(2, 3, bidirectional=True), torch.bfloat16),
        ('lstm-proj-f32.pt', nn.LSTM(3, 5, proj_size=2), torch.float32),
    ]:
        sd = module.to(dtype).state_dict()
        torch.save(sd, path(name))
        back = torch.load(path(name))
        expect_ok(name, 'pytorch', state_dict_summary(back), modules=[{'name': '', 'origin': 'keys'}])

    # A training checkpoint: optimizer state first (its keys are ints), then the model's state_dict.
    class Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Module()
            self.encoder.rnn = nn.GRU(3, 4, batch_first=True)
            self.head = nn.Linear(4, 2)

        def forward(self, x):
            y, _ = self.encoder.rnn(x)
            return self.head(y)

    model = Seq()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.randn(2, 5, 3)).sum().backward()
    opt.step()
    ckpt = {
        'epoch': 3,
        'step': 1200,
        'optimizer_state_dict': opt.state_dict(),
        'model_state_dict': model.state_dict(),
        'loss': 0.25,
        'notes': ['trained on', 'toy data'],
    }
    torch.save(ckpt, path('training-checkpoint.pt'))
    back = torch.load(path('training-checkpoint.pt'))
    expect_ok('training-checkpoint.pt', 'pytorch', state_dict_summary(back['model_state_dict']),
              modules=[{'name': 'encoder.rnn', 'origin': 'keys'}], meta={'epoch': 3, 'step': 1200},
              notes_contain=['model_state_dict'])

    # Lightning-style: keys prefixed by the attribute name, global_step as a 0-d tensor.
    lit = {'epoch': 2, 'global_step': torch.tensor(50), 'pytorch-lightning_version': '1.9.0',
           'state_dict': OrderedDict(('model.' + k, v) for k, v in nn.LSTM(2, 3).state_dict().items())}
    torch.save(lit, path('lightning.ckpt'))
    back = torch.load(path('lightning.ckpt'))
    expect_ok('lightning.ckpt', 'pytorch', state_dict_summary(back['state_dict']),
              modules=[{'name': 'model', 'origin': 'keys'}], meta={'epoch': 2, 'global_step': 50})

    # DataParallel: every key starts with "module.".
    dp = nn.DataParallel(nn.Sequential(OrderedDict(rnn=nn.RNN(2, 3), head=nn.Linear(3, 1))))
    torch.save(dp.state_dict(), path('dataparallel.pt'))
    back = torch.load(path('dataparallel.pt'))
    assert all(k.startswith('module.') for k in back)
    expect_ok('dataparallel.pt', 'pytorch', state_dict_summary(back, strip='module.'),
              modules=[{'name': 'rnn', 'origin': 'keys'}], notes_contain=['module.'])

    # Views of one shared storage: slices, a transpose, a strided slice, an expand (stride 0).
    base = torch.arange(64, dtype=torch.float32) / 8 - 3
    sd = OrderedDict()
    sd['weight_ih_l0'] = base[0:12].view(4, 3)
    sd['weight_hh_l0'] = base[12:28].view(4, 4).t()
    sd['bias_ih_l0'] = base[28:32]
    sd['bias_hh_l0'] = base[30:34]
    sd['extra.strided'] = base[1:40:3]
    sd['extra.expanded'] = base[5:6].expand(3, 4)
    sd['extra.column'] = base[0:64].view(8, 8)[2:7, 3]
    torch.save(sd, path('shared-views.pt'))
    back = torch.load(path('shared-views.pt'))
    assert back['weight_ih_l0'].storage().data_ptr() == back['bias_hh_l0'].storage().data_ptr()
    expect_ok('shared-views.pt', 'pytorch', state_dict_summary(back), modules=[{'name': '', 'origin': 'keys'}])

    # A whole pickled module (torch.save(model)): read as state_dict() names it.
    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(7, 3)
            self.rnn = nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2)
            self.aux = nn.RNN(4, 2, nonlinearity='relu', bias=False)
            self.head = nn.Linear(4, 5)
            self.register_buffer('scale', torch.tensor([2.0]))
            self.register_buffer('cache', torch.zeros(2), persistent=False)

    # Pickled by reference as __main__.Tagger, as a user's own model class would be.
    Tagger.__module__, Tagger.__qualname__ = '__main__', 'Tagger'
    sys.modules['__main__'].Tagger = Tagger
    tagger = Tagger()
    torch.save(tagger, path('whole-module.pt'))
    back = torch.load(path('whole-module.pt'))
    expect_ok('whole-module.pt', 'pytorch', state_dict_summary(back.state_dict()), modules=[
        {'name': 'rnn', 'origin': 'pickled-module', 'attributes': {
            'mode': 'LSTM', 'input_size': 3, 'hidden_size': 4, 'num_layers': 2, 'bias': True,
            'batch_first': False, 'bidirectional': True, 'proj_size': 2}},
        {'name': 'aux', 'origin': 'pickled-module', 'attributes': {
            'mode': 'RNN_RELU', 'nonlinearity': 'relu', 'input_size': 4, 'hidden_size': 2,
            'num_layers': 1, 'bias': False, 'batch_first': False, 'bidirectional': False, 'proj_size': 0}},
    ], inert_globals=['__main__.Tagger'])

    # A whole pickled nn.GRU inside a dict, next to an epoch.
    gru = nn.GRU(2, 2)
    torch.save({'iteration': 7, 'model': gru}, path('module-in-dict.pt'))
    back = torch.load(path('module-in-dict.pt'))
    expect_ok('module-in-dict.pt', 'pytorch', state_dict_summary(back['model'].state_dict()), modules=[
        {'name': '', 'origin': 'pickled-module', 'attributes': {
            'mode': 'GRU', 'input_size': 2, 'hidden_size': 2, 'num_layers': 1, 'bias': True,
            'batch_first': False, 'bidirectional': False, 'proj_size': 0}}], meta={'iteration': 7})

    # Data files: a bare tensor, and a dict of tensors (batch.pt#x).
    x = torch.randn(2, 5, 3)
    torch.save(x, path('bare-tensor.pt'))
    EXPECTED['bare-tensor.pt'] = dict(reader='pytorch-array', expect='ok', name=None,
                                      tensor=torch_summary(torch.load(path('bare-tensor.pt'))))
    batch = {'x': torch.randn(2, 4, 3, dtype=torch.float64), 'y': torch.randint(0, 5, (2, 4)),
             'lengths': torch.tensor([4, 2], dtype=torch.int32), 'mask': torch.tensor([[True, False], [False, True]]),
             'small': torch.arange(6, dtype=torch.int16).view(2, 3), 'bytes': torch.arange(4, dtype=torch.uint8),
             'chars': torch.tensor([-3, 4], dtype=torch.int8), 'xt': torch.randn(3, 4).t(), 'label': 'toy'}
    torch.save(batch, path('batch.pt'))
    back = torch.load(path('batch.pt'))
    for key in ['x', 'y', 'lengths', 'mask', 'small', 'bytes', 'chars', 'xt']:
        EXPECTED[f'batch.pt#{key}'] = dict(reader='pytorch-array', expect='ok', file='batch.pt', name=key,
                                           tensor=torch_summary(back[key]))
    expect_error('batch.pt#nothere', 'pytorch-array', 'missing', '"x"', file='batch.pt', name='nothere')
    expect_error('batch.pt#label', 'pytorch-array', 'missing', 'not a tensor', file='batch.pt', name='label')
    expect_error('batch.pt', 'pytorch-array', 'missing', '"lengths"', name=None)
    expect_error('bare-tensor.pt#x', 'pytorch-array', 'missing', 'bare tensor', file='bare-tensor.pt', name='x')

    # Other pickle protocols (torch.save's default is 2), and numpy scalars as meta entries.
    for protocol in (3, 4, 5):
        name = f'gru-protocol{protocol}.pt'
        sd = nn.GRU(2, 2).state_dict()
        torch.save({'state_dict': sd, 'epoch': np.int64(4), 'step': np.int32(9), 'note': b'bytes value',
                    'tags': {'a', 'b'}, 'big': 2 ** 70}, path(name), pickle_protocol=protocol)
        back = torch.load(path(name))
        expect_ok(name, 'pytorch', state_dict_summary(back['state_dict']), modules=[{'name': '', 'origin': 'keys'}],
                  meta={'epoch': 4, 'step': 9})

    # Plain pickles of one object in every protocol, for the interpreter's own tests.
    obj = {'ints': [0, 1, -1, 255, 256, 65535, 65536, -2 ** 31, 2 ** 31, 2 ** 62, -2 ** 62, 2 ** 70],
           'floats': [0.5, -1e300, 3.25], 'text': ['', 'a', 'caf\u00e9', 'x' * 300], 'bytes': b'\x00\xff',
           'nested': ({'k': (1, 2, 3)}, [[], ()]), 'flags': [True, False, None], 'set': {7}, 'frozen': frozenset([8]),
           'shared': None}
    shared = [1, 2]
    obj['shared'] = [shared, shared]
    pickles = {str(p): pickle.dumps(obj, protocol=p).hex() for p in range(0, 6)}
    EXPECTED['pickle-protocols'] = dict(reader='pickle', expect='ok', pickles=pickles, value=pickle_json(obj))

    # A checkpoint another generator made (tools/make_fixtures_v2.py), read as torch.load reads it.
    other = os.path.join(ROOT, 'test', 'fixtures', 'generated-v2', 'pt-ckpt-bilstm-proj-emb.pt')
    if os.path.exists(other):
        back = torch.load(other)
        sd = next(v for v in back.values() if isinstance(v, dict) and any(k.endswith('weight_hh_l0') for k in v))
        EXPECTED['generated-v2/pt-ckpt-bilstm-proj-emb.pt'] = dict(
            reader='pytorch', expect='ok', file='../generated-v2/pt-ckpt-bilstm-proj-emb.pt',
            tensors=state_dict_summary(sd, strip='module.'), modules=[{'name': 'rnn', 'origin': 'keys'}],
            meta={k: int(back[k]) for k in ('step', 'global_step', 'iteration', 'epoch') if k in back})

    # Refused formats.
    torch.save(nn.LSTM(2, 2).state_dict(), path('legacy.pt'), _use_new_zipfile_serialization=False)
    expect_error('legacy.pt', 'pytorch', 'unsupported', 'torch.save(model.state_dict(), PATH)')
    scripted = torch.jit.script(nn.Sequential(nn.Linear(2, 2)))
    torch.jit.save(scripted, path('torchscript.pt'))
    expect_error('torchscript.pt', 'pytorch', 'unsupported', 'TorchScript')

    make_hostile_pytorch()


class P:
    """Writes pickle opcodes by hand (protocol 2), for files no pickler would write."""

    def __init__(self):
        self.b = bytearray(b'\x80\x02')

    def op(self, code, data=b''):
        self.b += code + data
        return self

    def glob(self, module, name):
        return self.op(b'c', f'{module}\n{name}\n'.encode())

    def s(self, text):
        raw = text.encode()
        return self.op(b'X', struct.pack('<I', len(raw)) + raw)

    def i(self, n):
        if 0 <= n < 256:
            return self.op(b'K', bytes([n]))
        return self.op(b'J', struct.pack('<i', n))

    def ints(self, values):
        self.op(b'(')
        for v in values:
            self.i(v)
        return self.op(b't')

    def put(self, n):
        return self.op(b'q', bytes([n]))

    def get(self, n):
        return self.op(b'h', bytes([n]))

    def tensor(self, key, storage_type, numel, offset, size, stride):
        """torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())."""
        self.glob('torch._utils', '_rebuild_tensor_v2')
        self.op(b'(')
        self.op(b'(').s('storage').glob('torch', storage_type).s(key).s('cpu').i(numel).op(b't').op(b'Q')
        self.i(offset).ints(size).ints(stride).op(b'\x89')
        self.glob('collections', 'OrderedDict').op(b')').op(b'R')
        return self.op(b't').op(b'R')

    def stop(self):
        return bytes(self.b + b'.')


def torch_zip(name, pkl, storages, deflate_pickle=False):
    """A torch.save-style archive: NAME/data.pkl, NAME/data/KEY (stored), NAME/version. Large
    hostile pickles are deflated (torch.save stores, but a hostile file may do either)."""
    stem = os.path.splitext(name)[0]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_STORED) as z:
        z.writestr(f'{stem}/data.pkl', pkl, compress_type=zipfile.ZIP_DEFLATED if deflate_pickle else zipfile.ZIP_STORED)
        for key, data in storages.items():
            z.writestr(f'{stem}/data/{key}', data)
        z.writestr(f'{stem}/version', b'3\n')
    write_bytes(name, buf.getvalue())
    return buf.getvalue()


def lstm_arrays(rng, i=2, h=3):
    return OrderedDict([
        ('weight_ih_l0', rng.standard_normal((4 * h, i)).astype(np.float32)),
        ('weight_hh_l0', rng.standard_normal((4 * h, h)).astype(np.float32)),
        ('bias_ih_l0', rng.standard_normal(4 * h).astype(np.float32)),
        ('bias_hh_l0', rng.standard_normal(4 * h).astype(np.float32)),
    ])


def state_dict_pickle(p, arrays, extra=None):
    """OrderedDict of tensors (storage keys 0, 1, ...) plus `extra(p)` entries written by hand."""
    p.glob('collections', 'OrderedDict').op(b')').op(b'R').op(b'(')
    for k, (name, a) in enumerate(arrays.items()):
        stride = [int(s // a.itemsize) for s in a.strides]
        p.s(name).tensor(str(k), 'FloatStorage', a.size, 0, list(a.shape), stride)
    if extra:
        extra(p)
    return p.op(b'u')


def pickle_json(v):
    """A JSON form of a Python value as the TypeScript tests print interpreted pickles."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return v if abs(v) <= 2 ** 53 else {'int': str(v)}
    if isinstance(v, float):
        return v
    if isinstance(v, bytes):
        return {'bytes': v.hex()}
    if isinstance(v, tuple):
        return {'tuple': [pickle_json(x) for x in v]}
    if isinstance(v, list):
        return [pickle_json(x) for x in v]
    if isinstance(v, (set, frozenset)):
        return {'set': sorted(pickle_json(x) for x in v)}
    if isinstance(v, dict):
        return {'dict': [[pickle_json(k), pickle_json(x)] for k, x in v.items()]}
    raise TypeError(type(v))


def make_hostile_pytorch():
    rng = np.random.default_rng(7)

    # 1. A state_dict that also holds os.system('...'), eval and subprocess.Popen records: the
    #    tensors are read, the records stay inert (the command would create this marker file).
    marker = '/tmp/rnn-gradients-pwned'
    arrays = lstm_arrays(rng)

    def evil(p):
        p.s('evil').glob('os', 'system').op(b'(').s(f'touch {marker}').op(b't').op(b'R')
        p.s('evil_eval').glob('builtins', 'eval').op(b'(').s(f"__import__('os').system('touch {marker}')").op(b't').op(b'R')
        p.s('evil_popen').glob('subprocess', 'Popen').op(b'(').op(b'(').s('touch').s(marker).op(b'l').op(b't').op(b'R')
        p.s('evil_newobj').glob('subprocess', 'Popen').op(b')').op(b'\x81').op(b'}').s('args').s('x').op(b's').op(b'b')

    pkl = state_dict_pickle(P(), arrays, evil).stop()
    torch_zip('hostile-os-system.pt', pkl, {str(k): a.tobytes() for k, a in enumerate(arrays.values())})
    expect_ok('hostile-os-system.pt', 'pytorch', OrderedDict((k, numpy_summary(a)) for k, a in arrays.items()),
              modules=[{'name': '', 'origin': 'keys'}],
              inert_globals=['os.system', 'builtins.eval', 'subprocess.Popen'], marker=marker)

    # 2. The whole file is builtins.eval(...): no state_dict, a clean error, nothing run.
    pkl = P().glob('builtins', 'eval').op(b'(').s(f"__import__('os').system('touch {marker}')").op(b't').op(b'R').stop()
    torch_zip('hostile-eval.pt', pkl, {})
    expect_error('hostile-eval.pt', 'pytorch', 'missing', 'builtins.eval', marker=marker)

    # 3. subprocess.check_output as the "storage type" of a persistent id: refused, not called.
    arrays = lstm_arrays(rng)
    p = P().glob('collections', 'OrderedDict').op(b')').op(b'R').op(b'(')
    p.s('weight_hh_l0').tensor('0', 'FloatStorage', 12, 0, [4, 3], [3, 1]).op(b'u')
    pkl = bytes(p.b).replace(b'ctorch\nFloatStorage\n', b'csubprocess\ncheck_output\n') + b'.'
    torch_zip('hostile-subprocess.pt', pkl, {'0': np.zeros(12, np.float32).tobytes()})
    expect_error('hostile-subprocess.pt', 'pytorch', 'unsupported', 'subprocess.check_output', marker=marker)

    # 4. Out-of-range storage offset and size.
    a = rng.standard_normal(12).astype(np.float32)
    p = P().glob('collections', 'OrderedDict').op(b')').op(b'R').op(b'(')
    p.s('weight_hh_l0').tensor('0', 'FloatStorage', 12, 10, [3, 1], [1, 1]).op(b'u')
    torch_zip('hostile-offset.pt', p.stop(), {'0': a.tobytes()})
    expect_error('hostile-offset.pt', 'pytorch', 'corrupt', 'storage holds 48 bytes, tensor "weight_hh_l0" needs 52')
    p = P().glob('collections', 'OrderedDict').op(b')').op(b'R').op(b'(')
    p.s('weight_hh_l0').tensor('0', 'FloatStorage', 20, 0, [4, 5], [5, 1]).op(b'u')
    torch_zip('hostile-size.pt', p.stop(), {'0': a.tobytes()})
    expect_error('hostile-size.pt', 'pytorch', 'corrupt', 'data/0: storage holds 48 bytes')
    p = P().glob('collections', 'OrderedDict').op(b')').op(b'R').op(b'(')
    p.s('weight_hh_l0').tensor('0', 'FloatStorage', 12, 0, [1000000, 1000000], [0, 0]).op(b'u')
    torch_zip('hostile-expand.pt', p.stop(), {'0': a.tobytes()})
    expect_error('hostile-expand.pt', 'pytorch', 'limit', 'over the limit')

    # 5. Memo reference to a missing entry.
    p = P().glob('collections', 'OrderedDict').op(b')').op(b'R').op(b'(').s('weight_hh_l0').get(42).op(b'u')
    torch_zip('hostile-memo.pt', p.stop(), {})
    expect_error('hostile-memo.pt', 'pytorch', 'corrupt', 'memo reference 42')

    # 6. Nesting 100,000 deep: lists in lists, tuples of tuples, and a chain built through the memo
    #    (each list appended to its parent before it gets its own child).
    n = 100_000
    torch_zip('hostile-deep-lists.pt', b'\x80\x02' + b']' * n + b'a' * (n - 1) + b'.', {}, deflate_pickle=True)
    expect_error('hostile-deep-lists.pt', 'pytorch', 'limit', 'levels deep')
    torch_zip('hostile-deep-tuples.pt', b'\x80\x02' + b'(' * n + b't' * n + b'.', {}, deflate_pickle=True)
    expect_error('hostile-deep-tuples.pt', 'pytorch', 'limit', 'levels deep')
    chain = bytearray(b'\x80\x02}q\x00')  # the root dict (memo 0); root["k"] = L1 (memo 1)
    chain += b'h\x00X\x01\x00\x00\x00k]q\x01s0'
    for i in range(1, n):  # L(i+1) goes into memo slot 1 or 2 (alternating) after joining Li
        chain += b'h' + bytes([1 + (i - 1) % 2]) + b']q' + bytes([1 + i % 2]) + b'a0'
    chain += b'.'
    torch_zip('hostile-deep-chain.pt', bytes(chain), {}, deflate_pickle=True)
    expect_error('hostile-deep-chain.pt', 'pytorch', 'limit', 'levels deep')

    # 7. Broken archives: truncated, one flipped byte in data.pkl (CRC), no data.pkl.
    good = open(path('lstm-f32.pt'), 'rb').read()
    write_bytes('truncated.pt', good[: len(good) // 2])
    expect_error('truncated.pt', 'pytorch', 'corrupt', 'end-of-central-directory')
    bad = bytearray(good)
    at = good.index(b'weight_ih_l0')
    bad[at] ^= 0x20
    write_bytes('corrupted.pt', bytes(bad))
    expect_error('corrupted.pt', 'pytorch', 'corrupt', 'CRC-32')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w') as z:
        z.writestr('x/readme.txt', b'hello')
    write_bytes('no-data-pkl.pt', buf.getvalue())
    expect_error('no-data-pkl.pt', 'pytorch', 'corrupt', 'without data.pkl')
    write_bytes('plain-pickle.pt', pickle.dumps({'a': 1}, protocol=2))
    expect_error('plain-pickle.pt', 'pytorch', 'unsupported', 'plain pickle')


# ---------------------------------------------------------------------------------------------
# numpy


def make_numpy():
    rng = np.random.default_rng(3)
    cases = [
        ('c-f64.npy', rng.standard_normal((2, 3, 4))),
        ('fortran-f32.npy', np.asfortranarray(rng.standard_normal((3, 4, 2)).astype(np.float32))),
        ('fortran-2d-i64.npy', np.asfortranarray(rng.integers(-1000, 1000, (4, 5)))),
        ('f16.npy', rng.standard_normal((5, 2)).astype(np.float16)),
        ('i32.npy', rng.integers(-50, 50, (3, 3), dtype=np.int32)),
        ('i16.npy', rng.integers(-50, 50, (7,), dtype=np.int16)),
        ('i8.npy', rng.integers(-50, 50, (2, 2), dtype=np.int8)),
        ('u8.npy', rng.integers(0, 255, (2, 6), dtype=np.uint8)),
        ('bool.npy', rng.integers(0, 2, (3, 2)).astype(bool)),
        ('big-endian-f8.npy', rng.standard_normal((2, 3)).astype('>f8')),
        ('big-endian-i4.npy', rng.integers(-9, 9, (4,)).astype('>i4')),
        ('scalar.npy', np.array(2.5)),
        ('empty.npy', np.zeros((0, 3), np.float32)),
    ]
    for name, a in cases:
        np.save(path(name), a)
        back = np.load(path(name))
        EXPECTED[name] = dict(reader='npy', expect='ok', tensor=numpy_summary(back))
    a = rng.standard_normal((3, 2))
    for version in [(2, 0), (3, 0)]:
        name = f'v{version[0]}-header.npy'
        with open(path(name), 'wb') as f:
            np.lib.format.write_array(f, a, version=version)
        EXPECTED[name] = dict(reader='npy', expect='ok', tensor=numpy_summary(np.load(path(name))))
    np.save(path('object.npy'), np.array([{'a': 1}], dtype=object), allow_pickle=True)
    expect_error('object.npy', 'npy', 'unsupported', 'Python objects')

    # A header claiming 10^12 elements over 16 bytes of data.
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }"
    header = header + ' ' * (64 - 10 - 1 - len(header) % 64) + '\n'
    write_bytes('huge-header.npy', b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)) + header.encode() + b'\0' * 16)
    expect_error('huge-header.npy', 'npy', 'truncated', '[1000000, 1000000]')
    write_bytes('truncated.npy', open(path('c-f64.npy'), 'rb').read()[:100])
    expect_error('truncated.npy', 'npy', 'truncated', '')

    # npz: a state_dict saved with np.savez, and a compressed batch.
    import torch
    torch.manual_seed(1)
    sd = OrderedDict(('rnn.' + k, v.detach().numpy()) for k, v in torch.nn.GRU(2, 3).state_dict().items())
    sd['head.weight'] = rng.standard_normal((1, 3)).astype(np.float32)
    sd['head.bias'] = np.zeros(1, np.float32)
    np.savez(path('state-dict.npz'), **sd)
    back = np.load(path('state-dict.npz'))
    expect_ok('state-dict.npz', 'npz', OrderedDict((k, numpy_summary(back[k])) for k in back.files),
              modules=[{'name': 'rnn', 'origin': 'keys'}])
    batch = OrderedDict(inputs=rng.standard_normal((4, 6, 2)), targets=rng.integers(0, 3, (4, 6)),
                        lengths=np.array([6, 5, 3, 6], np.int64), tokens=np.asfortranarray(rng.integers(0, 9, (4, 6)).astype(np.int32)))
    np.savez_compressed(path('batch-compressed.npz'), **batch)
    back = np.load(path('batch-compressed.npz'))
    for k in back.files:
        EXPECTED[f'batch-compressed.npz#{k}'] = dict(reader='npz-array', expect='ok', file='batch-compressed.npz',
                                                     name=k, tensor=numpy_summary(back[k]))
    expect_error('batch-compressed.npz#missing', 'npz-array', 'missing', '"inputs"', file='batch-compressed.npz', name='missing')
    expect_error('batch-compressed.npz', 'npz-array', 'missing', '"targets"', name=None)

    # Hostile zips: a member declaring 10 GB (checked before inflating), a member inflating to
    # far more than it declares, a corrupted deflate stream, a truncated archive.
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = bomb.compress(b'\0' * 10_000_000) + bomb.flush()
    write_bytes('zip-bomb-declared.npz', zip_with_raw_member('x.npy', payload, 10 * 1024 ** 3, zlib.crc32(b'')))
    expect_error('zip-bomb-declared.npz', 'npz', 'limit', 'over the limit')
    write_bytes('zip-bomb-lying.npz', zip_with_raw_member('x.npy', payload, 1000, 0))
    expect_error('zip-bomb-lying.npz', 'npz', 'corrupt', 'more than')
    write_bytes('zip-bomb-ratio.npz', zip_with_raw_member('x.npy', payload[:100], 900_000_000, 0))
    expect_error('zip-bomb-ratio.npz', 'npz', 'corrupt', 'more than deflate can produce')
    good = open(path('batch-compressed.npz'), 'rb').read()
    bad = bytearray(good)
    bad[60] ^= 0xff
    bad[61] ^= 0xff
    write_bytes('corrupted-deflate.npz', bytes(bad))
    expect_error('corrupted-deflate.npz', 'npz', 'corrupt', '')
    write_bytes('truncated.npz', good[: len(good) - 30])
    expect_error('truncated.npz', 'npz', 'corrupt', '')


def zip_with_raw_member(name, compressed, declared_size, crc):
    """A one-member deflate zip whose headers declare `declared_size` (zip64 when needed)."""
    raw_name = name.encode()
    zip64 = declared_size >= 0xFFFFFFFF
    size32 = 0xFFFFFFFF if zip64 else declared_size
    extra = struct.pack('<HHQQ', 1, 16, declared_size, len(compressed)) if zip64 else b''
    csize32 = 0xFFFFFFFF if zip64 else len(compressed)
    local = struct.pack('<IHHHHHIIIHH', 0x04034b50, 45, 0, 8, 0, 0x21, crc, csize32, size32, len(raw_name), len(extra)) + raw_name + extra
    central = struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 45, 45, 0, 8, 0, 0x21, crc, csize32, size32,
                          len(raw_name), len(extra), 0, 0, 0, 0, 0) + raw_name + extra
    cd_offset = len(local) + len(compressed)
    eocd = struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 1, 1, len(central), cd_offset, 0)
    return local + compressed + central + eocd



# ---------------------------------------------------------------------------------------------
# onnx
#
# torch.onnx.export of nn.RNN/LSTM/GRU: the expected module tensors are the torch module's own
# state_dict (the reader must convert ONNX's gate order back to exactly those). Models built with
# onnx.helper cover what torch never exports (linear_before_reset=0, typed data fields, float16,
# double, peepholes, clip, input_forget, activations, initial_h, external data); their expected
# PyTorch tensors follow the conversion table of shared/spec/checkpoints.md section 3 (computed
# here with numpy from what onnx.numpy_helper reads).

ONNX_ORDER = {'LSTM': [0, 2, 3, 1], 'GRU': [1, 0, 2], 'RNN': [0]}


def onnx_initializer_summaries(model):
    from onnx import numpy_helper
    return OrderedDict((t.name, numpy_summary(numpy_helper.to_array(t))) for t in model.graph.initializer)


def export_onnx(name, module, x, prefix='rnn.'):
    import onnx
    import torch

    class Wrap(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = module

        def forward(self, inp):
            return self.rnn(inp)[0]

    wrap = Wrap().eval()
    torch.onnx.export(wrap, x, path(name), opset_version=14, input_names=['x'], output_names=['y'])
    model = onnx.load(path(name))
    sd = OrderedDict((k[len(prefix):], torch_summary(v)) for k, v in wrap.state_dict().items())
    return model, sd


def reorder(a, order, h):
    return np.concatenate([a[k * h:(k + 1) * h] for k in order], axis=0)


def onnx_to_pytorch(op, W, R, B, h, layer=0):
    """The spec's conversion table, applied with numpy (for the hand-built models)."""
    out = OrderedDict()
    order = ONNX_ORDER[op]
    g = len(order) * h
    for d in range(W.shape[0]):
        sfx = f'_l{layer}' + ('_reverse' if d == 1 else '')
        out['weight_ih' + sfx] = reorder(W[d], order, h)
        out['weight_hh' + sfx] = reorder(R[d], order, h)
        if B is not None:
            out['bias_ih' + sfx] = reorder(B[d][:g], order, h)
            out['bias_hh' + sfx] = reorder(B[d][g:], order, h)
    return out


def make_onnx():
    import onnx
    import torch
    import torch.nn as nn
    from onnx import TensorProto, helper, numpy_helper
    torch.manual_seed(5)

    exports = [
        ('export-rnn-tanh.onnx', nn.RNN(3, 4), {'mode': 'RNN_TANH', 'nonlinearity': 'tanh'}, 1, False),
        ('export-rnn-relu-2layer.onnx', nn.RNN(3, 4, 2, nonlinearity='relu'), {'mode': 'RNN_RELU', 'nonlinearity': 'relu'}, 2, False),
        ('export-lstm.onnx', nn.LSTM(3, 4), {'mode': 'LSTM'}, 1, False),
        ('export-lstm-2layer-bidir.onnx', nn.LSTM(3, 4, 2, bidirectional=True), {'mode': 'LSTM'}, 2, True),
        ('export-lstm-nobias.onnx', nn.LSTM(2, 3, bias=False), {'mode': 'LSTM'}, 1, False),
        ('export-gru-2layer.onnx', nn.GRU(3, 4, 2), {'mode': 'GRU', 'gru_reset': 'after'}, 2, False),
        ('export-gru-bidir.onnx', nn.GRU(2, 3, bidirectional=True), {'mode': 'GRU', 'gru_reset': 'after'}, 1, True),
    ]
    for name, module, attrs, layers, bidir in exports:
        model, sd = export_onnx(name, module, torch.randn(5, 2, module.input_size))
        nodes = [n.name for n in model.graph.node if n.op_type in ('RNN', 'LSTM', 'GRU')]
        assert len(nodes) == layers, nodes
        attributes = dict(attrs, input_size=module.input_size, hidden_size=module.hidden_size,
                          num_layers=layers, bias=module.bias, bidirectional=bidir)
        expect_ok(name, 'onnx', onnx_initializer_summaries(model), modules=[
            {'name': nodes[0], 'origin': 'onnx-node', 'attributes': attributes, 'members': nodes, 'unsupported': [],
             'tensors': sd}])

    # Two LSTMs reading the same input: not a stack, two candidates.
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.LSTM(2, 3)
            self.b = nn.LSTM(2, 3)

        def forward(self, x):
            return self.a(x)[0] + self.b(x)[0]

    two = Two().eval()
    torch.onnx.export(two, torch.randn(4, 1, 2), path('export-two-lstms.onnx'), opset_version=14)
    model = onnx.load(path('export-two-lstms.onnx'))
    nodes = [n.name for n in model.graph.node if n.op_type == 'LSTM']
    expect_ok('export-two-lstms.onnx', 'onnx', onnx_initializer_summaries(model), modules=[
        {'name': nodes[0], 'origin': 'onnx-node', 'members': [nodes[0]],
         'tensors': OrderedDict((k[2:], torch_summary(v)) for k, v in two.state_dict().items() if k.startswith('a.'))},
        {'name': nodes[1], 'origin': 'onnx-node', 'members': [nodes[1]],
         'tensors': OrderedDict((k[2:], torch_summary(v)) for k, v in two.state_dict().items() if k.startswith('b.'))}])

    rng = np.random.default_rng(11)

    def weights(op, i, h, dirs=1, dtype=np.float32):
        g = {'RNN': 1, 'LSTM': 4, 'GRU': 3}[op] * h
        return (rng.standard_normal((dirs, g, i)).astype(dtype), rng.standard_normal((dirs, g, h)).astype(dtype),
                rng.standard_normal((dirs, 2 * g)).astype(dtype))

    def tensor(name, a, raw=True, onnx_type=None):
        if onnx_type is None:
            return numpy_helper.from_array(a, name) if raw else helper.make_tensor(
                name, onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[a.dtype], a.shape, a.reshape(-1).tolist())
        return helper.make_tensor(name, onnx_type, a.shape, a.reshape(-1).tolist())

    def build(name, op, i, h, attrs=None, dirs=1, dtype=np.float32, raw=(True, True, True), extra_inputs=(),
              extra_inits=(), extra_nodes=(), graph_inputs=(), elem=TensorProto.FLOAT, unsupported=(), bias=True,
              mode=None, gru_reset=None):
        W, R, B = weights(op, i, h, dirs, dtype)
        inits = [tensor('W', W, raw[0]), tensor('R', R, raw[1])] + ([tensor('B', B, raw[2])] if bias else []) + list(extra_inits)
        inputs = ['X', 'W', 'R', 'B' if bias else ''] + list(extra_inputs)
        outputs = ['Y', 'Y_h'] + (['Y_c'] if op == 'LSTM' else [])
        node = helper.make_node(op, inputs, outputs, name=f'{op.lower()}_node', hidden_size=h, **(attrs or {}))
        graph = helper.make_graph(list(extra_nodes) + [node], 'g',
                                  [helper.make_tensor_value_info('X', elem, [5, 1, i])] + list(graph_inputs),
                                  [helper.make_tensor_value_info('Y', elem, [5, dirs, 1, h])], initializer=inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 14)], producer_name='make_checkpoints.py')
        onnx.checker.check_model(model)
        onnx.save(model, path(name))
        back = onnx.load(path(name))
        arrays = {t.name: numpy_helper.to_array(t) for t in back.graph.initializer}
        converted = onnx_to_pytorch(op, arrays['W'].astype(np.float64), arrays['R'].astype(np.float64),
                                    arrays['B'].astype(np.float64) if bias else None, h)
        dt = NUMPY_DTYPE_NAMES[arrays['W'].dtype.name]
        module_tensors = OrderedDict()
        for k, v in converted.items():
            module_tensors[k] = dict(expect_value_summary(v), dtype=dt)
        attributes = {'mode': mode or {'RNN': 'RNN_TANH', 'LSTM': 'LSTM', 'GRU': 'GRU'}[op], 'input_size': i,
                      'hidden_size': h, 'num_layers': 1, 'bias': bias, 'bidirectional': dirs == 2}
        if op == 'RNN':
            attributes['nonlinearity'] = 'relu' if attributes['mode'] == 'RNN_RELU' else 'tanh'
        if op == 'GRU':
            attributes['gru_reset'] = gru_reset
        expect_ok(name, 'onnx', onnx_initializer_summaries(back), modules=[
            {'name': f'{op.lower()}_node', 'origin': 'onnx-node', 'attributes': attributes,
             'members': [f'{op.lower()}_node'], 'unsupported': list(unsupported), 'tensors': module_tensors}])
        return model

    build('gru-before.onnx', 'GRU', 3, 2, raw=(False, True, False), gru_reset='before')
    build('gru-after-double.onnx', 'GRU', 2, 3, {'linear_before_reset': 1}, dtype=np.float64, raw=(False, False, True),
          elem=TensorProto.DOUBLE, gru_reset='after')
    build('gru-bidir-before.onnx', 'GRU', 2, 2, {'direction': 'bidirectional'}, dirs=2, gru_reset='before')
    build('rnn-f16.onnx', 'RNN', 3, 2, dtype=np.float16, raw=(True, False, True), elem=TensorProto.FLOAT16)
    build('rnn-relu-attr.onnx', 'RNN', 2, 2, {'activations': ['Relu']}, mode='RNN_RELU')
    build('rnn-nobias.onnx', 'RNN', 2, 3, bias=False)
    P = rng.standard_normal((1, 9)).astype(np.float32)
    build('lstm-peepholes.onnx', 'LSTM', 2, 3, extra_inputs=['', '', '', 'P'], extra_inits=[numpy_helper.from_array(P, 'P')],
          unsupported=['input P (peepholes'])
    build('lstm-peepholes-zero.onnx', 'LSTM', 2, 3, extra_inputs=['', '', '', 'P'],
          extra_inits=[numpy_helper.from_array(np.zeros((1, 9), np.float32), 'P')])
    build('lstm-clip.onnx', 'LSTM', 2, 3, {'clip': 5.0}, unsupported=['attribute clip = 5'])
    build('lstm-input-forget.onnx', 'LSTM', 2, 3, {'input_forget': 1}, unsupported=['attribute input_forget = 1'])
    build('rnn-sigmoid.onnx', 'RNN', 2, 2, {'activations': ['Sigmoid']}, unsupported=['attribute activations ["Sigmoid"]'])
    build('lstm-activations.onnx', 'LSTM', 2, 2, {'activations': ['Sigmoid', 'Tanh', 'Relu']},
          unsupported=['attribute activations ["Sigmoid","Tanh","Relu"]'])
    build('lstm-hard-sigmoid.onnx', 'LSTM', 2, 2, {'activations': ['HardSigmoid', 'Tanh', 'Tanh'], 'activation_alpha': [0.2],
                                                  'activation_beta': [0.5]}, unsupported=['attribute activations ["HardSigmoid"'])
    build('rnn-reverse.onnx', 'RNN', 2, 2, {'direction': 'reverse'}, unsupported=['direction "reverse"'])
    build('lstm-initial-h-input.onnx', 'LSTM', 2, 3, extra_inputs=['', 'h0'],
          graph_inputs=[helper.make_tensor_value_info('h0', TensorProto.FLOAT, [1, 1, 3])],
          unsupported=['input initial_h must be absent or zero, but it is the graph input "h0"'])
    build('lstm-initial-h-nonzero.onnx', 'LSTM', 2, 3, extra_inputs=['', 'h0'],
          extra_inits=[numpy_helper.from_array(np.full((1, 1, 3), 0.5, np.float32), 'h0')],
          unsupported=['input initial_h must be absent or zero, but it is the non-zero constant "h0"'])
    build('lstm-initial-zero.onnx', 'LSTM', 2, 3, extra_inputs=['', 'h0', 'c0'],
          extra_inits=[numpy_helper.from_array(np.zeros((1, 1, 3), np.float32), 'h0'),
                       numpy_helper.from_array(np.array([1, 1, 3], np.int64), 'shape')],
          extra_nodes=[helper.make_node('ConstantOfShape', ['shape'], ['c0'], name='zeros')])

    # External data: next to the model, in the parent folder, and an absolute location.
    os.makedirs(path('external'), exist_ok=True)
    for name, location in [('inside.onnx', 'inside.bin'), ('outside.onnx', '../outside.bin'), ('absolute.onnx', '/etc/passwd')]:
        W, R, B = weights('LSTM', 2, 3)
        graph = helper.make_graph(
            [helper.make_node('LSTM', ['X', 'W', 'R', 'B'], ['Y'], name='lstm', hidden_size=3)], 'g',
            [helper.make_tensor_value_info('X', TensorProto.FLOAT, [5, 1, 2])],
            [helper.make_tensor_value_info('Y', TensorProto.FLOAT, [5, 1, 1, 3])],
            initializer=[numpy_helper.from_array(W, 'W'), numpy_helper.from_array(R, 'R'), numpy_helper.from_array(B, 'B')])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 14)])
        # onnx.save_model writes the data next to the model; the location is then rewritten.
        key = f'external/{name}'
        written = os.path.basename(location) if not location.startswith('/') else 'absolute.bin'
        onnx.save_model(model, path(key), save_as_external_data=True, all_tensors_to_one_file=True,
                        location=written, size_threshold=0)
        if location != written:
            if location.startswith('/'):
                os.remove(path(f'external/{written}'))
            else:
                os.replace(path(f'external/{written}'), path(os.path.normpath(os.path.join('external', location))))
            m = onnx.load(path(key), load_external_data=False)
            for t in m.graph.initializer:
                for e in t.external_data:
                    if e.key == 'location':
                        e.value = location
            onnx.save(m, path(key))
        if location.startswith('/'):
            expect_error(key, 'onnx', 'unsupported', 'is not a relative path', external={location: None})
            continue
        # onnx.load refuses locations outside the model's folder, so the expectations come from
        # the arrays written (onnx.load checks them for the location it accepts).
        arrays = OrderedDict(W=W, R=R, B=B)
        if location == written:
            back = onnx.load(path(key))
            for t in back.graph.initializer:
                assert np.array_equal(numpy_helper.to_array(t), arrays[t.name])
        conv = onnx_to_pytorch('LSTM', arrays['W'], arrays['R'], arrays['B'], 3)
        expect_ok(key, 'onnx', OrderedDict((k, numpy_summary(v)) for k, v in arrays.items()), external={location: os.path.normpath(os.path.join('external', location))},
                  modules=[{'name': 'lstm', 'origin': 'onnx-node', 'members': ['lstm'], 'unsupported': [],
                            'tensors': OrderedDict((k, numpy_summary(v)) for k, v in conv.items())}])
    expect_error('external/inside.onnx#no-external', 'onnx', 'missing', '"inside.bin" was not provided', file='external/inside.onnx')

    # Broken models.
    good = open(path('export-lstm.onnx'), 'rb').read()
    write_bytes('truncated.onnx', good[: len(good) * 2 // 3])
    expect_error('truncated.onnx', 'onnx', 'truncated', '')
    W, R, B = weights('RNN', 2, 2)
    bad_w = numpy_helper.from_array(W, 'W')
    bad_w.raw_data = bad_w.raw_data[:-4]
    graph = helper.make_graph([helper.make_node('RNN', ['X', 'W', 'R'], ['Y'], name='rnn', hidden_size=2)], 'g',
                              [helper.make_tensor_value_info('X', TensorProto.FLOAT, [5, 1, 2])],
                              [helper.make_tensor_value_info('Y', TensorProto.FLOAT, [5, 1, 1, 3])],
                              initializer=[bad_w, numpy_helper.from_array(R, 'R')])
    onnx.save(helper.make_model(graph), path('raw-data-short.onnx'))
    expect_error('raw-data-short.onnx', 'onnx', 'corrupt', 'raw_data holds 12 bytes, dims [1, 2, 2] of float32 need 16')
    def huge_tensor(name):
        t = TensorProto()
        t.name, t.data_type = name, TensorProto.FLOAT
        t.dims.extend([1, 1000000, 1000000])
        t.raw_data = b'\0' * 16
        return t

    huge = huge_tensor('W')
    graph = helper.make_graph([helper.make_node('RNN', ['X', 'W', 'R'], ['Y'], name='rnn', hidden_size=1000000)], 'g',
                              [helper.make_tensor_value_info('X', TensorProto.FLOAT, [5, 1, 2])],
                              [helper.make_tensor_value_info('Y', TensorProto.FLOAT, [5, 1, 1, 3])],
                              initializer=[huge, huge_tensor('R')])
    onnx.save(helper.make_model(graph), path('huge-dims.onnx'))
    expect_error('huge-dims.onnx', 'onnx', 'limit', 'over the limit')
    write_bytes('not-onnx.onnx', b'\x08\x07' + b'\xff' * 20)
    expect_error('not-onnx.onnx', 'onnx', 'corrupt', '')

# ---------------------------------------------------------------------------------------------
# hdf5: what h5py writes by default (and with libver='latest'), read back by h5py


def h5_value(v):
    if isinstance(v, bytes):
        return v.decode('utf-8')
    if isinstance(v, str):
        return v
    a = np.asarray(v)
    if a.dtype.kind in 'SO' or a.dtype.kind == 'U':
        return [x.decode('utf-8') if isinstance(x, bytes) else str(x) for x in a.reshape(-1)]
    return [float(x) for x in a.astype(np.float64).reshape(-1)]


def h5_expectations(f):
    """Every dataset (numeric: summary; strings: values), every attribute, every group's names."""
    import h5py
    datasets, attributes, groups = OrderedDict(), OrderedDict(), OrderedDict()

    def visit(name, obj):
        key = '/' + name if name else '/'
        if obj.attrs:
            attributes[key] = OrderedDict((k, h5_value(obj.attrs[k])) for k in obj.attrs)
        if isinstance(obj, h5py.Group):
            groups[key] = sorted(obj.keys())
        elif obj.dtype.kind in 'SO':
            datasets[key] = {'strings': [x.decode('utf-8') if isinstance(x, bytes) else x for x in np.asarray(obj[()]).reshape(-1)],
                             'shape': list(obj.shape)}
        else:
            datasets[key] = numpy_summary(np.asarray(obj[()]).astype(obj.dtype.newbyteorder('=')))
    visit('', f)
    f.visititems(visit)
    return datasets, attributes, groups


def make_hdf5():
    import h5py
    rng = np.random.default_rng(21)
    name = 'h5-layouts.h5'
    with h5py.File(path(name), 'w') as f:
        f.attrs['vlen'] = 'hello \u2713'
        f.attrs['fixed'] = b'bytes'
        f.attrs['names'] = [b'a', b'bcd']
        f.attrs['vlen_list'] = ['x', 'yz']
        f.attrs['ints'] = np.array([1, -2, 3], np.int32)
        f.attrs['flt'] = 2.5
        f.attrs['flag'] = True
        f['contiguous_f64'] = rng.standard_normal((3, 4))
        f['contiguous_f32'] = rng.standard_normal((2, 5)).astype(np.float32)
        f['f16'] = rng.standard_normal(7).astype(np.float16)
        f['i64'] = rng.integers(-10**12, 10**12, (4,))
        f['u8'] = rng.integers(0, 255, (3, 2), dtype=np.uint8)
        f['bool'] = np.array([True, False, True])
        f['be_f64'] = rng.standard_normal((2, 2)).astype('>f8')
        f['be_i32'] = rng.integers(-99, 99, (3,)).astype('>i4')
        f['scalar'] = 4.25
        f['empty'] = np.zeros((0, 3), np.float32)
        f.create_dataset('chunked', data=rng.standard_normal((6, 5)), chunks=(4, 2))
        f.create_dataset('gzip', data=rng.standard_normal((9, 7)).astype(np.float32), chunks=(4, 4), compression='gzip', compression_opts=4)
        f.create_dataset('shuffle_gzip', data=rng.integers(0, 1000, (10, 3)), chunks=(3, 3), shuffle=True, compression='gzip')
        f.create_dataset('fletcher32', data=rng.standard_normal(20), chunks=(8,), fletcher32=True)
        f.create_dataset('many_chunks', data=rng.standard_normal((300, 2)), chunks=(1, 2))
        d = f.create_dataset('partial', shape=(6, 4), chunks=(2, 2), dtype=np.float64, fillvalue=7.5)
        d[0:2, 0:2] = rng.standard_normal((2, 2))
        d[4:6, 2:4] = rng.standard_normal((2, 2))
        f.create_dataset('scalar_chunk_3d', data=rng.standard_normal((2, 3, 4)), chunks=(1, 3, 2))
        f['strings_fixed'] = np.array([b'ab', b'cde', b''], dtype='S5')
        f.create_dataset('strings_vlen', data=['alpha', 'b\u00e9ta', ''], dtype=h5py.string_dtype())
        space = h5py.h5s.create_simple((2, 3))
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        ds = h5py.h5d.create(f.id, b'compact', h5py.h5t.IEEE_F64LE, space, dcpl)
        compact = rng.standard_normal((2, 3))
        ds.write(h5py.h5s.ALL, h5py.h5s.ALL, compact)
        g = f.create_group('g')
        g.attrs['note'] = 'inner'
        g.create_group('h').create_dataset('i', data=np.arange(5, dtype=np.int16))
        g['h/i'].attrs['on_dataset'] = np.float32(1.5)
        big = f.create_group('big_group')
        for k in range(300):
            big.create_dataset(f'm{k:03d}', data=np.array([k], np.int32))
    with h5py.File(path(name), 'r') as f:
        datasets, attributes, groups = h5_expectations(f)
    EXPECTED[name] = dict(reader='hdf5', expect='ok', datasets=datasets, attributes=attributes, groups=groups)

    name = 'h5-latest.h5'
    with h5py.File(path(name), 'w', libver='latest') as f:
        f.attrs['title'] = 'latest format'
        f.attrs['numbers'] = [1.5, 2.5]
        f['a'] = rng.standard_normal((2, 3))
        f['b/c'] = np.arange(4, dtype=np.int64)
        f['b'].attrs['x'] = 3
        f.create_dataset('single_chunk', data=rng.standard_normal((4, 4)), chunks=(4, 4))
    with h5py.File(path(name), 'r') as f:
        datasets, attributes, groups = h5_expectations(f)
    EXPECTED[name] = dict(reader='hdf5', expect='ok', datasets=datasets, attributes=attributes, groups=groups)

    name = 'h5-latest-chunked.h5'
    with h5py.File(path(name), 'w', libver='latest') as f:
        f.create_dataset('x', data=rng.standard_normal((8, 8)), chunks=(2, 2))
    expect_error(name, 'hdf5', 'unsupported', 'fixed array', dataset='/x')

    # A dataset of 10^12 elements whose storage was never allocated (contiguous, late).
    name = 'h5-huge-dims.h5'
    with h5py.File(path(name), 'w') as f:
        space = h5py.h5s.create_simple((10**6, 10**6))
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_LATE)
        dcpl.set_fill_time(h5py.h5d.FILL_TIME_NEVER)
        h5py.h5d.create(f.id, b'x', h5py.h5t.IEEE_F64LE, space, dcpl)
    expect_error(name, 'hdf5', 'limit', 'over the limit', dataset='/x')
    good = open(path('h5-layouts.h5'), 'rb').read()
    write_bytes('h5-truncated.h5', good[:len(good) // 3])
    expect_error('h5-truncated.h5', 'hdf5', 'truncated', 'outside the file', dataset='/big_group/m299')
    write_bytes('not-hdf5.h5', b'\x89HDF\r\n\x1a\n' + b'\x07' + b'\0' * 40)
    expect_error('not-hdf5.h5', 'hdf5', 'unsupported', 'superblock version 7')


# ---------------------------------------------------------------------------------------------
# keras: files laid out as Keras' own saving code writes them (keras/src/saving/saving_lib.py for
# .keras, keras/src/legacy/saving/legacy_h5_format.py for tf.keras .h5), written with h5py because
# Keras is not installable here. The expected PyTorch tensors follow the conversion table of the
# spec; each conversion is checked here against torch.nn.LSTM/GRU/RNN running on a numpy
# re-implementation of Keras' cell equations (keras/src/layers/rnn/{lstm,gru,simple_rnn}.py).

def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def keras_cell_run(cls, x, kernel, rec, bias, reset_after=True, activation='tanh'):
    """Keras' cell equations (batch 1), returns the sequence of h."""
    u = rec.shape[0]
    h = np.zeros(u)
    c = np.zeros(u)
    out = []
    for xt in x:
        if cls == 'LSTM':
            z = xt @ kernel + h @ rec + (bias if bias is not None else 0)
            i, f, g, o = sigmoid(z[:u]), sigmoid(z[u:2 * u]), np.tanh(z[2 * u:3 * u]), sigmoid(z[3 * u:])
            c = f * c + i * g
            h = o * np.tanh(c)
        elif cls == 'GRU':
            bi = bias[0] if (bias is not None and reset_after) else (bias if bias is not None else np.zeros(3 * u))
            bh = bias[1] if (bias is not None and reset_after) else np.zeros(3 * u)
            xz, xr, xh = xt @ kernel[:, :u] + bi[:u], xt @ kernel[:, u:2 * u] + bi[u:2 * u], xt @ kernel[:, 2 * u:] + bi[2 * u:]
            if reset_after:
                inner = h @ rec + bh
                z, r = sigmoid(xz + inner[:u]), sigmoid(xr + inner[u:2 * u])
                hh = np.tanh(xh + r * inner[2 * u:])
            else:
                z, r = sigmoid(xz + h @ rec[:, :u]), sigmoid(xr + h @ rec[:, u:2 * u])
                hh = np.tanh(xh + (r * h) @ rec[:, 2 * u:])
            h = z * h + (1 - z) * hh
        else:
            pre = xt @ kernel + h @ rec + (bias if bias is not None else 0)
            h = np.tanh(pre) if activation == 'tanh' else np.maximum(pre, 0)
        out.append(h)
    return np.array(out)


KERAS_ORDER = {'LSTM': [0, 1, 2, 3], 'GRU': [1, 0, 2], 'SimpleRNN': [0]}


def keras_to_pytorch(cls, kernel, rec, bias, reset_after, layer, reverse=False):
    u = rec.shape[0]
    order = KERAS_ORDER[cls]
    sfx = f'_l{layer}' + ('_reverse' if reverse else '')
    out = OrderedDict()
    out['weight_ih' + sfx] = reorder(kernel.T, order, u)
    out['weight_hh' + sfx] = reorder(rec.T, order, u)
    if bias is not None:
        if cls == 'GRU' and reset_after:
            out['bias_ih' + sfx] = reorder(bias[0], order, u)
            out['bias_hh' + sfx] = reorder(bias[1], order, u)
        else:
            out['bias_ih' + sfx] = reorder(bias, order, u)
    return out


def check_against_torch(cls, kernel, rec, bias, reset_after, activation, converted):
    """torch.nn with the converted weights computes what Keras' equations compute."""
    import torch
    i, u = kernel.shape[0], rec.shape[0]
    x = np.random.default_rng(0).standard_normal((6, i))
    want = keras_cell_run(cls, x, kernel.astype(np.float64), rec.astype(np.float64),
                          None if bias is None else bias.astype(np.float64), reset_after, activation)
    if cls == 'GRU' and not reset_after:
        return  # no torch module computes reset-before; the equations above are the reference
    bias_flag = bias is not None
    if cls == 'LSTM':
        m = torch.nn.LSTM(i, u, bias=bias_flag)
    elif cls == 'GRU':
        m = torch.nn.GRU(i, u, bias=bias_flag)
    else:
        m = torch.nn.RNN(i, u, nonlinearity=activation, bias=bias_flag)
    m = m.double()
    sd = m.state_dict()
    for k in list(sd):
        v = converted.get(k)
        sd[k] = torch.tensor(np.asarray(v, np.float64)) if v is not None else torch.zeros_like(sd[k])
    m.load_state_dict(sd)
    got = m(torch.tensor(x).unsqueeze(1))[0].squeeze(1).detach().numpy()
    assert np.allclose(got, want, atol=1e-10), (cls, np.abs(got - want).max())


def keras_layer_config(cls, name, units, **extra):
    cfg = {'name': name, 'trainable': True, 'dtype': 'float32', 'return_sequences': True, 'return_state': False,
           'go_backwards': False, 'stateful': False, 'unroll': False, 'units': units, 'activation': 'tanh',
           'use_bias': True, 'dropout': 0.0, 'recurrent_dropout': 0.0}
    if cls in ('LSTM', 'GRU'):
        cfg['recurrent_activation'] = 'sigmoid'
    if cls == 'LSTM':
        cfg['unit_forget_bias'] = True
    if cls == 'GRU':
        cfg['reset_after'] = True
    cfg.update(extra)
    return cfg


def keras_weights(rng, cls, i, units, cfg):
    g = {'LSTM': 4, 'GRU': 3, 'SimpleRNN': 1}[cls] * units
    kernel = rng.standard_normal((i, g)).astype(np.float32)
    rec = rng.standard_normal((units, g)).astype(np.float32)
    if not cfg.get('use_bias', True):
        bias = None
    elif cls == 'GRU' and cfg.get('reset_after', True):
        bias = rng.standard_normal((2, g)).astype(np.float32)
    else:
        bias = rng.standard_normal(g).astype(np.float32)
    return kernel, rec, bias


def make_keras_file(name, layers, fmt, functional=False, unsupported=(), module_names=None, extra_check=True):
    """layers: list of (class_name, config, input_size, inner) with inner=(cls, cfg) for Bidirectional.
    Writes a .keras archive (fmt='keras3') or a tf.keras .h5 (fmt='legacy')."""
    import h5py
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    config_layers = [{'module': 'keras.layers', 'class_name': 'InputLayer',
                      'config': {'batch_shape': [None, 10, layers[0][2]], 'dtype': 'float32', 'name': 'input_layer'},
                      'registered_name': None}]
    weights = []  # (weight path name, layer user name, [(role, array)], direction)
    used = {}
    expected_modules = []
    prev_name = 'input_layer'
    for class_name, cfg, i, inner in layers:
        snake = {'LSTM': 'lstm', 'GRU': 'gru', 'SimpleRNN': 'simple_rnn', 'Bidirectional': 'bidirectional', 'Dense': 'dense'}[class_name]
        wname = snake if snake not in used else f'{snake}_{used[snake] + 1}'
        used[snake] = used[snake] + 1 if snake in used else 0
        entry = {'module': 'keras.layers', 'class_name': class_name, 'config': cfg, 'registered_name': None}
        if functional:
            entry['inbound_nodes'] = [{'args': [{'class_name': '__keras_tensor__', 'config': {
                'shape': [None, 10, i], 'dtype': 'float32', 'keras_history': [prev_name, 0, 0]}}], 'kwargs': {}}]
        config_layers.append(entry)
        prev_name = cfg['name']
        if class_name == 'Dense':
            weights.append((wname, cfg['name'], [('kernel', rng.standard_normal((i, cfg['units'])).astype(np.float32)),
                                                  ('bias', np.zeros(cfg['units'], np.float32))], None))
            continue
        if class_name == 'Bidirectional':
            icls, icfg = inner
            for direction in ('forward', 'backward'):
                k, r, b = keras_weights(rng, icls, i, icfg['units'], icfg)
                weights.append((wname, cfg['name'], [x for x in [('kernel', k), ('recurrent_kernel', r), ('bias', b)] if x[1] is not None],
                                (direction, icls, icfg)))
        else:
            k, r, b = keras_weights(rng, class_name, i, cfg['units'], cfg)
            weights.append((wname, cfg['name'], [x for x in [('kernel', k), ('recurrent_kernel', r), ('bias', b)] if x[1] is not None],
                            (None, class_name, cfg)))
    model_config = {'module': 'keras', 'class_name': 'Functional' if functional else 'Sequential',
                    'config': {'name': 'model', 'trainable': True, 'layers': config_layers}, 'registered_name': None}
    if not functional:
        for l in model_config['config']['layers']:
            l.pop('inbound_nodes', None)
    if fmt == 'keras3':
        buf = io.BytesIO()
        with h5py.File(buf, 'w') as f:
            for wname, lname, arrays, direction in weights:
                if direction is None:
                    base = f'layers/{wname}'
                elif direction[0] is None:
                    base = f'layers/{wname}/cell'
                else:
                    base = f'layers/{wname}/{direction[0]}_layer/cell'
                g = f.create_group(f'{base}/vars')
                g.attrs['name'] = lname if direction is None else f'{lname}_cell'  # newer Keras: metadata
                for k, (_, a) in enumerate(arrays):
                    g[str(k)] = a
            f.create_group('optimizer/vars')
            f.create_group('vars')
        with zipfile.ZipFile(path(name), 'w') as z:
            z.writestr('metadata.json', json.dumps({'keras_version': '3.6.0', 'date_saved': '1980-01-01@00:00:00'}))
            z.writestr('config.json', json.dumps(model_config))
            z.writestr('model.weights.h5', buf.getvalue())
    else:
        legacy_config = json.loads(json.dumps(model_config))
        legacy_config.pop('module')
        legacy_config.pop('registered_name')
        with h5py.File(path(name), 'w') as f:
            f.attrs['keras_version'] = '2.15.0'
            f.attrs['backend'] = 'tensorflow'
            f.attrs['model_config'] = json.dumps(legacy_config).encode('utf8')
            mw = f.create_group('model_weights')
            layer_names = [e['config']['name'].encode('utf8') for e in config_layers]
            mw.attrs['layer_names'] = layer_names
            mw.attrs['backend'] = b'tensorflow'
            mw.attrs['keras_version'] = b'2.15.0'
            by_layer = OrderedDict()
            for wname, lname, arrays, direction in weights:
                by_layer.setdefault(lname, []).append((arrays, direction))
            cell_counter = {}
            for e in config_layers:
                lname = e['config']['name']
                g = mw.create_group(lname)
                names, values = [], []
                for arrays, direction in by_layer.get(lname, []):
                    for role, a in arrays:
                        if direction is None:
                            wn = f'{lname}/{role}:0'
                        else:
                            icls = direction[1].lower() if direction[1] != 'SimpleRNN' else 'simple_rnn'
                            cell = f'{icls}_cell'
                            if direction[0] is not None:
                                n = cell_counter.setdefault((lname, direction[0]), len(cell_counter) + 1)
                                wn = f'{lname}/{direction[0]}_{icls}/{cell}_{n}/{role}:0'
                            else:
                                wn = f'{lname}/{cell}/{role}:0'
                        names.append(wn.encode('utf8'))
                        values.append(a)
                g.attrs['weight_names'] = names
                for wn, a in zip(names, values):
                    g.create_dataset(wn.decode(), data=a)
    # Expectations: the converted PyTorch tensors per module.
    chains = module_names or []
    for wname, lname, arrays, direction in weights:
        if direction is None:
            continue
        d, icls, icfg = direction
        a = dict(arrays)
        reset_after = icfg.get('reset_after', True)
        key = wname if fmt == 'keras3' else lname
        chain = next((c for c in chains if key in c['members']), None)
        if chain is None:
            continue
        layer = chain['members'].index(key)
        conv = keras_to_pytorch(icls, a['kernel'], a['recurrent_kernel'], a.get('bias'), reset_after, layer, reverse=(d == 'backward'))
        if extra_check:
            check_against_torch(icls, a['kernel'], a['recurrent_kernel'], a.get('bias'), reset_after, icfg.get('activation', 'tanh'),
                                keras_to_pytorch(icls, a['kernel'], a['recurrent_kernel'], a.get('bias'), reset_after, 0))
        chain.setdefault('tensors', OrderedDict()).update((k, dict(expect_value_summary(v), dtype='float32')) for k, v in conv.items())
    expect_ok(name, 'keras', None, modules=[dict(c, origin='keras-layer') for c in chains])


def make_keras():
    L = keras_layer_config
    make_keras_file('keras3-lstm.keras', [('LSTM', L('LSTM', 'my_lstm', 4), 3, None), ('Dense', {'name': 'head', 'units': 2}, 4, None)],
                    'keras3', module_names=[{'name': 'lstm', 'members': ['lstm'], 'unsupported': [], 'attributes': {
                        'mode': 'LSTM', 'input_size': 3, 'hidden_size': 4, 'num_layers': 1, 'bias': True, 'bidirectional': False}}])
    make_keras_file('keras3-gru-stack.keras', [('GRU', L('GRU', 'g1', 3), 2, None), ('GRU', L('GRU', 'g2', 3), 3, None)],
                    'keras3', module_names=[{'name': 'gru', 'members': ['gru', 'gru_1'], 'unsupported': [], 'attributes': {
                        'mode': 'GRU', 'input_size': 2, 'hidden_size': 3, 'num_layers': 2, 'bias': True, 'bidirectional': False,
                        'gru_reset': 'after'}}])
    make_keras_file('keras3-gru-before.keras', [('GRU', L('GRU', 'g', 3, reset_after=False), 2, None)],
                    'keras3', module_names=[{'name': 'gru', 'members': ['gru'], 'unsupported': [], 'attributes': {
                        'mode': 'GRU', 'input_size': 2, 'hidden_size': 3, 'num_layers': 1, 'bias': True, 'bidirectional': False,
                        'gru_reset': 'before'}}])
    make_keras_file('keras3-simplernn-relu.keras', [('SimpleRNN', L('SimpleRNN', 's', 3, activation='relu'), 2, None)],
                    'keras3', module_names=[{'name': 'simple_rnn', 'members': ['simple_rnn'], 'unsupported': [], 'attributes': {
                        'mode': 'RNN_RELU', 'nonlinearity': 'relu', 'input_size': 2, 'hidden_size': 3, 'num_layers': 1, 'bias': True,
                        'bidirectional': False}}])
    inner = L('LSTM', 'forward_lstm', 3)
    bidir = {'name': 'bidi', 'trainable': True, 'merge_mode': 'concat',
             'layer': {'module': 'keras.layers', 'class_name': 'LSTM', 'config': inner},
             'backward_layer': {'module': 'keras.layers', 'class_name': 'LSTM', 'config': dict(inner, name='backward_lstm', go_backwards=True)}}
    make_keras_file('keras3-bidirectional.keras', [('Bidirectional', bidir, 2, ('LSTM', inner))],
                    'keras3', module_names=[{'name': 'bidirectional', 'members': ['bidirectional'], 'unsupported': [], 'attributes': {
                        'mode': 'LSTM', 'input_size': 2, 'hidden_size': 3, 'num_layers': 1, 'bias': True, 'bidirectional': True}}])
    make_keras_file('keras3-hard-sigmoid.keras', [('LSTM', L('LSTM', 'l', 2, recurrent_activation='hard_sigmoid'), 2, None)],
                    'keras3', module_names=[{'name': 'lstm', 'members': ['lstm'], 'unsupported': ['recurrent_activation "hard_sigmoid"']}],
                    extra_check=False)
    make_keras_file('keras3-functional.keras', [('LSTM', L('LSTM', 'encoder', 3), 2, None), ('LSTM', L('LSTM', 'decoder', 3), 3, None)],
                    'keras3', functional=True, module_names=[{'name': 'lstm', 'members': ['lstm', 'lstm_1'], 'unsupported': []}])
    make_keras_file('keras3-nobias-go-backwards.keras', [('SimpleRNN', L('SimpleRNN', 's', 2, use_bias=False, go_backwards=True), 2, None)],
                    'keras3', module_names=[{'name': 'simple_rnn', 'members': ['simple_rnn'], 'unsupported': ['go_backwards = true']}],
                    extra_check=False)
    make_keras_file('legacy-lstm.h5', [('LSTM', L('LSTM', 'lstm', 4), 3, None), ('Dense', {'name': 'dense', 'units': 2}, 4, None)],
                    'legacy', module_names=[{'name': 'lstm', 'members': ['lstm'], 'unsupported': [], 'attributes': {
                        'mode': 'LSTM', 'input_size': 3, 'hidden_size': 4, 'num_layers': 1, 'bias': True, 'bidirectional': False}}])
    make_keras_file('legacy-gru-before.h5', [('GRU', L('GRU', 'gru', 3, reset_after=False), 2, None)],
                    'legacy', module_names=[{'name': 'gru', 'members': ['gru'], 'unsupported': [], 'attributes': {
                        'mode': 'GRU', 'input_size': 2, 'hidden_size': 3, 'num_layers': 1, 'bias': True, 'bidirectional': False,
                        'gru_reset': 'before'}}])
    inner = L('GRU', 'forward_gru', 2)
    bidir = {'name': 'bidirectional', 'trainable': True, 'merge_mode': 'concat',
             'layer': {'class_name': 'GRU', 'config': inner},
             'backward_layer': {'class_name': 'GRU', 'config': dict(inner, name='backward_gru', go_backwards=True)}}
    make_keras_file('legacy-bidirectional-gru.h5', [('Bidirectional', bidir, 3, ('GRU', inner))],
                    'legacy', module_names=[{'name': 'bidirectional', 'members': ['bidirectional'], 'unsupported': [], 'attributes': {
                        'mode': 'GRU', 'input_size': 3, 'hidden_size': 2, 'num_layers': 1, 'bias': True, 'bidirectional': True,
                        'gru_reset': 'after'}}])
    make_keras_file('legacy-hard-sigmoid.h5', [('GRU', L('GRU', 'gru', 2, reset_after=False, recurrent_activation='hard_sigmoid'), 2, None)],
                    'legacy', module_names=[{'name': 'gru', 'members': ['gru'], 'unsupported': ['recurrent_activation "hard_sigmoid"']}],
                    extra_check=False)
    make_keras_file('legacy-simplernn-stack.h5', [('SimpleRNN', L('SimpleRNN', 'rnn_a', 3), 2, None),
                                                  ('SimpleRNN', L('SimpleRNN', 'rnn_b', 3, return_sequences=False), 3, None)],
                    'legacy', module_names=[{'name': 'rnn_a', 'members': ['rnn_a', 'rnn_b'], 'unsupported': [], 'attributes': {
                        'mode': 'RNN_TANH', 'nonlinearity': 'tanh', 'input_size': 2, 'hidden_size': 3, 'num_layers': 2, 'bias': True,
                        'bidirectional': False}}])
    import h5py
    with h5py.File(path('legacy-weights-only.h5'), 'w') as f:
        f.attrs['layer_names'] = [b'lstm']
        f.create_group('lstm').attrs['weight_names'] = [b'lstm/lstm_cell/kernel:0']
        f['lstm/lstm/lstm_cell/kernel:0'] = np.zeros((2, 8), np.float32)
    expect_error('legacy-weights-only.h5', 'keras', 'unsupported', 'weights-only')
    good = open(path('keras3-lstm.keras'), 'rb').read()
    write_bytes('keras3-truncated.keras', good[: len(good) - 100])
    expect_error('keras3-truncated.keras', 'keras', 'corrupt', '')


# ---------------------------------------------------------------------------------------------


GROUPS = {'pytorch': make_pytorch, 'numpy': make_numpy, 'onnx': make_onnx, 'hdf5': make_hdf5, 'keras': make_keras}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--only', nargs='*', choices=sorted(GROUPS))
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    pinned_zip_time()
    expected_path = path('expected.json')
    if args.only and os.path.exists(expected_path):
        with open(expected_path) as f:
            EXPECTED.update(json.load(f))
    for name in args.only or list(GROUPS):
        GROUPS[name]()
    with open(expected_path, 'w') as f:  # one fixture per line: small diffs when one changes
        f.write('{\n' + ',\n'.join(f'{json.dumps(k)}: {json.dumps(v)}' for k, v in sorted(EXPECTED.items())) + '\n}\n')
    print(f'{len(EXPECTED)} expectations written to {os.path.relpath(expected_path, ROOT)}')


if __name__ == '__main__':
    sys.exit(main())
