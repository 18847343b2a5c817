// Unit tests (plain Node) of reportLogic.ts: documentation links, the worst layer, the hover.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  checkpointHover,
  FINDING_CODES,
  findingSectionLine,
  weightHhDirection,
  weightHhHover,
  weightHhLayer,
  worstLayer,
} from '../../../src/extension/reportLogic';
import { REPO_ROOT } from '../helpers/cli';
import { report } from './fixtures';
import { formatHoverPow10 } from '../../../src/engine/report/format';

describe('extension report logic', () => {
  it('links every finding code to its section of the README shipped in the extension (the line of its heading)', () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const lines = readme.split('\n');
    assert.ok(FINDING_CODES.length >= 10);
    for (const code of FINDING_CODES) {
      const line = findingSectionLine(readme, code);
      assert.ok(line !== undefined, `README has no section for ${code}`);
      assert.strictEqual(lines[line - 1], `### Finding: ${code}`);
    }
    assert.strictEqual(findingSectionLine(readme, 'no-such-code'), undefined);
    assert.strictEqual(findingSectionLine('# x\r\n### Finding: non-finite\r\n', 'non-finite'), 2);
  });

  it('picks the worst layer', () => {
    assert.strictEqual(worstLayer(report())?.layer, 1);
  });

  it('explains weight_hh with Pascanu condition and the measured rate', () => {
    const vanishing = weightHhHover(report(), 0) ?? '';
    assert.match(vanishing, /shape \[4\]\[4\]/);
    assert.match(vanishing, /sufficient for vanishing/);
    assert.match(vanishing, /falls 0\.05012× per step/);
    assert.match(vanishing, /Regime: \*\*vanishing\*\*/);
    const exploding = weightHhHover(report(), 1) ?? '';
    assert.match(exploding, /necessary for exploding/);
    assert.strictEqual(weightHhHover(report(), 5), undefined);
    assert.doesNotMatch(vanishing, /Estimated/);
  });

  it('says when the lag table is estimated, with the interval at the measured lag', () => {
    const base = report();
    const layer = base.layers[0];
    const lag = layer.evidence!.measured_lag;
    const sampled = {
      ...base,
      lag_sampling: { endpoints: 40, sequences: 3, seed: 1, strata: 10, work_share: 0.1 },
      layers: [
        {
          ...layer,
          lags: Array.from({ length: lag + 1 }, (_, l) => ({
            lag: l,
            count: 5,
            mean: 10 ** (-l / 13),
            contribution_mean: null,
            log10_mean: -l / 13,
            sampled: true as const,
            log10_mean_ci95: [-l / 13 - 0.25, -l / 13 + 0.25] as [number, number],
          })),
        },
        ...base.layers.slice(1),
      ],
    };
    const hover = weightHhHover(sampled, 0) ?? '';
    assert.match(hover, /\*Estimated\* from a sample of 40 loss terms in 3 sequences \(seed 1\)/);
    assert.match(hover, new RegExp(`Mean norm at lag ${lag}: .* ± 0\\.25 in log10 \\(95% interval\\)`));
  });

  it('the hover leads with the verdict, then gives each number once, in plain words', () => {
    const r = report();
    r.layers[1].evidence = {
      log10_rate_per_step: 0.173,
      log10_ratio: 2.1086,
      measured_lag: 12,
      pascanu_bound: 1.08,
      fit: { intercept: -0.14, slope: 0.173, from_lag: 0, to_lag: 12 },
      horizon: null,
      borderline: false,
      zero_from_lag: null,
      rule: 'grows',
    };
    const hover = weightHhHover(r, 1) ?? '';
    const lines = hover.split('\n');
    const verdict = lines.findIndex((line) => line.startsWith('Regime: '));
    const table = lines.findIndex((line) => line.startsWith('|'));
    assert.ok(verdict > 0 && verdict < table, `verdict line ${verdict}, table from ${table}:\n${hover}`);
    assert.strictEqual(lines.slice(0, verdict).filter((line) => line.trim()).length, 1, 'only the title before it');
    const ev = r.layers[1].evidence;
    assert.ok(ev.log10_ratio !== null && ev.log10_ratio > 0, 'the fixture layer 1 grows');
    const ratio = formatHoverPow10(ev.log10_ratio);
    assert.ok(
      hover.includes(
        `grows ${formatHoverPow10(ev.log10_rate_per_step!)}× per step, to ${ratio}× its lag-0 value by lag ${ev.measured_lag}.`,
      ),
      hover,
    );
    // The ratio and the per-step factor appear once (they were in the table, the Measured line and the rule).
    for (const figure of [`${ratio}×`, `${formatHoverPow10(ev.log10_rate_per_step!)}×`])
      assert.strictEqual(hover.split(figure).length - 1, 1, `${figure} shown more than once:\n${hover}`);
    assert.strictEqual(hover.split('σ_max·γ').length - 1, 1, "Pascanu's condition once");
    assert.doesNotMatch(hover, /n\/a/);
    assert.ok(hover.length < 700, `${hover.length} characters`);
  });

  it('the hover shows the gradient horizon and a borderline verdict, and invents no rate without a fit', () => {
    const r = report();
    assert.match(weightHhHover(r, 0) ?? '', /\| gradient horizon \| lag 3 \(below 10⁻³ of its lag-0 value\) \|/);
    r.layers[0].evidence!.borderline = true;
    assert.match(weightHhHover(r, 0) ?? '', /Regime: \*\*vanishing \(borderline\)\*\*/);
    // An exactly-zero signal: no rate, and no rate made up from the first and last lags either.
    const zero = report();
    zero.layers[0].lags = [
      { lag: 0, count: 2, mean: 1, min: 1, max: 1, contribution_mean: 1, log10_mean: 0, log10_min: 0, log10_max: 0 },
      {
        lag: 1,
        count: 1,
        mean: 0,
        min: 0,
        max: 0,
        contribution_mean: 0,
        log10_mean: null,
        log10_min: null,
        log10_max: null,
      },
      {
        lag: 2,
        count: 1,
        mean: 1e-9,
        min: 1e-9,
        max: 1e-9,
        contribution_mean: 0,
        log10_mean: -9,
        log10_min: -9,
        log10_max: -9,
      },
    ];
    zero.layers[0].evidence = {
      ...zero.layers[0].evidence!,
      log10_rate_per_step: null,
      log10_ratio: null,
      fit: null,
      zero_from_lag: 1,
      horizon: { lag: 1, kind: 'decay' },
    };
    const text = weightHhHover(zero, 0) ?? '';
    assert.match(text, /exactly zero from lag 1/);
    assert.doesNotMatch(text, /per step/);
    const short = report();
    short.layers[0].regime = 'undetermined';
    short.layers[0].evidence = { ...short.layers[0].evidence!, log10_rate_per_step: null, fit: null, horizon: null };
    assert.match(weightHhHover(short, 0) ?? '', /too few lags to measure a trend/);
    assert.strictEqual(worstLayer(short)?.layer, 1, 'exploding outranks undetermined');
  });

  it('hovers on weight_hh_l{k}_reverse with the reverse direction’s numbers', () => {
    assert.deepStrictEqual(
      ['weight_hh_l0', 'weight_hh_l2_reverse'].map((k) => [weightHhLayer(k), weightHhDirection(k)]),
      [
        [0, 'forward'],
        [2, 'reverse'],
      ],
    );
    assert.strictEqual(weightHhLayer('weight_hh_l0_backward'), undefined);
    assert.strictEqual(weightHhLayer('weight_hr_l0'), undefined);
    const base = report();
    const forward = base.layers[0];
    const reverse = {
      ...forward,
      direction: 'reverse' as const,
      sigma_max: 3.5,
      spectral_radius: 3.25,
      regime: 'exploding' as const,
    };
    const bi = { ...base, model: { ...base.model, bidirectional: true, num_layers: 1 }, layers: [forward, reverse] };
    const hover = weightHhHover(bi, 0, 'reverse') ?? '';
    assert.match(hover, /^\*\*weight_hh_l0_reverse\*\* — rnn layer 0 \(reverse\), shape \[4\]\[4\]/);
    assert.match(hover, /σ_max \(largest singular value\) \| 3\.5 \|/);
    assert.match(hover, /necessary for exploding/);
    assert.match(hover, /Regime: \*\*exploding\*\*/);
    const plain = weightHhHover(bi, 0) ?? '';
    assert.match(plain, /^\*\*weight_hh_l0\*\* — rnn layer 0, shape/);
    assert.match(plain, /Regime: \*\*vanishing\*\*/);
    assert.strictEqual(weightHhHover(base, 0, 'reverse'), undefined, 'no reverse direction in a unidirectional report');
    const projected = { ...bi, model: { ...bi.model, cell: 'lstm', proj_size: 2 } };
    assert.match(weightHhHover(projected, 0, 'reverse') ?? '', /shape \[16\]\[2\]/);
  });
});

describe('checkpointHover (the weights value of a checkpoint-backed model file)', () => {
  it('names the file and module, then explains each layer as on weight_hh_l{k}; nothing for inline weights', () => {
    assert.strictEqual(checkpointHover(report()), undefined);
    const r = report();
    r.model = { ...r.model, source: { format: 'pytorch', path: 'model.pt', module: 'encoder' } };
    const text = checkpointHover(r) ?? '';
    assert.match(text, /^\*\*weights from model\.pt, module encoder\*\* \(pytorch\)/);
    assert.ok(text.includes(weightHhHover(r, 0) ?? 'missing'), text);
    const top = report();
    top.model = { ...top.model, source: { format: 'onnx', path: 'm.onnx', module: '' } };
    assert.match(checkpointHover(top) ?? '', /^\*\*weights from m\.onnx\*\* \(onnx\)/);
  });
});
