// Shared inputs of the extension's logic tests: a commented JSONC model file and a small report.
import type { Report } from '../../../src/engine/report/types';

/** A model file with comments, a trailing comma and four-space indentation. */
export const commented = `{
    // my model
    "cell": "rnn",
    "weights": { "weight_hh_l0": [[0.5]], "weight_ih_l0": [[1]] }, /* inline */
    "data": { "inputs": [[[1]]] },
    "training": {
        "clip_norm": 10, // too high?
        "batch_size": 2,
    }
}
`;

/** A small report for logic tests. */
export function report(overrides: Partial<Report> = {}): Report {
  return {
    report_version: 1,
    file: 'm.rnn.json',
    model: {
      cell: 'rnn',
      form: 'elman',
      nonlinearity: 'tanh',
      input_size: 1,
      hidden_size: 4,
      num_layers: 2,
      output_size: 4,
      bidirectional: false,
      proj_size: 0,
      gru_reset: 'after',
      source: { format: 'json', module: '' },
    },
    sequences: 1,
    steps: 40,
    loss: 1,
    grad_norm: 1,
    gradients: {},
    layers: [
      {
        layer: 0,
        direction: 'forward',
        sigma_max: 0.05,
        spectral_radius: 0.05,
        gamma: 1,
        regime: 'vanishing',
        evidence: {
          log10_rate_per_step: -1.3,
          log10_ratio: -50.7,
          measured_lag: 39,
          pascanu_bound: 0.05,
          fit: { intercept: -0.1, slope: -1.3, from_lag: 0, to_lag: 39 },
          horizon: { lag: 3, kind: 'decay' },
          borderline: false,
          zero_from_lag: null,
          rule: 'decays',
        },
        lags: [],
      },
      {
        layer: 1,
        direction: 'forward',
        sigma_max: 1.08,
        spectral_radius: 1.08,
        gamma: 1,
        regime: 'exploding',
        lags: [],
      },
    ],
    clipping: {
      batch_norms: [3, 5],
      suggestions: [],
      recommended: { clip_norm: 4.153, clip_value: 0.5, method: 'mean', rationale: '' },
    },
    findings: [
      { severity: 'warning', code: 'exploding-gradients', message: 'explodes', path: ['weights', 'weight_hh_l0'] },
      { severity: 'info', code: 'clip-never-triggers', message: 'never', path: ['training', 'clip_norm'] },
    ],
    ...overrides,
  };
}
