// Gate and unit statistics (gates-and-timeline.md section 1): the accumulator on hand-made activations (strict
// cuts, dead units, steps past the real length ignored, histograms), the gate blocks' gradient norms, the
// comparison helper that the PyTorch-reference test uses (it must catch a wrong figure), and the four findings on
// every generated-v2 case against index.json (exactly the findings the case is built for, figures at 1e-9).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { CellStatsAccumulator, GATE_SPECS, HISTOGRAM_BINS } from '../../../src/engine/cellStats';
import { rowBlockNorm } from '../../../src/engine/analysis/cellReport';
import type { Report } from '../../../src/engine/report/types';
import { REPO_ROOT } from '../helpers/cli';
import { compareCellStats } from '../helpers/report';
import { analyzeModelFile } from '../helpers/models';

type Obj = Record<string, unknown>;
const DIR = path.join(REPO_ROOT, 'test/fixtures/generated-v2');
const CELL_CODES = ['forget-gate-closed', 'gate-saturated', 'units-saturated', 'dead-units'];

interface ExpectedFinding {
  code: string;
  layer: number;
  direction: string;
  gate?: string;
  figure: number;
  path: string[];
}
interface IndexCase {
  findings: { expected: ExpectedFinding[]; not_expected: string[] };
}

/** The report of a generated-v2 case (weights and data files read beside it, as the CLI reads them). */
function analyzeFixture(name: string): Report {
  return analyzeModelFile(path.join(DIR, `${name}.rnn.json`), { file: name });
}

const key = (f: Obj): string => JSON.stringify([f.code, f.layer, f.direction, f.gate ?? null, f.path]);

