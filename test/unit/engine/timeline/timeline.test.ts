// The timeline's pure parts: entries from reports, step detection by meta and name, order, and the
// findings regime-change, grad-norm-spike, clip-drift and mixed-architecture on hand-made series.
import * as assert from 'assert';
import {
  buildTimeline,
  compareNames,
  entryFromReport,
  stepFromMeta,
  stepFromName,
  timelineFindings,
} from '../../../../src/engine/timeline/timeline';
import type { TimelineEntry } from '../../../../src/engine/timeline/types';
import type { Report } from '../../../../src/engine/report/types';

function entry(
  step: number,
  gradNorm: number | null,
  clipNorm: number,
  regimes: string[] = ['vanishing'],
  cell = 'lstm',
): TimelineEntry {
  return {
    file: `run/step_${step}.pt`,
    step,
    loss: 1,
    grad_norm: gradNorm,
    layers: regimes.map((regime, layer) => ({
      layer,
      direction: 'forward',
      regime,
      log10_rate_per_step: regime === 'exploding' ? 0.02 : regime === 'stable' ? 0 : -0.08,
      sigma_max: 1.5,
    })),
    recommended: { clip_norm: clipNorm, clip_value: clipNorm / 2 },
    codes: [],
    model: { cell, input_size: 2, hidden_size: 4, num_layers: regimes.length, output_size: 1 },
  };
}

