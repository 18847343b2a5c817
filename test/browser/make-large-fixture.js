// Writes test/fixtures/reports/large-10000.json: a deterministic synthetic report for the panel's speed test.
// 10,000 lags × 2 layers with log10 figures from 0 down to about -400 (the plain figures are 0 where a
// double underflows, as the engine reports them), 200 batch norms (one overflowed: null), and a 256×256
// (t, j) heatmap per layer. Run: node test/browser/make-large-fixture.js
'use strict';
const fs = require('fs');
const path = require('path');

const LAGS = 10000;
const BATCHES = 200;
const HEATMAP = 256;

/** Small seeded PRNG (mulberry32) so the fixture is the same on every machine. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round = (x, d = 6) => (x === null ? null : Number(x.toFixed(d)));
const plain = (log10) => (log10 === null ? 0 : Number((10 ** log10).toPrecision(6))); // 0 where it underflows, like the engine

function lagTable(rand, ratePerStep, wobble) {
  const lags = [];
  for (let lag = 0; lag < LAGS; lag++) {
    const base = ratePerStep * lag + wobble * Math.sin(lag / 37) + (rand() - 0.5) * 0.3;
    const spread = 0.3 + rand() * 0.8;
    const lm = Math.min(0, base);
    const lmin = lm - spread - rand() * 0.5;
    const lmax = Math.min(0, lm + spread * 0.7);
    const lc = lm - 0.4 + (rand() - 0.5) * 0.2;
    lags.push({
      lag,
      count: 4 * (LAGS - lag),
      mean: plain(lm),
      min: plain(lmin),
      max: plain(lmax),
      contribution_mean: plain(lc),
      log10_mean: round(lm),
      log10_min: round(lmin),
      log10_max: round(lmax),
      log10_contribution_mean: round(lc),
    });
  }
  // One lag whose norm is exactly 0 somewhere: log10 fields are null.
  Object.assign(lags[LAGS - 3], { min: 0, log10_min: null });
  return lags;
}

function heatmap(rand, layer, ratePerStep) {
  const bin = Math.ceil(LAGS / HEATMAP);
  const cells = [];
  for (let t = 0; t < HEATMAP; t++) {
    for (let j = 0; j < HEATMAP; j++) {
      if (j > t) cells.push(null);
      else cells.push(round(ratePerStep * (t - j) * bin + (rand() - 0.5) * 0.5, 3));
    }
  }
  return { layer, sequence: 0, length: LAGS, bin, size: HEATMAP, log10_norm: cells };
}

function main() {
  const rand = prng(20240607);
  const rates = [-0.04, -0.0095];
  const layers = rates.map((rate, k) => {
    const lags = lagTable(rand, rate, k === 0 ? 2 : 0.5);
    return {
      layer: k,
      sigma_max: k === 0 ? 0.82 : 1.04,
      spectral_radius: k === 0 ? 0.71 : 0.97,
      gamma: 1,
      regime: 'vanishing',
      evidence: {
        log10_rate_per_step: rate,
        log10_ratio: lags[LAGS - 1].log10_mean - lags[0].log10_mean,
        measured_lag: LAGS - 1,
        pascanu_bound: k === 0 ? 0.82 : 1.04,
        rule: `The mean lag norm falls ${(-rate).toFixed(4)} decades per step over lags 0–${LAGS - 1}, past the vanishing threshold.`,
      },
      lags,
    };
  });
  const batchNorms = [];
  for (let b = 0; b < BATCHES; b++)
    batchNorms.push(round(2 * Math.exp((rand() - 0.5) * 1.5) + (b % 37 === 0 ? 40 : 0), 4));
  batchNorms[150] = null;
  const sorted = batchNorms.filter((x) => x !== null).sort((a, b) => a - b);
  const mean = sorted.reduce((s, x) => s + x, 0) / sorted.length;
  const pct = (p) => {
    const i = (sorted.length - 1) * p;
    const lo = Math.floor(i);
    return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (i - lo);
  };
  const suggestions = [
    { method: 'mean', clip_norm: round(mean, 4) },
    { method: 'autoclip_p10', clip_norm: round(pct(0.1), 4) },
    { method: 'median', clip_norm: round(pct(0.5), 4) },
  ];
  const report = {
    report_version: 1,
    file: 'models/long.rnn.json',
    model: {
      cell: 'rnn',
      form: 'elman',
      nonlinearity: 'tanh',
      input_size: 8,
      hidden_size: 32,
      num_layers: 2,
      output_size: 8,
      name: 'long-range synthetic (10,000 lags)',
    },
    sequences: 4,
    steps: 4 * LAGS,
    loss: 123.4,
    grad_norm: 3.21,
    gradients: { weight_hh_l0: { norm: 1.7, max_abs: 0.4 }, weight_hh_l1: { norm: 0.9, max_abs: 0.2 } },
    layers,
    clipping: {
      batch_norms: batchNorms,
      suggestions,
      recommended: {
        clip_norm: suggestions[2].clip_norm,
        clip_value: 0.25,
        method: 'median',
        rationale: 'The median ignores the rare spikes.',
      },
    },
    findings: layers.map((l) => ({
      severity: 'warning',
      code: 'vanishing-gradients',
      message: `Layer ${l.layer}: the gradient norm falls to 1e${Math.round(l.evidence.log10_ratio)} of lag 0 by lag ${LAGS - 1}.`,
      path: ['weights', `weight_hh_l${l.layer}`],
    })),
    heatmaps: [heatmap(rand, 0, rates[0]), heatmap(rand, 1, rates[1])],
    max_lag: null,
    elapsed_ms: 8123,
  };
  const out = path.join(__dirname, '..', 'fixtures', 'reports', 'large-10000.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(report));
  return out;
}

if (require.main === module) console.log(`wrote ${main()}`);
module.exports = { main };
