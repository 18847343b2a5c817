// The report panel's message protocol guards and the HTML document the host serves (CSP, nonce, no data).
import * as assert from 'assert';
import { buildWebviewHtml, contentSecurityPolicy, escapeAttribute } from '../../src/shared/webviewHtml';
import {
  assertNever,
  isFromWebviewMessage,
  isToWebviewMessage,
  type FromWebviewMessage,
} from '../../src/shared/webviewProtocol';

const NONCE = 'abcdefghijklmnopqrstuvwxyzABCDEF';

describe('webview: HTML document', () => {
  const html = buildWebviewHtml({
    cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
    nonce: NONCE,
    scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js',
    styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.css',
  });

  it('sets the CSP: nothing by default, assets from the webview source only, scripts by nonce', () => {
    const csp = contentSecurityPolicy('vscode-src', NONCE);
    assert.strictEqual(
      csp,
      `default-src 'none'; img-src vscode-src data:; style-src vscode-src; script-src 'nonce-${NONCE}'; font-src vscode-src`,
    );
    assert.ok(
      html.includes(
        `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src https://file+.vscode-resource.vscode-cdn.net data:;`,
      ),
    );
  });

  it('puts the nonce on its only script, which is external', () => {
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    assert.strictEqual(scripts.length, 1);
    assert.ok(
      scripts[0].includes(`nonce="${NONCE}"`) &&
        scripts[0].includes('src="https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js"'),
    );
    assert.ok(/<script[^>]*><\/script>/.test(html), 'no inline script text');
    assert.ok(!/ style=/.test(html), 'no inline style attributes (style-src has no unsafe-inline)');
  });

  it('rejects a weak nonce and escapes attribute values', () => {
    assert.throws(() => buildWebviewHtml({ cspSource: 'x', nonce: 'short', scriptUri: 'a', styleUri: 'b' }));
    assert.strictEqual(escapeAttribute('a"<b>&'), 'a&quot;&lt;b&gt;&amp;');
  });
});

describe('webview: message guards', () => {
  it('accepts well-formed webview → host messages and rejects malformed ones', () => {
    const good: FromWebviewMessage[] = [
      { type: 'ready' },
      { type: 'rendered', seq: 1, charts: 4, ms: 12 },
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
