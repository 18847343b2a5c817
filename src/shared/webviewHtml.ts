// The report panel's HTML document: shared by the extension host and the browser test so both load the same page.
// It holds no report data: the report always arrives by postMessage and is rendered with textContent.

/** Where the page's assets come from and which nonce its script carries. */
export interface WebviewHtmlParams {
  /** webview.cspSource: the origin allowed for styles, images and fonts. */
  cspSource: string;
  /** A fresh random nonce for this render; the only scripts allowed to run carry it. */
  nonce: string;
  /** URI of the bundled front end (dist/webview.js), through asWebviewUri. */
  scriptUri: string;
  /** URI of the stylesheet (dist/webview.css), through asWebviewUri. */
  styleUri: string;
  /** Which page: a single report (default) or a training timeline. */
  mode?: 'report' | 'timeline';
}

const NONCE_PATTERN = /^[A-Za-z0-9+/=_-]{16,}$/;

/** Escapes text for an HTML attribute value in double quotes. */
export function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The Content-Security-Policy of the panel: nothing remote, no inline script, only the nonce-bearing bundle. */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
  ].join('; ');
}

/** Builds the panel's HTML document. */
export function buildWebviewHtml(params: WebviewHtmlParams): string {
  if (!NONCE_PATTERN.test(params.nonce))
    throw new Error('buildWebviewHtml: the nonce must be at least 16 base64/alphanumeric characters');
  const csp = escapeAttribute(contentSecurityPolicy(params.cspSource, params.nonce));
  const nonce = escapeAttribute(params.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttribute(params.styleUri)}">
<title>${params.mode === 'timeline' ? 'RNN training timeline' : 'RNN gradient report'}</title>
</head>
<body>
<div id="progress" class="progress" role="progressbar" aria-label="Analysis progress" aria-valuemin="0" aria-valuemax="100" hidden><div class="progress-fill"></div></div>
<main id="app" data-mode="${params.mode === 'timeline' ? 'timeline' : 'report'}"><p class="placeholder">Waiting for an analysis…</p></main>
<script nonce="${nonce}" src="${escapeAttribute(params.scriptUri)}"></script>
</body>
</html>
`;
}
