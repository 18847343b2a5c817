// The report panel's pure logic: shaping a Report into chart series, decimation, clip shares,
// long-range contribution shares, number formatting and the CSV export.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { LagEntry, LayerReport, Report } from '../../src/engine/report/types';
import { decimateEnvelope, decimateMinMax, decimateMinMaxArrays, type XY } from '../../src/shared/decimate';
import {
  formatFromLog10,
  formatNumber,
  formatPowerOfTen,
  formatShare,
  roundForConfig,
} from '../../src/engine/report/format';
import { log10Axis, MAX_SERIES_POINTS } from '../../src/shared/reportView/axis';
import {
  clippedShare,
  clippingChartModel,
  clipThresholds,
  niceCeiling,
} from '../../src/shared/reportView/clippingChart';
import { contributionChartModel, longRangeShares } from '../../src/shared/reportView/contributionChart';
import { csvField, exportStem, lagTableCsv, modelTitle } from '../../src/shared/reportView/export';
import { colourScale, heatmapModel, heatmapPixels } from '../../src/shared/reportView/heatmapChart';
import { lagChartModel } from '../../src/shared/reportView/lagChart';
import { pascanuRows } from '../../src/shared/reportView/pascanuChart';
import { clipSnippets, layerCards } from '../../src/shared/reportView/summary';

const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'reports');

function loadFixture(name: string): Report {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as Report;
}

