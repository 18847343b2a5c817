#!/usr/bin/env node
// Writes test/fixtures/timeline-models/: a training timeline as a series of model files (no checkpoint reader
// needed) built to show every timeline finding, and test/fixtures/reports/timeline.json, its timeline report as
// `rnn-gradients track` prints it (the browser test draws it). Deterministic; run `npm run build` first.
//
// A linear RNN (hidden 4, orthogonal W_hh with gain g, so the log10 rate per step is about log10 g) and a readout
// of scale r: step 300 turns stable (g 0.9 → 0.97), step 400 spikes (r 8), the recommended clip_norm drifts
// (r 1 → 1.8 with the growing gain), step 600 turns exploding (g 1.03).
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'test', 'fixtures', 'timeline-models');
const SERIES = [
  [100, 0.9, 1],
  [200, 0.9, 1.1],
  [300, 0.97, 1.2],
  [400, 0.97, 8],
  [500, 0.97, 1.5],
  [600, 1.03, 1.8],
];
const B = 4;
const T = 30;

function model(step, gain, r) {
  const targets = [];
  for (let b = 0; b < B; b++) {
    const row = [];
    for (let t = 0; t < T; t++) row.push(Number((0.1 * Math.sin(0.3 * t + b)).toFixed(4)));
    targets.push(row);
  }
  return (
    JSON.stringify(
      {
        name: `timeline fixture: step ${step} (W_hh gain ${gain}, readout scale ${r})`,
        cell: 'rnn',
        nonlinearity: 'linear',
        input_size: 2,
        hidden_size: 4,
        init: { scheme: 'orthogonal', seed: 6, gain },
        readout: { weight: [[0.5 * r, -0.25 * r, 0.4 * r, 0.1 * r]], bias: [0] },
        data: { generate: { sequences: B, length: T, distribution: 'normal', scale: 0.5, seed: 7 }, targets },
        loss: 'mse',
        training: { batch_size: 2, clip_norm: 5 },
      },
      null,
      2,
    ) + '\n'
  );
}

fs.mkdirSync(OUT, { recursive: true });
for (const [step, gain, r] of SERIES) fs.writeFileSync(path.join(OUT, `step_${step}.rnn.json`), model(step, gain, r));
const run = spawnSync(
  process.execPath,
  [path.join(ROOT, 'dist', 'cli.js'), 'track', 'test/fixtures/timeline-models', '--json', '--no-cache'],
  {
    cwd: ROOT,
    encoding: 'utf8',
  },
);
if (run.status !== 0) {
  process.stderr.write(run.stderr);
  process.exit(1);
}
fs.writeFileSync(path.join(ROOT, 'test', 'fixtures', 'reports', 'timeline.json'), run.stdout);
const t = JSON.parse(run.stdout);
console.log(t.findings.map((f) => `${f.code} at ${f.step}`).join('\n'));
