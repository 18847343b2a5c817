// Unit tests of remainingTime.ts: the time-left estimate of a long run and its wording.
import * as assert from 'assert';
import { ESTIMATE_AFTER_MS, RATE_WINDOW_MS, RemainingTime, formatRemaining } from '../../../src/shared/remainingTime';

/** Feeds `fractionAt(t)` every 50 ms from 0 to `untilMs`; returns the last estimate and the first time one came. */
function run(
  estimator: RemainingTime,
  fractionAt: (ms: number) => number,
  untilMs: number,
): { last: number | undefined; firstAt: number | undefined } {
  let last: number | undefined;
  let firstAt: number | undefined;
  for (let t = 0; t <= untilMs; t += 50) {
    last = estimator.update(fractionAt(t), t);
    if (last !== undefined && firstAt === undefined) firstAt = t;
  }
  return { last, firstAt };
}

describe('remaining time', () => {
  it('a steady run: the time left is the rest of the work at the rate so far, from the third second on', () => {
    // 1% a second: at 20 s, 80 s are left.
    const { last, firstAt } = run(new RemainingTime(0), (t) => t / 100000, 20000);
    assert.ok(last !== undefined && Math.abs(last - 80) < 1e-6, `left ${last}`);
    assert.strictEqual(firstAt, ESTIMATE_AFTER_MS);
  });

  it('follows a change of rate within the window: the latest phase sets the rate', () => {
    // 2% a second for 20 s (40%), then 0.5% a second: once the window holds only the slow phase, 60% at 0.5%/s.
    const fraction = (t: number): number => (t <= 20000 ? t / 50000 : 0.4 + (t - 20000) / 200000);
    const end = 20000 + RATE_WINDOW_MS + 1000;
    const { last } = run(new RemainingTime(0), fraction, end);
    const expected = (1 - fraction(end)) / 0.005;
    assert.ok(last !== undefined && Math.abs(last - expected) < 1e-6, `left ${last}, expected ${expected}`);
    // Within the window the two rates mix: the estimate lies between what each rate alone would give.
    const mixed = new RemainingTime(0);
    const mid = run(mixed, fraction, 24000).last;
    const left = 1 - fraction(24000);
    assert.ok(mid !== undefined && mid > left / 0.02 && mid < left / 0.005, `mixed estimate ${mid}`);
  });

  it('says nothing too early, without progress, at the end, or when only a few seconds are left', () => {
    assert.strictEqual(run(new RemainingTime(0), () => 0.5, 10000).last, undefined, 'no progress');
    assert.strictEqual(run(new RemainingTime(0), (t) => t / 100000, ESTIMATE_AFTER_MS - 50).last, undefined);
    const fast = new RemainingTime(0);
    // 10% a second: at 9.6 s, 0.4 s left (below the 5 s shown).
    assert.strictEqual(run(fast, (t) => Math.min(1, t / 10000), 9600).last, undefined);
    assert.strictEqual(fast.update(1, 9650), undefined);
    const bad = new RemainingTime(0);
    assert.strictEqual(bad.update(Number.NaN, 5000), undefined);
    assert.strictEqual(bad.update(1.5, 5000), undefined);
  });

  it('the time before the first progress (start-up) does not slow the rate', () => {
    // No progress for 2 s, then 1% a second: at 12 s (10%), 90 s are left, not 108.
    const { last } = run(new RemainingTime(0), (t) => Math.max(0, t - 2000) / 100000, 12000);
    assert.ok(last !== undefined && Math.abs(last - 90) < 1e-6, `left ${last}`);
  });

  it('progress that goes back starts the estimate over', () => {
    const estimator = new RemainingTime(0);
    run(estimator, (t) => t / 100000, 20000);
    // Counted again from 0 at 20 s, at 1% a second: one second later there are not yet two seconds of samples.
    assert.strictEqual(estimator.update(0, 20050), undefined);
    assert.strictEqual(estimator.update(0.01, 21050), 99);
  });

  it('words seconds, minutes and hours, rounded', () => {
    assert.strictEqual(formatRemaining(5), 'about 5 s left');
    assert.strictEqual(formatRemaining(43), 'about 45 s left');
    assert.strictEqual(formatRemaining(58), 'about 60 s left');
    assert.strictEqual(formatRemaining(89), 'about 90 s left');
    assert.strictEqual(formatRemaining(98), 'about 2 min left');
    assert.strictEqual(formatRemaining(12.6 * 60), 'about 13 min left');
    assert.strictEqual(formatRemaining(89 * 60), 'about 89 min left');
    assert.strictEqual(formatRemaining(90 * 60), 'about 1 h 30 min left');
    assert.strictEqual(formatRemaining(2 * 3600 + 4 * 60), 'about 2 h left');
    assert.strictEqual(formatRemaining(2 * 3600 + 6 * 60), 'about 2 h 10 min left');
  });
});
