// The HTML document the host serves for the report panel (CSP, nonce, no data).
import * as assert from 'assert';
import { buildWebviewHtml, contentSecurityPolicy, escapeAttribute } from '../../../src/shared/webviewHtml';

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
