// Regime verdicts and the log-range lag figures on linear rnns with W_hh = c·Q (Q orthogonal), where
// every lag norm is known in closed form: ‖(c·Qᵀ)^ℓ g‖ = c^ℓ ‖g‖.
import * as assert from 'assert';
import { parseModel } from '../../../src/engine/model/parse';
import { analyzeModel } from '../../../src/engine/analyze';
import type { Report } from '../../../src/engine/report/types';
import { SeededRandom } from '../../../src/engine/model/random';
import { nonFinitePaths, reportContractProblems } from '../helpers/report';
import { generatedModelText } from '../helpers/models';
import { VERDICT_LAGS } from '../../../src/engine/regime';

const H = 8;
const I = 2;

/** A random H×H orthogonal matrix (modified Gram–Schmidt on a seeded normal matrix), as rows. */
function orthogonal(n: number, seed: number): number[][] {
  const rng = new SeededRandom(seed);
  const cols: number[][] = [];
  for (let j = 0; j < n; j++) {
    const v = Array.from({ length: n }, () => rng.normal());
    for (let pass = 0; pass < 2; pass++) {
      for (const q of cols) {
        const d = q.reduce((s, qi, i) => s + qi * v[i], 0);
        for (let i = 0; i < n; i++) v[i] -= d * q[i];
      }
    }
    const norm = Math.hypot(...v);
    cols.push(v.map((x) => x / norm));
  }
  return Array.from({ length: n }, (_, i) => cols.map((c) => c[i]));
}

const Q = orthogonal(H, 11);

function scaled(c: number): number[][] {
  return Q.map((row) => row.map((x) => c * x));
}

interface LinearOpts {
  c: number;
  T: number;
  B?: number;
  loss?: 'sum' | 'mse';
  inputScale?: number;
  nonlinearity?: string;
  weightHh?: number[][];
  weightIh?: number[][];
  inputs?: number[][][];
}

function linearModel(o: LinearOpts): string {
  const rng = new SeededRandom(7);
  const B = o.B ?? 3;
  const scale = o.inputScale ?? 0.01;
  const inputs =
    o.inputs ??
    Array.from({ length: B }, () =>
      Array.from({ length: o.T }, () => Array.from({ length: I }, () => scale * rng.normal())),
    );
  const model: Record<string, unknown> = {
    cell: 'rnn',
    form: 'elman',
    nonlinearity: o.nonlinearity ?? 'linear',
    weights: {
      weight_ih_l0:
        o.weightIh ?? Array.from({ length: H }, () => Array.from({ length: I }, () => rng.uniformIn(-0.3, 0.3))),
      weight_hh_l0: o.weightHh ?? scaled(o.c),
    },
    data: { inputs },
    loss: o.loss ?? 'sum',
  };
  if (o.loss === 'mse')
    (model.data as Record<string, unknown>).targets = inputs.map((s) => s.map(() => new Array(H).fill(0.5)));
  return JSON.stringify(model);
}

function analyze(text: string, maxLag: number | null = null, thresholds?: { explodingLog10PerStep?: number }): Report {
  const parsed = parseModel(text);
  assert.ok(parsed.model, parsed.problems.map((p) => p.message).join('; '));
  return analyzeModel(parsed.model, { file: 'test.rnn.json', maxLag, thresholds });
}

/**
 * The fitted log10 rate per step. With sum loss every pair at lag ℓ has norm c^ℓ·‖g_0‖ (g_0 the same
 * ones vector), so the fit is exact; with mse, g_0 depends on the step's output, so the per-lag means
 * average different pairs and the fit is only close.
 */
function assertRate(r: Report, expected: number, loss: 'sum' | 'mse'): void {
  const rate = r.layers[0].evidence?.log10_rate_per_step;
  assert.ok(typeof rate === 'number', `no rate: ${JSON.stringify(r.layers[0].evidence)}`);
  const tol = loss === 'sum' ? 1e-9 : 0.1 * Math.max(Math.abs(expected), 0.03);
  assert.ok(Math.abs(rate - expected) <= tol, `rate ${rate}, expected ${expected} ± ${tol}`);
}

function codes(r: Report): string[] {
  return r.findings.map((f) => f.code);
}