function lag(lagIndex: number, log10Mean: number | null, extra: Partial<LagEntry> = {}): LagEntry {
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

function layerOf(lags: LagEntry[], extra: Partial<LayerReport> = {}): LayerReport {
  return { layer: 0, sigma_max: 1.2, spectral_radius: 0.9, gamma: 1, regime: 'vanishing', lags, ...extra };
}

function reportOf(layers: LayerReport[], batchNorms: (number | null)[] = [1, 2, 3, 4]): Report {
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

/** A seeded PRNG so the random series are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('webview: decimation', () => {
  const rand = prng(7);
  const series: XY[] = Array.from({ length: 10_000 }, (_, i) => ({ x: i, y: Math.sin(i / 50) + rand() }));
  series[4321].y = 99; // a spike
  series[8765].y = -99; // a dip

  it('keeps a series that is already small', () => {
    const small = series.slice(0, 50);
    assert.deepStrictEqual(decimateMinMax(small, 100), small);
  });

  it('bounds the point count and keeps first, last, the global min and max', () => {
    for (const max of [4, 5, 100, 600, 1001]) {
      const out = decimateMinMax(series, max);
      assert.ok(out.length <= max, `${out.length} > ${max}`);
      assert.deepStrictEqual(out[0], series[0]);
      assert.deepStrictEqual(out[out.length - 1], series[series.length - 1]);
      assert.ok(
        out.some((p) => p.y === 99 && p.x === 4321),
        `spike lost at max=${max}`,
      );
      assert.ok(
        out.some((p) => p.y === -99 && p.x === 8765),
        `dip lost at max=${max}`,
      );
    }
  });

  it('keeps every bucket extreme: each original point lies within the range of kept points around it', () => {
    const out = decimateMinMax(series, 200);
    for (let i = 1; i < out.length; i++) assert.ok(out[i].x > out[i - 1].x, 'x order kept, no duplicates');
    const outYs = out.map((p) => p.y);
    assert.strictEqual(Math.max(...outYs), Math.max(...series.map((p) => p.y)));
    assert.strictEqual(Math.min(...outYs), Math.min(...series.map((p) => p.y)));
  });

  it('the array form agrees with the object form', () => {
    const xs = Float64Array.from(series, (p) => p.x);
    const ys = Float64Array.from(series, (p) => p.y);
    assert.deepStrictEqual(decimateMinMaxArrays(xs, ys, xs.length, 300), decimateMinMax(series, 300));
  });

  it('rejects too small a budget', () => {
    assert.throws(() => decimateMinMax(series, 3), RangeError);
  });

  it('an envelope keeps the band: every original lower/upper lies inside the decimated band', () => {
    const n = 5000;
    const xs = Array.from({ length: n }, (_, i) => i);
    const lower = xs.map((i) => -i / 10 - rand() * 3);
    const upper = xs.map((i) => -i / 10 + rand() * 3);
    const env = decimateEnvelope(xs, lower, upper, 400);
    assert.ok(env.lower.length <= 400 && env.upper.length <= 400);
    assert.strictEqual(env.lower.length, env.upper.length);
    assert.strictEqual(env.lower[0].x, 0);
    assert.strictEqual(env.lower[env.lower.length - 1].x, n - 1);
    // Each bucket contributes points at its first and last x; an original x falls in a bucket [x0, x1].
    for (let k = 0; k + 1 < env.lower.length; k += 2) {
      const x0 = env.lower[k].x;
      const x1 = env.lower[k + 1].x;
      for (let i = x0; i <= x1; i++) {
        assert.ok(lower[i] >= env.lower[k].y && upper[i] <= env.upper[k].y, `x=${i} outside the band`);
      }
    }
  });
});

describe('webview: lag chart shaping', () => {
  it('plots log10 values (far below 1e-308) and leaves out exact zeros', () => {
    const r = reportOf([layerOf([lag(0, 0), lag(1, -200), lag(2, -450), lag(3, null)])]);
    const m = lagChartModel(r);
    assert.deepStrictEqual(
      m.series[0].mean.map((p) => [p.x, p.y]),
      [
        [0, 0],
        [1, -200],
        [2, -450],
      ],
    );
    assert.deepStrictEqual(
      m.series[0].lower.map((p) => p.y),
      [-1, -201, -451],
    );
    assert.ok(m.axis.min <= -451 && m.axis.max >= 1, JSON.stringify(m.axis));
    assert.strictEqual(m.maxLag, 3);
  });

  it('draws the decay-rate line from lag 0 with the measured slope', () => {
    const layer = layerOf([lag(0, -0.5), lag(1, -0.7), lag(10, -2.5)], {
      evidence: { log10_rate_per_step: -0.2, log10_ratio: -2, measured_lag: 10, pascanu_bound: 1.2, rule: 'r' },
    });
    const m = lagChartModel(reportOf([layer]));
    assert.deepStrictEqual(m.series[0].rate, [
      { x: 0, y: -0.5 },
      { x: 10, y: -0.5 + -0.2 * 10 },
    ]);
    assert.strictEqual(lagChartModel(reportOf([layerOf([lag(0, 0)])])).series[0].rate, null);
  });

  it('decimates a 10,000-lag report to a bounded number of points', () => {
    const large = loadFixture('large-10000.json');
    const m = lagChartModel(large);
    assert.strictEqual(m.sourcePoints, 20_000);
    for (const s of m.series) {
      assert.ok(
        s.mean.length <= MAX_SERIES_POINTS &&
          s.lower.length <= MAX_SERIES_POINTS &&
          s.upper.length <= MAX_SERIES_POINTS,
      );
      assert.strictEqual(s.mean[0].x, 0);
      assert.strictEqual(s.mean[s.mean.length - 1].x, 9999);
    }
    assert.ok(m.axis.min <= -400, `axis reaches 1e-400: ${m.axis.min}`);
  });

  it('log10 axes use integer steps that read as powers of ten', () => {
    assert.deepStrictEqual(log10Axis(-2.3, 0.4), { min: -3, max: 1, stepSize: 1 });
    const wide = log10Axis(-401, 0);
    assert.ok(
      Number.isInteger(wide.stepSize) &&
        wide.min <= -401 &&
        wide.max >= 0 &&
        (wide.max - wide.min) / wide.stepSize <= 10,
    );
    assert.deepStrictEqual(log10Axis(NaN, 1), { min: -1, max: 1, stepSize: 1 });
  });
});

describe('webview: contribution shares beyond 10, 50 and 100 lags', () => {
  it('computes the share of the summed contribution_mean from lags beyond each cut-off', () => {
    // contribution 1 at every lag 0..199: 189 of 200 lags are > 10, 149 > 50, 99 > 100.
    const lags = Array.from({ length: 200 }, (_, i) => lag(i, 0));
    const shares = longRangeShares(layerOf(lags));
    assert.deepStrictEqual(
      shares.map((s) => [s.cutoff, s.reached]),
      [
        [10, true],
        [50, true],
        [100, true],
      ],
    );
    assert.ok(Math.abs(shares[0].share! - 189 / 200) < 1e-12);
    assert.ok(Math.abs(shares[1].share! - 149 / 200) < 1e-12);
    assert.ok(Math.abs(shares[2].share! - 99 / 200) < 1e-12);
  });

  it('uses log10_contribution_mean when the plain figure underflowed to 0', () => {
    // All contributions below the double range: plain figures 0, log10 −400 and −401.
    const lags = Array.from({ length: 20 }, (_, i) =>
      lag(i, null, { contribution_mean: 0, log10_contribution_mean: i <= 10 ? -401 : -400 }),
    );
    const [beyond10] = longRangeShares(layerOf(lags));
    // 9 lags (11..19) at 10× the weight of 11 lags (0..10): 90 / (90 + 11).
    assert.ok(Math.abs(beyond10.share! - 90 / 101) < 1e-12, String(beyond10.share));
  });

  it('says when the table does not reach a cut-off, and null when nothing contributes', () => {
    const short = longRangeShares(layerOf(Array.from({ length: 12 }, (_, i) => lag(i, -i))));
    assert.deepStrictEqual(
      short.map((s) => s.reached),
      [true, false, false],
    );
    assert.strictEqual(short[1].share, 0);
    const zero = longRangeShares(layerOf([lag(0, null, { contribution_mean: 0, log10_contribution_mean: null })]));
    assert.strictEqual(zero[0].share, null);
  });

  it('the small recorded report: lag 11 contributes exactly 0, so nothing comes from lags > 10', () => {
    const m = contributionChartModel(loadFixture('small.json'));
    assert.strictEqual(m.series[0].shares[0].share, 0);
    assert.strictEqual(m.series[0].log10.length, 11, 'the zero contribution is not plotted');
  });
});

describe('webview: clipping thresholds', () => {
  it('counts the share of batches above a threshold (an overflowed null norm always clips)', () => {
    assert.strictEqual(clippedShare([1, 2, 3, 4], 2.5), 0.5);
    assert.strictEqual(clippedShare([1, 2, 3, 4], 4), 0, 'norm equal to the threshold is not clipped');
    assert.strictEqual(clippedShare([1, 2, 3, 4], 0.5), 1);
    assert.strictEqual(clippedShare([1, null, 3, 4], 3.5), 0.5);
    assert.strictEqual(clippedShare([], 1), null);
  });

  it('lists each suggestion and the current clip_norm with its share, marking the recommended one', () => {
    const t = clipThresholds(reportOf([layerOf([lag(0, 0)])]), 3.5);
    assert.deepStrictEqual(
      t.map((x) => [x.source, x.value, x.share, x.recommended]),
      [
        ['mean', 2.5, 0.5, true],
        ['median', 2.5, 0.5, false],
        ['autoclip_p10', 1.3, 0.75, false],
        ['current', 3.5, 0.25, false],
      ],
    );
    assert.strictEqual(clipThresholds(reportOf([layerOf([lag(0, 0)])]), null).length, 3);
  });

  it("prefers the engine's clipped_share when the report carries it", () => {
    const r = reportOf([layerOf([lag(0, 0)])]);
    r.clipping.suggestions[0].clipped_share = 0.3;
    assert.strictEqual(clipThresholds(r, null)[0].share, 0.3);
  });

  it('shapes bars on a log axis when norms span more than 20×, with thresholds in the same units', () => {
    const r = reportOf([layerOf([lag(0, 0)])], [1, 2, 1000, null]);
    const m = clippingChartModel(r, 10);
    assert.ok(m.logScale);
    assert.strictEqual(m.overflowed, 1);
    assert.deepStrictEqual(
      m.bars.map((b) => b.x),
      [1, 2, 3],
    );
    assert.ok(Math.abs(m.bars[2].y - 3) < 1e-12);
    assert.ok(Math.abs(m.thresholds.find((x) => x.source === 'current')!.y - 1) < 1e-12);
    const linear = clippingChartModel(reportOf([layerOf([lag(0, 0)])]), null);
    assert.ok(!linear.logScale);
    assert.strictEqual(linear.yMin, 0);
    assert.strictEqual(linear.yMax, 5);
  });

  it('rounds axis maxima to 1, 2, 2.5 or 5 × 10^k', () => {
    assert.deepStrictEqual([0.7, 1, 1.3, 2.2, 3, 47, 0].map(niceCeiling), [1, 1, 2, 2.5, 5, 50, 1]);
  });

  it('writes PyTorch and Keras lines with the recommended values rounded to 4 digits', () => {
    const s = clipSnippets(reportOf([layerOf([lag(0, 0)])]));
    assert.deepStrictEqual(
      s.map((x) => x.text),
      [
        'torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=2.5)',
        'clipnorm=2.5',
        'torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.1235)',
        'clipvalue=0.1235',
      ],
    );
    const none = reportOf([layerOf([lag(0, 0)])]);
    none.clipping.recommended = { clip_norm: null, clip_value: null, method: 'mean', rationale: '' };
    assert.deepStrictEqual(clipSnippets(none), []);
  });
});

describe("webview: Pascanu's condition, cards, heatmap", () => {
  it('compares σ_max with 1/γ for rnn layers and explains lstm/gru layers', () => {
    const rnn = pascanuRows(
      reportOf([
        layerOf([lag(0, 0)], { sigma_max: 0.5, gamma: 1 }),
        layerOf([lag(0, 0)], { layer: 1, sigma_max: 1.5, gamma: 1 }),
      ]),
    );
    assert.strictEqual(rnn[0].threshold, 1);
    assert.match(rnn[0].verdict, /must vanish/);
    assert.match(rnn[1].verdict, /exploding gradients are possible/);
    const lstm = reportOf([layerOf([lag(0, 0)], { gamma: null, spectral_radius: null })]);
    lstm.model.cell = 'lstm';
    const [row] = pascanuRows(lstm);
    assert.strictEqual(row.threshold, null);
    assert.match(row.verdict, /for rnn cells/);
  });

  it('a card per layer carries the regime and the rule sentence', () => {
    const cards = layerCards(loadFixture('small.json'));
    assert.strictEqual(cards.length, 1);
    assert.strictEqual(cards[0].regime, 'vanishing');
    assert.match(cards[0].rule, /decades per step/);
  });

  it('finds the colour range of a heatmap and paints empty cells transparent', () => {
    const m = heatmapModel({ layer: 0, sequence: 0, length: 4, bin: 2, size: 2, log10_norm: [0, null, -3, -1] })!;
    assert.deepStrictEqual([m.min, m.max], [-3, 0]);
    const px = heatmapPixels(m);
    assert.strictEqual(px.length, 16);
    assert.strictEqual(px[7], 0, 'the null cell is transparent');
    assert.deepStrictEqual(Array.from(px.slice(8, 11)), colourScale(0));
    assert.deepStrictEqual(Array.from(px.slice(0, 3)), colourScale(1));
    assert.strictEqual(
      heatmapModel({ layer: 0, sequence: 0, length: 4, bin: 2, size: 2, log10_norm: [null, null, null, null] }),
      null,
    );
    assert.strictEqual(
      heatmapModel({ layer: 0, sequence: 0, length: 4, bin: 2, size: 2, log10_norm: [1] }),
      null,
      'wrong cell count',
    );
  });
});

describe('webview: formatting and export', () => {
  it('formats powers of ten, plain figures, figures known by their log10, and shares', () => {
    assert.deepStrictEqual([0, 1, 2, -3, -400].map(formatPowerOfTen), ['1', '10', '10²', '10⁻³', '10⁻⁴⁰⁰']);
    assert.deepStrictEqual([null, 0, 11.204024, 123456, 0.0001234].map(formatNumber), [
      '—',
      '0',
      '11.2',
      '1.23e5',
      '1.23e-4',
    ]);
    assert.strictEqual(formatFromLog10(-400), '1.00e-400');
    assert.strictEqual(formatFromLog10(-399.5), '3.16e-400');
    assert.strictEqual(formatFromLog10(null), '0');
    assert.strictEqual(formatFromLog10(Math.log10(0.5)), '0.5');
    assert.deepStrictEqual([null, 0, 0.0004, 0.05, 0.5, 0.9999, 1].map(formatShare), [
      '—',
      '0%',
      '<0.1%',
      '5%',
      '50%',
      '>99.9%',
      '100%',
    ]);
    assert.strictEqual(roundForConfig(11.204024418608755), 11.2);
  });

  it('writes the lag table as CSV with full-precision numbers and empty fields for null', () => {
    const r = reportOf([layerOf([lag(0, 0), lag(1, null, { log10_contribution_mean: null })])]);
    const csv = lagTableCsv(r);
    const lines = csv.split('\r\n');
    assert.strictEqual(
      lines[0],
      'layer,lag,count,mean,min,max,contribution_mean,log10_mean,log10_min,log10_max,log10_contribution_mean',
    );
    assert.strictEqual(lines[1], '0,0,1,1,1,1,1,0,-1,1,');
    assert.strictEqual(lines[2], '0,1,1,0,0,0,0,,,,');
    assert.strictEqual(lines[3], '');
    const small = lagTableCsv(loadFixture('small.json')).split('\r\n');
    assert.strictEqual(small.length, 1 + 12 + 1);
    assert.strictEqual(small[1].split(',')[3], '0.7623383088188802');
  });

  it('quotes CSV text that could break a row or be read as a formula', () => {
    assert.strictEqual(csvField('a,b'), '"a,b"');
    assert.strictEqual(csvField('say "hi"'), '"say ""hi"""');
    assert.strictEqual(csvField('=1+1'), '"=1+1"');
    assert.strictEqual(csvField(Infinity), '');
    assert.strictEqual(csvField(-0.5), '-0.5');
  });

  it('names exports after the model file and shows the model name as given (user data, rendered as text)', () => {
    const small = loadFixture('small.json');
    assert.strictEqual(exportStem(small), 'b_', 'the / of </b> is a path separator');
    assert.strictEqual(exportStem({ ...small, file: 'models/char.rnn.json' }), 'char');
    assert.strictEqual(modelTitle(small), 'tanh demo <img src=x onerror=alert(1)>');
    assert.strictEqual(modelTitle({ ...small, model: { ...small.model, name: undefined } }), small.file);
  });
});
