// The report panel's message protocol guards.
import * as assert from 'assert';
import {
  assertNever,
  isFromWebviewMessage,
  isToWebviewMessage,
  type FromWebviewMessage,
} from '../../../src/shared/webviewProtocol';

describe('webview: message guards', () => {
  it('accepts well-formed webview → host messages and rejects malformed ones', () => {
    const good: FromWebviewMessage[] = [
      { type: 'ready' },
      { type: 'rendered', seq: 1, charts: 4, ms: 12 },
      {
        type: 'rendered',
        seq: 2,
        charts: 7,
        ms: 30,
        text: {
          findings: [{ code: 'dead-units', message: '3 of 8 units…', path: 'weights › weight_hh_l0' }],
          gates: ['layer 0 (h): 3 of 8 units dead (1, 4, 6); 0% of unit-steps saturated.'],
        },
      },
      { type: 'applyClip', key: 'clip_norm', value: 1.5 },
      { type: 'revealPath', path: ['weights', 'weight_hh_l0', 3] },
      { type: 'requestHeatmap' },
      { type: 'copyText', text: 'clipnorm=1', label: 'Keras' },
      { type: 'exportFile', kind: 'csv', suggestedName: 'a.csv', content: 'x' },
    ];
    for (const m of good) assert.ok(isFromWebviewMessage(m), JSON.stringify(m));
    const bad: unknown[] = [
      null,
      'ready',
      { type: 'command' },
      { type: 'applyClip', key: 'learning_rate', value: 1 },
      { type: 'applyClip', key: 'clip_norm', value: -1 },
      { type: 'applyClip', key: 'clip_norm', value: Infinity },
      { type: 'revealPath', path: [{}] },
      { type: 'exportFile', kind: 'exe', suggestedName: 'a', content: '' },
      { type: 'rendered', seq: '1', charts: 1 },
      { type: 'rendered', seq: 1, charts: 1, ms: 0, text: { findings: [{ code: 1 }], gates: [] } },
      { type: 'rendered', seq: 1, charts: 1, ms: 0, text: { findings: [], gates: [null] } },
    ];
    for (const m of bad) assert.ok(!isFromWebviewMessage(m), JSON.stringify(m));
  });

  it('recognises host → webview messages by type', () => {
    assert.ok(isToWebviewMessage({ type: 'progress', fraction: 0.5 }));
    assert.ok(isToWebviewMessage({ type: 'heatmapFailed', message: 'x' }));
    assert.ok(!isToWebviewMessage({ type: 'rendered' }));
    assert.ok(!isToWebviewMessage(undefined));
  });

  it('assertNever throws on a value the types said cannot exist', () => {
    assert.throws(() => assertNever({ type: 'surprise' } as never), /Unexpected message/);
  });
});
