// Two engine reports (or parts of them) that must hold the same numbers to 1e-12: batched against per-sequence
// passes (blockPass.test.ts), a memory cap against none (lagCheckpoint.test.ts).
import * as assert from 'assert';
import { analyzeModel, type AnalyzeOptions } from '../../../src/engine/analyze';
import type { Model } from '../../../src/engine/model/types';
import type { Report } from '../../../src/engine/report/types';

export const REPORT_TOLERANCE = 1e-12;

/** Keys whose values depend on the clock or the run, not on the numbers. */
export const VOLATILE = new Set([
  'elapsed_seconds',
  'elapsed_ms',
  'seconds',
  'started',
  'finished',
  'generated',
  'duration_ms',
]);

/** The largest |number| in a (nested) array. */
function maxAbs(v: unknown): number {
  if (typeof v === 'number') return Math.abs(v);
  return Array.isArray(v) ? v.reduce((m: number, x) => Math.max(m, maxAbs(x)), 0) : 0;
}

/**
 * Every number of a against b: |a − b| ≤ 1e-12 · max(|a|, |b|), or 1e-12 of the largest entry of the `.values`
 * array it is in (a gradient entry that cancels to far below its array's scale); NaN matches NaN; other values
 * equal; VOLATILE keys skipped. `worst` gathers the largest relative difference seen.
 */
export function assertClose(
  a: unknown,
  b: unknown,
  path: string,
  worst: { rel: number } = { rel: 0 },
  floor = 1e-300,
): void {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) && Number.isNaN(b)) return;
    const scale = Math.max(Math.abs(a), Math.abs(b), floor);
    const rel = a === b ? 0 : Math.abs(a - b) / scale;
    worst.rel = Math.max(worst.rel, rel);
    assert.ok(rel <= REPORT_TOLERANCE, `${path}: ${a} vs ${b} (relative ${rel})`);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    assert.strictEqual(a.length, b.length, `${path}: length`);
    const arrayFloor = path.endsWith('.values') ? Math.max(floor, maxAbs(a), maxAbs(b)) : floor;
    a.forEach((x, i) => assertClose(x, b[i], `${path}[${i}]`, worst, arrayFloor));
    return;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      if (VOLATILE.has(k)) continue;
      assertClose((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`, worst);
    }
    return;
  }
  assert.deepStrictEqual(a, b, path);
}

/** The report of a model as its JSON reads (gradient values included). */
export function reportJson(model: Model, options: AnalyzeOptions): Report {
  return JSON.parse(JSON.stringify(analyzeModel(model, { gradientValues: true, ...options }))) as Report;
}

/** The model's report under `options` against its report under `reference`, whole; returns the worst difference. */
export function assertReportsClose(
  model: Model,
  label: string,
  options: Partial<AnalyzeOptions>,
  reference: Partial<AnalyzeOptions>,
): number {
  const worst = { rel: 0 };
  const got = reportJson(model, { file: label, ...options });
  const expected = reportJson(model, { file: label, ...reference });
  assertClose(got, expected, label, worst);
  return worst.rel;
}