describe('regime of linear rnns with W_hh = c·Q', () => {
  it('Q is orthogonal', () => {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < H; j++) {
        const d = Q.reduce((s, row) => s + row[i] * row[j], 0);
        assert.ok(Math.abs(d - (i === j ? 1 : 0)) < 1e-13);
      }
    }
  });

  for (const loss of ['sum', 'mse'] as const) {
    describe(`${loss} loss, 3 sequences of 60 steps`, () => {
      it('0.05·Q is vanishing, with a vanishing-gradients finding on weight_hh_l0', () => {
        const r = analyze(linearModel({ c: 0.05, T: 60, loss }));
        assert.strictEqual(r.layers[0].regime, 'vanishing');
        const f = r.findings.find((x) => x.code === 'vanishing-gradients');
        assert.ok(f, codes(r).join());
        assert.deepStrictEqual(f.path, ['weights', 'weight_hh_l0']);
        assertRate(r, Math.log10(0.05), loss);
        assert.ok(!codes(r).includes('exploding-gradients'));
      });

      it('1.08·Q is exploding, with an exploding-gradients finding', () => {
        const r = analyze(linearModel({ c: 1.08, T: 60, loss }));
        assert.strictEqual(r.layers[0].regime, 'exploding');
        assert.ok(codes(r).includes('exploding-gradients'), codes(r).join());
        assertRate(r, Math.log10(1.08), loss);
        assert.ok(Math.abs(r.layers[0].sigma_max - 1.08) < 1e-9);
        assert.ok(Math.abs((r.layers[0].spectral_radius ?? 0) - 1.08) < 1e-9);
      });

      it('exactly Q is stable, with no regime finding', () => {
        const r = analyze(linearModel({ c: 1, T: 60, loss }));
        assert.strictEqual(r.layers[0].regime, 'stable');
        assert.ok(
          !codes(r).includes('exploding-gradients') && !codes(r).includes('vanishing-gradients'),
          codes(r).join(),
        );
        assertRate(r, 0, loss);
      });
    });
  }

  it('thresholds move the verdict: 1.08·Q is stable when exploding needs +0.05 per step', () => {
    const r = analyze(linearModel({ c: 1.08, T: 60 }), null, { explodingLog10PerStep: 0.05 });
    assert.strictEqual(r.layers[0].regime, 'stable');
  });

  it('with --max-lag 3 there are 4 lag entries', () => {
    const r = analyze(linearModel({ c: 1, T: 60 }), 3);
    assert.deepStrictEqual(
      r.layers[0].lags.map((e) => e.lag),
      [0, 1, 2, 3],
    );
  });
});

describe('lag figures beyond the double range', () => {
  it('0.01·Q, T = 200: the last lag underflows to mean 0 but log10_mean is exact', () => {
    const T = 200;
    const r = analyze(linearModel({ c: 0.01, T }));
    const lags = r.layers[0].lags;
    assert.strictEqual(lags.length, T);
    const first = lags[0];
    const last = lags[T - 1];
    assert.strictEqual(last.lag, T - 1);
    assert.strictEqual(last.count, 3);
    assert.ok(first.log10_mean !== null && Number.isFinite(first.log10_mean));
    // sum loss: g at lag ℓ is (0.01·Qᵀ)^ℓ g_0 and ‖Qᵀg‖ = ‖g‖, so log10 falls exactly 2 per step.
    const expected = -2 * (T - 1) + first.log10_mean;
    for (const key of ['log10_mean', 'log10_min', 'log10_max'] as const) {
      const v = last[key] ?? null;
      assert.ok(v !== null && Number.isFinite(v), `${key} = ${v}`);
      assert.ok(Math.abs(v - expected) < 1e-6, `${key} = ${v}, expected ${expected}`);
    }
    assert.ok(expected < -390);
    assert.strictEqual(last.mean, 0);
    assert.strictEqual(last.min, 0);
    assert.strictEqual(last.max, 0);
    // every lag on the way: log10_mean(ℓ) = log10_mean(0) − 2ℓ
    for (const e of lags)
      assert.ok(Math.abs((e.log10_mean as number) - (first.log10_mean - 2 * e.lag)) < 1e-6, `lag ${e.lag}`);
    assert.strictEqual(r.layers[0].regime, 'vanishing');
    assert.deepStrictEqual(nonFinitePaths(r), []);
    assert.deepStrictEqual(reportContractProblems(JSON.parse(JSON.stringify(r))), []);
  });

  it('10·Q, T = 400, no lag cap: log10 ≈ +399 at the last lag, mean null, a lag-overflow finding, no NaN', () => {
    const T = 400;
    // Zero inputs keep the forward pass at exactly 0, so only the backward signal grows.
    const r = analyze(linearModel({ c: 10, T, B: 2, inputScale: 0 }));
    const lags = r.layers[0].lags;
    assert.strictEqual(lags.length, T);
    const first = lags[0];
    const last = lags[T - 1];
    const expected = T - 1 + (first.log10_mean as number);
    for (const key of ['log10_mean', 'log10_min', 'log10_max'] as const) {
      const v = last[key] ?? null;
      assert.ok(v !== null && Math.abs(v - expected) < 1e-6, `${key} = ${v}, expected ${expected}`);
    }
    assert.ok(expected > 399);
    assert.strictEqual(last.mean, null);
    assert.strictEqual(last.min, null);
    assert.strictEqual(last.max, null);
    assert.ok(lags[10].mean !== null && Math.abs(Math.log10(lags[10].mean) - (first.log10_mean as number) - 10) < 1e-9);
    const overflow = r.findings.find((f) => f.code === 'lag-overflow');
    assert.ok(overflow, codes(r).join());
    assert.deepStrictEqual(overflow.path, ['weights', 'weight_hh_l0']);
    assert.strictEqual(r.layers[0].regime, 'exploding');
    assert.deepStrictEqual(nonFinitePaths(r), []);
    const json = JSON.stringify(r);
    assert.doesNotMatch(json, /NaN|Infinity/);
    assert.deepStrictEqual(reportContractProblems(JSON.parse(json)), []);
  });
});

