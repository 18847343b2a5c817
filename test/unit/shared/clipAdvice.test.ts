// Unit tests of shared/clipAdvice.ts: what setting a clipping threshold changes, in the one text the quick fixes and
// the panel's buttons show, with the one rounding every face uses.
import * as assert from 'assert';
import { clipAction, clipNormEffect, recommendedClipActions, suggestedThreshold } from '../../../src/shared/clipAdvice';
import { clipSnippets } from '../../../src/shared/reportView/summary';
import { engineReport, lag, layerOf, reportOf } from './reportView/fixtures';

describe('clip advice', () => {
  it("says what a clip_norm does to the report's batches", () => {
    const norms = [1, 2, 3, 4, 5, 6, 7, 8];
    assert.strictEqual(clipNormEffect(norms, 0.5), 'clips every batch');
    assert.strictEqual(clipNormEffect(norms, 100), 'never clips');
    assert.strictEqual(clipNormEffect(norms, 5), 'clips 3 of 8 batches');
    assert.strictEqual(clipNormEffect([3], 1), 'clips the batch');
  });

  it('titles a clip_norm change with the new value, what it does, and the current value and what that does', () => {
    const report = reportOf([layerOf([lag(0, 0)])], [300, 400, 500, 600]);
    const action = clipAction(report, 'clip_norm', 457.123, { clip_norm: 1, clip_value: null });
    assert.deepStrictEqual(action, {
      key: 'clip_norm',
      value: 457,
      done: false,
      title: 'Set clip_norm to 457: clips 2 of 4 batches (now 1: clips every batch)',
    });
    const unset = clipAction(report, 'clip_norm', 457.123, { clip_norm: null, clip_value: null });
    assert.strictEqual(unset.title, 'Set clip_norm to 457: clips 2 of 4 batches (not set)');
    const value = clipAction(report, 'clip_value', 0.123456, { clip_norm: 1, clip_value: 5 });
    assert.strictEqual(value.title, 'Set clip_value to 0.123 (now 5)');
  });

  it('once the file holds the rounded value, the action is done and says so', () => {
    const report = reportOf([layerOf([lag(0, 0)])], [300, 400, 500, 600]);
    const done = clipAction(report, 'clip_norm', 457.123, { clip_norm: 457, clip_value: null });
    assert.strictEqual(done.done, true);
    assert.strictEqual(done.title, 'clip_norm is 457: clips 2 of 4 batches');
  });

  it('an engine report: quick-fix titles, buttons and code lines name the same rounded numbers', () => {
    const report = engineReport('small.rnn.json');
    const norm = suggestedThreshold(report, 'clip_norm');
    const value = suggestedThreshold(report, 'clip_value');
    assert.ok(norm !== undefined && value !== undefined);
    assert.strictEqual(norm, Number(report.clipping.recommended.clip_norm!.toPrecision(3)));
    assert.strictEqual(value, Number(report.clipping.recommended.clip_value!.toPrecision(3)));
    const actions = recommendedClipActions(report, { clip_norm: 100, clip_value: null });
    assert.deepStrictEqual(
      actions.map((a) => [a.key, a.value]),
      [
        ['clip_norm', norm],
        ['clip_value', value],
      ],
    );
    // The file's clip_norm (100) is above every batch norm of this report.
    assert.ok(report.clipping.batch_norms.every((n) => n !== null && n < 100));
    assert.match(actions[0].title, new RegExp(`^Set clip_norm to ${norm}: .* \\(now 100: never clips\\)$`));
    const snippets = clipSnippets(report).map((s) => s.text);
    assert.ok(snippets.includes(`torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=${norm})`), `${snippets}`);
    assert.ok(snippets.includes(`clipvalue=${value}`), `${snippets}`);
  });
});
