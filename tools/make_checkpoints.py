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


GROUPS = {'pytorch': make_pytorch, 'numpy': make_numpy, 'onnx': make_onnx}


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