describe('a forward pass that overflows', () => {
  for (const nonlinearity of ['relu', 'linear']) {
    it(`${nonlinearity}: W_hh = 1e150·I gives a non-finite finding naming the step, and loss null`, () => {
      const eye = Array.from({ length: H }, (_, i) => Array.from({ length: H }, (_, j) => (i === j ? 1e150 : 0)));
      // inputs of +1 and W_ih = 0.5 (relu keeps them): h_0 = 1, h_1 ≈ 1e150, h_2 ≈ 1e300, h_3 overflows.
      const text = linearModel({
        c: 1,
        T: 6,
        B: 1,
        nonlinearity,
        weightHh: eye,
        weightIh: Array.from({ length: H }, () => [0.5, 0.5]),
        inputs: [Array.from({ length: 6 }, () => [1, 1])],
      });
      const parsed = parseModel(text);
      assert.ok(parsed.model, parsed.problems.map((p) => p.message).join('; '));
      const r = analyzeModel(parsed.model, { file: 'x.rnn.json' });
      assert.ok(r.layers[0].sigma_max > 9.99e149 && r.layers[0].sigma_max < 1.01e150);
      const f = r.findings.find((x) => x.code === 'non-finite');
      assert.ok(f, codes(r).join());
      assert.strictEqual(f.severity, 'error');
      assert.match(f.message, /step 3\b/);
      assert.strictEqual(f.data?.step, 3);
      assert.strictEqual(r.loss, null);
      assert.strictEqual(r.grad_norm, null);
      assert.deepStrictEqual(nonFinitePaths(r), []);
      assert.doesNotMatch(JSON.stringify(r), /NaN|Infinity/);
    });
  }

  // The Gram matrix MᵀM would overflow past entries of ~1.3e154: linalg scales M first.
  it('sigma_max stays finite for W_hh = 1e200·I (no Gram matrix overflow)', () => {
    const eye = Array.from({ length: H }, (_, i) => Array.from({ length: H }, (_, j) => (i === j ? 1e200 : 0)));
    const r = analyze(linearModel({ c: 1, T: 4, B: 1, weightHh: eye, inputScale: 0 }));
    assert.ok(Math.abs(r.layers[0].sigma_max / 1e200 - 1) < 1e-12, String(r.layers[0].sigma_max));
    assert.deepStrictEqual(nonFinitePaths(r), []);
  });
});

/** The layer-0 evidence of a report, failing when there is none. */
function evidenceOf(r: Report): NonNullable<Report['layers'][number]['evidence']> {
  const ev = r.layers[0].evidence;
  assert.ok(ev, 'no evidence');
  return ev;
}