describe('gate and unit statistics', () => {
  describe('CellStatsAccumulator', () => {
    it('counts strictly beyond the cuts, averages, finds dead units and ignores steps past the real length', () => {
      // An lstm layer, H = 2, 3 real steps (a 4th row of junk past the length must not count).
      const H = 2;
      const acc = new CellStatsAccumulator(GATE_SPECS.lstm, H, 0, 'abs');
      const stride = 4 * H;
      const gates = new Float64Array(4 * stride).fill(0.5);
      // input gate: values 0.05 (not below the cut), 0.0499 (below), 0.95 (not above), 0.951 (above), 0.5, 0.5
      gates.set([0.05, 0.0499], 0 * stride + 0);
      gates.set([0.95, 0.951], 1 * stride + 0);
      // cell gate (tanh): −0.95 (not below), −0.96 (below)
      gates.set([-0.95, -0.96], 0 * stride + 2 * H);
      gates.fill(0.999, 3 * stride, 4 * stride); // junk past the length
      const units = new Float64Array([0.96, 0, -0.5, 0, 0.95, 0, 7, 7]);
      acc.add({ gates, gateStride: stride, units, projected: null }, 3);
      const [input, forget, cell] = acc.gateFigures();
      assert.strictEqual(input.name, 'input');
      assert.strictEqual(input.saturatedLow, 1 / 6);
      assert.strictEqual(input.saturatedHigh, 1 / 6);
      assert.ok(Math.abs((input.mean as number) - (0.05 + 0.0499 + 0.95 + 0.951 + 0.5 + 0.5) / 6) < 1e-15);
      assert.strictEqual(forget.mean, 0.5);
      assert.strictEqual(forget.saturatedLow, 0);
      assert.strictEqual(cell.saturatedLow, 1 / 6);
      assert.strictEqual(cell.saturatedHigh, 0);
      assert.strictEqual(
        input.histogram.counts.reduce((a, b) => a + b, 0),
        6,
      );
      assert.strictEqual(input.histogram.counts.length, HISTOGRAM_BINS);
      assert.deepStrictEqual([cell.histogram.lo, cell.histogram.hi], [-1, 1]);
      const u = acc.unitFigures();
      assert.strictEqual(u.count, 6);
      assert.strictEqual(u.deadUnits, 1);
      assert.deepStrictEqual(u.deadIndices, [1]);
      assert.strictEqual(u.saturatedShare, 1 / 6); // 0.96 only: 0.95 is not above the cut
      assert.ok(Math.abs((u.meanAbs as number) - (0.96 + 0.5 + 0.95) / 6) < 1e-15);
    });

    it('adds sequences together, and a unit non-zero in any sequence is not dead', () => {
      const acc = new CellStatsAccumulator(GATE_SPECS.rnn, 2, 0, 'never');
      acc.add({ gates: null, gateStride: 0, units: new Float64Array([0, 3, 0, 4]), projected: null }, 2);
      assert.strictEqual(acc.unitFigures().deadUnits, 1);
      acc.add({ gates: null, gateStride: 0, units: new Float64Array([2, 0]), projected: null }, 1);
      const u = acc.unitFigures();
      assert.strictEqual(u.deadUnits, 0);
      assert.strictEqual(u.saturatedShare, 0); // relu and linear units are never saturated
      assert.strictEqual(u.meanAbs, 9 / 6);
      assert.strictEqual(u.histogram, null); // unbounded units have no histogram
      assert.deepStrictEqual(acc.gateFigures(), []);
    });

    it('a sigmoid rnn counts both ends; with nothing counted the figures are null', () => {
      const acc = new CellStatsAccumulator(GATE_SPECS.rnn, 1, 0, 'sigmoid');
      assert.strictEqual(acc.unitFigures().meanAbs, null);
      assert.strictEqual(acc.unitFigures().saturatedShare, null);
      acc.add({ gates: null, gateStride: 0, units: new Float64Array([0.01, 0.99, 0.5, 0.05]), projected: null }, 4);
      assert.strictEqual(acc.unitFigures().saturatedShare, 0.5);
    });

    it('reads the projected h_t of an lstm with projections as a second set of unit figures', () => {
      const acc = new CellStatsAccumulator(GATE_SPECS.lstm, 2, 1, 'abs');
      const gates = new Float64Array(8).fill(0.5);
      acc.add({ gates, gateStride: 8, units: new Float64Array([0.1, 0.2]), projected: new Float64Array([-3]) }, 1);
      const p = acc.projectedFigures();
      assert.ok(p);
      assert.strictEqual(p.meanAbs, 3);
      assert.strictEqual(p.saturatedShare, 1);
      assert.strictEqual(acc.unitFigures().meanAbs, (0.1 + 0.2) / 2);
    });
  });

  describe('rowBlockNorm', () => {
    it('is the L2 norm of a block of rows, without overflow, null when an entry is not finite', () => {
      const m = new Float64Array([1, 1, 3, 4, 0, 0]);
      assert.strictEqual(rowBlockNorm(m, 2, 1, 2), 5);
      assert.strictEqual(rowBlockNorm(m, 2, 2, 3), 0);
      const near = (x: number | null, y: number): boolean => x !== null && Math.abs(x - y) <= 1e-15 * y;
      assert.ok(near(rowBlockNorm(new Float64Array([3e200, 4e200]), 2, 0, 1), 5e200));
      assert.ok(near(rowBlockNorm(new Float64Array([3e-200, 4e-200]), 1, 0, 2), 5e-200));
      assert.strictEqual(rowBlockNorm(new Float64Array([1, NaN]), 2, 0, 1), null);
      assert.strictEqual(rowBlockNorm(new Float64Array([1.5e308, 1.5e308]), 2, 0, 1), null);
    });
  });

  describe('the reference comparison', () => {
    it('catches a figure off by 1e-8, a wrong dead-unit count and a missing gate', () => {
      const ref = JSON.parse(fs.readFileSync(path.join(DIR, 'find-lstm-forget-closed.ref.json'), 'utf8')) as Obj;
      const got = JSON.parse(JSON.stringify(analyzeFixture('find-lstm-forget-closed'))) as Obj;
      assert.deepStrictEqual(compareCellStats(ref, got), []);
      const layer = (got.layers as Obj[])[0];
      const gates = layer.gates as Record<string, Obj>;
      gates.forget.mean = (gates.forget.mean as number) * (1 + 1e-8);
      (layer.units as Obj).dead_units = 1;
      delete gates.output;
      const bad = compareCellStats(ref, got);
      assert.ok(
        bad.some((b) => b.startsWith('layers[0].gates.forget.mean')),
        bad.join('\n'),
      );
      assert.ok(
        bad.some((b) => b.startsWith('layers[0].units.dead_units')),
        bad.join('\n'),
      );
      assert.ok(
        bad.some((b) => b.startsWith('layers[0].gates: gates')),
        bad.join('\n'),
      );
    });
  });

  describe('findings on the generated-v2 cases (index.json)', () => {
    const index = JSON.parse(fs.readFileSync(path.join(DIR, 'index.json'), 'utf8')) as {
      finding_codes: string[];
      cases: Record<string, IndexCase>;
    };
    it('index.json lists the four codes and cases built to trigger each', () => {
      assert.deepStrictEqual([...index.finding_codes].sort(), [...CELL_CODES].sort());
      const triggered = new Set(Object.values(index.cases).flatMap((c) => c.findings.expected.map((f) => f.code)));
      for (const code of CELL_CODES) assert.ok(triggered.has(code), `no case triggers ${code}`);
    });
    for (const [name, c] of Object.entries(index.cases)) {
      const want = c.findings.expected;
      it(`${name}: ${want.length ? want.map((f) => f.code).join(', ') : 'no cell finding'}`, () => {
        const report = analyzeFixture(name);
        const got = report.findings.filter((f) => CELL_CODES.includes(f.code));
        const gotKeys = got.map((f) => key({ ...f, ...(f.data ?? {}) })).sort();
        assert.deepStrictEqual(gotKeys, want.map((w) => key({ ...w })).sort());
        for (const code of c.findings.not_expected) assert.ok(!got.some((f) => f.code === code), code);
        for (const w of want) {
          const f = got.find((g) => key({ ...g, ...(g.data ?? {}) }) === key({ ...w }));
          assert.ok(f?.data);
          const figure = f.data.figure as number;
          assert.ok(Math.abs(figure - w.figure) <= 1e-9 * Math.abs(w.figure), `${w.code}: ${figure} vs ${w.figure}`);
          assert.strictEqual(typeof f.data.threshold, 'number');
          // The message names the figure's threshold and a remedy.
          assert.match(f.message, /threshold|< 0\.2/);
          assert.match(
            f.message,
            /Set the forget-gate bias|Bring its bias|Rescale|Switch the nonlinearity|re-initialise/,
          );
          assert.strictEqual(f.severity, w.code === 'gate-saturated' ? 'info' : 'warning');
        }
      });
    }
  });
});
