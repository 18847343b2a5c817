#!/usr/bin/env python3
"""Writes examples/checkpoint/: a small PyTorch checkpoint to analyze in one command, and a model file using it.

  tagger.pt         torch.save(model.state_dict()) of a tagger: an nn.LSTM `rnn` (input 3, hidden 16) and an
                    nn.Linear `head` (16 -> 4); `rnn-gradients analyze examples/checkpoint/tagger.pt` analyzes it
                    on synthetic data (a synthetic-data finding says so)
  batch.npz         a batch for it: inputs [4][24][3] float32, targets [4][24] int64 class ids
  tagger.rnn.json   the model file: weights from tagger.pt (module rnn, readout head), data from batch.npz,
                    cross-entropy loss, the clip_norm in use

Run with PyTorch and numpy (CI does not: the files are checked in):
  /usr/bin/python3 tools/make_example_checkpoint.py
"""
import json
import os

import numpy as np
import torch
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'examples', 'checkpoint')


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(3, 16, batch_first=True)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        return self.head(self.rnn(x)[0])


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(7)
    model = Tagger()
    torch.save(model.state_dict(), os.path.join(OUT, 'tagger.pt'))
    rng = np.random.default_rng(7)
    inputs = rng.standard_normal((4, 24, 3)).astype(np.float32)
    targets = rng.integers(0, 4, size=(4, 24)).astype(np.int64)
    np.savez(os.path.join(OUT, 'batch.npz'), inputs=inputs, targets=targets)
    model_file = {
        '$schema': '../../schemas/rnn-model.schema.json',
        'name': 'tagger (PyTorch checkpoint)',
        'weights': 'tagger.pt',
        'module': 'rnn',
        'readout': 'head',
        'data': {'inputs': 'batch.npz#inputs', 'targets': 'batch.npz#targets'},
        'loss': 'cross_entropy',
        'training': {'clip_norm': 1.0, 'batch_size': 2},
    }
    with open(os.path.join(OUT, 'tagger.rnn.json'), 'w') as f:
        f.write(json.dumps(model_file, indent=2) + '\n')


if __name__ == '__main__':
    main()