describe('the regime rule: a display cap does not change the verdict', () => {
  const cases: [string, string][] = [
    ['linear 1.08·Q, T = 60 (exploding)', linearModel({ c: 1.08, T: 60 })],
    ['linear 0.9·Q, T = 200 (vanishing)', linearModel({ c: 0.9, T: 200 })],
    ['linear Q, T = 200 (stable)', linearModel({ c: 1, T: 200 })],
    ['lstm, T = 40', generatedModelText('lstm', 6, 1, 40)],
    ['gru, 2 layers, T = 30', generatedModelText('gru', 5, 2, 30)],
  ];
  for (const [label, text] of cases) {
    it(`${label}: caps 0, 1, 2, 5 and 20 give the uncapped regime and evidence; the table is cut at the cap`, () => {
      const full = analyze(text);
      for (const cap of [0, 1, 2, 5, 20]) {
        const r = analyze(text, cap);
        assert.strictEqual(r.layers.length, full.layers.length);
        r.layers.forEach((l, k) => {
          const f = full.layers[k];
          assert.strictEqual(l.regime, f.regime, `cap ${cap}, layer ${k}`);
          assert.deepStrictEqual(
            { ...l.evidence, horizon: null, rule: '' },
            { ...f.evidence, horizon: null, rule: '' },
            `cap ${cap}, layer ${k}`,
          );
          assert.strictEqual(l.lags.length, Math.min(cap + 1, f.lags.length), `cap ${cap}: lag entries`);
        });
        assert.deepStrictEqual(
          r.findings.filter((x) => /-gradients$|^trend-/.test(x.code)).map((x) => x.code),
          full.findings.filter((x) => /-gradients$|^trend-/.test(x.code)).map((x) => x.code),
        );
      }
    });
  }

  it('the fit uses lags 0..64 at most (VERDICT_LAGS), whatever the table shows', () => {
    const ev = evidenceOf(analyze(linearModel({ c: 0.99, T: 300 })));
    assert.ok(ev.fit);
    assert.strictEqual(ev.fit.from_lag, 0);
    assert.strictEqual(ev.fit.to_lag, VERDICT_LAGS);
    assert.strictEqual(ev.measured_lag, VERDICT_LAGS);
  });
});

describe('the regime rule: too short to measure, exactly zero', () => {
  for (const cell of ['rnn', 'lstm', 'gru']) {
    it(`${cell}, sequences of 2 steps: undetermined (never stable), with a trend-undetermined info finding`, () => {
      const r = analyze(generatedModelText(cell, 4, 1, 2, 3));
      const l = r.layers[0];
      assert.strictEqual(l.regime, 'undetermined');
      assert.ok(l.evidence);
      assert.strictEqual(l.evidence.log10_rate_per_step, null);
      assert.strictEqual(l.evidence.fit, null);
      assert.match(l.evidence.rule, /too few lags/i);
      assert.match(r.findings.find((x) => x.code === 'trend-undetermined')?.message ?? '', /sequences are too short/);
      const f = r.findings.find((x) => x.code === 'trend-undetermined');
      assert.ok(f, codes(r).join());
      assert.strictEqual(f.severity, 'info');
      assert.deepStrictEqual(f.path, ['weights', 'weight_hh_l0']);
      assert.ok(!codes(r).includes('vanishing-gradients') && !codes(r).includes('exploding-gradients'));
      assert.deepStrictEqual(reportContractProblems(JSON.parse(JSON.stringify(r))), []);
    });
  }

  it('W_hh = 0: every lag beyond 0 is exactly zero: vanishing, rate null (no made-up −400), "exactly zero from lag 1 on"', () => {
    const zero = Array.from({ length: H }, () => new Array<number>(H).fill(0));
    const r = analyze(linearModel({ c: 0, T: 20, weightHh: zero }));
    const l = r.layers[0];
    assert.ok(l.lags.slice(1).every((e) => e.mean === 0 && e.log10_mean === null));
    assert.strictEqual(l.regime, 'vanishing');
    const ev = evidenceOf(r);
    assert.strictEqual(ev.log10_rate_per_step, null);
    assert.strictEqual(ev.log10_ratio, null);
    assert.strictEqual(ev.fit, null);
    assert.strictEqual(ev.zero_from_lag, 1);
    assert.match(ev.rule, /exactly zero from lag 1 on/);
    const f = r.findings.find((x) => x.code === 'vanishing-gradients');
    assert.ok(f, codes(r).join());
    assert.match(f.message, /exactly zero from lag 1 on/);
    assert.strictEqual(f.data?.log10_rate_per_step, null);
    assert.doesNotMatch(JSON.stringify(r), /-400|NaN|Infinity/);
  });
});

