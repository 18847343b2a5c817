// Reports for the chart-model tests: reports the engine produces from the model files of test/fixtures/reports, the
// synthetic large one, and small ones built by hand.
import * as fs from 'fs';
import * as path from 'path';
import type { LagEntry, LayerReport, RegimeEvidence, Report } from '../../../../src/engine/report/types';
import { REPO_ROOT } from '../../helpers/cli';
import { analyzeModel } from '../../../../src/engine/analyze';
import { parsedModel } from '../../helpers/models';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'reports');

/** A report of test/fixtures/reports stored as JSON (the synthetic large-10000.json). */
export function loadFixture(name: string): Report {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as Report;
}

/** The report the engine produces for a model file of test/fixtures/reports (`file` as the CLI writes it). */
export function engineReport(name: string): Report {
  const text = fs.readFileSync(path.join(FIXTURES, name), 'utf8');
  return analyzeModel(parsedModel(text), { file: `test/fixtures/reports/${name}` });
}

export function lag(lagIndex: number, log10Mean: number | null, extra: Partial<LagEntry> = {}): LagEntry {
  const plain = log10Mean === null ? 0 : 10 ** log10Mean;
  return {
    lag: lagIndex,
    count: 1,
    mean: plain,
    min: plain,
    max: plain,
    contribution_mean: plain,
    log10_mean: log10Mean,
    log10_min: log10Mean === null ? null : log10Mean - 1,
    log10_max: log10Mean === null ? null : log10Mean + 1,
    ...extra,
  };
}

/** Regime evidence with every field, defaults for those not given. */
export function evidence(extra: Partial<RegimeEvidence> = {}): RegimeEvidence {
  return {
    log10_rate_per_step: -0.2,
    log10_ratio: -2,
    measured_lag: 10,
    pascanu_bound: 1.2,
    fit: { intercept: 0, slope: -0.2, from_lag: 0, to_lag: 10 },
    horizon: null,
    borderline: false,
    zero_from_lag: null,
    rule: 'r',
    ...extra,
  };
}

export function layerOf(lags: LagEntry[], extra: Partial<LayerReport> = {}): LayerReport {
  return {
    layer: 0,
    direction: 'forward',
    sigma_max: 1.2,
    spectral_radius: 0.9,
    gamma: 1,
    regime: 'vanishing',
    lags,
    ...extra,
  };
}

export function reportOf(layers: LayerReport[], batchNorms: (number | null)[] = [1, 2, 3, 4]): Report {
  return {
    report_version: 1,
    file: 'models/demo.rnn.json',
    model: {
      cell: 'rnn',
      form: 'elman',
      nonlinearity: 'tanh',
      input_size: 1,
      hidden_size: 2,
      num_layers: layers.length,
      output_size: 1,
      bidirectional: false,
      proj_size: 0,
      gru_reset: 'after',
      source: { format: 'json', module: '' },
    },
    sequences: 1,
    steps: 10,
    loss: 1,
    grad_norm: 1,
    gradients: {},
    layers,
    clipping: {
      batch_norms: batchNorms,
      suggestions: [
        { method: 'mean', clip_norm: 2.5 },
        { method: 'median', clip_norm: 2.5 },
        { method: 'autoclip_p10', clip_norm: 1.3 },
      ],
      recommended: { clip_norm: 2.5, clip_value: 0.123456, method: 'mean', rationale: 'because' },
    },
    findings: [],
  };
}