describe('timeline', () => {
  describe('step detection', () => {
    it('takes step, global_step, iteration, epoch in that order', () => {
      assert.deepStrictEqual(stepFromMeta({ epoch: 3, global_step: 1200, step: 7 }), { step: 7, source: 'step' });
      assert.deepStrictEqual(stepFromMeta({ epoch: 3, global_step: 1200 }), { step: 1200, source: 'global_step' });
      assert.deepStrictEqual(stepFromMeta({ epoch: 3, iteration: 40 }), { step: 40, source: 'iteration' });
      assert.deepStrictEqual(stepFromMeta({ epoch: 3 }), { step: 3, source: 'epoch' });
      assert.strictEqual(stepFromMeta({}), undefined);
      assert.strictEqual(stepFromMeta(undefined), undefined);
      // Not an integer: skipped, the next key decides.
      assert.deepStrictEqual(stepFromMeta({ step: 1.5, epoch: 2 }), { step: 2, source: 'epoch' });
    });

    it('takes the last integer of the file name, extension dropped', () => {
      assert.strictEqual(stepFromName('run2_step_1000.pt'), 1000);
      assert.strictEqual(stepFromName('/a/b7/epoch=0-step=230.ckpt'), 230);
      assert.strictEqual(stepFromName('iter_200.pth'), 200);
      assert.strictEqual(stepFromName('step_00036.pt'), 36);
      assert.strictEqual(stepFromName('ckpt-40.rnn.json'), 40);
      assert.strictEqual(stepFromName('model.h5'), undefined);
      assert.strictEqual(stepFromName('a-first.pt'), undefined);
    });

    it('orders names with their numbers as numbers', () => {
      const names = ['s_100.pt', 's_20.pt', 's_5.pt', 'b.pt', 'a.pt'];
      assert.deepStrictEqual([...names].sort(compareNames), ['a.pt', 'b.pt', 's_5.pt', 's_20.pt', 's_100.pt']);
    });
  });

  it('an entry carries the report figures and its finding codes once each', () => {
    const report = {
      report_version: 1,
      file: 'm.rnn.json',
      model: {
        cell: 'rnn',
        form: 'elman',
        nonlinearity: 'tanh',
        input_size: 2,
        hidden_size: 3,
        num_layers: 1,
        output_size: 1,
      },
      sequences: 1,
      steps: 4,
      loss: 0.5,
      grad_norm: 2.5,
      gradients: {},
      layers: [
        {
          layer: 0,
          sigma_max: 1.2,
          spectral_radius: 1,
          gamma: 1,
          regime: 'stable',
          evidence: { log10_rate_per_step: -0.001, log10_ratio: 0, measured_lag: 3, pascanu_bound: 1.2, rule: '' },
          lags: [],
        },
      ],
      clipping: {
        batch_norms: [2.5],
        suggestions: [],
        recommended: { clip_norm: 2.5, clip_value: 1.1, method: 'mean', rationale: '' },
      },
      findings: [
        { severity: 'info', code: 'clip-never-triggers', message: '', path: [] },
        { severity: 'info', code: 'clip-never-triggers', message: '', path: [] },
        { severity: 'info', code: 'lag-overflow', message: '', path: [] },
      ],
    } as unknown as Report;
    const e = entryFromReport(report, 'ckpt/step_1.safetensors', 1, 'name');
    assert.deepStrictEqual(e, {
      file: 'ckpt/step_1.safetensors',
      step: 1,
      step_source: 'name',
      loss: 0.5,
      grad_norm: 2.5,
      layers: [{ layer: 0, direction: 'forward', regime: 'stable', log10_rate_per_step: -0.001, sigma_max: 1.2 }],
      recommended: { clip_norm: 2.5, clip_value: 1.1 },
      codes: ['clip-never-triggers', 'lag-overflow'],
      model: { cell: 'rnn', input_size: 2, hidden_size: 3, num_layers: 1, output_size: 1 },
    });
  });

  describe('findings', () => {
    it('a calm series has none', () => {
      const calm = [5.5, 8.2, 9.0, 7.1, 9.2].map((g, i) => entry(200 + 10 * i, g, 10 + i * 0.4));
      assert.deepStrictEqual(timelineFindings(calm), []);
    });

    it('regime-change names the first step of the new regime and the layer', () => {
      const s = [
        entry(0, 5, 10, ['vanishing', 'stable']),
        entry(10, 5, 10, ['vanishing', 'stable']),
        entry(20, 5, 10, ['exploding', 'stable']),
        entry(30, 5, 10, ['exploding', 'vanishing']),
      ];
      const f = timelineFindings(s);
      assert.deepStrictEqual(
        f.map((x) => [x.code, x.step, x.layer, x.data?.from, x.data?.to, x.severity]),
        [
          ['regime-change', 20, 0, 'vanishing', 'exploding', 'warning'],
          ['regime-change', 30, 1, 'stable', 'vanishing', 'warning'],
        ],
      );
      assert.match(f[0].message, /Layer 0 turned from vanishing to exploding at step 20/);
    });

    it('grad-norm-spike: more than 10x the median of the entries before', () => {
      const s = [
        entry(200, 5.5, 10),
        entry(210, 8.2, 10),
        entry(220, 9.0, 10),
        entry(230, 665, 10),
        entry(240, 9.2, 10),
      ];
      const f = timelineFindings(s);
      assert.deepStrictEqual(
        f.map((x) => [x.code, x.step]),
        [['grad-norm-spike', 230]],
      );
      assert.ok(Math.abs((f[0].data!.ratio as number) - 665 / 8.2) < 1e-12);
      // Exactly 10x is not a spike; just above is.
      assert.deepStrictEqual(timelineFindings([entry(0, 2, 10), entry(1, 20, 10)]), []);
      assert.strictEqual(timelineFindings([entry(0, 2, 10), entry(1, 20.0001, 10)]).length, 1);
      // An overflowed gradient norm is a spike.
      assert.deepStrictEqual(
        timelineFindings([entry(0, 2, 10), entry(1, null, 10)]).map((x) => [x.code, x.step, x.data?.ratio]),
        [['grad-norm-spike', 1, null]],
      );
    });

    it('clip-drift: last recommended clip_norm more than 4x away from the first, both ways', () => {
      const up = [entry(0, 5, 10), entry(1, 5, 20), entry(2, 5, 40.5)];
      assert.deepStrictEqual(
        timelineFindings(up).map((x) => [x.code, x.step, x.data?.from, x.data?.to]),
        [['clip-drift', 2, 10, 40.5]],
      );
      const down = [entry(0, 5, 67.6), entry(1, 5, 11.3)];
      assert.deepStrictEqual(
        timelineFindings(down).map((x) => x.code),
        ['clip-drift'],
      );
      assert.deepStrictEqual(timelineFindings([entry(0, 5, 10), entry(1, 5, 40)]), []);
    });

    it('entries with errors and of another architecture are left out, the latter with a finding', () => {
      const s: TimelineEntry[] = [
        entry(200, 5.5, 10),
        entry(210, 8.2, 10),
        entry(220, 9000, 10, ['exploding'], 'gru'),
        { file: 'run/step_225.pt', step: 225, error: 'truncated' },
        entry(230, 7.1, 11),
      ];
      const f = timelineFindings(s);
      assert.deepStrictEqual(
        f.map((x) => [x.code, x.step]),
        [['mixed-architecture', 220]],
      );
      assert.match(f[0].message, /run\/step_220\.pt \(step 220\) holds a different model \(gru/);
    });

    it('buildTimeline sorts by step (ties by name) and marks version 1', () => {
      const t = buildTimeline([entry(30, 1, 1), entry(10, 1, 1), { ...entry(10, 1, 1), file: 'a.pt' }]);
      assert.strictEqual(t.timeline_version, 1);
      assert.deepStrictEqual(
        t.entries.map((e) => [e.step, e.file]),
        [
          [10, 'a.pt'],
          [10, 'run/step_10.pt'],
          [30, 'run/step_30.pt'],
        ],
      );
    });
  });
});