describe('the regime rule: gradient horizon, borderline verdicts and the fitted line', () => {
  it('0.5·Q (log10 −0.301 per step): decay horizon at lag 10, the first lag below 10⁻³ of lag 0', () => {
    const ev = evidenceOf(analyze(linearModel({ c: 0.5, T: 40 })));
    assert.deepStrictEqual(ev.horizon, { lag: 10, kind: 'decay' });
    assert.match(ev.rule, /horizon/);
    assert.match(ev.rule, /lag 10\b/);
  });

  it('2·Q: growth horizon at lag 10; Q: no horizon, and no text claims survival', () => {
    const grow = evidenceOf(analyze(linearModel({ c: 2, T: 40, inputScale: 0 })));
    assert.deepStrictEqual(grow.horizon, { lag: 10, kind: 'growth' });
    const flat = evidenceOf(analyze(linearModel({ c: 1, T: 40 })));
    assert.strictEqual(flat.horizon, null);
    assert.doesNotMatch(flat.rule, /surviv/);
  });

  it('a slope within 10% of a threshold is borderline, and the texts say so', () => {
    const near = analyze(linearModel({ c: 10 ** -0.0285, T: 60 }));
    assert.strictEqual(near.layers[0].regime, 'stable');
    assert.strictEqual(evidenceOf(near).borderline, true);
    assert.match(evidenceOf(near).rule, /borderline/);
    const past = analyze(linearModel({ c: 10 ** -0.0315, T: 60 }));
    assert.strictEqual(past.layers[0].regime, 'vanishing');
    assert.strictEqual(evidenceOf(past).borderline, true);
    const f = past.findings.find((x) => x.code === 'vanishing-gradients');
    assert.ok(f);
    assert.match(f.message, /borderline/);
    const clear = analyze(linearModel({ c: 10 ** -0.02, T: 60 }));
    assert.strictEqual(evidenceOf(clear).borderline, false);
    assert.doesNotMatch(evidenceOf(clear).rule, /borderline/);
    const upper = analyze(linearModel({ c: 10 ** 0.0095, T: 60 }));
    assert.strictEqual(upper.layers[0].regime, 'stable');
    assert.strictEqual(evidenceOf(upper).borderline, true);
  });

  it('evidence.fit is the least-squares line over the lags the rule used', () => {
    const r = analyze(linearModel({ c: 0.8, T: 30, loss: 'mse' }));
    const ev = evidenceOf(r);
    assert.ok(ev.fit);
    const pts = r.layers[0].lags
      .filter((e) => e.lag >= ev.fit!.from_lag && e.lag <= ev.fit!.to_lag)
      .map((e) => [e.lag, e.log10_mean as number]);
    const n = pts.length;
    const mx = pts.reduce((a, p) => a + p[0], 0) / n;
    const my = pts.reduce((a, p) => a + p[1], 0) / n;
    const sxy = pts.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
    const sxx = pts.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
    const slope = sxy / sxx;
    assert.ok(Math.abs(ev.fit.slope - slope) < 1e-12);
    assert.ok(Math.abs(ev.fit.intercept - (my - slope * mx)) < 1e-12);
    assert.strictEqual(ev.log10_rate_per_step, ev.fit.slope);
    // 30 steps × 3 sequences: lag 22 is the last with a quarter of lag 0's pairs.
    assert.deepStrictEqual([ev.fit.from_lag, ev.fit.to_lag], [0, 22]);
  });
});

describe('non-finite norms inside the lag table', () => {
  it('a W_hh column of 2.5e307 with zero inputs: the lag table meets overflow; its warning is lag-non-finite, and non-finite stays an error', () => {
    // One column of 2.5e307: the transposed product sums H such terms (the sum loss seeds ones), beyond any
    // rescaling of the row, while σ_max = √H·2.5e307 and the spectral radius 2.5e307 stay finite.
    const huge = Array.from({ length: H }, () => Array.from({ length: H }, (_, j) => (j === 0 ? 2.5e307 : 0)));
    const r = analyze(linearModel({ c: 1, T: 4, B: 1, weightHh: huge, inputScale: 0 }));
    assert.ok(Math.abs(r.layers[0].sigma_max / (Math.sqrt(H) * 2.5e307) - 1) < 1e-12, String(r.layers[0].sigma_max));
    assert.ok(Math.abs((r.layers[0].spectral_radius ?? 0) / 2.5e307 - 1) < 1e-12, String(r.layers[0].spectral_radius));
    const lagWarning = r.findings.find((f) => f.code === 'lag-non-finite');
    assert.ok(lagWarning, codes(r).join());
    assert.strictEqual(lagWarning.severity, 'warning');
    for (const f of r.findings.filter((x) => x.code === 'non-finite')) assert.strictEqual(f.severity, 'error');
    assert.deepStrictEqual(nonFinitePaths(r), []);
  });
});
